"""Per-field expiry of hashes, as Redis 7.4 has it: HEXPIRE, HPEXPIRE, HEXPIREAT,
HPEXPIREAT, HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST, and the removal of fields
whose deadline passed.

A field whose deadline passed is never returned. Commands that read one field (HGET,
HEXISTS, HINCRBY ...) remove it on the spot (:func:`live_value`), iterating commands skip
such fields, and a per-server :class:`FieldReaper` removes them in the background from the
cron, within a time budget, as active expiry does for keys. Each removal is propagated as
``HDEL key field`` and announced with the ``hexpired`` keyspace event; a hash left empty is
deleted (``del`` event). Replicas never remove fields themselves: they wait for the
primary's HDELs and meanwhile treat such fields as absent.

The reaper is installed into an engine the first time a field gets a deadline: it adds a
cron hook and a keyspace listener that re-indexes a hash carried to a new name or database
by RENAME, MOVE, COPY or RESTORE (its deadlines travel inside the HashValue). A hash
SWAPDB moved is found again when its index entry comes due.
"""

import time

from ember.commands.registry import command
from ember.commands.runtime import active_expire_allowed
from ember.errors import NOT_INTEGER, ReplyError
from ember.protocol.numbers import parse_int
from ember.storage.types.hash import HashExpiryIndex, HashValue

# Redis keeps two of the 48 bits of a field deadline for later use: 2**46 - 1 ms.
MAX_DEADLINE_MS = ((1 << 48) - 1) >> 2
FIELDS_MISSING = "ERR Mandatory argument FIELDS is missing or not at the right position"
NUMFIELDS_EXPIRE = "ERR Parameter `numFields` should be greater than 0"
NUMFIELDS_READ = "ERR Number of fields must be a positive integer"
NUMFIELDS_MISMATCH = "ERR The `numfields` parameter must match the number of arguments"
NEGATIVE_TIME = "ERR invalid expire time, must be >= 0"

NO_FIELD, NO_TTL, NOT_MET, SET, DELETED = -2, -1, 0, 1, 2
_CONDITIONS = (b"nx", b"xx", b"gt", b"lt")
# Keyspace events after which a hash may sit under a new name or database.
_RELOCATIONS = frozenset(("rename_to", "move_to", "copy_to", "restore"))
_CHUNK = 256                    # fields removed between two looks at the clock
_CPU_SHARE = 0.25               # of each cron period, as Redis's active expiry


def is_replica(engine) -> bool:
    """True when this server replicates another: it must not remove fields itself."""
    return engine.hooks.get("role", "master") in ("slave", "replica")


# ---- lazy removal ------------------------------------------------------------------------

def remove_fields(engine, db, key: bytes, value: HashValue, fields: list,
                  notify: bool = True) -> bool:
    """Fields of ``value`` whose deadline passed were just removed from it: propagate one
    HDEL per field, send ``hexpired`` (unless ``notify`` is False: the caller sends one
    for several) and delete the hash if it is empty. True if the hash was deleted."""
    propagate = engine.propagate
    for field in fields:
        propagate(db.id, [b"HDEL", key, field])
    if notify:
        engine.key_modified(db, key, "hexpired", count=0)
    if value.fields:
        return False
    db.delete(key)
    if notify:
        engine.key_modified(db, key, "del", count=0)
    return True


def live_value(ctx, key: bytes, value: HashValue, field: bytes, notify: bool = True):
    """The value of ``field``, or None if it is absent or its deadline passed; such a
    field is removed on the spot (Redis's lazy expiry of fields)."""
    found = value.fields.get(field)
    if found is None:
        return None
    ttls = value.ttls
    if ttls and field in ttls and ttls[field] < ctx.engine.time.ms:
        engine = ctx.engine
        if not is_replica(engine):
            value.delete(field)
            remove_fields(engine, ctx.db, key, value, [field], notify)
        return None
    return found


def expire_due_fields(ctx, key: bytes, value: HashValue) -> bool:
    """Remove every field of ``value`` whose deadline passed (HRANDFIELD does this before
    picking); True if that deleted the hash."""
    now = ctx.engine.time.ms
    first = value.next_deadline()
    if first is None or first >= now or is_replica(ctx.engine):
        return False
    removed = value.pop_expired(now, len(value.fields))
    return remove_fields(ctx.engine, ctx.db, key, value, removed)


# ---- active removal ----------------------------------------------------------------------

class FieldReaper:
    """The engine's index of hashes with field deadlines and the cron step that removes
    due fields (see the module docstring)."""

    def __init__(self, engine):
        self.engine = engine
        self.index = HashExpiryIndex()
        self.expired_fields = 0           # fields removed by active expiry
        engine.hooks.setdefault("cron", []).append(self.cron)
        engine.keyspace_listeners.append(self.on_key_event)

    def track(self, db, key: bytes, value: HashValue, moved: bool = False) -> None:
        """Index ``value`` (at ``key`` of ``db``) by its earliest field deadline."""
        self.index.track(db.id, key, value, force=moved)

    def on_key_event(self, db, key, event) -> None:
        """Keyspace listener: a hash with deadlines arrived under a new name or database."""
        if event in _RELOCATIONS and key is not None:
            value = db.data.get(key)
            if type(value) is HashValue and value.ttls:
                self.index.track(db.id, key, value, force=True)

    def cron(self) -> None:
        """Cron hook: remove due fields for at most a quarter of the cron period."""
        engine = self.engine
        if not active_expire_allowed(engine) or is_replica(engine):
            return
        self.reclaim(time.perf_counter() + _CPU_SHARE / engine.config.hz)
        self.index.compact(self._alive)

    def reclaim(self, until: float = None, max_fields: int = None) -> int:
        """Remove fields whose deadline passed, earliest first, until the clock reaches
        ``until`` (perf_counter seconds) or ``max_fields`` were removed; return how many."""
        engine = self.engine
        index = self.index
        now = engine.time.ms
        removed = steps = 0
        while max_fields is None or removed < max_fields:
            entry = index.pop_due(now)
            if entry is None:
                break
            steps += 1
            when, _, db_id, key, value = entry
            if value.indexed_at != when:
                continue                  # a newer entry exists for this hash
            db = self._locate(db_id, key, value)
            if db is None:
                continue                  # deleted, or an entry from before a RENAME
            value.indexed_at = None
            if db.peek(key) is not value:
                continue                  # the key itself expired
            limit = _CHUNK if max_fields is None else min(_CHUNK, max_fields - removed)
            fields = value.pop_expired(now, limit)
            removed += len(fields)
            steps += len(fields)
            self.expired_fields += len(fields)
            if not fields or not remove_fields(engine, db, key, value, fields):
                index.track(db.id, key, value)
            if until is not None and steps >= _CHUNK:
                steps = 0
                if time.perf_counter() >= until:
                    break
        return removed

    def _locate(self, db_id: int, key: bytes, value: HashValue):
        """The database holding ``value`` at ``key``: ``db_id``'s, or another one after a
        SWAPDB; None if it is no longer there."""
        dbs = self.engine.dbs
        if db_id < len(dbs) and dbs[db_id].data.get(key) is value:
            return dbs[db_id]
        for db in dbs:
            if db.data.get(key) is value:
                return db
        return None

    def _alive(self, entry) -> bool:
        when, _, db_id, key, value = entry
        return value.indexed_at == when and self._locate(db_id, key, value) is not None


def reaper(engine) -> FieldReaper:
    """The engine's FieldReaper, installed on first use."""
    found = engine.hooks.get("hash_field_reaper")
    if found is None:
        found = engine.hooks["hash_field_reaper"] = FieldReaper(engine)
    return found


def track_hash(engine, db, key: bytes, value: HashValue) -> None:
    """Index a hash that holds field deadlines and was stored without a field-expiry
    command (loading a snapshot, RESTORE): active expiry will then find it."""
    if value.ttls:
        reaper(engine).track(db, key, value, moved=True)


# ---- arguments ---------------------------------------------------------------------------

def _numfields(argv: list, at: int, error: str) -> list:
    """The fields after ``FIELDS numfields`` at ``argv[at - 1:]``, checked as Redis does."""
    if argv[at - 1].lower() != b"fields":
        raise ReplyError(FIELDS_MISSING)
    count = parse_int(argv[at])
    if count is None or count < 1:
        raise ReplyError(error)
    if count != len(argv) - at - 1:
        raise ReplyError(NUMFIELDS_MISMATCH)
    return argv[at + 1:]


def _deadline(data: bytes, unit_ms: int, base_ms: int, name: str) -> int:
    """Redis's parseExpireTime: the absolute deadline in ms an expire argument names."""
    value = parse_int(data)
    if value is None:
        raise ReplyError(NOT_INTEGER)
    if value < 0:
        raise ReplyError(NEGATIVE_TIME)
    if unit_ms == 1000:
        if value > MAX_DEADLINE_MS // 1000:
            raise ReplyError(f"ERR invalid expire time in '{name}' command")
        value *= 1000
    if value > MAX_DEADLINE_MS - base_ms:
        raise ReplyError(f"ERR invalid expire time in '{name}' command")
    return value + base_ms


# ---- HEXPIRE family ----------------------------------------------------------------------

def _condition_met(condition, previous, when: int) -> bool:
    if previous is None:
        return condition not in (b"xx", b"gt")      # no deadline: LT is met, as EXPIRE
    if condition == b"nx":
        return False
    if condition == b"gt":
        return when > previous
    if condition == b"lt":
        return when < previous
    return True


def hexpire_generic(ctx, argv: list, unit_ms: int, relative: bool, name: str) -> list:
    """HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT: one reply code per field.

    -2 no such field (or its deadline already passed), 0 the NX/XX/GT/LT condition was
    not met, 1 the deadline was set, 2 the field was deleted because the time is not in
    the future. Propagated as HPEXPIREAT with the absolute time and only the fields that
    got it; deleted fields as HDEL.
    """
    db = ctx.db
    key = argv[1]
    value = db.get_typed(key, HashValue, write=True)
    engine = ctx.engine
    now = engine.time.ms
    when = _deadline(argv[2], unit_ms, now if relative else 0, name)
    condition = argv[3].lower()
    at = 4
    if condition in _CONDITIONS:
        at = 5
    else:
        condition = None
    fields = _numfields(argv, at, NUMFIELDS_EXPIRE)
    if value is None:
        return [NO_FIELD] * len(fields)
    value.extend_for_ttl()
    replica = is_replica(engine)
    replies, updated, deleted = [], [], []
    for field in fields:
        if field not in value.fields or value.is_expired(field, now):
            replies.append(NO_FIELD)
        elif not _condition_met(condition, value.deadline(field), when):
            replies.append(NOT_MET)
        elif when <= now and not replica:
            value.delete(field)
            deleted.append(field)
            replies.append(DELETED)
        else:
            value.set_deadline(field, when)
            updated.append(field)
            replies.append(SET)
    if not updated and not deleted:
        return replies
    engine.key_modified(db, key, "hdel" if deleted else "hexpire",
                        count=len(updated) + len(deleted))
    # One time for every field: either all the fields it applies to were deleted (HDEL)
    # or all got the deadline (HPEXPIREAT with just those fields).
    if deleted:
        ctx.propagate_argv = [b"HDEL", key, *deleted]
    else:
        ctx.propagate_argv = [b"HPEXPIREAT", key, b"%d" % when,
                              *(argv[3:4] if at == 5 else ()),
                              b"FIELDS", b"%d" % len(updated), *updated]
    if not value.fields:
        db.delete(key)
        engine.key_modified(db, key, "del", count=0)
    elif updated:
        reaper(engine).track(db, key, value)
    return replies


@command("hexpire", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hexpire(ctx, argv):
    """Set a deadline on hash fields, in seconds from now."""
    return hexpire_generic(ctx, argv, 1000, True, "hexpire")


@command("hpexpire", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hpexpire(ctx, argv):
    """Set a deadline on hash fields, in milliseconds from now."""
    return hexpire_generic(ctx, argv, 1, True, "hpexpire")


@command("hexpireat", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hexpireat(ctx, argv):
    """Set a deadline on hash fields, as a Unix time in seconds."""
    return hexpire_generic(ctx, argv, 1000, False, "hexpireat")


@command("hpexpireat", arity=-6, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hpexpireat(ctx, argv):
    """Set a deadline on hash fields, as a Unix time in milliseconds."""
    return hexpire_generic(ctx, argv, 1, False, "hpexpireat")


# ---- HTTL family -------------------------------------------------------------------------

def httl_generic(ctx, argv: list, show) -> list:
    """HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME: -2 no such field, -1 no deadline, else
    ``show(deadline, now)``. Read-only: a field past its deadline reads as absent."""
    value = ctx.db.get_typed(argv[1], HashValue)
    fields = _numfields(argv, 3, NUMFIELDS_READ)
    if value is None:
        return [NO_FIELD] * len(fields)
    now = ctx.engine.time.ms
    # Redis's listpackex counts a deadline equal to now as passed here; a hashtable not.
    last_live = now + 1 if value.encoding == "listpackex" else now
    replies = []
    for field in fields:
        if field not in value.fields:
            replies.append(NO_FIELD)
            continue
        when = value.deadline(field)
        if when is None:
            replies.append(NO_TTL)
        elif when < last_live:
            replies.append(NO_FIELD)
        else:
            replies.append(show(when, now))
    return replies


@command("httl", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def httl(ctx, argv):
    """Seconds left before hash fields expire (rounded up)."""
    return httl_generic(ctx, argv, lambda when, now: (when + 999 - now) // 1000)


@command("hpttl", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hpttl(ctx, argv):
    """Milliseconds left before hash fields expire."""
    return httl_generic(ctx, argv, lambda when, now: when - now)


@command("hexpiretime", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hexpiretime(ctx, argv):
    """Unix time in seconds (rounded up) at which hash fields expire."""
    return httl_generic(ctx, argv, lambda when, now: (when + 999) // 1000)


@command("hpexpiretime", arity=-5, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hpexpiretime(ctx, argv):
    """Unix time in milliseconds at which hash fields expire."""
    return httl_generic(ctx, argv, lambda when, now: when)


@command("hpersist", arity=-5, flags="write fast", keys=(1, 1, 1), group="hash",
         since="7.4.0")
def hpersist(ctx, argv):
    """Remove the deadline of hash fields: 1 done, -1 had none, -2 no such field."""
    db = ctx.db
    key = argv[1]
    value = db.get_typed(key, HashValue, write=True)
    fields = _numfields(argv, 3, NUMFIELDS_READ)
    if value is None:
        return [NO_FIELD] * len(fields)
    now = ctx.engine.time.ms
    replies = []
    changed = False
    for field in fields:
        if field not in value.fields:
            replies.append(NO_FIELD)
            continue
        when = value.deadline(field)
        if when is None:
            replies.append(NO_TTL)
        elif when < now:
            replies.append(NO_FIELD)
        else:
            value.persist(field)
            replies.append(SET)
            changed = True
    if changed:
        ctx.engine.key_modified(db, key, "hpersist")
    return replies

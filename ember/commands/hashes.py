"""Hash commands (Redis's t_hash.c): HSET, HGET, HDEL, HINCRBY, HRANDFIELD, HSCAN ...

Values are :class:`~ember.storage.types.hash.HashValue`. Fields whose deadline passed
(Redis 7.4's field expiry, :mod:`ember.commands.hash_ttl`) are never returned: commands
that read one field remove it on the spot, as Redis does, and commands that iterate skip
them. HLEN still counts them until they are removed, as in Redis 7.4.
"""

import random

from ember.commands.args import int_arg
from ember.commands.hash_ttl import (
    expire_due_fields,
    is_replica,
    live_value,
    remove_fields,
)
from ember.commands.registry import command
from ember.errors import NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX, WRONGTYPE, ReplyError
from ember.protocol.numbers import LLONG_MAX, LLONG_MIN, parse_int
from ember.protocol.replies import OK
from ember.storage import longdouble
from ember.storage.glob import compile_glob
from ember.storage.scan import parse_cursor, scan_page
from ember.storage.types.hash import HashValue

COUNT_RANGE = ("ERR value is out of range, value must between -9223372036854775807 and "
               "9223372036854775807")
OUT_OF_RANGE = "ERR value is out of range"
# Redis streams a negative-count HRANDFIELD reply of any length; ember builds it in
# memory, so it refuses counts whose reply could not reasonably fit.
MAX_RANDOM_REPLY = 1 << 24


def _hash_for_write(ctx, key: bytes):
    """The hash at ``key`` for a command about to change it, or None (WRONGTYPE if the
    key holds another type)."""
    return ctx.db.get_typed(key, HashValue, write=True)


def _store_new(ctx, key: bytes) -> HashValue:
    """Create an empty hash at ``key`` (the caller adds a field at once)."""
    value = HashValue()
    ctx.db.set(key, value)
    return value


def _arity_error(name: str) -> ReplyError:
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


# ---- writes --------------------------------------------------------------------------

def _hset(ctx, argv: list, name: str) -> int:
    """Set field/value pairs; the number of fields that were new."""
    n = len(argv)
    if n % 2:
        raise _arity_error(name)
    key = argv[1]
    db = ctx.db
    value = db.lookup_write(key)
    if value is None:
        value = _store_new(ctx, key)
    elif type(value) is not HashValue:
        raise ReplyError(WRONGTYPE)
    limits = ctx.engine.config
    if n == 4:                  # one pair: set() makes the checks prepare() would
        if not value.big and limits.hash_max_listpack_entries < 1:
            value.big = True
        created = value.set(argv[2], argv[3], limits)
        ctx.engine.key_modified(db, key, "hset")
        return int(created)
    value.prepare(argv, 2, limits)
    store = value.set
    created = 0
    for i in range(2, n, 2):
        created += store(argv[i], argv[i + 1], limits)
    ctx.engine.key_modified(db, key, "hset", (n - 2) // 2)
    return created


@command("hset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hset(ctx, argv):
    """Set fields of a hash; reply with the number of fields added."""
    return _hset(ctx, argv, "hset")


@command("hmset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hmset(ctx, argv):
    """Set fields of a hash (deprecated form of HSET replying OK)."""
    _hset(ctx, argv, "hmset")
    return OK


@command("hsetnx", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hsetnx(ctx, argv):
    """Set a field of a hash only if it does not exist."""
    key, field = argv[1], argv[2]
    value = _hash_for_write(ctx, key)
    if value is not None:
        if live_value(ctx, key, value, field) is not None:
            return 0
        if not value.fields:              # its last field had expired: hash deleted
            value = None
    if value is None:
        value = _store_new(ctx, key)
    limits = ctx.engine.config
    value.prepare(argv, 2, limits)
    value.set(field, argv[3], limits)
    ctx.engine.key_modified(ctx.db, key, "hset")
    return 1


@command("hdel", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hdel(ctx, argv):
    """Delete fields of a hash (the key goes when the last one does)."""
    db = ctx.db
    key = argv[1]
    value = _hash_for_write(ctx, key)
    if value is None:
        return 0
    deleted = 0
    emptied = False
    for field in argv[2:]:
        if value.delete(field):
            deleted += 1
            if not value.fields:
                db.delete(key)
                emptied = True
                break
    if deleted:
        ctx.engine.key_modified(db, key, "hdel", count=deleted)
        if emptied:
            ctx.engine.key_modified(db, key, "del", count=0)
    return deleted


def _field_for_increment(ctx, key: bytes, field: bytes):
    """(hash or None, current value of ``field`` or None) for HINCRBY/HINCRBYFLOAT."""
    value = _hash_for_write(ctx, key)
    if value is None:
        return None, None
    current = live_value(ctx, key, value, field)
    if not value.fields:                  # its last field had expired: hash deleted
        return None, None
    return value, current


@command("hincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hincrby(ctx, argv):
    """Add an integer to the integer value of a hash field (its deadline stays)."""
    increment = int_arg(argv[3])
    key, field = argv[1], argv[2]
    value, current = _field_for_increment(ctx, key, field)
    number = 0
    if current is not None:
        number = parse_int(current)
        if number is None:
            raise ReplyError("ERR hash value is not an integer")
    result = number + increment
    if result > LLONG_MAX or result < LLONG_MIN:
        raise ReplyError(OVERFLOW)
    if value is None:
        value = _store_new(ctx, key)
    value.set(field, b"%d" % result, ctx.engine.config, keep_ttl=True)
    ctx.engine.key_modified(ctx.db, key, "hincrby")
    return result


@command("hincrbyfloat", arity=4, flags="write denyoom fast", keys=(1, 1, 1),
         group="hash", since="2.6.0")
def hincrbyfloat(ctx, argv):
    """Add a float to the value of a hash field (C long double arithmetic, as Redis)."""
    increment = longdouble.parse_long_double(argv[3])
    if increment is None:
        raise ReplyError(NOT_FLOAT)
    if isinstance(increment, float):                  # finite values are Fractions
        raise ReplyError("ERR value is NaN or Infinity")
    key, field = argv[1], argv[2]
    value, current = _field_for_increment(ctx, key, field)
    number = longdouble.ZERO
    if current is not None:
        number = longdouble.parse_long_double(current)
        if number is None:
            raise ReplyError("ERR hash value is not a float")
    result = longdouble.add(number, increment)
    if result is None:
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = longdouble.format_human(result)
    if value is None:
        value = _store_new(ctx, key)
    value.set(field, text, ctx.engine.config, keep_ttl=True)
    db = ctx.db
    ctx.engine.key_modified(db, key, "hincrbyfloat")
    # Replicas and the AOF get the result (HSET, as Redis 7.2), never a float sum to redo;
    # the field's deadline, which HSET would drop, follows as HPEXPIREAT.
    hset_argv = [b"HSET", key, field, text]
    when = value.deadline(field)
    if when is None:
        ctx.propagate_argv = hset_argv
    else:
        ctx.engine.propagate(db.id, hset_argv)
        ctx.propagate_argv = [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", b"1", field]
    return text


# ---- reads ---------------------------------------------------------------------------

@command("hget", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hget(ctx, argv):
    """The value of a hash field."""
    value = ctx.db.get_typed(argv[1], HashValue)
    if value is None:
        return None
    found = value.fields.get(argv[2])
    if found is None or not value.ttls:
        return found
    return live_value(ctx, argv[1], value, argv[2])


@command("hmget", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hmget(ctx, argv):
    """The values of several hash fields (nil for missing ones)."""
    key = argv[1]
    value = ctx.db.get_typed(key, HashValue)
    if value is None:
        return [None] * (len(argv) - 2)
    if not value.ttls:
        get = value.fields.get
        return [get(field) for field in argv[2:]]
    engine = ctx.engine
    now = engine.time.ms
    removable = not is_replica(engine)
    reply = []
    expired = []
    for field in argv[2:]:
        found = value.fields.get(field)
        if found is not None and value.is_expired(field, now):
            found = None
            if removable:
                value.delete(field)
                expired.append(field)
        reply.append(found)
    if expired:                       # one hexpired event, and del if it emptied the hash
        db = ctx.db
        gone = remove_fields(engine, db, key, value, expired, notify=False)
        engine.key_modified(db, key, "hexpired", count=0)
        if gone:
            engine.key_modified(db, key, "del", count=0)
    return reply


@command("hexists", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hexists(ctx, argv):
    """1 if the hash has the field, else 0."""
    value = ctx.db.get_typed(argv[1], HashValue)
    if value is None:
        return 0
    return int(live_value(ctx, argv[1], value, argv[2]) is not None)


@command("hstrlen", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="3.2.0")
def hstrlen(ctx, argv):
    """The length of the value of a hash field (0 if missing)."""
    value = ctx.db.get_typed(argv[1], HashValue)
    if value is None:
        return 0
    found = live_value(ctx, argv[1], value, argv[2])
    return 0 if found is None else len(found)


@command("hlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="hash",
         since="2.0.0")
def hlen(ctx, argv):
    """The number of fields (Redis 7.4: expired ones not yet removed included)."""
    value = ctx.db.get_typed(argv[1], HashValue)
    return 0 if value is None else len(value)


def _live_items(ctx, key: bytes) -> list:
    value = ctx.db.get_typed(key, HashValue)
    if value is None:
        return []
    if not value.ttls:
        return value.fields.items()
    return value.live_items(ctx.engine.time.ms)


@command("hkeys", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         since="2.0.0", tips="nondeterministic_output_order")
def hkeys(ctx, argv):
    """Every field of a hash."""
    return [field for field, _ in _live_items(ctx, argv[1])]


@command("hvals", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         since="2.0.0", tips="nondeterministic_output_order")
def hvals(ctx, argv):
    """Every value of a hash."""
    return [found for _, found in _live_items(ctx, argv[1])]


@command("hgetall", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         since="2.0.0", tips="nondeterministic_output_order")
def hgetall(ctx, argv):
    """Every field and value of a hash (a map in RESP3)."""
    return dict(_live_items(ctx, argv[1]))


# ---- HRANDFIELD ----------------------------------------------------------------------

def _pairs(ctx, fields: list, value: HashValue, with_values: bool) -> list:
    """Reply items for ``fields``: flat field, value ... in RESP2, [field, value]
    pairs in RESP3, or just the fields."""
    if not with_values:
        return fields
    get = value.fields.__getitem__
    if ctx.resp == 3:
        return [[field, get(field)] for field in fields]
    reply = []
    for field in fields:
        reply.append(field)
        reply.append(get(field))
    return reply


def _random_fields(ctx, key: bytes, count: int, with_values: bool) -> list:
    value = ctx.db.get_typed(key, HashValue)
    if value is None:
        return []
    unique = count >= 0
    count = abs(count)
    if expire_due_fields(ctx, key, value) or count == 0:
        return []
    keys = value.random_keys()
    size = len(keys)
    if not unique or count == 1:
        if count > MAX_RANDOM_REPLY:
            raise ReplyError(OUT_OF_RANGE)
        return _pairs(ctx, random.choices(keys, k=count), value, with_values)
    if count >= size:
        picked = list(value.fields)
    elif not value.big:               # a listpack samples in its own order
        picked = [keys[i] for i in sorted(random.sample(range(size), count))]
    else:
        picked = random.sample(keys, count)
    return _pairs(ctx, picked, value, with_values)


@command("hrandfield", arity=-2, flags="readonly", keys=(1, 1, 1), group="hash",
         since="6.2.0", tips="nondeterministic_output")
def hrandfield(ctx, argv):
    """Random fields: HRANDFIELD key [count [WITHVALUES]] (negative count: may repeat)."""
    key = argv[1]
    if len(argv) >= 3:
        count = parse_int(argv[2])
        if count is None:
            raise ReplyError(NOT_INTEGER)
        if count == LLONG_MIN:
            raise ReplyError(COUNT_RANGE)
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
            raise ReplyError(SYNTAX)
        with_values = len(argv) == 4
        if with_values and abs(count) > LLONG_MAX // 2:
            raise ReplyError(OUT_OF_RANGE)
        return _random_fields(ctx, key, count, with_values)
    value = ctx.db.get_typed(key, HashValue)
    if value is None or expire_due_fields(ctx, key, value):
        return None
    return random.choice(value.random_keys())


# ---- HSCAN ---------------------------------------------------------------------------

def _hscan_options(argv: list):
    """HSCAN's COUNT, MATCH and NOVALUES (Redis 7.4) options."""
    count, pattern, no_values = 10, None, False
    i, n = 3, len(argv)
    while i < n:
        option = argv[i].lower()
        if option == b"count" and n - i >= 2:
            count = int_arg(argv[i + 1])
            if count < 1:
                raise ReplyError(SYNTAX)
            i += 2
        elif option == b"match" and n - i >= 2:
            pattern = argv[i + 1]
            i += 2
        elif option == b"novalues":
            no_values = True
            i += 1
        else:
            raise ReplyError(SYNTAX)
    return count, pattern, no_values


@command("hscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="hash",
         since="2.8.0", tips="nondeterministic_output")
def hscan(ctx, argv):
    """Iterate over the fields of a hash: HSCAN key cursor [MATCH p] [COUNT n] [NOVALUES]."""
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise ReplyError("ERR invalid cursor")
    value = ctx.db.get_typed(argv[1], HashValue)
    if value is None:
        return [b"0", []]
    count, pattern, no_values = _hscan_options(argv)
    fields = value.fields
    whole = 0 if value.big else len(fields)        # a listpack answers in one reply
    cursor, found = scan_page(value, fields, cursor, count, whole_below=whole)
    matcher = compile_glob(pattern) if pattern is not None and pattern != b"*" else None
    now = ctx.engine.time.ms
    expired = value.is_expired
    reply = []
    for field in found:
        if matcher is not None and not matcher.match(field):
            continue
        if value.ttls and expired(field, now):
            continue
        reply.append(field)
        if not no_values:
            reply.append(fields[field])
    return [b"%d" % cursor, reply]

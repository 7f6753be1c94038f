"""DUMP, RESTORE and MIGRATE: keys serialised in Redis's DUMP payload format.

These commands live in the persistence layer because they need the RDB codec, which the
commands layer may not import; the server imports this module once after
``ember.commands.load_all()``. MIGRATE talks to the target server over a blocking socket
(:mod:`ember.persistence.migrate_link`) with the command's timeout, as Redis does (the
server is blocked meanwhile in Redis too).
"""

from ember.commands.args import int_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.persistence import migrate_link
from ember.persistence.rdb import RdbError, dump_payload, restore_payload
from ember.protocol.replies import OK, Status
from ember.storage.types.hash import HashValue

BUSYKEY = "BUSYKEY Target key name already exists."
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_FORMAT = "ERR Bad data format"


def _compress(ctx) -> bool:
    """rdbcompression: DUMP LZF-compresses strings over 20 bytes, as Redis does."""
    return bool(getattr(ctx.engine.config, "rdbcompression", True))


def _is_lfu(ctx) -> bool:
    policy = getattr(ctx.engine.config, "maxmemory_policy", "noeviction")
    policy = policy.decode() if isinstance(policy, bytes) else str(policy)
    return policy.endswith("-lfu")


@command("dump", arity=2, flags="readonly", keys=(1, 1, 1), group="generic", since="2.6.0",
         tips="nondeterministic_output",
         complexity="O(1) to access the key and additional O(N*M) to serialize it, where N "
         "is the number of Redis objects composing the value and M their average size.")
def dump(ctx, argv):
    """Returns a serialized representation of the value stored at a key."""
    value = ctx.db.lookup(argv[1])
    if value is None:
        return None
    return dump_payload(value, ctx.engine.time.ms, _compress(ctx))


@command("restore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="generic",
         since="2.6.0", acl="dangerous",
         key_specs=(KeySpec("OW update", index=1),),
         complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
         "serialized value, where N is the number of Redis objects composing the value "
         "and M their average size.")
def restore(ctx, argv):
    """Creates a key from the serialized representation of a value."""
    replace = absttl = False
    idle = freq = None
    j = 4
    while j < len(argv):
        option = argv[j].lower()
        more = len(argv) - j - 1
        if option == b"replace":
            replace = True
        elif option == b"absttl":
            absttl = True
        elif option == b"idletime" and more >= 1 and freq is None:
            idle = int_arg(argv[j + 1])
            if idle < 0:
                raise ReplyError("ERR Invalid IDLETIME value, must be >= 0")
            j += 1
        elif option == b"freq" and more >= 1 and idle is None:
            freq = int_arg(argv[j + 1])
            if freq < 0 or freq > 255:
                raise ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            j += 1
        else:
            raise ReplyError(SYNTAX)
        j += 1
    db = ctx.db
    key = argv[1]
    if not replace and db.lookup_write(key) is not None:
        raise ReplyError(BUSYKEY)
    ttl = int_arg(argv[2])
    if ttl < 0:
        raise ReplyError("ERR Invalid TTL value, must be >= 0")
    engine = ctx.engine
    try:
        value = restore_payload(argv[3], engine.config)
    except RdbError as exc:
        raise ReplyError(BAD_PAYLOAD if "checksum" in exc.message else BAD_FORMAT)
    deleted = replace and db.delete(key)
    if ttl and not absttl:
        ttl += engine.time.ms
    if ttl and ttl <= engine.time.ms:
        if deleted:
            ctx.propagate_argv = [b"DEL", key]
            engine.key_modified(db, key, "del")
        return OK
    db.set(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            ctx.propagate_argv = argv[:2] + [b"%d" % ttl] + argv[3:] + [b"ABSTTL"]
    if _is_lfu(ctx):
        if freq is not None:
            setter = engine.hooks.get("lfu_set")
            if setter is not None:
                setter(db, key, freq)
    elif idle is not None:
        db.access[key] = db.time.s - idle
    if type(value) is HashValue and value.ttls:
        from ember.commands.hash_ttl import track_hash
        track_hash(engine, db, key, value)
    engine.key_modified(db, key, "restore")
    return OK


# ---- MIGRATE --------------------------------------------------------------------------

_SKIP = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def migrate_getkeys(argv: list) -> list:
    """Redis's migrateGetKeys: argv[3], or every argument after KEYS when argv[3] is
    empty."""
    i = 6
    while i < len(argv):
        option = argv[i].lower()
        if option == b"keys":
            if argv[3]:
                return []
            return list(range(i + 1, len(argv)))
        i += _SKIP.get(option, 0) + 1
    return [3]


@command("migrate", arity=-6, flags="write movablekeys", keys=(3, 3, 1), group="generic",
         since="2.6.0", acl="dangerous", tips="nondeterministic_output",
         getkeys=migrate_getkeys,
         key_specs=(KeySpec("RW access delete", index=3),
                    KeySpec("RW access delete incomplete", keyword=b"KEYS", startfrom=-2,
                            lastkey=-1)),
         complexity="This command actually executes a DUMP+DEL in the source instance, "
         "and a RESTORE in the target instance. See the pages of these commands for time "
         "complexity. Also an O(N) data transfer between the two instances is performed.")
def migrate(ctx, argv):
    """Atomically transfers a key from one Redis instance to another."""
    copy = replace = False
    username = password = None
    first, count = 3, 1
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        option = argv[j].lower()
        if option == b"copy":
            copy = True
        elif option == b"replace":
            replace = True
        elif option == b"auth":
            if not more:
                raise ReplyError(SYNTAX)
            j += 1
            password = argv[j]
        elif option == b"auth2":
            if more < 2:
                raise ReplyError(SYNTAX)
            username, password = argv[j + 1], argv[j + 2]
            j += 2
        elif option == b"keys":
            if argv[3]:
                raise ReplyError("ERR When using MIGRATE KEYS option, the key argument "
                                 "must be set to the empty string")
            first, count = j + 1, len(argv) - j - 1
            break
        else:
            raise ReplyError(SYNTAX)
        j += 1
    timeout = int_arg(argv[5])
    dbid = int_arg(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = ctx.db
    found = []
    for key in argv[first:first + count]:
        value = db.lookup(key)
        if value is not None:
            found.append((key, value))
    if not found:
        return Status("NOKEY")
    now = ctx.engine.time.ms
    batch = []
    for key, value in found:
        deadline = db.get_expire(key)
        ttl = 0
        if deadline is not None:
            ttl = deadline - now
            if ttl < 0:
                continue
            ttl = max(ttl, 1)
        batch.append((key, ttl, dump_payload(value, now, _compress(ctx))))
    accepted = migrate_link.transfer(ctx.engine, argv[1], argv[2], dbid, timeout / 1000.0,
                                     batch, replace, username, password)
    # accepted: the keys the target acknowledged; an error reply is raised after the
    # local deletions of those, as Redis deletes the keys acknowledged before an error.
    keys, error = accepted
    if not copy and keys:
        for key in keys:
            db.delete(key)
            ctx.engine.key_modified(db, key, "del")
        ctx.propagate_argv = [b"DEL", *keys]
    if error is not None:
        raise ReplyError(error)
    return OK

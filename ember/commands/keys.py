"""Generic keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, MOVE, COPY,
SWAPDB, OBJECT, FLUSHDB ... (the TTL commands are in :mod:`ember.commands.expire`)."""

import copy
import random
from itertools import islice

from ember.commands.args import int_arg
from ember.commands.registry import command
from ember.errors import DB_INDEX, NO_SUCH_KEY, SYNTAX, ReplyError
from ember.protocol.replies import OK, Status
from ember.storage.glob import compile_glob
from ember.storage.scan import parse_cursor, scan_page

SAME_OBJECT = "ERR source and destination objects are the same"
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
_BUILTIN_TYPE_NAMES = {dict: "hash", set: "set", list: "list"}


def type_name(value) -> str:
    """The TYPE name of a stored value ("none" for None).

    Strings are bytes/bytearray; every other type's class says its name in a
    ``type_name`` attribute ("hash", "list", "set", "zset", "stream").
    """
    if value is None:
        return "none"
    cls = type(value)
    if cls is bytes or cls is bytearray:
        return "string"
    name = getattr(value, "type_name", None)
    if name is None:
        name = _BUILTIN_TYPE_NAMES.get(cls, "unknown")
    return name


def duplicate(value):
    """An independent copy of a stored value (COPY): the type's ``copy()`` if it has one."""
    cls = type(value)
    if cls is bytes:
        return value
    if cls is bytearray:
        return bytearray(value)
    dup = getattr(value, "copy", None)
    return dup() if dup is not None else copy.deepcopy(value)


def peek_counted(db, key: bytes):
    """Look ``key`` up without touching its access time, counting a hit or a miss
    (Redis's lookupKeyRead with LOOKUP_NOTOUCH: EXISTS, TYPE, OBJECT)."""
    value = db.peek(key)
    if value is None:
        db.stats.misses += 1
    else:
        db.stats.hits += 1
    return value


def db_index_arg(ctx, data: bytes) -> int:
    """A database number argument (a C int), range-checked against ``databases``."""
    index = int_arg(data)
    if index < _INT_MIN or index > _INT_MAX:
        raise ReplyError(INT_RANGE)
    if index < 0 or index >= len(ctx.engine.dbs):
        raise ReplyError(DB_INDEX)
    return index


# ---- flushing and deleting ------------------------------------------------------------

def _flush_mode(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise ReplyError(SYNTAX)


@command("flushdb", arity=-1, flags="write", group="server", since="1.0.0")
def flushdb(ctx, argv):
    """Remove all keys from the current database."""
    _flush_mode(argv)
    count = len(ctx.db)
    ctx.db.flush()
    ctx.engine.key_modified(ctx.db, None, "flushdb", count=max(count, 1))
    return OK


@command("flushall", arity=-1, flags="write", group="server", since="1.0.0")
def flushall(ctx, argv):
    """Remove all keys from all databases."""
    _flush_mode(argv)
    count = 0
    for db in ctx.engine.dbs:
        count += len(db)
        db.flush()
    ctx.engine.key_modified(ctx.db, None, "flushall", count=max(count, 1))
    return OK


def _delete_keys(ctx, argv) -> int:
    db = ctx.db
    modified = ctx.engine.key_modified
    removed = 0
    for key in argv[1:]:
        # peek first: a key whose TTL passed is expired (event, DEL propagated), not deleted.
        if db.peek(key) is not None:
            db.delete(key)
            removed += 1
            modified(db, key, "del")
    return removed


@command("del", arity=-2, flags="write", keys=(1, -1, 1), group="generic", since="1.0.0")
def del_(ctx, argv):
    """Delete keys."""
    return _delete_keys(ctx, argv)


@command("unlink", arity=-2, flags="write fast", keys=(1, -1, 1), group="generic",
         since="4.0.0")
def unlink(ctx, argv):
    """Delete keys (Redis frees the values in the background; ember the same as DEL)."""
    return _delete_keys(ctx, argv)


# ---- reading the keyspace -------------------------------------------------------------

@command("exists", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         since="1.0.0")
def exists(ctx, argv):
    """Count how many of the keys exist (a key named twice counts twice)."""
    db = ctx.db
    return sum(1 for key in argv[1:] if peek_counted(db, key) is not None)


@command("touch", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         since="3.2.1")
def touch(ctx, argv):
    """Update the last access time of the keys; count those that exist."""
    db = ctx.db
    return sum(1 for key in argv[1:] if db.lookup(key) is not None)


@command("type", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="1.0.0")
def type_(ctx, argv):
    """The type of the value stored at a key."""
    return Status(type_name(peek_counted(ctx.db, argv[1])))


@command("dbsize", arity=1, flags="readonly fast", group="server", since="1.0.0")
def dbsize(ctx, argv):
    """Number of keys in the selected database (expired ones not yet removed included)."""
    return len(ctx.db)


def _drop_expired(db, keys: list) -> list:
    """``keys`` without those whose TTL has passed (KEYS skips them, leaving them be)."""
    expires = db.expires
    if not expires or not keys:
        return keys
    now = db.time.ms
    if len(keys) <= len(expires):
        return [k for k in keys if not (k in expires and expires[k] < now)]
    dead = {k for k, deadline in expires.items() if deadline < now}
    return [k for k in keys if k not in dead] if dead else keys


@command("keys", arity=2, flags="readonly", group="generic", since="1.0.0")
def keys(ctx, argv):
    """Every key matching a glob pattern."""
    db = ctx.db
    pattern = argv[1]
    if pattern == b"*":
        found = list(db.data)
    else:
        found = compile_glob(pattern).filter(db.data)
    return _drop_expired(db, found)


@command("scan", arity=-2, flags="readonly", group="generic", since="2.8.0")
def scan(ctx, argv):
    """Iterate over the keyspace: SCAN cursor [MATCH pattern] [COUNT n] [TYPE name]."""
    cursor = parse_cursor(argv[1])
    if cursor is None:
        raise ReplyError("ERR invalid cursor")
    count, pattern, wanted_type = parse_scan_options(argv, 2, allow_type=True)
    db = ctx.db
    cursor, found = scan_page(db, db.data, cursor, count)
    matcher = compile_glob(pattern) if pattern is not None and pattern != b"*" else None
    result = []
    for key in found:
        if matcher is not None and not matcher.match(key):
            continue
        value = db.peek(key)          # expires a key whose TTL passed
        if value is None:
            continue
        if wanted_type is not None and type_name(value) != wanted_type:
            continue
        result.append(key)
    return [b"%d" % cursor, result]


def parse_scan_options(argv: list, start: int, allow_type: bool = False):
    """COUNT/MATCH/TYPE options of the SCAN family: (count, pattern or None, type or None)."""
    count = 10
    pattern = wanted_type = None
    i = start
    n = len(argv)
    while i < n:
        option = argv[i].lower()
        if option == b"count" and n - i >= 2:
            count = int_arg(argv[i + 1])
            if count < 1:
                raise ReplyError(SYNTAX)
        elif option == b"match" and n - i >= 2:
            pattern = argv[i + 1]
        elif option == b"type" and allow_type and n - i >= 2:
            wanted_type = argv[i + 1].decode("latin-1").lower()
        else:
            raise ReplyError(SYNTAX)
        i += 2
    return count, pattern, wanted_type


# ---- moving keys ----------------------------------------------------------------------

def _rename(ctx, argv, nx: bool):
    db = ctx.db
    src, dst = argv[1], argv[2]
    value = db.lookup_write(src)
    if value is None:
        raise ReplyError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    deadline = db.get_expire(src)
    if db.lookup_write(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.delete(src)
    db.set(dst, value)
    if deadline is not None:
        db.set_expire(dst, deadline)
    ctx.engine.key_modified(db, src, "rename_from")
    ctx.engine.key_modified(db, dst, "rename_to", count=0)
    return 1 if nx else OK


@command("rename", arity=3, flags="write", keys=(1, 2, 1), group="generic", since="1.0.0")
def rename(ctx, argv):
    """Rename a key (its TTL goes with it), replacing the destination."""
    return _rename(ctx, argv, nx=False)


@command("renamenx", arity=3, flags="write fast", keys=(1, 2, 1), group="generic",
         since="1.0.0")
def renamenx(ctx, argv):
    """Rename a key only if the new name does not exist."""
    return _rename(ctx, argv, nx=True)


@command("move", arity=3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.0.0")
def move(ctx, argv):
    """Move a key (with its TTL) to another database, unless it exists there."""
    src = ctx.db
    dst = ctx.engine.dbs[db_index_arg(ctx, argv[2])]
    if dst is src:
        raise ReplyError(SAME_OBJECT)
    key = argv[1]
    value = src.lookup_write(key)
    if value is None:
        return 0
    deadline = src.get_expire(key)
    if dst.lookup_write(key) is not None:
        return 0
    dst.set(key, value)
    if deadline is not None:
        dst.set_expire(key, deadline)
    src.delete(key)
    ctx.engine.key_modified(src, key, "move_from")
    ctx.engine.key_modified(dst, key, "move_to", count=0)
    return 1


@command("copy", arity=-3, flags="write denyoom", keys=(1, 2, 1), group="generic",
         since="6.2.0")
def copy_(ctx, argv):
    """COPY source destination [DB n] [REPLACE]: duplicate a value with its TTL."""
    src = dst = ctx.db
    replace = False
    j = 3
    while j < len(argv):
        option = argv[j].lower()
        if option == b"replace":
            replace = True
        elif option == b"db" and j + 1 < len(argv):
            dst = ctx.engine.dbs[db_index_arg(ctx, argv[j + 1])]
            j += 1
        else:
            raise ReplyError(SYNTAX)
        j += 1
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        raise ReplyError(SAME_OBJECT)
    value = src.lookup(key)
    if value is None:
        return 0
    deadline = src.get_expire(key)
    if dst.lookup_write(newkey) is not None:
        if not replace:
            return 0
        dst.delete(newkey)
    dst.set(newkey, duplicate(value))
    if deadline is not None:
        dst.set_expire(newkey, deadline)
    ctx.engine.key_modified(dst, newkey, "copy_to")
    return 1


@command("swapdb", arity=3, flags="write fast", group="server", since="4.0.0")
def swapdb(ctx, argv):
    """Swap the contents of two databases; connected clients see the change at once."""
    first = _swap_index(ctx, argv[1], "ERR invalid first DB index")
    second = _swap_index(ctx, argv[2], "ERR invalid second DB index")
    if first < 0 or second < 0:
        raise ReplyError(DB_INDEX)
    dbs = ctx.engine.dbs
    if first != second:
        dbs[first].swap_contents(dbs[second])
    ctx.engine.key_modified(dbs[first], None, "swapdb")
    ctx.engine.key_modified(dbs[second], None, "swapdb", count=0)
    return OK


def _swap_index(ctx, data: bytes, error: str) -> int:
    """SWAPDB's index: its own text for a non-integer; -1 when out of range."""
    index = int_arg(data, error)
    if index < _INT_MIN or index > _INT_MAX:
        raise ReplyError(error)
    return index if 0 <= index < len(ctx.engine.dbs) else -1


# ---- RANDOMKEY ------------------------------------------------------------------------

class _KeySample:
    """A cached list of one database's keys that RANDOMKEY draws from.

    A Python dict cannot hand out a random key in O(1), so big databases keep a list of
    their keys, rebuilt (O(n), C speed) when the database was flushed or swapped, grew or
    shrank by a quarter, or a quarter of the draws hit keys deleted since: a draw is O(1)
    amortized, and keys added since the last rebuild are at most slightly under-drawn.
    """

    __slots__ = ("db", "data", "keys", "misses")

    def __init__(self, db):
        self.db = db
        self.data = db.data
        self.keys = list(db.data)
        self.misses = 0

    def stale(self, db) -> bool:
        size, sampled = len(db.data), len(self.keys)
        return (self.db is not db or self.data is not db.data or self.misses * 4 > sampled
                or size * 4 > sampled * 5 or size * 4 < sampled * 3)


_SAMPLES = {}
_SMALL = 1024


def random_key(db):
    """A random live key of ``db`` or None; keys found expired on the way are removed."""
    data = db.data
    while data:
        size = len(data)
        if size <= _SMALL:
            key = next(islice(iter(data), random.randrange(size), None))
        else:
            sample = _SAMPLES.get(id(db))
            if sample is None or sample.stale(db):
                sample = _SAMPLES[id(db)] = _KeySample(db)
            key = random.choice(sample.keys)
            if key not in data:
                sample.misses += 1
                continue
        if db.peek(key) is not None:
            return key
        data = db.data
    return None


@command("randomkey", arity=1, flags="readonly", group="generic", since="1.0.0")
def randomkey(ctx, argv):
    """Return a random key name of the selected database."""
    return random_key(ctx.db)


# ---- OBJECT ---------------------------------------------------------------------------

command("object", arity=-2, container=True, group="generic", since="2.2.3")

_OBJECT_HELP = (
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
)
_LFU_ON = ("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note "
           "that when switching between policies at runtime LRU and LFU data will take "
           "some time to adjust.")
_LFU_OFF = ("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
            "Please note that when switching between policies at runtime LRU and LFU "
            "data will take some time to adjust.")
_SHARED_INTEGERS = 10000
_SHARED_REFCOUNT = (1 << 31) - 1


def _policy(ctx) -> str:
    policy = getattr(ctx.engine.config, "maxmemory_policy", "noeviction")
    return policy.decode() if isinstance(policy, bytes) else str(policy)


def _int_encoded(value) -> bool:
    """Redis stores a string as an integer when it is a canonical int64 of <= 20 bytes."""
    if type(value) is not bytes or not value or len(value) > 20:
        return False
    try:
        number = int(value)
    except ValueError:
        return False
    return b"%d" % number == value and -(1 << 63) <= number < (1 << 63)


def string_encoding(value) -> bytes:
    """OBJECT ENCODING of a string: int, embstr (<= 44 bytes) or raw (long or mutated)."""
    if type(value) is bytearray:
        return b"raw"
    if _int_encoded(value):
        return b"int"
    return b"embstr" if len(value) <= 44 else b"raw"


@command("object|encoding", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         since="2.2.3")
def object_encoding(ctx, argv):
    """The internal representation of the value at a key."""
    value = peek_counted(ctx.db, argv[2])
    if value is None:
        return None
    if type(value) in (bytes, bytearray):
        return string_encoding(value)
    encoding = getattr(value, "encoding", None)
    if callable(encoding):
        encoding = encoding()
    if encoding is None:
        return b"unknown"
    return encoding.encode() if isinstance(encoding, str) else encoding


@command("object|idletime", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         since="2.2.3")
def object_idletime(ctx, argv):
    """Seconds since the key was last read or written."""
    if peek_counted(ctx.db, argv[2]) is None:
        return None
    if _policy(ctx).endswith("-lfu"):
        raise ReplyError(_LFU_ON)
    return ctx.db.idle_seconds(argv[2])


@command("object|freq", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         since="4.0.0")
def object_freq(ctx, argv):
    """The key's logarithmic access counter (only under an LFU maxmemory policy)."""
    if peek_counted(ctx.db, argv[2]) is None:
        return None
    if not _policy(ctx).endswith("-lfu"):
        raise ReplyError(_LFU_OFF)
    frequency = ctx.engine.hooks.get("lfu_frequency")
    return frequency(ctx.db, argv[2]) if frequency is not None else 0


@command("object|refcount", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         since="2.2.3")
def object_refcount(ctx, argv):
    """References to the value: Redis's shared small integers report INT_MAX."""
    value = peek_counted(ctx.db, argv[2])
    if value is None:
        return None
    if _int_encoded(value) and 0 <= int(value) < _SHARED_INTEGERS:
        config = ctx.engine.config
        if not getattr(config, "maxmemory", 0) or not _policy(ctx).endswith(("-lru", "-lfu")):
            return _SHARED_REFCOUNT
    return 1


@command("object|help", arity=2, flags="loading stale", group="generic", since="6.2.0")
def object_help(ctx, argv):
    """Describe the OBJECT subcommands."""
    return [Status(line) for line in _OBJECT_HELP]

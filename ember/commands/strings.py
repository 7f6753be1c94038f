"""String commands: GET, SET and the rest of the string family (Redis's t_string.c).

Strings are stored as ``bytes``; APPEND and SETRANGE turn a value into a ``bytearray``
and grow it in place (Redis's "raw" encoding), so a reply that hands out a stored value
must copy it (:func:`as_bytes`).
"""

from ember.commands.args import int_arg
from ember.commands.registry import command
from ember.errors import NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX, WRONGTYPE, ReplyError
from ember.protocol.numbers import LLONG_MAX, LLONG_MIN, parse_int
from ember.protocol.replies import OK
from ember.storage import longdouble
from ember.storage.lcs import lcs_table, lcs_walk

_STRING_TYPES = (bytes, bytearray)

# SET / GETEX option flags (Redis's OBJ_SET_NX ... OBJ_PXAT).
_NX, _XX, _GET, _KEEPTTL, _PERSIST, _EX, _PX, _EXAT, _PXAT = (1 << i for i in range(9))
_EXPIRES = _EX | _PX | _EXAT | _PXAT
_SECONDS = _EX | _EXAT
_RELATIVE = _EX | _PX
# option -> (flag, flags it cannot be combined with, SET only / GETEX only / both).
_OPTIONS = {
    b"nx": (_NX, _XX, "set"),
    b"xx": (_XX, _NX, "set"),
    b"get": (_GET, 0, "set"),
    b"keepttl": (_KEEPTTL, _PERSIST | _EXPIRES, "set"),
    b"persist": (_PERSIST, _KEEPTTL | _EXPIRES, "getex"),
    b"ex": (_EX, _KEEPTTL | _PERSIST | (_EXPIRES & ~_EX), "both"),
    b"px": (_PX, _KEEPTTL | _PERSIST | (_EXPIRES & ~_PX), "both"),
    b"exat": (_EXAT, _KEEPTTL | _PERSIST | (_EXPIRES & ~_EXAT), "both"),
    b"pxat": (_PXAT, _KEEPTTL | _PERSIST | (_EXPIRES & ~_PXAT), "both"),
}

STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def as_bytes(value):
    """A reply-safe copy of a stored string (bytearrays may change after this command)."""
    return bytes(value) if type(value) is bytearray else value


def check_string_length(ctx, size: int, append: int) -> None:
    """Refuse a string of ``size + append`` bytes over proto-max-bulk-len (Redis 7.2)."""
    if size + append > ctx.engine.config.proto_max_bulk_len:
        raise ReplyError(STRING_TOO_LONG)


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def get(ctx, argv):
    """Get the value of a key.

    Database.get_string written out (lazy expiry, hit/miss count, access time), as the
    hottest command of most workloads: the saved call is 8% of a pipelined GET.
    """
    db = ctx.db
    key = argv[1]
    value = db.data.get(key)
    if value is None or (db.expires and key in db.expires
                         and db.expires[key] < db.time.ms):
        return db.get_string(key)   # a miss: counted (and maybe a keymiss event) there
    db.stats.hits += 1
    if db.touching:
        db.access[key] = db.time.s
    kind = type(value)
    if kind is bytes:
        return value
    if kind is bytearray:
        return bytes(value)
    raise ReplyError(WRONGTYPE)


# ---- SET and its variants ------------------------------------------------------------

def parse_options(argv: list, start: int, command_kind: str):
    """Redis's parseExtendedStringArgumentsOrReply: (flags, expire argument or None).

    Repeating an option is allowed (the last EX wins); conflicting ones are a syntax
    error, as is an option of the other command or an EX without its value.
    """
    flags = 0
    expire = None
    n = len(argv)
    j = start
    while j < n:
        rule = _OPTIONS.get(argv[j].lower())
        if rule is None or flags & rule[1] or rule[2] not in (command_kind, "both"):
            raise ReplyError(SYNTAX)
        flag = rule[0]
        if flag & _EXPIRES:
            if j + 1 >= n:
                raise ReplyError(SYNTAX)
            j += 1
            expire = argv[j]
        flags |= flag
        j += 1
    return flags, expire


def expire_at_ms(ctx, flags: int, amount: bytes, name: str) -> int:
    """The absolute deadline (Unix ms) an EX/PX/EXAT/PXAT argument asks for.

    Redis's getExpireMillisecondsOrReply: not an integer, not positive, or overflowing
    once made absolute is ``invalid expire time in '<name>' command``.
    """
    value = parse_int(amount)
    if value is None:
        raise ReplyError(NOT_INTEGER)
    if value <= 0 or (flags & _SECONDS and value > LLONG_MAX // 1000):
        raise ReplyError(f"ERR invalid expire time in '{name}' command")
    if flags & _SECONDS:
        value *= 1000
    if flags & _RELATIVE:
        value += ctx.engine.now()
        if value > LLONG_MAX:
            raise ReplyError(f"ERR invalid expire time in '{name}' command")
    return value


def _get_for_reply(db, key: bytes):
    """Redis's getGenericCommand: the string at ``key`` copied for a reply, or None."""
    value = db.get_string(key)
    return bytes(value) if type(value) is bytearray else value


def set_generic(ctx, argv, value: bytes, flags: int, expire, ok_reply, abort_reply,
                name: str):
    """SET, SETNX, SETEX and PSETEX (Redis's setGenericCommand)."""
    key = argv[1]
    db = ctx.db
    deadline = None if expire is None else expire_at_ms(ctx, flags, expire, name)
    old = _get_for_reply(db, key) if flags & _GET else None
    found = db.lookup_write(key) is not None
    if (flags & _NX and found) or (flags & _XX and not found):
        return old if flags & _GET else abort_reply
    db.set(key, value, keep_ttl=bool(flags & _KEEPTTL))
    modified = ctx.engine.key_modified
    modified(db, key, "set")
    if deadline is not None:
        db.set_expire(key, deadline)
        if not flags & _PXAT:
            ctx.propagate_argv = [b"SET", key, value, b"PXAT", b"%d" % deadline]
        modified(db, key, "expire", count=0)
    elif flags & _GET:
        ctx.propagate_argv = [arg for j, arg in enumerate(argv)
                              if j < 3 or arg.lower() != b"get"]
    return old if flags & _GET else ok_reply


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="1.0.0")
def set_(ctx, argv):
    """Set the string value of a key, with expiry and conditions."""
    if len(argv) == 3:
        key = argv[1]
        db = ctx.db
        db.set(key, argv[2])
        engine = ctx.engine
        engine.dirty += 1       # key_modified, without its call when nothing listens
        if engine.keyspace_listeners:
            engine.key_modified(db, key, "set", count=0)
        return OK
    flags, expire = parse_options(argv, 3, "set")
    return set_generic(ctx, argv, argv[2], flags, expire, OK, None, "set")


@command("setnx", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def setnx(ctx, argv):
    """Set the value of a key, only if the key does not exist."""
    return set_generic(ctx, argv, argv[2], _NX, None, 1, 0, "setnx")


@command("setex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.0.0")
def setex(ctx, argv):
    """Set the value and expiration of a key (seconds)."""
    return set_generic(ctx, argv, argv[3], _EX, argv[2], OK, None, "setex")


@command("psetex", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.6.0")
def psetex(ctx, argv):
    """Set the value and expiration in milliseconds of a key."""
    return set_generic(ctx, argv, argv[3], _PX, argv[2], OK, None, "psetex")


@command("getset", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def getset(ctx, argv):
    """Set the string value of a key and return its old value."""
    db = ctx.db
    key = argv[1]
    old = db.get_string(key)
    db.set(key, argv[2])
    ctx.engine.key_modified(db, key, "set")
    ctx.propagate_argv = [b"SET", key, argv[2]]
    return old          # no longer stored anywhere: no copy needed


@command("getdel", arity=2, flags="write fast", keys=(1, 1, 1), group="string",
         since="6.2.0")
def getdel(ctx, argv):
    """Get the value of a key and delete the key."""
    db = ctx.db
    key = argv[1]
    value = db.get_string(key)
    if value is not None and db.delete(key):
        ctx.propagate_argv = [b"DEL", key]
        ctx.engine.key_modified(db, key, "del")
    return value        # deleted: no copy needed


@command("getex", arity=-2, flags="write fast", keys=(1, 1, 1), group="string",
         since="6.2.0")
def getex(ctx, argv):
    """Get the value of a key and optionally set (or remove) its expiration."""
    flags, expire = parse_options(argv, 2, "getex")
    db = ctx.db
    key = argv[1]
    value = _get_for_reply(db, key)
    if value is None:
        return None
    deadline = None if expire is None else expire_at_ms(ctx, flags, expire, "getex")
    engine = ctx.engine
    if flags & (_EXAT | _PXAT) and deadline <= engine.now():
        db.delete(key)
        lazy = getattr(engine.config, "lazyfree_lazy_expire", False)
        ctx.propagate_argv = [b"UNLINK" if lazy else b"DEL", key]
        engine.key_modified(db, key, "del")
    elif deadline is not None:
        db.set_expire(key, deadline)
        if not flags & _PXAT:
            ctx.propagate_argv = [b"PEXPIREAT", key, b"%d" % deadline]
        engine.key_modified(db, key, "expire")
    elif flags & _PERSIST and db.persist(key):
        ctx.propagate_argv = [b"PERSIST", key]
        engine.key_modified(db, key, "persist")
    return value


# ---- several keys ----------------------------------------------------------------------

@command("mget", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="string",
         since="1.0.0")
def mget(ctx, argv):
    """Get the values of all the given keys (nil for missing keys and other types)."""
    lookup = ctx.db.lookup
    reply = []
    for key in argv[1:]:
        value = lookup(key)
        kind = type(value)
        reply.append(value if kind is bytes else bytes(value) if kind is bytearray else None)
    return reply


@command("mset", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         since="1.0.1")
def mset(ctx, argv):
    """Set multiple keys to multiple values."""
    if len(argv) % 2 == 0:
        raise ReplyError("ERR wrong number of arguments for 'mset' command")
    db = ctx.db
    engine = ctx.engine
    if engine.keyspace_listeners:   # each key's events in Redis's order: expired, new, set
        for i in range(1, len(argv), 2):
            key = argv[i]
            db.set(key, argv[i + 1])
            engine.key_modified(db, key, "set")
        return OK
    db.set_pairs(argv)
    engine.dirty += len(argv) // 2     # keys_modified, without its call when nothing listens
    return OK


@command("msetnx", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         since="1.0.1")
def msetnx(ctx, argv):
    """Set multiple keys to multiple values, only if none of the keys exist."""
    if len(argv) % 2 == 0:
        raise ReplyError("ERR wrong number of arguments for 'msetnx' command")
    db = ctx.db
    for i in range(1, len(argv), 2):
        if db.lookup_write(argv[i]) is not None:
            return 0
    db.set_pairs(argv)
    ctx.engine.keys_modified(db, argv[1::2], "set")
    return 1


# ---- in-place edits ------------------------------------------------------------------

def _writable(db, key: bytes, current) -> bytearray:
    """The stored string as a bytearray that can grow in place (Redis's unshare)."""
    if type(current) is bytearray:
        return current
    if type(current) is not bytes:
        raise ReplyError(WRONGTYPE)
    buf = bytearray(current)
    db.set(key, buf, keep_ttl=True)
    return buf


@command("append", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="2.0.0")
def append(ctx, argv):
    """Append a value to a key."""
    db = ctx.db
    key, tail = argv[1], argv[2]
    current = db.lookup_write(key)
    if current is None:
        db.set(key, tail)
        total = len(tail)
    else:
        if type(current) not in _STRING_TYPES:
            raise ReplyError(WRONGTYPE)
        check_string_length(ctx, len(current), len(tail))
        buf = _writable(db, key, current)
        buf += tail
        total = len(buf)
    ctx.engine.key_modified(db, key, "append")
    return total


@command("strlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         since="2.2.0")
def strlen(ctx, argv):
    """Get the length of the value stored in a key."""
    value = ctx.db.get_string(argv[1])
    return 0 if value is None else len(value)


def _getrange(ctx, argv):
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    value = ctx.db.get_string(argv[1])
    if value is None:
        return b""
    size = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(size + start, 0)
    if end < 0:
        end = max(size + end, 0)
    if end >= size:
        end = size - 1
    if start > end or size == 0:
        return b""
    return bytes(value[start:end + 1])


@command("getrange", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         since="2.4.0")
def getrange(ctx, argv):
    """Get a substring of the string stored at a key."""
    return _getrange(ctx, argv)


@command("substr", arity=4, flags="readonly", keys=(1, 1, 1), group="string",
         since="1.0.0")
def substr(ctx, argv):
    """Get a substring of the string stored at a key (old name of GETRANGE)."""
    return _getrange(ctx, argv)


@command("setrange", arity=4, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="2.2.0")
def setrange(ctx, argv):
    """Overwrite part of a string at key starting at the specified offset."""
    db = ctx.db
    key, piece = argv[1], argv[3]
    offset = int_arg(argv[2])
    if offset < 0:
        raise ReplyError("ERR offset is out of range")
    current = db.lookup_write(key)
    if current is None:
        if not piece:
            return 0
        check_string_length(ctx, offset, len(piece))
        buf = bytearray(offset)
        db.set(key, buf)
    else:
        if type(current) not in _STRING_TYPES:
            raise ReplyError(WRONGTYPE)
        if not piece:
            return len(current)
        check_string_length(ctx, offset, len(piece))
        buf = _writable(db, key, current)
    end = offset + len(piece)
    if len(buf) < end:
        buf.extend(bytes(end - len(buf)))
    buf[offset:end] = piece
    ctx.engine.key_modified(db, key, "setrange")
    return len(buf)


# ---- counters --------------------------------------------------------------------------

def incr_by(ctx, key: bytes, delta: int) -> int:
    """Add ``delta`` to the integer at ``key`` (INCR/DECR/INCRBY/DECRBY); keeps the TTL."""
    db = ctx.db
    result = db.incr_counter(key, delta)    # the usual counter, in one step
    if result is not None:
        ctx.engine.key_modified(db, key, "incrby")
        return result
    return _incr_general(ctx, db, key, delta)


def _incr_general(ctx, db, key: bytes, delta: int) -> int:
    """incr_by for what Database.incr_counter leaves: a new key, a bytearray, a value that
    is not a canonical integer, an overflow, another type (each with Redis's error)."""
    current = db.lookup_write(key)
    if current is None:
        value = 0
    else:
        if type(current) not in _STRING_TYPES:
            raise ReplyError(WRONGTYPE)
        value = parse_int(current)
        if value is None:
            raise ReplyError(NOT_INTEGER)
    result = value + delta
    if result > LLONG_MAX or result < LLONG_MIN:
        raise ReplyError(OVERFLOW)
    db.set(key, b"%d" % result, keep_ttl=True)
    ctx.engine.key_modified(db, key, "incrby")
    return result


@command("incr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def incr(ctx, argv):
    """Increment the integer value of a key by one (incr_by, with one call less)."""
    db = ctx.db
    key = argv[1]
    result = db.incr_counter(key, 1)
    if result is None:
        return _incr_general(ctx, db, key, 1)
    engine = ctx.engine
    engine.dirty += 1       # key_modified, without its call when nothing listens
    if engine.keyspace_listeners:
        engine.key_modified(db, key, "incrby", count=0)
    return result


@command("decr", arity=2, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def decr(ctx, argv):
    """Decrement the integer value of a key by one."""
    return incr_by(ctx, argv[1], -1)


@command("incrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def incrby(ctx, argv):
    """Increment the integer value of a key by the given amount."""
    return incr_by(ctx, argv[1], int_arg(argv[2]))


@command("decrby", arity=3, flags="write denyoom fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def decrby(ctx, argv):
    """Decrement the integer value of a key by the given number."""
    delta = int_arg(argv[2])
    if delta == LLONG_MIN:
        raise ReplyError("ERR decrement would overflow")
    return incr_by(ctx, argv[1], -delta)


@command("incrbyfloat", arity=3, flags="write denyoom fast", keys=(1, 1, 1),
         group="string", since="2.6.0")
def incrbyfloat(ctx, argv):
    """Increment the float value of a key (C long double arithmetic, as Redis)."""
    db = ctx.db
    key = argv[1]
    current = db.lookup_write(key)
    if current is None:
        value = longdouble.ZERO
    elif type(current) not in _STRING_TYPES:
        raise ReplyError(WRONGTYPE)
    else:
        value = longdouble.parse_long_double(current)
    increment = longdouble.parse_long_double(argv[2])
    if value is None or increment is None:
        raise ReplyError(NOT_FLOAT)
    result = longdouble.add(value, increment)
    if result is None:
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = longdouble.format_human(result)
    db.set(key, text, keep_ttl=True)
    ctx.engine.key_modified(db, key, "incrbyfloat")
    # Replicas and the AOF get the result, never a float computation to redo.
    ctx.propagate_argv = [b"SET", key, text, b"KEEPTTL"]
    return text


# ---- LCS -------------------------------------------------------------------------------

@command("lcs", arity=-3, flags="readonly", keys=(1, 2, 1), group="string",
         since="7.0.0")
def lcs(ctx, argv):
    """Find the longest common subsequence of two strings."""
    db = ctx.db
    a = db.lookup(argv[1])
    b = db.lookup(argv[2])
    if (a is not None and type(a) not in _STRING_TYPES) or \
            (b is not None and type(b) not in _STRING_TYPES):
        raise ReplyError("ERR The specified keys must contain string values")
    a = bytes(a or b"")
    b = bytes(b or b"")
    get_len = get_idx = with_match_len = False
    min_match_len = 0
    j, n = 3, len(argv)
    while j < n:
        option = argv[j].lower()
        if option == b"idx":
            get_idx = True
        elif option == b"len":
            get_len = True
        elif option == b"withmatchlen":
            with_match_len = True
        elif option == b"minmatchlen" and j + 1 < n:
            min_match_len = max(int_arg(argv[j + 1]), 0)
            j += 1
        else:
            raise ReplyError(SYNTAX)
        j += 1
    if get_idx and get_len:
        raise ReplyError("ERR If you want both the length and indexes, please just use IDX.")
    if (len(a) + 1) * (len(b) + 1) * 4 > ctx.engine.config.proto_max_bulk_len:
        raise ReplyError("ERR Insufficient memory, transient memory for LCS exceeds "
                         "proto-max-bulk-len")
    rows = lcs_table(a, b, keep=not get_len)
    length = rows[-1][-1]
    if get_len:
        return length
    text, ranges = lcs_walk(a, b, rows, min_match_len)
    if not get_idx:
        return text
    matches = []
    for a_start, a_end, b_start, b_end, match_len in ranges:
        match = [[a_start, a_end], [b_start, b_end]]
        if with_match_len:
            match.append(match_len)
        matches.append(match)
    return {b"matches": matches, b"len": length}

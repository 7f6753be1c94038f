"""String commands: GET, SET and the rest of the string family."""

from ember.commands.args import int_arg
from ember.commands.registry import command
from ember.errors import NOT_INTEGER, OVERFLOW, SYNTAX, WRONGTYPE, ReplyError
from ember.protocol.numbers import LLONG_MAX, LLONG_MIN, parse_int
from ember.protocol.replies import OK

_STRING_TYPES = (bytes, bytearray)


def as_bytes(value):
    """A reply-safe copy of a stored string (bytearrays may change after this command)."""
    return bytes(value) if type(value) is bytearray else value


@command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string",
         since="1.0.0")
def get(ctx, argv):
    """Get the value of a key."""
    value = ctx.db.get_string(argv[1])
    return bytes(value) if type(value) is bytearray else value


def expire_deadline(ctx, unit: bytes, amount: bytes, command_name: str) -> int:
    """Absolute deadline (ms) for an EX/PX/EXAT/PXAT option; Redis's errors."""
    value = int_arg(amount)
    if value <= 0:
        raise ReplyError(f"ERR invalid expire time in '{command_name}' command")
    if unit == b"ex":
        if value > LLONG_MAX // 1000:
            raise ReplyError(f"ERR invalid expire time in '{command_name}' command")
        value *= 1000
    elif unit == b"exat":
        if value > LLONG_MAX // 1000:
            raise ReplyError(f"ERR invalid expire time in '{command_name}' command")
        return value * 1000
    elif unit == b"pxat":
        return value
    if value > LLONG_MAX - ctx.engine.now():
        raise ReplyError(f"ERR invalid expire time in '{command_name}' command")
    return value + ctx.engine.now()


@command("set", arity=-3, flags="write denyoom", keys=(1, 1, 1), group="string",
         since="1.0.0")
def set_(ctx, argv):
    """Set the string value of a key, with expiry and conditions."""
    key = argv[1]
    db = ctx.db
    if len(argv) == 3:
        db.set(key, argv[2])
        ctx.engine.key_modified(db, key, "set")
        return OK
    condition = None
    want_get = keep_ttl = False
    deadline = None
    expire_seen = False
    i = 3
    n = len(argv)
    while i < n:
        option = argv[i].lower()
        if option == b"nx" and condition is None:
            condition = b"nx"
        elif option == b"xx" and condition is None:
            condition = b"xx"
        elif option == b"get" and not want_get:
            want_get = True
        elif option == b"keepttl" and not expire_seen and not keep_ttl:
            keep_ttl = True
        elif option in (b"ex", b"px", b"exat", b"pxat") and not expire_seen \
                and not keep_ttl and i + 1 < n:
            expire_seen = True
            i += 1
            unit, amount = option, argv[i]
        else:
            raise ReplyError(SYNTAX)
        i += 1
    if expire_seen:
        deadline = expire_deadline(ctx, unit, amount, "set")
    current = db.lookup_write(key)
    old = None
    if want_get:
        if current is not None and type(current) not in _STRING_TYPES:
            raise ReplyError(WRONGTYPE)
        old = as_bytes(current)
        db.stats.hits += current is not None
        db.stats.misses += current is None
    if (condition == b"nx" and current is not None) or \
            (condition == b"xx" and current is None):
        return old if want_get else None
    db.set(key, argv[2], keep_ttl=keep_ttl)
    if deadline is not None:
        db.set_expire(key, deadline)
        if unit != b"pxat":
            ctx.propagate_argv = [b"SET", key, argv[2], b"PXAT", b"%d" % deadline]
    ctx.engine.key_modified(db, key, "set")
    return old if want_get else OK


def incr_by(ctx, key: bytes, delta: int) -> int:
    """Add ``delta`` to the integer at ``key`` (INCR/DECR/INCRBY/DECRBY)."""
    db = ctx.db
    current = db.lookup_write(key)
    if current is None:
        value = 0
    else:
        if type(current) not in _STRING_TYPES:
            raise ReplyError(WRONGTYPE)
        value = parse_int(bytes(current))
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
    """Increment the integer value of a key by one."""
    return incr_by(ctx, argv[1], 1)


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


@command("mset", arity=-3, flags="write denyoom", keys=(1, -1, 2), group="string",
         since="1.0.1")
def mset(ctx, argv):
    """Set multiple keys to multiple values."""
    if len(argv) % 2 == 0:
        raise ReplyError("ERR wrong number of arguments for 'mset' command")
    db = ctx.db
    modified = ctx.engine.key_modified
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        modified(db, argv[i], "set")
    return OK

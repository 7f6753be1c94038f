"""TTL commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME,
PERSIST.

Deadlines are absolute Unix milliseconds (``db.set_expire`` keeps the deadline-ordered
index right). As in Redis's expireGenericCommand, a deadline at or before now deletes the
key at once and is propagated as DEL (UNLINK with lazyfree-lazy-expire); any other is
propagated as PEXPIREAT with the absolute time, so that replaying it later gives the same
deadline.
"""

from ember.commands.args import int_arg
from ember.commands.registry import command
from ember.errors import ReplyError
from ember.protocol.numbers import LLONG_MAX, LLONG_MIN

_NX, _XX, _GT, _LT = 1, 2, 4, 8
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (division truncates toward zero).
_MAX_SECONDS = LLONG_MAX // 1000
_MIN_SECONDS = -(-LLONG_MIN // 1000)
_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def parse_expire_flags(argv: list, start: int = 3) -> int:
    """NX/XX/GT/LT options as a bit set; Redis's errors for unknown or clashing ones."""
    flags = 0
    for option in argv[start:]:
        flag = _FLAGS.get(option.lower())
        if flag is None:
            raise ReplyError("ERR Unsupported option %s"
                             % option.decode("utf-8", "surrogateescape"))
        flags |= flag
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise ReplyError("ERR GT and LT options at the same time are not compatible")
    return flags


def _enabled(value) -> bool:
    if isinstance(value, (bytes, str)):
        return value.lower() in ("yes", b"yes")
    return bool(value)


def expire_generic(ctx, argv: list, relative: bool, unit_seconds: bool) -> int:
    """The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT."""
    name = argv[0].lower().decode("latin-1")
    flags = parse_expire_flags(argv)
    when = int_arg(argv[2])
    invalid = "ERR invalid expire time in '%s' command" % name
    if unit_seconds:
        if when > _MAX_SECONDS or when < _MIN_SECONDS:
            raise ReplyError(invalid)
        when *= 1000
    now = ctx.engine.now()
    base = now if relative else 0
    if when > LLONG_MAX - base:
        raise ReplyError(invalid)
    when += base
    db = ctx.db
    key = argv[1]
    if db.lookup_write(key) is None:
        return 0
    if flags:
        current = db.get_expire(key)
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0
    if when <= now:
        db.delete(key)
        lazy = _enabled(getattr(ctx.engine.config, "lazyfree_lazy_expire", False))
        ctx.propagate_argv = [b"UNLINK" if lazy else b"DEL", key]
        ctx.engine.key_modified(db, key, "del")
        return 1
    db.set_expire(key, when)
    if relative or unit_seconds:
        # Redis rewrites the name and the time, and keeps the NX/XX/GT/LT options.
        ctx.propagate_argv = [b"PEXPIREAT", key, b"%d" % when] + argv[3:]
    ctx.engine.key_modified(db, key, "expire")
    return 1


@command("expire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.0.0")
def expire(ctx, argv):
    """Set a key's time to live in seconds."""
    return expire_generic(ctx, argv, relative=True, unit_seconds=True)


@command("pexpire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.6.0")
def pexpire(ctx, argv):
    """Set a key's time to live in milliseconds."""
    return expire_generic(ctx, argv, relative=True, unit_seconds=False)


@command("expireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="1.2.0")
def expireat(ctx, argv):
    """Set a key's expiry as a Unix time in seconds."""
    return expire_generic(ctx, argv, relative=False, unit_seconds=True)


@command("pexpireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.6.0")
def pexpireat(ctx, argv):
    """Set a key's expiry as a Unix time in milliseconds."""
    return expire_generic(ctx, argv, relative=False, unit_seconds=False)


def ttl_generic(ctx, key: bytes, milliseconds: bool, absolute: bool) -> int:
    """TTL/PTTL/EXPIRETIME/PEXPIRETIME: -2 no key, -1 no TTL, else the (rounded) value."""
    db = ctx.db
    if db.peek(key) is None:
        db.stats.misses += 1
        return -2
    db.stats.hits += 1
    deadline = db.get_expire(key)
    if deadline is None:
        return -1
    value = max(deadline if absolute else deadline - ctx.engine.now(), 0)
    return value if milliseconds else (value + 500) // 1000


@command("ttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="1.0.0")
def ttl(ctx, argv):
    """Time to live of a key in seconds (rounded)."""
    return ttl_generic(ctx, argv[1], milliseconds=False, absolute=False)


@command("pttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="2.6.0")
def pttl(ctx, argv):
    """Time to live of a key in milliseconds."""
    return ttl_generic(ctx, argv[1], milliseconds=True, absolute=False)


@command("expiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0")
def expiretime(ctx, argv):
    """The Unix time (seconds) at which a key expires."""
    return ttl_generic(ctx, argv[1], milliseconds=False, absolute=True)


@command("pexpiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         since="7.0.0")
def pexpiretime(ctx, argv):
    """The Unix time (milliseconds) at which a key expires."""
    return ttl_generic(ctx, argv[1], milliseconds=True, absolute=True)


@command("persist", arity=2, flags="write fast", keys=(1, 1, 1), group="generic",
         since="2.2.0")
def persist(ctx, argv):
    """Remove a key's time to live."""
    db = ctx.db
    key = argv[1]
    if db.lookup_write(key) is None or not db.persist(key):
        return 0
    ctx.engine.key_modified(db, key, "persist")
    return 1

"""DEBUG: SLEEP, OBJECT, SET-ACTIVE-EXPIRE, ERROR and HELP.

DEBUG is refused unless ``enable-debug-command`` is ``yes`` (or ``local`` and the client
is on a loopback address or a unix socket), with Redis's text. Other layers may add
subcommands without touching this file: ``engine.hooks["debug"]`` maps a lowercase
subcommand name to ``handler(ctx, argv)`` (DEBUG RELOAD, DIGEST ... belong to
persistence).
"""

import time

from ember.commands.args import text
from ember.commands.client import subcommand_syntax_error
from ember.commands.keys import string_encoding
from ember.commands.registry import command
from ember.errors import NO_SUCH_KEY, ReplyError
from ember.protocol.numbers import parse_float, parse_int
from ember.protocol.replies import OK, Status

DEBUG_REFUSED = (
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.")

DEBUG_HELP = (
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
)

_SHARED_INTEGERS = 10000
_OBJ_SHARED_REFCOUNT = 2147483647
_LRU_CLOCK_MAX = (1 << 24) - 1


def is_local(client) -> bool:
    """True for a loopback or unix-socket client (enable-debug-command local)."""
    addr = client.addr
    if not addr or addr.startswith("/"):
        return True
    host = addr.rsplit(":", 1)[0].strip("[]")
    return host.startswith("127.") or host in ("::1", "localhost")


def debug_allowed(ctx) -> bool:
    """What enable-debug-command says about this client."""
    setting = ctx.engine.config.enable_debug_command
    if setting is True or setting == "yes":
        return True
    return setting == "local" and is_local(ctx)


def value_encoding(engine, value) -> str:
    """OBJECT ENCODING's word for a stored value (strings as OBJECT ENCODING sees them)."""
    if type(value) in (bytes, bytearray):
        return string_encoding(value).decode()
    hook = engine.hooks.get("object_encoding")
    if hook is not None:
        return hook(value)
    encoding = getattr(value, "encoding", None)
    if callable(encoding):
        encoding = encoding()
    return encoding or "hashtable"


def _length_prefix(n: int) -> int:
    return 1 if n < 64 else 2 if n < 16384 else 5


def serialized_length(value) -> int:
    """About what the value takes in an RDB file (exact for small strings)."""
    if type(value) in (bytes, bytearray):
        number = parse_int(bytes(value)) if len(value) <= 11 else None
        if number is not None and -(1 << 31) <= number < (1 << 31):
            return 2 if -128 <= number < 128 else 3 if -32768 <= number < 32768 else 5
        return _length_prefix(len(value)) + len(value)
    try:
        items = list(value)
    except TypeError:
        return 1
    total = _length_prefix(len(items))
    for item in items:
        if isinstance(item, (bytes, bytearray)):
            total += _length_prefix(len(item)) + len(item)
        else:
            total += 9
    return total


def debug_object(ctx, key: bytes) -> Status:
    """DEBUG OBJECT's line for ``key`` (without touching it)."""
    db = ctx.db
    value = db.peek(key)
    if value is None:
        raise ReplyError(NO_SUCH_KEY)
    encoding = value_encoding(ctx.engine, value)
    refcount = 1
    if encoding == "int" and 0 <= int(value) < _SHARED_INTEGERS:
        refcount = _OBJ_SHARED_REFCOUNT
    last = db.access.get(key, ctx.engine.now() // 1000)
    return Status("Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d "
                  "lru_seconds_idle:%d" % (id(value), refcount, encoding,
                                           serialized_length(value), last & _LRU_CLOCK_MAX,
                                           db.idle_seconds(key)))


def _atoi(data: bytes) -> int:
    """C atoi: the leading integer of the text, 0 if there is none."""
    digits = b""
    body = data.strip()
    sign = 1
    if body[:1] in (b"-", b"+"):
        sign = -1 if body[:1] == b"-" else 1
        body = body[1:]
    for byte in body:
        if not 48 <= byte <= 57:
            break
        digits += bytes([byte])
    return sign * int(digits) if digits else 0


def _strtod(data: bytes) -> float:
    """C strtod on the whole argument, 0 when it is not a number."""
    value = parse_float(data.strip())
    return value if value is not None else 0.0


@command("debug", arity=-2, flags="admin noscript loading stale", group="server",
         since="1.0.0")
def debug(ctx, argv):
    """A container for debugging commands."""
    if not debug_allowed(ctx):
        raise ReplyError(DEBUG_REFUSED)
    sub = argv[1].lower()
    argc = len(argv)
    if sub == b"help" and argc == 2:
        return [Status(line) for line in DEBUG_HELP]
    if sub == b"sleep" and argc == 3:
        seconds = _strtod(argv[2])
        if seconds > 0:
            time.sleep(seconds)
        return OK
    if sub == b"object" and argc == 3:
        return debug_object(ctx, argv[2])
    if sub == b"set-active-expire" and argc == 3:
        ctx.engine.active_expire_enabled = bool(_atoi(argv[2]))
        return OK
    if sub == b"error" and argc == 3:
        # Sent as is, outside the error statistics (Redis writes it with addReplySds).
        return ReplyError(text(argv[2]))
    extension = ctx.engine.hooks.get("debug", {}).get(text(sub))
    if extension is not None:
        return extension(ctx, argv)
    raise subcommand_syntax_error(argv)

"""Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET."""

from ember import REDIS_VERSION
from ember.commands.args import int_arg, text
from ember.commands.registry import command
from ember.errors import DB_INDEX, ReplyError
from ember.protocol.replies import OK, PONG, Push, Status

_WRONGPASS = ("WRONGPASS invalid username-password pair or user is disabled.")


@command("ping", arity=-1, flags="fast", group="connection", since="1.0.0")
def ping(ctx, argv):
    """Ping the server."""
    if len(argv) > 2:
        raise ReplyError("ERR wrong number of arguments for 'ping' command")
    if ctx.subscriptions or ctx.psubscriptions or ctx.ssubscriptions:
        if ctx.resp == 2:
            return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("echo", arity=2, flags="loading stale fast", group="connection", since="1.0.0")
def echo(ctx, argv):
    """Echo the given string."""
    return argv[1]


@command("quit", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="1.0.0")
def quit_(ctx, argv):
    """Close the connection."""
    ctx.close_after_reply = True
    return OK


@command("select", arity=2, flags="loading stale fast", group="connection", since="1.0.0")
def select(ctx, argv):
    """Change the selected database for the current connection."""
    index = int_arg(argv[1], "ERR value is not an integer or out of range")
    if index < 0 or index >= len(ctx.engine.dbs):
        raise ReplyError(DB_INDEX)
    ctx.select(index)
    return OK


def _check_password(ctx, username: bytes, password: bytes) -> bool:
    required = ctx.engine.config.requirepass
    if username not in (None, b"default"):
        return False
    if not required:
        return username is None or True
    return password == required.encode("utf-8", "surrogateescape")


@command("auth", arity=-2, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="1.0.0")
def auth(ctx, argv):
    """Authenticate to the server."""
    if len(argv) > 3:
        raise ReplyError("ERR syntax error")
    if len(argv) == 2:
        if not ctx.engine.config.requirepass:
            raise ReplyError(
                "ERR AUTH <password> called without any password configured for the "
                "default user. Are you sure your configuration is correct?")
        username, password = None, argv[1]
    else:
        username, password = argv[1], argv[2]
    if not _check_password(ctx, username, password):
        raise ReplyError(_WRONGPASS)
    ctx.authenticated = True
    return OK


def hello_reply(ctx) -> dict:
    """The map HELLO replies with."""
    replica = ctx.engine.hooks.get("role", "master")
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": ctx.resp,
        b"id": ctx.id,
        b"mode": b"standalone",
        b"role": replica.encode() if isinstance(replica, str) else b"master",
        b"modules": [],
    }


@command("hello", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="6.0.0")
def hello(ctx, argv):
    """Handshake with the server: protocol version, AUTH, SETNAME."""
    version = None
    if len(argv) >= 2:
        version = int_arg(argv[1], "ERR Protocol version is not an integer or out of range")
        if version < 2 or version > 3:
            raise ReplyError("NOPROTO unsupported protocol version")
    i = 2
    username = password = name = None
    while i < len(argv):
        option = argv[i].lower()
        more = len(argv) - i - 1
        if option == b"auth" and more >= 2:
            username, password = argv[i + 1], argv[i + 2]
            i += 3
        elif option == b"setname" and more >= 1:
            name = argv[i + 1]
            i += 2
        else:
            raise ReplyError("ERR Syntax error in HELLO option '%s'" % text(argv[i]))
    if username is not None:
        if not _check_password(ctx, username, password):
            raise ReplyError(_WRONGPASS)
        ctx.authenticated = True
    if not ctx.authenticated:
        raise ReplyError("NOAUTH HELLO must be called with the client already "
                         "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                         "option can be used to authenticate the client and select the "
                         "RESP protocol version at the same time")
    if name is not None:
        validate_client_name(name)
        ctx.name = name
    if version is not None:
        ctx.resp = version
    return hello_reply(ctx)


def validate_client_name(name: bytes) -> None:
    """Client names may not contain spaces, newlines or special characters."""
    for byte in name:
        if byte < 33 or byte > 126:
            raise ReplyError("ERR Client names cannot contain spaces, newlines or "
                             "special characters.")


@command("reset", arity=1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", since="6.2.0")
def reset(ctx, argv):
    """Reset the connection: database 0, RESP2, no name, no subscriptions, no MULTI."""
    ctx.select(0)
    ctx.resp = 2
    ctx.name = b""
    ctx.reply_mode = "on"
    ctx.no_evict = False
    ctx.no_touch = False
    ctx.multi = None
    ctx.watched = None
    for hook in ctx.engine.hooks.get("reset", ()):
        hook(ctx)
    ctx.subscriptions.clear()
    ctx.psubscriptions.clear()
    ctx.ssubscriptions.clear()
    ctx.authenticated = not ctx.engine.auth_required()
    return Status("RESET")


__all__ = ["Push"]

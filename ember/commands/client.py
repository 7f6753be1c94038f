"""CLIENT: connection introspection and management (ID, LIST, INFO, KILL, PAUSE, REPLY ...).

CLIENT LIST and CLIENT INFO print Redis 7.2's fields in Redis's order; buffer figures come
from the client's network connection (``ctx.conn``) when it has one. Killing another
client aborts its connection; killing yourself closes after this reply. CLIENT PAUSE only
records the pause on the engine (:mod:`ember.commands.runtime`); the network layer holds
the affected commands back.
"""

import time

from ember.commands import runtime
from ember.commands.args import int_arg, text
from ember.commands.connection import validate_client_name
from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.protocol.numbers import LLONG_MAX
from ember.protocol.replies import OK, Status, Verbatim

command("client", arity=-2, container=True, group="connection", since="2.4.0")

HELP = (
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
)

CLIENT_TYPES = {"normal": "normal", "slave": "replica", "replica": "replica",
                "pubsub": "pubsub", "master": "master"}
# Redis reserves this much per client for its reply buffer (CLIENT LIST rbs).
_REPLY_BUFFER = 16384
_CLIENT_STRUCT = 1928


def subcommand_syntax_error(argv: list) -> ReplyError:
    """Redis's addReplySubcommandSyntaxError text."""
    return ReplyError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                      "Try %s HELP." % (text(argv[1])[:128], text(argv[0]).upper()))


def client_type(client) -> str:
    """normal, replica, master or pubsub, as CLIENT LIST TYPE and CLIENT KILL TYPE see it."""
    if "master" in client.flags:
        return "master"
    if ("replica" in client.flags or "slave" in client.flags) and not client.monitor:
        return "replica"
    if client.subscriptions or client.psubscriptions or client.ssubscriptions:
        return "pubsub"
    return "normal"


def _flags(client) -> str:
    flags = []
    if client.monitor:
        flags.append("O")
    elif "replica" in client.flags or "slave" in client.flags:
        flags.append("S")
    if "master" in client.flags:
        flags.append("M")
    if client.subscriptions or client.psubscriptions or client.ssubscriptions:
        flags.append("P")
    if client.multi is not None:
        flags.append("x")
    if client.blocked or (client.conn is not None
                          and client.conn in client.engine.pause_waiters):
        flags.append("b")      # blocked, or held back by CLIENT PAUSE
    if client.tracking:
        flags.append("t")
    if "dirty_cas" in client.flags:
        flags.append("d")
    if client.close_after_reply:
        flags.append("c")
    if client.addr.startswith("/"):
        flags.append("U")
    if "readonly" in client.flags:
        flags.append("r")
    if client.no_evict:
        flags.append("e")
    if client.no_touch:
        flags.append("T")
    return "".join(flags) or "N"


def _tracking_redirect(client) -> int:
    tracking = client.tracking
    if not tracking:
        return -1
    if isinstance(tracking, dict):
        return tracking.get("redirect", 0) or 0
    return getattr(tracking, "redirect", 0) or 0


def _argv_bytes(argv) -> int:
    return sum(len(arg) for arg in argv)


def _multi_bytes(client) -> int:
    total = 0
    for queued in client.multi or ():
        argv = queued[1] if isinstance(queued, tuple) and len(queued) == 2 else queued
        if isinstance(argv, list):
            total += _argv_bytes(argv)
    return total


def client_info_line(client, current=None, current_argv=None, now=None) -> str:
    """One CLIENT LIST line (without the newline) in Redis 7.2's field order.

    ``current`` is the client running this CLIENT command: for it ``cmd`` is the running
    command, ``idle`` is 0 and ``argv-mem`` counts its arguments, as in Redis.
    """
    now = time.time() if now is None else now
    conn = client.conn
    qbuf = conn.parser.buffered if conn is not None and conn.parser is not None else 0
    omem = conn.output_buffer_size() if conn is not None else 0
    is_current = client is current
    argv_mem = _argv_bytes(current_argv) if is_current and current_argv else 0
    multi = len(client.multi) if client.multi is not None else -1
    multi_mem = _multi_bytes(client)
    tot_mem = _CLIENT_STRUCT + qbuf + argv_mem + multi_mem + omem + _REPLY_BUFFER
    if is_current and current_argv:
        cmd = "%s|%s" % (text(current_argv[0]).lower(), text(current_argv[1]).lower())
    else:
        cmd = client.last_cmd
    fields = (
        ("id", client.id), ("addr", client.addr), ("laddr", client.laddr),
        ("fd", client.fd), ("name", text(client.name)),
        ("age", int(now - client.created)),
        ("idle", 0 if is_current else int(now - client.last_interaction)),
        ("flags", _flags(client)), ("db", client.db.id),
        ("sub", len(client.subscriptions)), ("psub", len(client.psubscriptions)),
        ("ssub", len(client.ssubscriptions)), ("multi", multi),
        ("qbuf", qbuf), ("qbuf-free", 0), ("argv-mem", argv_mem),
        ("multi-mem", multi_mem), ("rbs", _REPLY_BUFFER), ("rbp", 0),
        ("obl", 0), ("oll", 0), ("omem", omem), ("tot-mem", tot_mem),
        ("events", "rw" if omem else "r"), ("cmd", cmd), ("user", client.user),
        ("redir", _tracking_redirect(client)), ("resp", client.resp),
        ("lib-name", text(client.lib_name)), ("lib-ver", text(client.lib_ver)),
    )
    return " ".join(f"{name}={value}" for name, value in fields)


@command("client|id", arity=2, flags="noscript loading stale", group="connection",
         since="5.0.0")
def client_id(ctx, argv):
    """Returns the unique client ID of the connection."""
    return ctx.id


@command("client|info", arity=2, flags="noscript loading stale", group="connection",
         since="6.2.0")
def client_info(ctx, argv):
    """Returns information about the connection."""
    return Verbatim((client_info_line(ctx, ctx, argv) + "\n").encode("utf-8",
                                                                        "surrogateescape"))


@command("client|list", arity=-2, flags="admin noscript loading stale", group="connection",
         since="2.4.0")
def client_list(ctx, argv):
    """Lists open connections."""
    engine = ctx.engine
    clients = list(engine.clients.values())
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = CLIENT_TYPES.get(text(argv[3]).lower())
        if kind is None:
            raise ReplyError("ERR Unknown client type '%s'" % text(argv[3]))
        clients = [c for c in clients if client_type(c) == kind]
    elif len(argv) > 3 and argv[2].lower() == b"id":
        chosen = []
        for arg in argv[3:]:
            wanted = int_arg(arg, "ERR Invalid client ID")
            found = engine.clients.get(wanted)
            if found is not None:
                chosen.append(found)
        clients = chosen
    elif len(argv) != 2:
        raise ReplyError(SYNTAX)
    now = time.time()
    lines = "".join(client_info_line(c, ctx, argv, now) + "\n" for c in clients)
    return Verbatim(lines.encode("utf-8", "surrogateescape"))


@command("client|setname", arity=3, flags="noscript loading stale", group="connection",
         since="2.6.9")
def client_setname(ctx, argv):
    """Sets the connection name."""
    validate_client_name(argv[2])
    ctx.name = argv[2]
    return OK


@command("client|getname", arity=2, flags="noscript loading stale", group="connection",
         since="2.6.9")
def client_getname(ctx, argv):
    """Returns the name of the connection."""
    return ctx.name or None


@command("client|setinfo", arity=4, flags="noscript loading stale", group="connection",
         since="7.2.0")
def client_setinfo(ctx, argv):
    """Sets information specific to the client or connection."""
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise ReplyError("ERR Unrecognized option '%s'" % text(argv[2]))
    for byte in argv[3]:
        if byte < 33 or byte > 126:
            raise ReplyError("ERR %s cannot contain spaces, newlines or special characters."
                             % text(argv[2]))
    if attr == b"lib-name":
        ctx.lib_name = argv[3]
    else:
        ctx.lib_ver = argv[3]
    return OK


def _on_off(argv) -> bool:
    word = argv[2].lower()
    if word == b"on":
        return True
    if word == b"off":
        return False
    raise ReplyError(SYNTAX)


@command("client|no-evict", arity=3, flags="admin noscript loading stale",
         group="connection", since="7.0.0")
def client_no_evict(ctx, argv):
    """Sets the client eviction mode of the connection."""
    ctx.no_evict = _on_off(argv)
    return OK


@command("client|no-touch", arity=3, flags="noscript loading stale", group="connection",
         since="7.2.0")
def client_no_touch(ctx, argv):
    """Controls whether commands sent by the client affect the LRU/LFU of accessed keys."""
    ctx.no_touch = _on_off(argv)
    return OK


@command("client|reply", arity=3, flags="noscript loading stale", group="connection",
         since="3.2.0")
def client_reply(ctx, argv):
    """Instructs the server whether to reply to commands."""
    mode = argv[2].lower()
    if mode == b"on":
        ctx.reply_mode = "on"
    elif mode == b"off":
        ctx.reply_mode = "off"
    elif mode == b"skip":
        # No reply to this command, nor to the next one; OFF stays OFF.
        if ctx.reply_mode != "off":
            ctx.reply_mode = "skip-next"
    else:
        raise ReplyError(SYNTAX)
    return OK


def _timeout_ms(ctx, arg: bytes) -> int:
    value = int_arg(arg, "ERR timeout is not an integer or out of range")
    if value < 0:
        raise ReplyError("ERR timeout is negative")
    now = ctx.engine.now()
    if value > 0:
        if value > LLONG_MAX - now:
            raise ReplyError("ERR timeout is out of range")
        value += now
    return value


@command("client|pause", arity=-3, flags="admin noscript loading stale", group="connection",
         since="3.0.0")
def client_pause(ctx, argv):
    """Suspends commands processing."""
    if len(argv) > 4:
        raise subcommand_syntax_error(argv)
    kind = runtime.PAUSE_ALL
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            kind = runtime.PAUSE_WRITE
        elif mode != b"all":
            raise ReplyError("ERR CLIENT PAUSE mode must be WRITE or ALL")
    until = _timeout_ms(ctx, argv[2])
    runtime.start_pause(ctx.engine, kind, until)
    return OK


@command("client|unpause", arity=2, flags="admin noscript loading stale", group="connection",
         since="6.2.0")
def client_unpause(ctx, argv):
    """Resumes processing of clients that were paused."""
    runtime.end_pause(ctx.engine)
    return OK


def _user_exists(engine, name: bytes) -> bool:
    lookup = engine.hooks.get("acl_user_exists")
    if lookup is not None:
        return bool(lookup(name))
    return name == b"default"


def _kill_filters(ctx, argv) -> dict:
    filters = {"skipme": True}
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if i + 1 >= len(argv):
            raise ReplyError(SYNTAX)
        value = argv[i + 1]
        if option == b"id":
            client_id = int_arg(value, "ERR client-id should be greater than 0")
            if client_id < 1:
                raise ReplyError("ERR client-id should be greater than 0")
            filters["id"] = client_id
        elif option == b"type":
            kind = CLIENT_TYPES.get(text(value).lower())
            if kind is None:
                raise ReplyError("ERR Unknown client type '%s'" % text(value))
            filters["type"] = kind
        elif option == b"addr":
            filters["addr"] = text(value)
        elif option == b"laddr":
            filters["laddr"] = text(value)
        elif option == b"user":
            if not _user_exists(ctx.engine, value):
                raise ReplyError("ERR No such user '%s'" % text(value))
            filters["user"] = text(value)
        elif option == b"skipme":
            word = value.lower()
            if word not in (b"yes", b"no"):
                raise ReplyError(SYNTAX)
            filters["skipme"] = word == b"yes"
        elif option == b"maxage":
            age = int_arg(value, "ERR maxage is not an integer or out of range")
            if age <= 0:
                raise ReplyError("ERR maxage should be greater than 0")
            filters["maxage"] = age
        else:
            raise ReplyError(SYNTAX)
        i += 2
    return filters


def _matches(client, ctx, filters: dict, now: float) -> bool:
    if "addr" in filters and client.addr != filters["addr"]:
        return False
    if "laddr" in filters and client.laddr != filters["laddr"]:
        return False
    if "type" in filters and client_type(client) != filters["type"]:
        return False
    if "id" in filters and client.id != filters["id"]:
        return False
    if "user" in filters and client.user != filters["user"]:
        return False
    if "maxage" in filters and int(now - client.created) <= filters["maxage"]:
        return False
    return not (client is ctx and filters["skipme"])


def kill_client(engine, client) -> None:
    """Disconnect another client now, dropping its pending output (CLIENT KILL)."""
    if client.conn is not None:
        client.conn.abort()
    runtime.stop_monitoring(client)
    engine.remove_client(client)


@command("client|kill", arity=-3, flags="admin noscript loading stale", group="connection",
         since="2.4.0")
def client_kill(ctx, argv):
    """Terminates open connections."""
    old_form = len(argv) == 3
    if old_form:
        # CLIENT KILL <addr>: you may kill yourself with it.
        filters = {"addr": text(argv[2]), "skipme": False}
    else:
        filters = _kill_filters(ctx, argv)
    engine = ctx.engine
    now = time.time()
    killed = 0
    for client in list(engine.clients.values()):
        if not _matches(client, ctx, filters, now):
            continue
        if client is ctx:
            ctx.close_after_reply = True
        else:
            kill_client(engine, client)
        killed += 1
    if old_form:
        if not killed:
            raise ReplyError("ERR No such client")
        return OK
    return killed


@command("client|unblock", arity=-3, flags="admin noscript loading stale",
         group="connection", since="5.0.0")
def client_unblock(ctx, argv):
    """Unblocks a client blocked by a blocking command from a different connection."""
    if len(argv) > 4:
        raise subcommand_syntax_error(argv)
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason not in (b"timeout", b"error"):
            raise ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
        error = reason == b"error"
    target = ctx.engine.clients.get(int_arg(argv[2]))
    # Only clients blocked on keys (BLPOP, BZPOPMIN, XREAD ...), not CLIENT PAUSE's.
    if target is None or target.blocked is None:
        return 0
    return int(ctx.engine.blocking.unblock(target, error))


@command("client|help", arity=2, flags="loading stale", group="connection", since="5.0.0")
def client_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return [Status(line) for line in HELP]

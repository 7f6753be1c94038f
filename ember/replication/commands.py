"""REPLICAOF/SLAVEOF, SYNC, PSYNC, REPLCONF, WAIT and ROLE (FAILOVER is in failover.py).

The handlers only parse and answer; the state lives in ``engine.hooks["replication"]``
(:class:`ember.replication.manager.Replication`). This module is imported by the server
layer when it installs replication, after the core command modules.
"""

from ember.commands.args import int_arg, text
from ember.commands.blocking import Block
from ember.commands.registry import COMMANDS, command
from ember.errors import NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.replies import OK, Status

WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
    "if a replica is configured to be writable (which is not the default) writes to "
    "replicas are just local and are not propagated.")
NOMASTERLINK = "NOMASTERLINK Can't SYNC while not connected with my master"
_NO_REPLY = OK          # what a replica connection's commands return (reply_mode is off)


def _repl(ctx):
    return ctx.engine.hooks["replication"]


def _replicaof(ctx, argv):
    """Make the server a replica of another instance, or promote it as master."""
    repl = _repl(ctx)
    if "slave" in ctx.flags:
        raise ReplyError("ERR Command is not valid when client is a replica.")
    if repl.failover is not None and repl.failover.in_progress:
        raise ReplyError("ERR REPLICAOF not allowed while failing over.")
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if repl.is_replica:
            repl.no_one()
        return OK
    port = int_arg(argv[2], "ERR Invalid master port")
    if port < 0 or port > 65535:
        raise ReplyError("ERR Invalid master port")
    host = text(argv[1])
    link = repl.link
    if link is not None and link.host == host and link.port == port:
        return Status("OK Already connected to specified master")
    repl.replicaof(host, port)
    return OK


command("replicaof", arity=3, flags="admin noscript stale no_async_loading",
        group="server", since="5.0.0")(_replicaof)
command("slaveof", arity=3, flags="admin noscript stale no_async_loading",
        group="server", since="1.0.0")(_replicaof)


def _refuse_sync(ctx):
    repl = _repl(ctx)
    if "slave" in ctx.flags:
        return True
    if repl.failover is not None and repl.failover.in_progress:
        raise ReplyError("NOMASTERLINK Can't SYNC while failing over")
    if repl.is_replica and repl.link.state != "connected":
        raise ReplyError(NOMASTERLINK)
    return False


@command("sync", arity=1, flags="admin noscript no_async_loading no_multi",
         group="server", since="1.0.0")
def sync(ctx, argv):
    """Old-style full synchronisation: the RDB, then the command stream."""
    if _refuse_sync(ctx):
        return _NO_REPLY
    _repl(ctx).primary.attach(ctx, psync=False)
    return _NO_REPLY


@command("psync", arity=-3, flags="admin noscript no_async_loading no_multi",
         group="server", since="2.8.0")
def psync(ctx, argv):
    """PSYNC replid offset: a partial resync from the backlog, or a full one."""
    repl = _repl(ctx)
    if len(argv) > 3 and argv[3].lower() == b"failover":     # FAILOVER's hand-over
        if not repl.is_replica:
            raise ReplyError("ERR PSYNC FAILOVER can't be sent to a master.")
        if text(argv[1]) != repl.backlog.replid:
            raise ReplyError("ERR PSYNC FAILOVER replid must match my replid.")
        repl.no_one()
    if _refuse_sync(ctx):
        return _NO_REPLY
    offset = int_arg(argv[2])
    _repl(ctx).primary.attach(ctx, psync=True, replid=text(argv[1]), offset=offset)
    return _NO_REPLY


@command("replconf", arity=-1, flags="admin noscript loading stale allow_busy",
         group="server", since="3.0.0")
def replconf(ctx, argv):
    """Replica settings and acknowledgements (listening-port, capa, ack, getack ...)."""
    if len(argv) % 2 == 0:
        raise ReplyError(SYNTAX)
    repl = _repl(ctx)
    primary = repl.primary
    for i in range(1, len(argv), 2):
        option = argv[i].lower()
        value = argv[i + 1]
        if option == b"listening-port":
            primary.configure(ctx, "listening_port", int_arg(value))
        elif option == b"ip-address":
            primary.configure(ctx, "ip_address", text(value))
        elif option == b"capa":
            primary.configure(ctx, "capa", text(value).lower())
        elif option == b"ack":
            try:
                offset = int(value)
            except ValueError:
                return _NO_REPLY
            primary.ack(ctx, offset)
            return _NO_REPLY            # never answered
        elif option == b"getack":
            if "master" in ctx.flags and repl.link is not None:
                repl.link.send_ack()
            return _NO_REPLY
        elif option == b"rdb-only":
            flag = int_arg(value)
            if flag not in (0, 1):
                raise ReplyError(SYNTAX)
            primary.configure(ctx, "rdb_only", bool(flag))
        elif option == b"rdb-filter-only":
            pass        # we always send everything; functions filtering is not supported
        else:
            raise ReplyError("ERR Unrecognized REPLCONF option: %s" % text(argv[i]))
    return OK


@command("wait", arity=3, group="generic", since="3.0.0")
def wait(ctx, argv):
    """WAIT numreplicas timeout: block until that many replicas acked our writes."""
    repl = _repl(ctx)
    if repl.is_replica:
        raise ReplyError(WAIT_ON_REPLICA)
    needed = int_arg(argv[1], NOT_INTEGER)
    timeout = int_arg(argv[2], "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise ReplyError("ERR timeout is negative")
    primary = repl.primary
    target = primary.client_offset(ctx)     # Redis's c->woff, not the server's offset
    count = primary.acked(target)
    if count >= needed or "deny_blocking" in ctx.flags:
        return count
    deadline = ctx.now_ms() + timeout if timeout else 0
    request = Block([], deadline, kind="wait", nil=count, timeout_reply=count,
                    ready=lambda value: False)
    reply = ctx.engine.blocking.block(ctx, COMMANDS["wait"], argv, request)
    if ctx.blocked is not None:
        primary.add_waiter(ctx.blocked, target, needed)
    return reply


@command("role", arity=1, flags="noscript loading stale fast", group="server",
         since="2.8.12")
def role(ctx, argv):
    """The replication role of this server and its peers."""
    return _repl(ctx).role()


def _replicate_publish() -> None:
    """PUBLISH reaches replicas too (Redis forces its propagation to replicas, not to the
    AOF), so that clients subscribed on a replica get the primary's messages."""
    spec = COMMANDS.get("publish")
    if spec is None or getattr(spec.handler, "replicated", False):
        return
    original = spec.handler

    def publish(ctx, argv):
        reply = original(ctx, argv)
        repl = ctx.engine.hooks.get("replication")
        if repl is not None and repl.backlog.active:
            repl.primary.propagate(ctx.db.id, argv)
        return reply

    publish.replicated = True
    publish.__doc__ = original.__doc__
    spec.handler = publish


_replicate_publish()


def _track_unit_writes() -> None:
    """EXEC and scripts propagate their writes as one unit once they end (and scripts'
    writes run as the scripting client), so the caller's WAIT offset (c->woff) is noted
    after the whole command when it changed data; plain writes are noted by the engine
    (``hooks["wrote"]``)."""
    for name in ("exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"):
        spec = COMMANDS.get(name)
        if spec is None or getattr(spec.handler, "woff_tracked", False):
            continue
        spec.handler = _noting_writes(spec.handler)


def _noting_writes(original):
    def handler(ctx, argv):
        engine = ctx.engine
        dirty = engine.dirty
        try:
            return original(ctx, argv)
        finally:
            if engine.dirty != dirty:
                wrote = engine.hooks.get("wrote")
                if wrote is not None:
                    wrote(ctx)

    handler.woff_tracked = True
    handler.__doc__ = original.__doc__
    return handler


_track_unit_writes()


_RO_WRITE = "ERR Write commands are not allowed from read-only scripts."
_RO_FLAGGED = "ERR Can not execute a script with write flag using *_ro command."
READONLY = "READONLY You can't write against a read only replica."


def _readonly_scripts() -> None:
    """On a read-only replica, EVAL/EVALSHA/FCALL run as their *_RO forms (a script
    cannot write there), with Redis's READONLY texts for what gets refused: a script or
    function that declares writes, and a write a flag-less script attempts."""
    for name, ro_name in (("eval", "eval_ro"), ("evalsha", "evalsha_ro"),
                          ("fcall", "fcall_ro")):
        spec, ro_spec = COMMANDS.get(name), COMMANDS.get(ro_name)
        if spec is None or ro_spec is None or getattr(spec.handler, "guarded", False):
            continue
        spec.handler = _guard(spec.handler, ro_spec.handler)


def _guard(original, read_only):
    def handler(ctx, argv):
        repl = ctx.engine.hooks.get("replication")
        if repl is None or repl.link is None or "master" in ctx.flags \
                or not ctx.engine.config.replica_read_only:
            return original(ctx, argv)
        try:
            reply = read_only(ctx, argv)
        except ReplyError as exc:
            raise _as_readonly(exc) from None
        return _as_readonly(reply) if isinstance(reply, ReplyError) else reply

    handler.guarded = True
    handler.__doc__ = original.__doc__
    return handler


def _as_readonly(error: ReplyError) -> ReplyError:
    message = error.message
    for text_ro in (_RO_WRITE, _RO_FLAGGED):
        if message.startswith(text_ro):
            return ReplyError(READONLY + message[len(text_ro):])
    return error


_readonly_scripts()

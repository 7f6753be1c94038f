"""FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: the coordinated switch-over of
Redis 6.2+ (replication.c's failoverCommand / updateFailoverStatus).

1. Writes are paused (as CLIENT PAUSE WRITE) and the state is ``waiting-for-sync``.
2. Once the target replica (or, without TO, the first one) has acknowledged the whole
   stream, this server becomes a replica of it (``failover-in-progress``) and sends
   ``PSYNC <replid> <offset> FAILOVER``; the target promotes itself (its history id stays
   valid as replid2) and answers ``+CONTINUE``.
3. Then the pause ends. A TIMEOUT without FORCE aborts; with FORCE the switch happens
   anyway. A rejected PSYNC aborts and makes this server a primary again.
"""

import logging

from ember.commands import runtime
from ember.commands.args import int_arg, text
from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.protocol.replies import OK
from ember.replication.primary import ONLINE

log = logging.getLogger("ember")

WAIT_FOR_SYNC, IN_PROGRESS = "waiting-for-sync", "failover-in-progress"
_FOREVER = 1 << 62


class Failover:
    """One coordinated failover in progress."""

    def __init__(self, repl, target, end_ms: int, force: bool):
        self.repl = repl
        self.engine = repl.engine
        self.target = target            # (host, port) or None: the first replica in sync
        self.end_ms = end_ms
        self.force = force
        self.state = WAIT_FOR_SYNC
        runtime.start_pause(self.engine, runtime.PAUSE_WRITE, _FOREVER)

    @property
    def in_progress(self) -> bool:
        """True until the failover ended or was aborted."""
        return self.state in (WAIT_FOR_SYNC, IN_PROGRESS)

    def cron(self) -> None:
        """updateFailoverStatus: switch when the target caught up, or time out."""
        if self.state != WAIT_FOR_SYNC:
            return
        repl = self.repl
        if self.end_ms and self.end_ms <= self.engine.now():
            if self.force:
                log.warning("FAILOVER to %s:%d time out exceeded, failing over.",
                            *self.target)
                self._switch()
            else:
                self.abort("Replica never caught up before timeout")
            return
        offset = repl.backlog.offset
        peer = None
        if self.target is not None:
            peer = find_replica(repl, *self.target)
        else:
            for candidate in repl.primary.replicas:
                if candidate.state == ONLINE and candidate.ack_offset == offset:
                    peer = candidate
                    self.target = (candidate.ip, candidate.listening_port)
                    break
        if peer is not None and peer.ack_offset == offset:
            log.warning("Failover target %s:%d is synced, failing over.", *self.target)
            self._switch()

    def _switch(self) -> None:
        self.state = IN_PROGRESS
        host, port = self.target
        self.repl.replicaof(host, port, failover=True)

    def psync_answered(self, accepted: bool) -> None:
        """The target answered our PSYNC ... FAILOVER."""
        if self.state != IN_PROGRESS:
            return
        if accepted:
            self.clear()
        else:
            self.abort("Failover target rejected psync request")

    def abort(self, reason: str) -> None:
        """abortFailover: back to a primary if we already switched; writes resume."""
        if not self.in_progress:
            return
        if self.target is not None:
            log.warning("FAILOVER to %s:%d aborted: %s", self.target[0], self.target[1],
                        reason)
        else:
            log.warning("FAILOVER to any replica aborted: %s", reason)
        if self.state == IN_PROGRESS:
            self.repl.no_one()
        self.clear()

    def clear(self) -> None:
        """clearFailoverState: no failover, writes resume."""
        self.state = "no-failover"
        if self.repl.failover is self:
            self.repl.failover = None
        runtime.end_pause(self.engine)


def find_replica(repl, host: str, port: int):
    """The attached replica announcing ``host:port``, or None."""
    for peer in repl.primary.replicas:
        if peer.ip == host and peer.listening_port == port:
            return peer
    return None


@command("failover", arity=-1, flags="admin noscript stale", group="server", since="6.2.0")
def failover(ctx, argv):
    """Start a coordinated failover between this server and one of its replicas."""
    repl = ctx.engine.hooks["replication"]
    current = repl.failover
    if len(argv) == 2 and argv[1].lower() == b"abort":
        if current is None or not current.in_progress:
            raise ReplyError("ERR No failover in progress.")
        current.abort("Failover manually aborted")
        return OK
    timeout = 0
    force = False
    host = None
    port = 0
    j = 1
    while j < len(argv):
        word = argv[j].lower()
        if word == b"timeout" and j + 1 < len(argv) and timeout == 0:
            timeout = int_arg(argv[j + 1])
            if timeout <= 0:
                raise ReplyError("ERR FAILOVER timeout must be greater than 0")
            j += 2
        elif word == b"to" and j + 2 < len(argv) and host is None:
            port = int_arg(argv[j + 2])
            host = text(argv[j + 1])
            j += 3
        elif word == b"force" and not force:
            force = True
            j += 1
        else:
            raise ReplyError(SYNTAX)
    if current is not None and current.in_progress:
        raise ReplyError("ERR FAILOVER already in progress.")
    if repl.is_replica:
        raise ReplyError("ERR FAILOVER is not valid when server is a replica.")
    if not repl.primary.replicas:
        raise ReplyError("ERR FAILOVER requires connected replicas.")
    if force and (not timeout or host is None):
        raise ReplyError("ERR FAILOVER with force option requires both a timeout and "
                         "target HOST and IP.")
    if host is not None:
        peer = find_replica(repl, host, port)
        if peer is None:
            raise ReplyError("ERR FAILOVER target HOST and PORT is not a replica.")
        if peer.state != ONLINE:
            raise ReplyError("ERR FAILOVER target replica is not online.")
        log.warning("FAILOVER requested to %s:%d.", host, port)
    else:
        log.warning("FAILOVER requested to any replica.")
    end_ms = ctx.now_ms() + timeout if timeout else 0
    repl.failover = Failover(repl, (host, port) if host is not None else None, end_ms,
                             force)
    return OK

"""Server: listening sockets, admission of clients, and the periodic cron (``hz``).

The cron does what Redis's serverCron does that ember needs: budgeted active expiry,
shrinking of dicts emptied by deletions, client timeouts and output-limit checks. It
runs on the event loop between batches, so it never interleaves with a command.
"""

import asyncio
import ipaddress
import logging
import os
import signal
import sys
import time

from ember.commands import load_all, notifications
from ember.commands.engine import Engine
from ember.commands.runtime import active_expire_allowed
from ember.persistence import dump_commands  # noqa: F401  (declares DUMP, RESTORE, MIGRATE)
from ember.protocol.parser import RequestParser
from ember.server import blocking, persistence_wiring, script_busy
from ember.storage.expiry import expire_cycle

log = logging.getLogger("ember")

PROTECTED_MODE_DENIED = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted "
    "from the loopback interface. If you want to connect from external computers to "
    "Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting to Redis from the same host the server is running, however MAKE SURE "
    "Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to "
    "make this change permanent. 2) Alternatively you can just disable the protected "
    "mode by editing the Redis configuration file, and setting the protected mode option "
    "to 'no', and then restarting the server. 3) If you started the server manually just "
    "for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the "
    "above things in order for the server to start accepting connections from the "
    "outside.")

MAX_CLIENTS_ERROR = "ERR max number of clients reached"

# Active expiry may use this share of each cron period (Redis: 25%).
_EXPIRE_CPU_SHARE = 0.25
# Fast cycles: 1 ms of expiry at most every 2 ms while a backlog of due keys remains.
_FAST_EXPIRE_BUDGET = 0.001
_FAST_EXPIRE_EVERY = 0.002


class Server:
    """Owns the engine, the listeners and the cron."""

    def __init__(self, config, engine: Engine = None):
        load_all()
        self.config = config
        self.engine = engine or Engine(config)
        self.engine.hooks["server"] = self
        blocking.install(self)      # BLPOP & co.: deadline timers, late replies
        script_busy.install(self)   # -BUSY and SCRIPT KILL while a script runs too long
        # Work to do once the current callbacks end (BCAST invalidations, Redis's
        # beforeSleep), and keyspace notifications as notify-keyspace-events says.
        self.engine.hooks["defer"] = self._defer
        notifications.install(self.engine)
        config.add_applier("proto-max-bulk-len", self._apply_proto_max_bulk_len)
        self.connections = set()
        self.listeners = []
        self.loop = None
        self.stopped = None
        self._cron_handle = None
        # Connections with output queued this loop iteration, flushed together.
        self.to_flush = []
        self._expire_cursor = 0
        self.parser_class = choose_parser(os.environ.get("EMBER_PARSER", "pure"))
        self._fast_expire_pending = False
        self.shutdown_hooks = []
        from ember.server import replication_wiring
        replication_wiring.install(self)    # SYNC/PSYNC, REPLICAOF, WAIT, ROLE ...
        # RDB/AOF (server/persistence_wiring.py): sets aof_flush while the AOF is on.
        self.aof_flush = None
        persistence_wiring.install(self)

    # ---- start and stop ----------------------------------------------------------------

    async def start(self) -> None:
        """Open the listening sockets and start the cron."""
        from ember.server.connection import Connection

        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        hosts = [h.lstrip("-") for h in self.config.bind] or ["127.0.0.1"]
        optional = {h.lstrip("-") for h in self.config.bind if h.startswith("-")}
        for host in hosts:
            try:
                listener = await self.loop.create_server(
                    lambda: Connection(self), host, self.config.port,
                    backlog=self.config.tcp_backlog, reuse_address=True)
            except OSError as exc:
                if host in optional:
                    continue
                raise OSError(f"Could not create server TCP listening socket "
                              f"{host}:{self.config.port}: {exc.strerror}") from exc
            self.listeners.append(listener)
        if self.config.port == 0 and self.listeners:
            self.config.set("port", [str(self.bound_port())])
        self._schedule_cron()

    def bound_port(self) -> int:
        """The TCP port actually bound (useful with ``--port 0``)."""
        return self.listeners[0].sockets[0].getsockname()[1]

    async def serve_until_stopped(self) -> None:
        """Run until :meth:`request_shutdown` is called."""
        await self.stopped.wait()
        for listener in self.listeners:
            listener.close()
        for conn in list(self.connections):
            conn.abort()

    def request_shutdown(self, reason: str = "") -> None:
        """Stop serving (SIGTERM, SIGINT, SHUTDOWN)."""
        if reason:
            log.warning("%s", reason)
        for hook in self.shutdown_hooks:
            hook()
        if self.stopped is not None:
            self.stopped.set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT shut the server down cleanly."""
        if sys.platform == "win32":
            return
        for signum, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            self.loop.add_signal_handler(
                signum, self.request_shutdown,
                f"Received {name} scheduling shutdown...")

    # ---- clients -----------------------------------------------------------------------

    def admission_error(self, peer):
        """Why a new connection from ``peer`` must be refused, or None."""
        if len(self.connections) >= self.config.maxclients:
            return MAX_CLIENTS_ERROR
        # Redis 7 applies protected mode whatever is bound: no password, not loopback.
        if (self.config.protected_mode and not self.config.requirepass
                and not _is_loopback(peer)):
            return PROTECTED_MODE_DENIED
        return None

    def _apply_proto_max_bulk_len(self, config) -> None:
        """CONFIG SET proto-max-bulk-len holds for connected clients too, as in Redis."""
        for conn in self.connections:
            if conn.parser is not None:
                conn.parser.max_bulk = config.proto_max_bulk_len

    def client_gone(self, client) -> None:
        """A connection closed: drop its client state."""
        self.engine.remove_client(client)

    def _defer(self, callback) -> None:
        """Run ``callback`` after the callbacks of this loop iteration."""
        if self.loop is not None:
            self.loop.call_soon(callback)
        else:
            callback()

    def schedule_flush(self, conn) -> None:
        """Have ``conn``'s queued output sent when this loop iteration's callbacks end."""
        if not self.to_flush:
            self.loop.call_soon(self.flush_all)
        self.to_flush.append(conn)

    def flush_all(self) -> None:
        """Send every connection's queued replies (once per loop iteration, after the
        AOF has its writes: Redis's beforeSleep order)."""
        if self.aof_flush is not None:  # the AOF is written before any reply leaves
            self.aof_flush()
        connections, self.to_flush = self.to_flush, []
        for conn in connections:
            if not conn.closing:
                conn.flush()

    def check_output_limits(self, conn) -> None:
        """Close a client whose unsent output exceeds client-output-buffer-limit."""
        limits = getattr(self.config, "client_output_buffer_limit", None)
        if not limits:
            return
        kind = "pubsub" if (conn.client.subscriptions or conn.client.psubscriptions
                            or conn.client.ssubscriptions) else "normal"
        if "slave" in conn.client.flags:    # a replica's stream (replication_wiring.py)
            kind = "replica"
        hard, soft, soft_seconds = limits.get(kind, (0, 0, 0))
        size = conn.output_buffer_size()
        if hard and size > hard:
            self._drop_for_output(conn, kind)
            return
        if soft and size > soft:
            now = time.monotonic()
            if conn.soft_limit_since is None:
                conn.soft_limit_since = now
            elif now - conn.soft_limit_since >= soft_seconds:
                self._drop_for_output(conn, kind)
        else:
            conn.soft_limit_since = None

    def _drop_for_output(self, conn, kind: str) -> None:
        log.warning("Client id=%s scheduled to be closed ASAP for overcoming of output "
                    "buffer limits.", conn.client.id)
        self.engine.stats.client_output_limit_disconnections = getattr(
            self.engine.stats, "client_output_limit_disconnections", 0) + 1
        conn.abort()

    def log_warning(self, message: str) -> None:
        """Log at warning level (Redis's '#' lines)."""
        log.warning("%s", message)

    # ---- cron --------------------------------------------------------------------------

    def _schedule_cron(self) -> None:
        self._cron_handle = self.loop.call_later(1.0 / self.config.hz, self._cron)

    def _cron(self) -> None:
        try:
            self.cron_once()
        except Exception:  # the cron must keep running whatever a step does
            log.exception("cron step failed")
        self._schedule_cron()

    def cron_once(self) -> None:
        """One cron period: active expiry within its time budget, dict shrinking."""
        engine = self.engine
        engine.tick()
        self._expire(_EXPIRE_CPU_SHARE / self.config.hz)
        for db in engine.dbs:
            db.shrink_if_sparse()
        for hook in engine.hooks.get("cron", ()):
            hook()
        timeout = self.config.timeout
        if timeout:
            now = time.time()
            for conn in list(self.connections):
                client = conn.client
                if (client is not None and not client.blocked and not client.subscriptions
                        and not client.psubscriptions and not client.ssubscriptions
                        and now - client.last_interaction > timeout):
                    conn.close()


    def _expire(self, budget_seconds: float) -> None:
        """One active-expire cycle; if time ran out with keys still due, keep going in
        short fast cycles between event-loop turns (Redis's ACTIVE_EXPIRE_CYCLE_FAST)."""
        if not active_expire_allowed(self.engine):  # DEBUG SET-ACTIVE-EXPIRE, CLIENT PAUSE
            return
        self.engine.tick()
        more, self._expire_cursor = expire_cycle(self.engine.dbs, budget_seconds,
                                                 self._expire_cursor)
        if more and not self._fast_expire_pending:
            self._fast_expire_pending = True
            self.loop.call_later(_FAST_EXPIRE_EVERY, self._fast_expire)

    def _fast_expire(self) -> None:
        self._fast_expire_pending = False
        self._expire(_FAST_EXPIRE_BUDGET)


def choose_parser(name: str):
    """The request parser class: the pure one, or hiredis's when asked for and installed."""
    if name == "hiredis":
        try:
            from ember.protocol.hiredis_parser import HiredisRequestParser
        except ImportError:
            log.warning("EMBER_PARSER=hiredis but hiredis is not installed "
                        "(pip install 'ember[hiredis]'); using the pure parser")
        else:
            log.warning("Request parser: hiredis")
            return HiredisRequestParser
    return RequestParser


def _is_loopback(peer) -> bool:
    if not peer or isinstance(peer, str):
        return True
    try:
        return ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False


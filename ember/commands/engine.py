"""Engine: the server's state (databases, clients, counters) and the command dispatcher.

``Engine.execute(client, argv)`` is the one path every command takes, whoever sends it:
lookup in the command table, arity, authentication, then the handler, then the write's
bookkeeping (propagation, stats). It returns a reply value for the encoder; it never
touches sockets, so it can be driven directly from tests, scripts and the AOF loader.
"""

import logging
import time
import traceback
from contextlib import contextmanager
from time import perf_counter_ns, time_ns

from ember.commands import memory, runtime, slowlog, transactions
from ember.commands.blocking import BLOCKED, Block, BlockingRegistry
from ember.commands.context import Client
from ember.commands.registry import COMMANDS
from ember.errors import NOAUTH, ReplyError
from ember.storage.keyspace import Database, KeyspaceStats, TimeCache

log = logging.getLogger("ember")

_UNKNOWN_ARGS_LIMIT = 128
# Raw command-name bytes -> spec, so the common names skip lower() and decode().
_SPEC_CACHE = {}


def unknown_command_error(argv: list) -> ReplyError:
    """Redis's text for an unknown command, quoting the first arguments (128 chars)."""
    args = ""
    for arg in argv[1:]:
        if len(args) >= _UNKNOWN_ARGS_LIMIT:
            break
        text = _c_string(arg)
        args += "'%s' " % text[:_UNKNOWN_ARGS_LIMIT - len(args)]
    name = _c_string(argv[0])[:128]
    return ReplyError(f"ERR unknown command '{name}', with args beginning with: {args}")


def _c_string(data: bytes) -> str:
    """Bytes as Redis's %s prints them: up to the first NUL."""
    return data.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def wall_clock_ms() -> int:
    """Unix time in milliseconds (the engine's clock unless a test injects one)."""
    return time_ns() // 1_000_000


def arity_error(name: str) -> ReplyError:
    """Redis's text for a wrong number of arguments."""
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


class ServerStats:
    """Server-wide counters that INFO reports."""

    def __init__(self):
        self.total_connections = 0
        self.rejected_connections = 0
        self.total_error_replies = 0
        self.error_counts = {}
        self.net_input_bytes = 0
        self.net_output_bytes = 0

    @property
    def total_commands(self) -> int:
        """Commands executed (INFO total_commands_processed): the sum of every spec's calls."""
        total = 0
        for spec in COMMANDS.values():
            total += spec.calls
            for sub in spec.subcommands.values():
                total += sub.calls
        return total

    def count_error(self, message: str) -> None:
        """Count one error reply under its code, as INFO errorstats does."""
        self.total_error_replies += 1
        code = message.split(" ", 1)[0]
        self.error_counts[code] = self.error_counts.get(code, 0) + 1


class Engine:
    """The server's state and its command dispatcher (sans-IO)."""

    def __init__(self, config, clock=None):
        self.config = config
        self._clock = clock or wall_clock_ms
        self.time = TimeCache(self._clock())
        self.keyspace_stats = KeyspaceStats()
        self.stats = ServerStats()
        self.dbs = [Database(i, self.now, self.keyspace_stats, self._on_expire, self.time)
                    for i in range(config.databases)]
        self.clients = {}
        self._next_client_id = 1
        self.dirty = 0
        self.start_time = time.time()
        # Callables the server layer installs: propagate(db_index, argv),
        # key_event(db, event, key), shutdown(flags) ...
        self.propagators = []
        self.keyspace_listeners = []
        self.hooks = {}
        # MONITOR, SLOWLOG, LATENCY, CLIENT PAUSE, LASTSAVE ... state (commands/runtime.py).
        runtime.install(self)
        # Clients parked by blocking commands, and the keys ready to serve them
        # (commands/blocking.py); execute() serves them after each top-level command.
        self.blocking = BlockingRegistry(self)
        self.ready_keys = self.blocking.ready
        # Writes collected by atomic_propagation() (EXEC, scripts), else None.
        self._propagation_batch = None
        # maxmemory (0: off), the policies' access tables, the OOM gate (commands/memory.py).
        memory.install(self)

    # ---- time --------------------------------------------------------------------------

    def now(self) -> int:
        """Current Unix time in ms, cached per event-loop batch as Redis caches mstime."""
        return self.time.ms

    def tick(self) -> int:
        """Refresh the cached clock (the server calls it before each batch of commands);
        return the time in milliseconds."""
        clock = self._clock
        now = time_ns() // 1_000_000 if clock is wall_clock_ms else clock()
        cache = self.time
        cache.ms = now
        cache.s = now // 1000
        return now

    # ---- clients -----------------------------------------------------------------------

    def auth_required(self) -> bool:
        """True when a password is set and new clients must AUTH first."""
        return bool(self.config.requirepass)

    def new_client(self, conn=None, addr: str = "", laddr: str = "", fd: int = -1) -> Client:
        """Create and register the state of a new client connection."""
        client = Client(self, self._next_client_id, conn, addr, laddr, fd)
        self._next_client_id += 1
        gates = self.hooks.get("client_gates")     # READONLY on replicas, NOREPLICAS ...
        if gates:
            client.special.update(gates)
        self.clients[client.id] = client
        self.stats.total_connections += 1
        return client

    def remove_client(self, client: Client) -> None:
        """Forget a client that disconnected."""
        self.clients.pop(client.id, None)
        if client.blocked is not None:
            self.blocking.forget(client)
        for hook in self.hooks.get("disconnect", ()):   # MULTI/WATCH, subscriptions ...
            hook(client)

    # ---- writes' bookkeeping ------------------------------------------------------------

    def key_modified(self, db: Database, key: bytes, event: str = None, count: int = 1) -> None:
        """Record a write to ``key``: dirty counter, listeners (WATCH, events, tracking)."""
        self.dirty += count
        for listener in self.keyspace_listeners:
            listener(db, key, event)

    def keys_modified(self, db: Database, keys: list, event: str, count: int = None) -> None:
        """:meth:`key_modified` for each of ``keys`` (MSET's), in one call; ``count`` is
        what the dirty counter gains (default: one per key)."""
        self.dirty += len(keys) if count is None else count
        for listener in self.keyspace_listeners:
            for key in keys:
                listener(db, key, event)

    def _on_expire(self, db: Database, key: bytes) -> None:
        self.propagate(db.id, [b"DEL", key])
        for listener in self.keyspace_listeners:
            listener(db, key, "expired")

    def propagate(self, db_index: int, argv: list) -> None:
        """Hand a write to the AOF and replicas (whoever registered a propagator)."""
        for propagator in self.propagators:
            propagator(db_index, argv)

    @contextmanager
    def atomic_propagation(self):
        """Propagate the writes made inside the block as one unit (EXEC, scripts).

        They are collected and handed on at the end of the outermost block, wrapped in
        MULTI ... EXEC when there is more than one (Redis 7's also_propagate); nested blocks
        (a script inside EXEC) join the outer one, so nothing is wrapped twice.
        """
        if self._propagation_batch is not None or not self.propagators:
            yield
            return
        real = self.propagators
        batch = self._propagation_batch = []
        self.propagators = [lambda db_index, argv: batch.append((db_index, argv))]
        try:
            yield
        finally:
            self.propagators = real
            self._propagation_batch = None
            if len(batch) > 1:
                batch.insert(0, (batch[0][0], [b"MULTI"]))
                batch.append((batch[-1][0], [b"EXEC"]))
            for db_index, argv in batch:
                self.propagate(db_index, argv)

    # ---- dispatch ----------------------------------------------------------------------

    def execute(self, client: Client, argv: list):
        """Run one command for ``client`` and return its reply value."""
        name = argv[0]
        spec = _SPEC_CACHE.get(name)
        if spec is None:
            spec = COMMANDS.get(name.lower().decode("latin-1"))
            if spec is None:
                return self._reject(None, unknown_command_error(argv), client)
            if len(_SPEC_CACHE) < 4096:
                _SPEC_CACHE[name] = spec
        # A container that has a handler of its own runs it when called alone (COMMAND).
        if spec.subcommands and (len(argv) > 1 or spec.handler is None):
            if len(argv) < 2:
                return self._reject(spec, arity_error(spec.name), client)
            sub = spec.subcommands.get(argv[1].lower().decode("latin-1"))
            if sub is None:
                return self._reject(spec, ReplyError(
                    "ERR unknown subcommand '%s'. Try %s HELP." % (
                        _c_string(argv[1])[:128], spec.name.upper())), client)
            spec = sub
        arity = spec.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return self._reject(spec, arity_error(spec.name), client)
        if not client.authenticated and not spec.no_auth:
            return self._reject(spec, ReplyError(NOAUTH), client)
        if self.config.maxmemory:   # evict first; refuse what may grow memory (OOM)
            refused = memory.gate(self, client, spec, argv)
            if refused is not None:
                return refused
        if client.special:      # MULTI, RESP2 subscriber mode ...: one test for them all
            for gate in tuple(client.special.values()):
                reply = gate(client, spec, argv)
                if reply is not None:
                    return reply
        reply = self.call(client, spec, argv)
        if self.ready_keys:     # a write woke blocked clients (BLPOP ...): serve them
            self.blocking.handle_ready()
        return reply

    def call(self, client: Client, spec, argv: list):
        """Run an already-validated command: handler, stats, propagation."""
        if client.no_touch and client.db.touching and spec.name != "touch":
            return runtime.call_untouched(self, client, spec, argv)
        dirty_before = self.dirty
        started = perf_counter_ns()
        try:
            reply = spec.handler(client, argv)
        except Block as request:    # park the client (or, in MULTI, answer nil)
            reply = self.blocking.block(client, spec, argv, request)
            if reply is BLOCKED:
                return reply
        except ReplyError as exc:
            reply = exc
            spec.failed_calls += 1
            self.stats.count_error(exc.message)
        except Exception:  # a bug must not take the server down
            reply = self.handler_crashed(spec)
        duration = perf_counter_ns() - started
        spec.calls += 1
        spec.nsec += duration
        client.last_cmd = spec.name
        if duration >= self.slow_ns:    # slowlog-log-slower-than, latency-monitor-threshold
            slowlog.record(self, client, spec, argv, duration // 1000)
        if self.monitors:
            runtime.feed_monitors(self, client, spec, argv)
        if spec.is_write and self.dirty != dirty_before and (
                self.propagators or client.propagate_argv is not None):
            self._propagate_write(client, argv)
        return reply

    def handler_crashed(self, spec) -> ReplyError:
        """Log the exception a handler raised (a bug) and return the error the client
        gets; the server carries on."""
        log.error("command %s raised:\n%s", spec.name, traceback.format_exc())
        reply = ReplyError("ERR internal error while running '%s'" % spec.name)
        spec.failed_calls += 1
        self.stats.count_error(reply.message)
        return reply

    def _propagate_write(self, client: Client, argv: list) -> None:
        replacement = client.propagate_argv
        if replacement is not None:
            client.propagate_argv = None
            if type(replacement) is tuple:      # several commands (SPOP n): one unit
                with self.atomic_propagation():
                    for one in replacement:
                        self.propagate(client.db.id, one)
            else:
                self.propagate(client.db.id, replacement)
        elif self.propagators:
            self.propagate(client.db.id, argv)
        else:
            return
        wrote = self.hooks.get("wrote")     # WAIT's per-client offset (c->woff)
        if wrote is not None:
            wrote(client)

    def _reject(self, spec, error: ReplyError, client: Client = None) -> ReplyError:
        """Refuse a command before it runs (counted as rejected); inside MULTI this dooms
        the transaction, and a refused EXEC aborts it (commands/transactions.py)."""
        if client is not None and (client.multi is not None
                                   or (spec is not None and spec.name == "exec")):
            error = transactions.on_reject(client, spec, error)
        if spec is not None:
            spec.rejected_calls += 1
        self.stats.count_error(error.message)
        return error

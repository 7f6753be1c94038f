"""Server runtime state that the introspection commands read and the dispatcher feeds.

:func:`install` gives an :class:`~ember.commands.engine.Engine` the attributes that INFO,
CLIENT, MONITOR, SLOWLOG, LATENCY, LASTSAVE and DEBUG work with, and registers the cron
sampler behind INFO's ``instantaneous_*`` figures. The dispatcher calls
:func:`feed_monitors` (only while a MONITOR client exists) and
:func:`call_untouched` (only for a CLIENT NO-TOUCH client); the network layer asks
:func:`must_wait` (only while CLIENT PAUSE is in force) before running a command.

No sockets and no asyncio here: monitors are written through their connection object's
``write`` method, and paused connections are woken through their ``wake_after_pause``.
"""

import os
import time

from ember.commands.registry import COMMANDS
from ember.commands.slowlog import LatencyMonitor, SlowLog, redacted_argv

# How many cron samples INFO's instantaneous metrics average (Redis: STATS_METRIC_SAMPLES).
_SAMPLES = 16
# Minimum time between two samples, as Redis's run_with_period(100).
_SAMPLE_PERIOD_MS = 100

# "Never": a duration no command reaches (slow log and latency monitor both off).
_NEVER_NS = 1 << 62
_SLOW_PARAMS = ("slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold")

PAUSE_WRITE = "write"
PAUSE_ALL = "all"


def new_run_id() -> str:
    """40 random hex characters (Redis's run_id and replication ids)."""
    return os.urandom(20).hex()


class MetricSampler:
    """Ops/s and network kB/s averaged over the last samples, as INFO reports them."""

    def __init__(self, engine):
        self.engine = engine
        self.last_ms = None
        self.last = {}
        self.samples = {"ops": [], "input": [], "output": []}

    def _readings(self) -> dict:
        stats = self.engine.stats
        return {"ops": stats.total_commands, "input": stats.net_input_bytes,
                "output": stats.net_output_bytes}

    def sample(self) -> None:
        """Take one sample (the cron calls this every 1/hz s; at most one per 100 ms)."""
        engine = self.engine
        now = int(time.time() * 1000)
        if self.last_ms is not None and now - self.last_ms < _SAMPLE_PERIOD_MS:
            return
        readings = self._readings()
        if self.last_ms is not None:
            elapsed = now - self.last_ms
            for name, value in readings.items():
                series = self.samples[name]
                # max(): CONFIG RESETSTAT may have moved a counter back.
                delta = max(value - self.last[name], 0)
                series.append(delta * 1000 // elapsed if elapsed else 0)
                if len(series) > _SAMPLES:
                    del series[0]
        self.last_ms = now
        self.last = readings
        # CONFIG SET keeps slow_ns current; this also catches changes made around it.
        engine.slow_ns = slow_threshold_ns(engine.config)
        # A timed CLIENT PAUSE ends by itself: forget it once its deadline has passed.
        if engine.pause_kind is not None and engine.now() >= engine.pause_until_ms:
            end_pause(engine)

    def instantaneous(self, name: str) -> float:
        """The average of the recorded samples of ``name`` (ops, input, output)."""
        series = self.samples[name]
        return sum(series) / _SAMPLES if series else 0


def slow_threshold_ns(config) -> int:
    """Shortest command duration (ns) that the slow log or the latency monitor records."""
    threshold = _NEVER_NS
    if config.slowlog_log_slower_than >= 0 and config.slowlog_max_len > 0:
        threshold = config.slowlog_log_slower_than * 1000
    if config.latency_monitor_threshold > 0:
        threshold = min(threshold, config.latency_monitor_threshold * 1_000_000)
    return threshold


def _follow_slow_configs(engine) -> None:
    """Keep ``engine.slow_ns`` (one comparison in the dispatcher) in step with CONFIG SET."""
    config = engine.config

    def refresh(cfg):
        engine.slow_ns = slow_threshold_ns(cfg)

    refresh(config)
    for name in _SLOW_PARAMS:
        previous = config.appliers.get(name)
        if previous is None:
            config.add_applier(name, refresh)
        else:
            config.add_applier(name, lambda cfg, previous=previous: (previous(cfg),
                                                                     refresh(cfg)))


def install(engine) -> None:
    """Give ``engine`` the runtime state the introspection commands use."""
    engine.run_id = new_run_id()
    engine.replid = new_run_id()
    engine.lastsave = int(engine.start_time)
    engine.monitors = []
    engine.slowlog = SlowLog()
    engine.latency = LatencyMonitor()
    engine.pause_kind = None          # None, PAUSE_WRITE or PAUSE_ALL
    engine.pause_until_ms = 0
    engine.pause_waiters = set()      # connections holding commands until the pause ends
    engine.active_expire_enabled = True
    engine.peak_memory = 0
    engine.metrics = MetricSampler(engine)
    engine.hooks.setdefault("cron", []).append(engine.metrics.sample)
    _follow_slow_configs(engine)


# ---- CLIENT NO-TOUCH --------------------------------------------------------------------

def call_untouched(engine, client, spec, argv):
    """Run a command of a CLIENT NO-TOUCH client without updating keys' access times."""
    dbs = engine.dbs
    for db in dbs:
        db.touching = False
    try:
        return engine.call(client, spec, argv)
    finally:
        for db in dbs:
            db.touching = True


# ---- MONITOR ----------------------------------------------------------------------------

_REPR_ESCAPES = {ord("\\"): b"\\\\", ord('"'): b'\\"', ord("\n"): b"\\n", ord("\r"): b"\\r",
                 ord("\t"): b"\\t", 7: b"\\a", 8: b"\\b"}


def quote_arg(arg: bytes) -> bytes:
    """An argument quoted as Redis's sdscatrepr does (MONITOR lines, CLIENT LIST argv)."""
    out = bytearray(b'"')
    for byte in arg:
        escaped = _REPR_ESCAPES.get(byte)
        if escaped is not None:
            out += escaped
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    out += b'"'
    return bytes(out)


def monitor_line(client, argv: list, now: float = None) -> bytes:
    """One MONITOR line: ``+<unix time> [<db> <addr>] "arg" ...``."""
    now = time.time() if now is None else now
    seconds = int(now)
    micros = int((now - seconds) * 1_000_000)
    origin = client.addr or "lua"
    if origin.startswith("/"):
        origin = "unix:" + origin
    head = b"+%d.%06d [%d %s]" % (seconds, micros, client.db.id, origin.encode())
    return head + b"".join(b" " + quote_arg(arg) for arg in argv) + b"\r\n"


_AOF_CLIENT_ID = 2 ** 64 - 1     # persistence/loading.py's AOF client (CLIENT_ID_AOF)


def feed_monitors(engine, client, spec, argv: list) -> None:
    """Send a command that ran to every MONITOR client (not admin/skip_monitor commands,
    nor the AOF being loaded: Redis's call() feeds none in the AOF loading context)."""
    if "admin" in spec.flags or "skip_monitor" in spec.flags or client.id == _AOF_CLIENT_ID:
        return
    line = None
    for monitor in list(engine.monitors):
        conn = monitor.conn
        if conn is None or conn.closing or monitor.id not in engine.clients:
            engine.monitors.remove(monitor)
            monitor.monitor = False
            continue
        if line is None:
            line = monitor_line(client, redacted_argv(spec, argv))
        conn.write(line)


def stop_monitoring(client) -> None:
    """Take ``client`` out of MONITOR mode (RESET)."""
    if client.monitor:
        client.monitor = False
        if client in client.engine.monitors:
            client.engine.monitors.remove(client)


# ---- CLIENT PAUSE -----------------------------------------------------------------------

def start_pause(engine, kind: str, until_ms: int) -> None:
    """Pause clients until ``until_ms``; a stricter kind and a later end win, as in Redis."""
    if engine.pause_kind is not None and engine.now() < engine.pause_until_ms:
        if engine.pause_kind == PAUSE_ALL:
            kind = PAUSE_ALL
        until_ms = max(until_ms, engine.pause_until_ms)
    engine.pause_kind = kind
    engine.pause_until_ms = until_ms


def end_pause(engine) -> None:
    """End CLIENT PAUSE now and wake the connections holding commands (UNPAUSE)."""
    engine.pause_kind = None
    engine.pause_until_ms = 0
    waiters = list(engine.pause_waiters)
    engine.pause_waiters.clear()
    for conn in waiters:
        conn.wake_after_pause()


def must_wait(engine, client, argv: list) -> bool:
    """True if CLIENT PAUSE holds this command back (called only while a pause is set).

    Redis checks the pause after lookup, arity and authentication, so commands that fail
    those run (and fail) at once. PAUSE ALL holds every other command; PAUSE WRITE holds
    writes and commands that may replicate (EVAL, PUBLISH ...), and EXEC of such a block.
    """
    if engine.now() >= engine.pause_until_ms:
        end_pause(engine)
        return False
    if client.monitor or "replica" in client.flags or "master" in client.flags:
        return False
    spec = COMMANDS.get(argv[0].lower().decode("latin-1"))
    if spec is None:
        return False
    if spec.subcommands and len(argv) > 1:
        spec = spec.subcommands.get(argv[1].lower().decode("latin-1"))
        if spec is None:
            return False
    if (spec.arity > 0 and len(argv) != spec.arity) or len(argv) < -spec.arity:
        return False
    if not client.authenticated and not spec.no_auth:
        return False
    if engine.pause_kind == PAUSE_ALL:
        return True
    if spec.is_write or "may_replicate" in spec.flags:
        return True
    if spec.name == "exec" and client.multi:
        return any(_queued_may_replicate(queued) for queued in client.multi)
    return False


def _queued_may_replicate(queued) -> bool:
    argv = queued[1] if isinstance(queued, tuple) and len(queued) == 2 else queued
    if not isinstance(argv, list) or not argv:
        return False
    spec = COMMANDS.get(bytes(argv[0]).lower().decode("latin-1"))
    return spec is not None and (spec.is_write or "may_replicate" in spec.flags)


def active_expire_allowed(engine) -> bool:
    """False while DEBUG SET-ACTIVE-EXPIRE 0 or a CLIENT PAUSE (which also pauses expiry)."""
    return engine.active_expire_enabled and engine.pause_kind is None

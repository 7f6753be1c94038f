"""The slow log and the latency monitor: what the dispatcher records about slow commands.

:func:`record` is called by ``Engine.call`` only when a command took at least
``slowlog-log-slower-than`` microseconds or the latency monitor is on, so the fast path
pays one comparison. Entries follow Redis: at most 32 arguments (the last one says how
many more there were), arguments longer than 128 bytes cut with "... (N more bytes)",
newest first, trimmed to ``slowlog-max-len``. Latency events keep the last 160 per-second
samples and the all-time maximum, as Redis's latency.c does.
"""

import time
from collections import deque

SLOWLOG_ENTRY_MAX_ARGC = 32
SLOWLOG_ENTRY_MAX_STRING = 128
LATENCY_TS_LEN = 160


class SlowLogEntry:
    """One logged command."""

    __slots__ = ("id", "time", "duration", "argv", "peer", "name")

    def __init__(self, entry_id: int, when: int, duration: int, argv: list, peer: str,
                 name: bytes):
        self.id = entry_id
        self.time = when
        self.duration = duration
        self.argv = argv
        self.peer = peer
        self.name = name

    def as_reply(self) -> list:
        """The 6-element array SLOWLOG GET shows."""
        return [self.id, self.time, self.duration, list(self.argv), self.peer.encode(),
                bytes(self.name)]


def trimmed_argv(argv: list) -> list:
    """The arguments as the slow log keeps them (32 at most, 128 bytes each)."""
    argc = len(argv)
    kept = min(argc, SLOWLOG_ENTRY_MAX_ARGC)
    out = []
    for j in range(kept):
        if kept != argc and j == kept - 1:
            out.append(b"... (%d more arguments)" % (argc - kept + 1))
            break
        arg = bytes(argv[j])
        if len(arg) > SLOWLOG_ENTRY_MAX_STRING:
            arg = arg[:SLOWLOG_ENTRY_MAX_STRING] + b"... (%d more bytes)" % (
                len(arg) - SLOWLOG_ENTRY_MAX_STRING)
        out.append(arg)
    return out


class SlowLog:
    """Newest-first list of slow commands."""

    def __init__(self):
        self.entries = deque()
        self.next_id = 0

    def push(self, argv: list, duration: int, peer: str, name: bytes, max_len: int) -> None:
        """Add an entry and drop the oldest beyond ``max_len``."""
        self.entries.appendleft(SlowLogEntry(self.next_id, int(time.time()), duration,
                                             trimmed_argv(argv), peer, name))
        self.next_id += 1
        self.trim(max_len)

    def trim(self, max_len: int) -> None:
        """Keep at most ``max_len`` entries."""
        while len(self.entries) > max(max_len, 0):
            self.entries.pop()

    def get(self, count: int) -> list:
        """The newest ``count`` entries as SLOWLOG GET replies."""
        return [entry.as_reply() for entry, _ in zip(self.entries, range(count))]

    def reset(self) -> None:
        """Forget every entry (ids keep counting, as in Redis)."""
        self.entries.clear()


class LatencyEvent:
    """The samples of one event class ("command", "fast-command" ...)."""

    __slots__ = ("samples", "max")

    def __init__(self):
        self.samples = deque(maxlen=LATENCY_TS_LEN)   # [unix seconds, latency ms]
        self.max = 0


class LatencyMonitor:
    """Latency spikes per event, as LATENCY LATEST / HISTORY / RESET / DOCTOR show them."""

    def __init__(self):
        self.events = {}

    def add_sample(self, event: str, latency_ms: int, now: int = None) -> None:
        """Record a spike; samples within the same second keep the highest latency."""
        now = int(time.time()) if now is None else now
        series = self.events.get(event)
        if series is None:
            series = self.events[event] = LatencyEvent()
        if latency_ms > series.max:
            series.max = latency_ms
        if series.samples and series.samples[-1][0] == now:
            last = series.samples[-1]
            last[1] = max(last[1], latency_ms)
            return
        series.samples.append([now, latency_ms])

    def latest(self) -> list:
        """LATENCY LATEST: [event, time, latest ms, max ms] per event."""
        out = []
        for name, series in self.events.items():
            when, latency = series.samples[-1]
            out.append([name.encode(), when, latency, series.max])
        return out

    def history(self, event: str) -> list:
        """LATENCY HISTORY: [time, latency ms] pairs, oldest first."""
        series = self.events.get(event)
        return [] if series is None else [[when, ms] for when, ms in series.samples]

    def reset(self, names: list = None) -> int:
        """Forget the named events (all when ``names`` is empty); how many were reset."""
        if not names:
            count = len(self.events)
            self.events.clear()
            return count
        count = 0
        for name in names:
            if self.events.pop(name, None) is not None:
                count += 1
        return count


def redacted_argv(spec, argv: list) -> list:
    """The arguments MONITOR and SLOWLOG may show: passwords become "(redacted)"."""
    name = spec.name
    if name == "auth":
        return [argv[0]] + [b"(redacted)"] * (len(argv) - 1)
    if name == "hello":
        shown = list(argv)
        i = 2
        while i < len(shown):
            if shown[i].lower() == b"auth" and i + 2 < len(shown):
                shown[i + 1] = shown[i + 2] = b"(redacted)"
                i += 3
            else:
                i += 1
        return shown
    if name == "migrate":
        shown = list(argv)
        for i, arg in enumerate(shown):
            word = arg.lower()
            if word == b"auth" and i + 1 < len(shown):
                shown[i + 1] = b"(redacted)"
            elif word == b"auth2" and i + 2 < len(shown):
                shown[i + 1] = shown[i + 2] = b"(redacted)"
        return shown
    return argv


_AOF_CLIENT_ID = 2 ** 64 - 1     # persistence/loading.py's AOF client (CLIENT_ID_AOF)


def record(engine, client, spec, argv: list, duration_us: int) -> None:
    """Log a command that took ``duration_us`` in the slow log and the latency monitor
    (not the AOF being loaded: Redis's call() skips both in the AOF loading context)."""
    if client.id == _AOF_CLIENT_ID:
        return
    config = engine.config
    threshold = config.slowlog_log_slower_than
    if (0 <= threshold <= duration_us and config.slowlog_max_len > 0
            and "skip_slowlog" not in spec.flags and not client.blocked):
        engine.slowlog.push(redacted_argv(spec, argv), duration_us, client.addr,
                            client.name, config.slowlog_max_len)
    latency_threshold = config.latency_monitor_threshold
    if latency_threshold and duration_us // 1000 >= latency_threshold:
        event = "fast-command" if "fast" in spec.flags else "command"
        engine.latency.add_sample(event, duration_us // 1000)

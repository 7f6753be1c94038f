"""MEMORY USAGE/STATS/DOCTOR/MALLOC-STATS/PURGE/HELP, and maxmemory's command gate.

The numbers come from the incremental estimate of :mod:`ember.storage.memory`; the
eviction policies live in :mod:`ember.storage.eviction`. :func:`install` wires them into
an engine: the dispatcher tests ``config.maxmemory`` once per command, CONFIG SET appliers
switch the access tables when the policy changes, and
the cron settles estimates and finishes evictions that ran out of time.
"""

import gc
import os

from ember.commands.registry import command
from ember.errors import NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import OK, Status, Verbatim
from ember.storage import eviction, memory

GROUP = "server"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
# Commands that still run in MULTI while over the limit (Redis's processCommand).
_AOF_CLIENT_ID = 2 ** 64 - 1     # persistence/loading.py's AOF client (CLIENT_ID_AOF)
_MULTI_ALLOWED = frozenset(("exec", "discard", "quit", "reset"))

_HELP = [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
]

_DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector "
    "can't be used in these conditions. Please, leave for your mission on Earth and fill "
    "it with some data. The new Sam and I will be back to our programming as soon as I "
    "finished rebooting.\n")
_DOCTOR_FINE = (
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
    "occurs on this base.\n")


# ---- wiring ------------------------------------------------------------------------------

def install(engine) -> None:
    """Make ``engine`` follow maxmemory, the policy and the LFU parameters.

    Nothing is added to the engine's own attributes: CPython 3.11 specialises method
    calls on an instance only while it has fewer than 30 attributes, and the Engine has
    29; one more makes ``ctx.engine.key_modified(...)`` a generic lookup on every write
    (+860 instructions per SET, measured with callgrind).
    """
    config = engine.config
    shared = memory.Accounting()
    for db in engine.dbs:           # one tally for the server: an O(1) maxmemory check
        db.mem = shared
    memory.rebuild(engine.dbs)
    engine.peak_memory = getattr(engine, "peak_memory", 0)

    def on_maxmemory(cfg):
        if cfg.maxmemory:
            eviction.perform_evictions(engine)

    def on_policy(cfg):
        _apply_lfu(cfg)
        for db in engine.dbs:
            eviction.convert_access(db, cfg.maxmemory_policy, engine.now() // 1000)

    for name, applier in (("maxmemory", on_maxmemory), ("maxmemory-policy", on_policy),
                          ("lfu-log-factor", on_policy), ("lfu-decay-time", on_policy),
                          ("maxmemory-samples", on_policy)):
        config.add_applier(name, applier)
    on_policy(config)
    engine.hooks.setdefault("cron", []).append(lambda: cron(engine))
    engine.hooks.setdefault("resetstat", []).append(
        lambda: setattr(engine, "peak_memory", eviction.used_memory(engine)))
    engine.hooks["lfu_frequency"] = lambda db, key: _frequency(engine, db, key)
    engine.hooks["used_memory"] = lambda: used_memory(engine)
    engine.hooks["lfu_set"] = lambda db, key, freq: _set_frequency(engine, db, key, freq)


def _apply_lfu(config) -> None:
    eviction.LFUParams.log_factor = config.lfu_log_factor
    eviction.LFUParams.decay_time = config.lfu_decay_time
    eviction.LFUParams.samples = config.maxmemory_samples


def _frequency(engine, db, key: bytes) -> int:
    access = db.access
    if isinstance(access, eviction.LFUAccess):
        return access.frequency(key, engine.now() // 60000)
    return 0


def _set_frequency(engine, db, key: bytes, freq: int) -> None:
    access = db.access
    if isinstance(access, eviction.LFUAccess) and key in db.data:
        access.set_counter(key, freq, engine.now() // 60000)


# A client's own memory besides its buffers (Redis counts its client struct too).
CLIENT_BASE = 16 * 1024


def client_memory(client) -> int:
    """Bytes a client holds: its query and output buffers plus a fixed part."""
    conn = client.conn
    if conn is None:
        return 0
    parser = getattr(conn, "parser", None)
    return (CLIENT_BASE + conn.output_buffer_size()
            + (parser.buffered if parser is not None else 0))


def evict_clients(engine) -> int:
    """Redis's evictClients: while the clients' memory exceeds maxmemory-clients (bytes,
    or a percentage of maxmemory), disconnect the biggest one, skipping CLIENT NO-EVICT
    clients and the replication links. Returns how many were disconnected."""
    limit = engine.config.maxmemory_clients
    if limit < 0:
        limit = engine.config.maxmemory * -limit // 100
    if not limit:
        return 0
    sizes = [(client_memory(c), c) for c in list(engine.clients.values())]
    total = sum(size for size, _ in sizes)
    if total <= limit:
        return 0
    from ember.commands.client import client_type, kill_client

    candidates = sorted(((size, c) for size, c in sizes
                         if not c.no_evict and client_type(c) not in ("master", "replica")),
                        key=lambda item: item[0], reverse=True)
    evicted = 0
    for size, client in candidates:
        if total <= limit:
            break
        kill_client(engine, client)
        engine.stats.evicted_clients = getattr(engine.stats, "evicted_clients", 0) + 1
        total -= size
        evicted += 1
    return evicted


def cron(engine) -> None:
    """Periodic work: settle in-place changes into the estimate, recount after a loader
    filled the databases directly, track the peak, go on evicting when a command's time
    budget ran out, and evict clients over maxmemory-clients."""
    evict_clients(engine)
    if not memory.consistent(engine.dbs):
        memory.rebuild(engine.dbs)
    used = eviction.used_memory(engine)
    if used > engine.peak_memory:
        engine.peak_memory = used
    maxmemory = engine.config.maxmemory
    if maxmemory and used > maxmemory:
        eviction.perform_evictions(engine)


def used_memory(engine) -> int:
    """INFO's used_memory: the estimate, with the peak kept up to date."""
    if not memory.consistent(engine.dbs):
        memory.rebuild(engine.dbs)
    used = eviction.used_memory(engine)
    if used > engine.peak_memory:
        engine.peak_memory = used
    return used


def _ignores_maxmemory(engine, client) -> bool:
    """Replicas with replica-ignore-maxmemory, the primary's stream and the AOF being
    loaded (mustObeyClient; Redis loads it whole, evicting nothing) skip the gate."""
    if "master" in client.flags or client.id == _AOF_CLIENT_ID:
        return True
    config = engine.config
    return bool(config.replicaof) and config.replica_ignore_maxmemory


def gate(engine, client, spec, argv=None):
    """Redis's processCommand maxmemory step: evict, then refuse a command that may grow
    memory (denyoom, a script or function that declares it may write, EXEC of such,
    anything queued in MULTI) if still over the limit. Returns the refusal or None."""
    mem = engine.dbs[0].mem
    if not mem.stale and mem.used + memory.STARTUP_BYTES <= engine.config.maxmemory:
        return None                             # the common case: under the limit
    if _ignores_maxmemory(engine, client):
        return None
    out_of_memory = eviction.perform_evictions(engine) == eviction.EVICT_FAIL
    if not out_of_memory:
        return None
    reject = spec.denyoom or _script_denyoom(engine, spec, argv)
    queue = client.multi
    if queue is not None:
        if spec.name == "exec":
            reject = any(queued.denyoom or _script_denyoom(engine, queued, queued_argv)
                         for queued, queued_argv in queue)
        elif spec.name not in _MULTI_ALLOWED:
            reject = True
    if not reject:
        return None
    return engine._reject(spec, ReplyError(OOM), client)


def _script_denyoom(engine, spec, argv) -> bool:
    """getCommandFlags for EVAL/FCALL & co: the script's declared flags (functions.py)."""
    from ember.commands import functions
    if argv is None or spec.name not in functions.SCRIPT_COMMANDS:
        return False
    return functions.script_denyoom(engine, spec.name, argv)


# ---- MEMORY ---------------------------------------------------------------------------------

command("memory", arity=-2, container=True, group=GROUP, since="4.0.0")


@command("memory|usage", arity=-3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="4.0.0")
def memory_usage(ctx, argv):
    """Estimate the memory usage of a key (its value sampled up to SAMPLES elements)."""
    samples = memory.SAMPLES
    j = 3
    while j < len(argv):
        if argv[j].lower() == b"samples" and j + 1 < len(argv):
            samples = parse_int(argv[j + 1])
            if samples is None:
                raise ReplyError(NOT_INTEGER)
            if samples < 0:
                raise ReplyError(SYNTAX)
            j += 2
        else:
            raise ReplyError(SYNTAX)
    db = ctx.db
    key = argv[2]
    value = db.peek(key)
    if value is None:
        return None
    return memory.value_usage(key, value, samples, key in db.expires)


def stats_map(engine) -> dict:
    """MEMORY STATS's fields, in Redis's order."""
    used = used_memory(engine)
    startup = memory.STARTUP_BYTES
    rss = _rss()
    clients = 0
    for client in engine.clients.values():
        conn = client.conn
        if conn is not None and hasattr(conn, "output_buffer_size"):
            clients += conn.output_buffer_size()
    reply = {
        b"peak.allocated": engine.peak_memory,
        b"total.allocated": used,
        b"startup.allocated": startup,
        b"replication.backlog": 0,
        b"clients.slaves": 0,
        b"clients.normal": clients,
        b"cluster.links": 0,
        b"aof.buffer": 0,
        b"lua.caches": 0,
        b"functions.caches": 0,
    }
    overhead = startup + clients
    keys = 0
    for db in engine.dbs:
        if not db.data:
            continue
        main = memory.KEY_ENTRY * len(db.data)
        expires = memory.TTL_ENTRY * len(db.expires)
        overhead += main + expires
        keys += len(db.data)
        reply[b"db.%d" % db.id] = {b"overhead.hashtable.main": main,
                                   b"overhead.hashtable.expires": expires,
                                   b"overhead.hashtable.slot-to-keys": 0}
    dataset = max(used - overhead, 0)
    net = used - startup
    reply.update({
        b"overhead.total": overhead,
        b"keys.count": keys,
        b"keys.bytes-per-key": net // keys if keys else 0,
        b"dataset.bytes": dataset,
        b"dataset.percentage": dataset * 100.0 / net if net > 0 else 0.0,
        b"peak.percentage": used * 100.0 / engine.peak_memory if engine.peak_memory else 0.0,
        b"allocator.allocated": used,
        b"allocator.active": used,
        b"allocator.resident": rss,
        b"allocator-fragmentation.ratio": 1.0,
        b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": rss / used if used else 0.0,
        b"allocator-rss.bytes": rss - used,
        b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0,
        b"fragmentation": rss / used if used else 0.0,
        b"fragmentation.bytes": rss - used,
    })
    return reply


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@command("memory|stats", arity=2, group=GROUP, since="4.0.0")
def memory_stats(ctx, argv):
    """Show memory usage details (from the incremental estimate)."""
    return stats_map(ctx.engine)


@command("memory|doctor", arity=2, group=GROUP, since="4.0.0")
def memory_doctor(ctx, argv):
    """Outputs a memory problems report (Redis's first checks, on the estimate)."""
    engine = ctx.engine
    used = used_memory(engine)
    if used < 5 * 1024 * 1024:
        return Verbatim(_DOCTOR_EMPTY.encode())
    lines = []
    if engine.peak_memory > used * 3 // 2:
        lines.append(" * Peak memory: In the past this instance used more than 150% the "
                     "memory that is currently using. The allocator is normally not able "
                     "to release memory after a peak, so you can expect to see a big "
                     "fragmentation ratio, however this is actually harmless and is only "
                     "due to the memory peak, and if the Redis instance Resident Set Size "
                     "(RSS) is currently bigger than expected, the memory will be used as "
                     "soon as you fill the Redis instance with more data. If the memory "
                     "peak was only occasional and you want to try to reclaim memory, "
                     "please try the MEMORY PURGE command, otherwise the only other option "
                     "is to shutdown and restart the instance.\n")
    if engine.config.maxmemory and used > engine.config.maxmemory:
        lines.append(" * Used memory is over maxmemory: the next writes evict keys or, "
                     "under noeviction, are refused with OOM.\n")
    if not lines:
        return Verbatim(_DOCTOR_FINE.encode())
    return Verbatim(("Sam, I detected a few issues in this Redis instance memory implants:\n\n"
            + "\n".join(lines)
            + "\nI'm here to keep you safe, Sam. I want to help you.\n").encode())


@command("memory|malloc-stats", arity=2, group=GROUP, since="4.0.0")
def memory_malloc_stats(ctx, argv):
    """Show allocator internal stats (CPython's: no jemalloc here)."""
    engine = ctx.engine
    counts = gc.get_count()
    return Verbatim(("ember runs on CPython's allocator (pymalloc for objects up to 512 bytes, the "
            "C library's malloc above); there are no jemalloc statistics.\n"
            "estimated used_memory: %d\n"
            "process rss: %d\n"
            "gc generation counts: %d %d %d\n" % (used_memory(engine), _rss(), *counts)).encode())


@command("memory|purge", arity=2, group=GROUP, since="4.0.0")
def memory_purge(ctx, argv):
    """Collect garbage and return free memory to the system where the C library can."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return OK


@command("memory|help", arity=2, flags="loading stale", group=GROUP, since="4.0.0")
def memory_help(ctx, argv):
    """Show helpful text about the different subcommands."""
    return [Status(line) for line in _HELP]

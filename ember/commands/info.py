"""INFO: the server's state and counters in Redis 7.2's sections, field names and format.

Each section is a list of ``(field, value)`` pairs built by one function; INFO joins the
chosen sections as ``# Title\\r\\nfield:value\\r\\n...`` separated by a blank line, in
Redis's order whatever order they were asked in, and replies with a verbatim string
(``=...txt:`` in RESP3). Other layers may add or override fields without touching this
file: ``engine.hooks["info"]`` maps a section name to callables ``fn(engine)`` that
return ``(field, value)`` pairs (the persistence and replication code use it).
"""

import hashlib
import os
import resource
import selectors
import sys
import time

import ember
from ember import REDIS_VERSION
from ember.commands.registry import COMMANDS, command
from ember.protocol.replies import Verbatim

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "module_list", "errorstats", "cluster", "keyspace")
# Every section in the order Redis prints them, with its title.
SECTION_TITLES = (
    ("server", "Server"), ("clients", "Clients"), ("memory", "Memory"),
    ("persistence", "Persistence"), ("stats", "Stats"), ("replication", "Replication"),
    ("cpu", "CPU"), ("modules", "Modules"), ("commandstats", "Commandstats"),
    ("errorstats", "Errorstats"), ("latencystats", "Latencystats"), ("cluster", "Cluster"),
    ("keyspace", "Keyspace"),
)
_STARTUP_MEMORY = 900 * 1024   # what an empty Redis reports as used_memory, roughly
_LRU_CLOCK_MAX = (1 << 24) - 1


def bytes_to_human(n: int) -> str:
    """Redis's bytesToHuman: 512B, 1.50K, 2.00M, 3.00G ..."""
    if n < 1024:
        return "%dB" % n
    for unit, power in (("K", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5)):
        if n < 1024 ** (power + 1) or unit == "P":
            return "%.2f%s" % (n / 1024 ** power, unit)
    return "%dB" % n


def process_rss() -> int:
    """Resident set size of this process in bytes (/proc/self/statm, else ru_maxrss)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def total_system_memory() -> int:
    """Physical memory of the machine in bytes (0 if unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def used_memory(engine) -> int:
    """A rough estimate of the dataset's memory (a hook may give an exact figure)."""
    hook = engine.hooks.get("used_memory")
    if hook is not None:
        return hook()
    total = _STARTUP_MEMORY
    for db in engine.dbs:
        total += sys.getsizeof(db.data) + sys.getsizeof(db.expires)
        total += len(db.data) * 64
    return total


def _multiplexing_api() -> str:
    name = selectors.DefaultSelector.__name__
    return {"EpollSelector": "epoll", "KqueueSelector": "kqueue", "DevpollSelector": "devpoll",
            "PollSelector": "poll"}.get(name, "select")


def _server(engine) -> list:
    config = engine.config
    now = time.time()
    uptime = int(now - engine.start_time)
    uname = os.uname()
    fields = [
        ("redis_version", REDIS_VERSION),
        ("ember_version", ember.__version__),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0),
        ("redis_build_id", hashlib.sha1(ember.__version__.encode()).hexdigest()[:16]),
        ("redis_mode", "standalone"),
        ("os", f"{uname.sysname} {uname.release} {uname.machine}"),
        ("arch_bits", 64 if sys.maxsize > 2 ** 32 else 32),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", _multiplexing_api()),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", os.getpid()),
        ("process_supervised", "no"),
        ("run_id", engine.run_id),
        ("tcp_port", config.port),
        ("server_time_usec", int(now * 1_000_000)),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        ("hz", config.hz),
        ("configured_hz", config.hz),
        ("lru_clock", int(now) & _LRU_CLOCK_MAX),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", getattr(config, "path", None) or ""),
        ("io_threads_active", 0),
    ]
    bind = config.bind if isinstance(config.bind, (list, tuple)) else str(config.bind).split()
    if config.port:
        fields.append(("listener0", "name=tcp%s,port=%d" % (
            "".join(",bind=" + addr for addr in bind), config.port)))
    return fields


def _connections(engine) -> list:
    return [c.conn for c in engine.clients.values() if c.conn is not None]


def _clients(engine) -> list:
    clients = list(engine.clients.values())
    conns = _connections(engine)
    max_in = max((conn.parser.buffered for conn in conns if conn.parser is not None),
                 default=0)
    max_out = max((conn.output_buffer_size() for conn in conns), default=0)
    # Clients held back by CLIENT PAUSE count as blocked, as in Redis.
    blocked = [c for c in clients if c.blocked or (c.conn is not None
                                                   and c.conn in engine.pause_waiters)]
    watched = sum(len(c.watched) for c in clients if c.watched)
    return [
        ("connected_clients", len(clients)),
        ("cluster_connections", 0),
        ("maxclients", engine.config.maxclients),
        ("client_recent_max_input_buffer", max_in),
        ("client_recent_max_output_buffer", max_out),
        ("blocked_clients", len(blocked)),
        ("tracking_clients", sum(1 for c in clients if c.tracking)),
        ("pubsub_clients", sum(1 for c in clients
                               if c.subscriptions or c.psubscriptions or c.ssubscriptions)),
        ("watching_clients", sum(1 for c in clients if c.watched)),
        ("clients_in_timeout_table", engine.blocking.in_timeout_table()),
        ("total_watched_keys", watched),
        ("total_blocking_keys", engine.blocking.blocking_keys()),
        ("total_blocking_keys_on_nokey", engine.blocking.blocking_keys_on_nokey()),
    ]


def _backlog_memory(engine) -> int:
    """Bytes held by the replication backlog (0 without one)."""
    repl = engine.hooks.get("replication")
    return repl.backlog.memory() if repl is not None else 0


def _memory(engine) -> list:
    used = used_memory(engine)
    engine.peak_memory = max(engine.peak_memory, used)
    peak = engine.peak_memory
    rss = process_rss()
    system = total_system_memory()
    maxmemory = engine.config.maxmemory
    dataset = max(used - _STARTUP_MEMORY, 0)
    return [
        ("used_memory", used), ("used_memory_human", bytes_to_human(used)),
        ("used_memory_rss", rss), ("used_memory_rss_human", bytes_to_human(rss)),
        ("used_memory_peak", peak), ("used_memory_peak_human", bytes_to_human(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (used * 100 / peak if peak else 0)),
        ("used_memory_overhead", _STARTUP_MEMORY), ("used_memory_startup", _STARTUP_MEMORY),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", "%.2f%%" % (dataset * 100 / used if used else 0)),
        ("allocator_allocated", used), ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", system),
        ("total_system_memory_human", bytes_to_human(system)),
        ("used_memory_lua", 31744), ("used_memory_vm_eval", 31744),
        ("used_memory_lua_human", bytes_to_human(31744)),
        ("used_memory_scripts_eval", 0), ("number_of_cached_scripts", 0),
        ("number_of_functions", 0), ("number_of_libraries", 0),
        ("used_memory_vm_functions", 32768), ("used_memory_vm_total", 64512),
        ("used_memory_vm_total_human", bytes_to_human(64512)),
        ("used_memory_functions", 184), ("used_memory_scripts", 184),
        ("used_memory_scripts_human", bytes_to_human(184)),
        ("maxmemory", maxmemory), ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", engine.config.maxmemory_policy),
        ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "%.2f" % (rss / used if used else 0)),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"), ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "%.2f" % (rss / used if used else 0)),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", 0),
        ("mem_replication_backlog", _backlog_memory(engine)),
        ("mem_total_replication_buffers", 0), ("mem_clients_slaves", 0),
        ("mem_clients_normal", sum(conn.output_buffer_size()
                                   for conn in _connections(engine))),
        ("mem_cluster_links", 0), ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0), ("lazyfreed_objects", 0),
    ]


def _persistence(engine) -> list:
    return [
        ("loading", 0), ("async_loading", 0), ("current_cow_peak", 0),
        ("current_cow_size", 0), ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", engine.dirty),
        ("rdb_bgsave_in_progress", 0), ("rdb_last_save_time", engine.lastsave),
        ("rdb_last_bgsave_status", "ok"), ("rdb_last_bgsave_time_sec", -1),
        ("rdb_current_bgsave_time_sec", -1), ("rdb_saves", 0), ("rdb_last_cow_size", 0),
        ("rdb_last_load_keys_expired", 0), ("rdb_last_load_keys_loaded", 0),
        ("aof_enabled", int(bool(engine.config.appendonly))),
        ("aof_rewrite_in_progress", 0), ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1), ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0), ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0), ("module_fork_in_progress", 0),
        ("module_fork_last_cow_size", 0),
    ]


def _pubsub_counts(engine) -> tuple:
    channels, patterns, shards = set(), set(), set()
    for client in engine.clients.values():
        channels.update(client.subscriptions)
        patterns.update(client.psubscriptions)
        shards.update(client.ssubscriptions)
    return len(channels), len(patterns), len(shards)


def _stats(engine) -> list:
    stats = engine.stats
    ks = engine.keyspace_stats
    metrics = engine.metrics
    channels, patterns, shards = _pubsub_counts(engine)

    def stat(name, default=0):
        return getattr(stats, name, default)

    return [
        ("total_connections_received", stats.total_connections),
        ("total_commands_processed", stats.total_commands),
        ("instantaneous_ops_per_sec", int(metrics.instantaneous("ops"))),
        ("total_net_input_bytes", stats.net_input_bytes),
        ("total_net_output_bytes", stats.net_output_bytes),
        ("total_net_repl_input_bytes", stat("net_repl_input_bytes")),
        ("total_net_repl_output_bytes", stat("net_repl_output_bytes")),
        ("instantaneous_input_kbps", "%.2f" % (metrics.instantaneous("input") / 1024)),
        ("instantaneous_output_kbps", "%.2f" % (metrics.instantaneous("output") / 1024)),
        ("instantaneous_input_repl_kbps", "0.00"),
        ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", stats.rejected_connections),
        ("sync_full", stat("sync_full")), ("sync_partial_ok", stat("sync_partial_ok")),
        ("sync_partial_err", stat("sync_partial_err")),
        ("expired_keys", ks.expired),
        ("expired_stale_perc", "%.2f" % (ks.expired_stale_perc * 100)),
        ("expired_time_cap_reached_count", stat("expired_time_cap_reached_count")),
        ("expire_cycle_cpu_milliseconds", ks.expire_cycle_ms),
        ("evicted_keys", stat("evicted_keys")), ("evicted_clients", stat("evicted_clients")),
        ("total_eviction_exceeded_time", 0), ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", ks.hits), ("keyspace_misses", ks.misses),
        ("pubsub_channels", channels), ("pubsub_patterns", patterns),
        ("pubsubshard_channels", shards),
        ("latest_fork_usec", 0), ("total_forks", 0), ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0),
        ("active_defrag_hits", 0), ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0), ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0), ("current_active_defrag_time", 0),
        ("tracking_total_keys", stat("tracking_total_keys")),
        ("tracking_total_items", stat("tracking_total_items")),
        ("tracking_total_prefixes", stat("tracking_total_prefixes")),
        ("unexpected_error_replies", 0),
        ("total_error_replies", stats.total_error_replies),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", stat("total_reads_processed")),
        ("total_writes_processed", stat("total_writes_processed")),
        ("io_threaded_reads_processed", 0), ("io_threaded_writes_processed", 0),
        ("client_query_buffer_limit_disconnections",
         stat("client_query_buffer_limit_disconnections")),
        ("client_output_buffer_limit_disconnections",
         stat("client_output_buffer_limit_disconnections")),
        ("reply_buffer_shrinks", 0), ("reply_buffer_expands", 0),
        ("eventloop_cycles", stat("eventloop_cycles")),
        ("eventloop_duration_sum", stat("eventloop_duration_sum")),
        ("eventloop_duration_cmd_sum", stat("eventloop_duration_cmd_sum")),
        ("instantaneous_eventloop_cycles_per_sec", 0),
        ("instantaneous_eventloop_duration_usec", 0),
        ("acl_access_denied_auth", stat("acl_access_denied_auth")),
        ("acl_access_denied_cmd", stat("acl_access_denied_cmd")),
        ("acl_access_denied_key", stat("acl_access_denied_key")),
        ("acl_access_denied_channel", stat("acl_access_denied_channel")),
    ]


def _replication(engine) -> list:
    hook = engine.hooks.get("replication_info")     # ember/replication/manager.py
    if hook is not None:
        return hook()
    return [
        ("role", "master"), ("connected_slaves", 0),
        ("master_failover_state", "no-failover"),
        ("master_replid", engine.replid), ("master_replid2", "0" * 40),
        ("master_repl_offset", 0), ("second_repl_offset", -1),
        ("repl_backlog_active", 0), ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0), ("repl_backlog_histlen", 0),
    ]


def _cpu(engine) -> list:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    fields = [
        ("used_cpu_sys", "%.6f" % me.ru_stime), ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % children.ru_stime),
        ("used_cpu_user_children", "%.6f" % children.ru_utime),
    ]
    if hasattr(resource, "RUSAGE_THREAD"):
        thread = resource.getrusage(resource.RUSAGE_THREAD)
        fields += [("used_cpu_sys_main_thread", "%.6f" % thread.ru_stime),
                   ("used_cpu_user_main_thread", "%.6f" % thread.ru_utime)]
    return fields


def _commandstats(engine) -> list:
    fields = []
    specs = []
    for spec in COMMANDS.values():
        specs.append(spec)
        specs.extend(spec.subcommands.values())
    for spec in sorted(specs, key=lambda s: s.name):
        if spec.calls or spec.failed_calls or spec.rejected_calls:
            usec = spec.usec
            fields.append(("cmdstat_" + spec.name,
                           "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                           "failed_calls=%d" % (spec.calls, usec,
                                                usec / spec.calls if spec.calls else 0,
                                                spec.rejected_calls, spec.failed_calls)))
    return fields


def _errorstats(engine) -> list:
    counts = engine.stats.error_counts
    return [("errorstat_" + code, "count=%d" % counts[code]) for code in sorted(counts)]


def _keyspace(engine) -> list:
    return [("db%d" % db.id, "keys=%d,expires=%d,avg_ttl=%d" % (
        len(db.data), len(db.expires), db.avg_ttl))
        for db in engine.dbs if db.data or db.expires]


SECTION_BUILDERS = {
    "server": _server, "clients": _clients, "memory": _memory,
    "persistence": _persistence, "stats": _stats, "replication": _replication,
    "cpu": _cpu, "modules": lambda engine: [], "commandstats": _commandstats,
    "errorstats": _errorstats, "latencystats": lambda engine: [],
    "cluster": lambda engine: [("cluster_enabled", 0)], "keyspace": _keyspace,
}


def section_fields(engine, name: str) -> list:
    """The ``(field, value)`` pairs of one section, with the hooks' fields merged in."""
    fields = SECTION_BUILDERS[name](engine)
    extra = engine.hooks.get("info", {}).get(name, ())
    if extra:
        index = {field: i for i, (field, _) in enumerate(fields)}
        for hook in extra:
            for field, value in hook(engine):
                if field in index:
                    fields[index[field]] = (field, value)
                else:
                    index[field] = len(fields)
                    fields.append((field, value))
    return fields


def chosen_sections(args: list) -> list:
    """Section names to print, in Redis's order, for INFO's arguments."""
    wanted = set()
    everything = False
    if not args:
        wanted.update(DEFAULT_SECTIONS)
    for arg in args:
        word = arg.lower().decode("utf-8", "surrogateescape")
        if word == "default":
            wanted.update(DEFAULT_SECTIONS)
        elif word in ("all", "everything"):
            everything = True
        else:
            wanted.add(word)
    return [name for name, _ in SECTION_TITLES
            if everything or name in wanted or (name == "modules" and "module_list" in wanted)]


def render(engine, sections: list) -> bytes:
    """The INFO text for ``sections``."""
    titles = dict(SECTION_TITLES)
    blocks = []
    for name in sections:
        lines = ["# " + titles[name]]
        lines.extend(f"{field}:{value}" for field, value in section_fields(engine, name))
        blocks.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(blocks).encode("utf-8", "surrogateescape")


@command("info", arity=-1, flags="loading stale", group="server", since="1.0.0")
def info(ctx, argv):
    """Get information and statistics about the server."""
    return Verbatim(render(ctx.engine, chosen_sections(argv[1:])))

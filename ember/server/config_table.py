"""The configuration table: every Redis 7.2 parameter with its default, kind and flags.

Names, defaults, bounds, enum choices, aliases and the immutable/protected/sensitive/
hidden flags follow ``static_configs[]`` in Redis's config.c (checked against a real
redis-server's CONFIG GET *). The kinds live in :mod:`ember.server.config_types` and
:mod:`ember.server.config_special`; :class:`ember.server.config.Config` holds the values.
"""

from ember.server.config_special import (
    OBUF_DEFAULTS,
    BindParam,
    ClientOutputBufferLimitParam,
    DirParam,
    NotifyKeyspaceEventsParam,
    OomScoreAdjValuesParam,
    PercentilesParam,
    ReplicaOfParam,
    SaveParam,
    validate_proc_title,
)
from ember.server.config_types import (
    INT_MAX,
    INT_MIN,
    LLONG_MAX,
    UINT_MAX,
    ULLONG_MAX,
    BoolParam,
    ConfigError,
    EnumParam,
    NumParam,
    StringParam,
)

LONG_MAX = LLONG_MAX
MIN_HZ, MAX_HZ = 1, 500
LOGLEVELS = ("debug", "verbose", "notice", "warning", "nothing")
PROTECTED_CHOICES = ("no", "yes", "local")


def _basename_only(what: str, kind: str = "filename"):
    def check(value: str) -> None:
        if "/" in value:
            raise ConfigError(f"{what} can't be a path, just a {kind}")
    return check


def _aof_name(what: str, kind: str):
    basename = _basename_only(what, kind)

    def check(value: str) -> None:
        if value == "":
            raise ConfigError(f"{what} can't be empty")
        basename(value)
    return check


def _hostname(value: str) -> None:
    if len(value) >= 256:
        raise ConfigError("Hostnames must be less than 256 characters")
    for char in value:
        if not (char.isascii() and (char.isalnum() or char in "-.")):
            raise ConfigError("Hostnames may only contain alphanumeric characters, "
                              "hyphens or dots")


def _shutdown_flags(chosen: set) -> None:
    if "save" in chosen and "nosave" in chosen:
        raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")


def _b(name, default, **kw):
    return BoolParam(name, default, **kw)


def _i(name, default, lo=0, hi=INT_MAX, **kw):
    return NumParam(name, default, lo, hi, **kw)


def _u(name, default, lo=0, hi=LONG_MAX, **kw):
    """An unsigned C type (unsigned int/long, size_t, unsigned long long)."""
    return NumParam(name, default, lo, hi, unsigned=True, **kw)


def _m(name, default, lo=0, hi=LONG_MAX, unsigned=True, **kw):
    return NumParam(name, default, lo, hi, unsigned=unsigned, memory=True, **kw)


def _e(name, default, choices, **kw):
    return EnumParam(name, default, choices, **kw)


def _s(name, default="", **kw):
    return StringParam(name, default, **kw)


def _null(name, **kw):
    """A string where empty means unset (Redis's EMPTY_STRING_IS_NULL)."""
    return StringParam(name, "", null_empty=True, **kw)


PARAMS = [
    # ---- booleans ----
    _b("rdbchecksum", True, immutable=True),
    _b("daemonize", False, immutable=True),
    _b("io-threads-do-reads", False, immutable=True),
    _b("always-show-logo", False, immutable=True),
    _b("protected-mode", True),
    _b("rdbcompression", True),
    _b("rdb-del-sync-files", False),
    _b("activerehashing", True),
    _b("stop-writes-on-bgsave-error", True),
    _b("set-proc-title", True, immutable=True),
    _b("dynamic-hz", True),
    _b("lazyfree-lazy-eviction", False),
    _b("lazyfree-lazy-expire", False),
    _b("lazyfree-lazy-server-del", False),
    _b("lazyfree-lazy-user-del", False),
    _b("lazyfree-lazy-user-flush", False),
    _b("repl-disable-tcp-nodelay", False),
    _b("repl-diskless-sync", True),
    _b("aof-rewrite-incremental-fsync", True),
    _b("no-appendfsync-on-rewrite", False),
    _b("cluster-require-full-coverage", True),
    _b("rdb-save-incremental-fsync", True),
    _b("aof-load-truncated", True),
    _b("aof-use-rdb-preamble", True),
    _b("aof-timestamp-enabled", False),
    _b("cluster-replica-no-failover", False, alias="cluster-slave-no-failover"),
    _b("replica-lazy-flush", False, alias="slave-lazy-flush"),
    _b("replica-serve-stale-data", True, alias="slave-serve-stale-data"),
    _b("replica-read-only", True, alias="slave-read-only"),
    _b("replica-ignore-maxmemory", True, alias="slave-ignore-maxmemory"),
    _b("jemalloc-bg-thread", True),
    _b("activedefrag", False),
    _b("syslog-enabled", False, immutable=True),
    _b("cluster-enabled", False, immutable=True),
    _b("appendonly", False, deny_loading=True),
    _b("cluster-allow-reads-when-down", False),
    _b("cluster-allow-pubsubshard-when-down", True),
    _b("crash-log-enabled", True),
    _b("crash-memcheck-enabled", True),
    _b("use-exit-on-panic", False, hidden=True),
    _b("disable-thp", True, immutable=True),
    _b("cluster-allow-replica-migration", True),
    _b("replica-announced", True),
    _b("latency-tracking", True),
    _b("aof-disable-auto-gc", False),
    _b("replica-ignore-disk-write-errors", False),
    _b("tls-cluster", False),
    _b("tls-replication", False),
    _b("tls-prefer-server-ciphers", False),
    _b("tls-session-caching", True),
    # ---- strings ----
    _s("aclfile", immutable=True),
    _null("unixsocket", immutable=True),
    _null("pidfile", immutable=True),
    _null("replica-announce-ip", alias="slave-announce-ip"),
    _null("masteruser", sensitive=True),
    _null("cluster-announce-ip"),
    _s("cluster-config-file", "nodes.conf", immutable=True),
    _null("cluster-announce-hostname", validate=_hostname),
    _null("cluster-announce-human-nodename", validate=_hostname),
    _s("syslog-ident", "redis", immutable=True),
    _s("dbfilename", "dump.rdb", protected=True,
       validate=_basename_only("dbfilename")),
    _s("appendfilename", "appendonly.aof", immutable=True,
       validate=_aof_name("appendfilename", "filename")),
    _s("appenddirname", "appendonlydir", immutable=True,
       validate=_aof_name("appenddirname", "dirname")),
    _null("server_cpulist", immutable=True),
    _null("bio_cpulist", immutable=True),
    _null("aof_rewrite_cpulist", immutable=True),
    _null("bgsave_cpulist", immutable=True),
    _s("ignore-warnings"),
    _s("proc-title-template", "{title} {listen-addr} {server-mode}",
       validate=validate_proc_title),
    _null("bind-source-addr"),
    _s("logfile", immutable=True),
    _s("locale-collate"),
    _null("masterauth", sensitive=True),
    _null("requirepass", sensitive=True),
    _null("tls-cert-file"),
    _null("tls-key-file"),
    _null("tls-key-file-pass"),
    _null("tls-client-cert-file"),
    _null("tls-client-key-file"),
    _null("tls-client-key-file-pass"),
    _null("tls-dh-params-file"),
    _null("tls-ca-cert-file"),
    _null("tls-ca-cert-dir"),
    _null("tls-protocols"),
    _null("tls-ciphers"),
    _null("tls-ciphersuites"),
    # ---- enums ----
    _e("supervised", "no", ("upstart", "systemd", "auto", "no"), immutable=True),
    _e("syslog-facility", "local0",
       ("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
        "local7"), immutable=True),
    _e("repl-diskless-load", "disabled", ("disabled", "on-empty-db", "swapdb"),
       deny_loading=True),
    _e("loglevel", "notice", LOGLEVELS),
    _e("maxmemory-policy", "noeviction",
       ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction")),
    _e("appendfsync", "everysec", ("everysec", "always", "no")),
    _e("oom-score-adj", "no", ("no", "yes", "relative", "absolute"),
       synonyms={"relative": "yes"}),
    _e("acl-pubsub-default", "resetchannels", ("allchannels", "resetchannels")),
    _e("sanitize-dump-payload", "no", ("no", "yes", "clients")),
    _e("enable-protected-configs", "no", PROTECTED_CHOICES, immutable=True),
    _e("enable-debug-command", "no", PROTECTED_CHOICES, immutable=True),
    _e("enable-module-command", "no", PROTECTED_CHOICES, immutable=True),
    _e("cluster-preferred-endpoint-type", "ip", ("ip", "hostname", "unknown-endpoint")),
    _e("propagation-error-behavior", "ignore", ("ignore", "panic", "panic-on-replicas")),
    _e("shutdown-on-sigint", "default", ("default", "save", "nosave", "now", "force"),
       flags=True, validate=_shutdown_flags),
    _e("shutdown-on-sigterm", "default", ("default", "save", "nosave", "now", "force"),
       flags=True, validate=_shutdown_flags),
    _e("tls-auth-clients", "yes", ("no", "yes", "optional")),
    # ---- integers ----
    _i("databases", 16, 1, INT_MAX, immutable=True),
    _i("port", 6379, 0, 65535),
    _i("io-threads", 1, 1, 128, immutable=True),
    _i("auto-aof-rewrite-percentage", 100),
    _i("cluster-replica-validity-factor", 10, alias="cluster-slave-validity-factor"),
    _i("list-max-listpack-size", -2, INT_MIN, INT_MAX, alias="list-max-ziplist-size"),
    _i("tcp-keepalive", 300),
    _i("cluster-migration-barrier", 1),
    _i("active-defrag-cycle-min", 1, 1, 99),
    _i("active-defrag-cycle-max", 25, 1, 99),
    _i("active-defrag-threshold-lower", 10, 0, 1000),
    _i("active-defrag-threshold-upper", 100, 0, 1000),
    _i("lfu-log-factor", 10),
    _i("lfu-decay-time", 1),
    _i("replica-priority", 100, alias="slave-priority"),
    _i("repl-diskless-sync-delay", 5),
    _i("maxmemory-samples", 5, 1, INT_MAX),
    _i("maxmemory-eviction-tenacity", 10, 0, 100),
    _i("timeout", 0),
    _i("replica-announce-port", 0, 0, 65535, alias="slave-announce-port"),
    _i("tcp-backlog", 511, immutable=True),
    _i("cluster-port", 0, 0, 65535, immutable=True),
    _i("cluster-announce-bus-port", 0, 0, 65535),
    _i("cluster-announce-port", 0, 0, 65535),
    _i("cluster-announce-tls-port", 0, 0, 65535),
    _i("repl-timeout", 60, 1, INT_MAX),
    _i("repl-ping-replica-period", 10, 1, INT_MAX, alias="repl-ping-slave-period"),
    _i("list-compress-depth", 0),
    _i("rdb-key-save-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _i("key-load-delay", 0, INT_MIN, INT_MAX, hidden=True),
    _i("active-expire-effort", 1, 1, 10),
    _i("hz", 10),
    _i("min-replicas-to-write", 0, alias="min-slaves-to-write"),
    _i("min-replicas-max-lag", 10, alias="min-slaves-max-lag"),
    _i("watchdog-period", 0, hidden=True),
    _i("shutdown-timeout", 10),
    _i("repl-diskless-sync-max-replicas", 0),
    _i("tls-port", 0, 0, 65535),
    _i("tls-session-cache-size", 20 * 1024),
    _i("tls-session-cache-timeout", 300),
    _u("maxclients", 10000, 1, UINT_MAX),
    _u("unixsocketperm", 0, 0, 0o777, octal=True, immutable=True),
    _u("socket-mark-id", 0, 0, UINT_MAX, immutable=True),
    _u("active-defrag-max-scan-fields", 1000, 1, LONG_MAX),
    _u("slowlog-max-len", 128),
    _u("acllog-max-len", 128),
    _i("busy-reply-threshold", 5000, 0, LONG_MAX, alias="lua-time-limit"),
    _i("cluster-node-timeout", 15000, 0, LLONG_MAX),
    _i("slowlog-log-slower-than", 10000, -1, LLONG_MAX),
    _i("latency-monitor-threshold", 0, 0, LLONG_MAX),
    _m("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, LONG_MAX, unsigned=False),
    _i("stream-node-max-entries", 100, 0, LLONG_MAX),
    _m("repl-backlog-size", 1024 * 1024, 1, LLONG_MAX, unsigned=False),
    _m("maxmemory", 0, 0, ULLONG_MAX),
    _m("cluster-link-sendbuf-limit", 0, 0, ULLONG_MAX),
    _u("hash-max-listpack-entries", 512, alias="hash-max-ziplist-entries"),
    _u("set-max-intset-entries", 512),
    _u("set-max-listpack-entries", 128),
    _u("zset-max-listpack-entries", 128, alias="zset-max-ziplist-entries"),
    _m("active-defrag-ignore-bytes", 100 << 20, 1, LLONG_MAX),
    _m("hash-max-listpack-value", 64, alias="hash-max-ziplist-value"),
    _m("set-max-listpack-value", 64),
    _m("stream-node-max-bytes", 4096),
    _m("zset-max-listpack-value", 64, alias="zset-max-ziplist-value"),
    _m("hll-sparse-max-bytes", 3000),
    _u("tracking-table-max-keys", 1000000),
    _m("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    _m("maxmemory-clients", 0, -100, LLONG_MAX, unsigned=False, percent=True),
    _i("repl-backlog-ttl", 60 * 60, 0, LONG_MAX),
    _m("auto-aof-rewrite-min-size", 64 * 1024 * 1024, 0, LLONG_MAX, unsigned=False),
    _i("loading-process-events-interval-bytes", 2 * 1024 * 1024, 1024, INT_MAX,
       hidden=True),
    # ---- special ----
    DirParam("dir", ".", protected=True, deny_loading=True),
    SaveParam("save", [(3600, 1), (300, 100), (60, 10000)]),
    ClientOutputBufferLimitParam("client-output-buffer-limit", dict(OBUF_DEFAULTS)),
    OomScoreAdjValuesParam("oom-score-adj-values", [0, 200, 800]),
    NotifyKeyspaceEventsParam("notify-keyspace-events", ""),
    BindParam("bind", ["127.0.0.1", "-::1"]),
    ReplicaOfParam("replicaof", None, alias="slaveof", immutable=True),
    PercentilesParam("latency-tracking-info-percentiles", [50.0, 99.0, 99.9]),
]

# Every name CONFIG accepts (primary names and aliases), lowercase -> Param.
PARAMS_BY_NAME = {}
for _param in PARAMS:
    PARAMS_BY_NAME[_param.name] = _param
    for _alias in _param.aliases:
        PARAMS_BY_NAME[_alias] = _param

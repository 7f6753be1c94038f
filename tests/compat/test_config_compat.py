"""CONFIG and SHUTDOWN compared byte for byte with redis-server.

Both servers run with ``--save "" --appendonly no --enable-debug-command yes``. Values
that differ by design are left out: ``port`` and ``dir`` (each server has its own),
``bind`` (ember binds to loopback by default, as redis.conf ships; redis-server without
a config file binds to every interface). Parameters Redis 7.2 added (locale-collate,
set-max-listpack-*, cluster-announce-human-nodename) are not in the 7.0 reference.
"""

import pytest

from ember.server.config import PARAMS_BY_NAME

DIFFERENT_BY_DESIGN = {"port", "dir", "bind"}

pytestmark = pytest.mark.compat


def _pairs(reply) -> dict:
    return {reply[i]: reply[i + 1] for i in range(0, len(reply), 2)}


def test_every_shared_parameter_has_redis_default(compat):
    theirs = _pairs(compat.redis.call("CONFIG", "GET", "*"))
    names = sorted(n.decode() for n in theirs)
    shared = [n for n in names if n in PARAMS_BY_NAME and n not in DIFFERENT_BY_DESIGN]
    missing = [n for n in names if n not in PARAMS_BY_NAME]
    assert not missing, f"parameters redis-server has and ember lacks: {missing}"
    assert len(shared) > 180
    for name in shared:
        compat.check("CONFIG", "GET", name)


@pytest.mark.parametrize("pattern", ["*max*", "slave*", "*-ziplist-*", "h?", "[a-c]*",
                                     "MAXMEMORY*", "*LAZY*"])
def test_glob_patterns_match_the_same_names(compat, pattern):
    ours = _pairs(compat.ember.call("CONFIG", "GET", pattern))
    theirs = _pairs(compat.redis.call("CONFIG", "GET", pattern))
    newer = {b"set-max-listpack-entries", b"set-max-listpack-value", b"locale-collate",
             b"cluster-announce-human-nodename"}
    for name in [n for n in ours if n in newer or n.decode() in DIFFERENT_BY_DESIGN]:
        del ours[name]
    for name in [n for n in theirs if n.decode() in DIFFERENT_BY_DESIGN]:
        del theirs[name]
    assert ours == theirs


def test_exact_names_keep_their_spelling(compat):
    compat.check("CONFIG", "GET", "MAXMEMORY")
    compat.check("CONFIG", "GET", "HZ", "hz")
    compat.check("CONFIG", "GET", "nosuch")
    compat.check("CONFIG", "GET", "slaveof")


SET_ERRORS = [
    ("maxmemory", "abc"), ("MAXMEMORY", "10x"), ("maxmemory", "1.5mb"),
    ("slave-read-only", "maybe"), ("daemonize", "yes"), ("DAEMONIZE", "yes"),
    ("dir", "/tmp"), ("dbfilename", "x"), ("foo", "bar"), ("port", "70000"),
    ("port", "-1"), ("hz", "-1"), ("maxclients", "0"), ("timeout", "1.5"),
    ("timeout", " 5"), ("timeout", "+5"), ("timeout", "05"), ("timeout", ""),
    ("proto-max-bulk-len", "1k"), ("proto-max-bulk-len", "99999999999999999999b"),
    ("maxmemory-clients", "200%"), ("maxmemory-clients", "x"), ("maxmemory-clients", "-5"),
    ("unixsocketperm", "700"), ("list-max-listpack-size", "-99999999999"),
    ("save", "1 2 3"), ("save", "0 1"), ("save", "x y"), ("save", "100  5"),
    ("shutdown-on-sigint", "save nosave"), ("shutdown-on-sigint", "bogus"),
    ("shutdown-on-sigint", ""), ("maxmemory-policy", "x"), ("appendfsync", "x"),
    ("oom-score-adj", "x"), ("acl-pubsub-default", "x"), ("repl-diskless-load", "x"),
    ("sanitize-dump-payload", "x"), ("propagation-error-behavior", "x"),
    ("cluster-preferred-endpoint-type", "x"), ("socket-mark-id", "1"), ("supervised", "no"),
    ("notify-keyspace-events", "q"), ("bind", " ".join(["h"] * 17)),
    ("oom-score-adj-values", "1 2"), ("oom-score-adj-values", "1 2 x"),
    ("oom-score-adj-values", "0 200 3000"), ("client-output-buffer-limit", "normal 1 2"),
    ("client-output-buffer-limit", "master 1 2 3"),
    ("client-output-buffer-limit", "normal 1 x 3"), ("replicaof", "x"), ("slaveof", "no one"),
    ("latency-tracking-info-percentiles", "50 x"),
    ("latency-tracking-info-percentiles", "50 101"), ("appendfilename", "a/b"),
    ("proc-title-template", ""), ("proc-title-template", "{title}"),
    ("proc-title-template", "{foo}"), ("cluster-announce-hostname", "a_b"),
    ("enable-protected-configs", "yes"), ("databases", "1"),
]


@pytest.mark.parametrize("name,value", SET_ERRORS)
def test_set_errors_match(compat, name, value):
    compat.check("CONFIG", "SET", name, value)


def test_set_error_precedence_matches(compat):
    compat.script([
        ("CONFIG", "SET", "hz", "10", "foo", "bar"),
        ("CONFIG", "SET", "foo", "bar", "hz", "10"),
        ("CONFIG", "SET", "hz", "5", "hz", "6"),
        ("CONFIG", "SET", "HZ", "5", "hz", "6"),
        ("CONFIG", "SET", "hz", "5", "port", "70000"),
        ("CONFIG", "SET", "hz", "5", "foo", "1", "daemonize", "1"),
        ("CONFIG", "SET", "daemonize", "1", "foo", "1"),
        ("CONFIG", "SET", "hz", "5", "maxmemory", "1mb", "daemonize", "no"),
        ("CONFIG", "GET", "hz"), ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "a", "b", "c"),
        ("CONFIG", "SET", "hz"),
        ("CONFIG", "GET"),
    ])


def test_loglevel_error(compat):
    # Redis 7.2 added the "nothing" level, so its list is longer than 7.0's.
    got = compat.ember.call_raw("CONFIG", "SET", "loglevel", "loud")
    assert got == (b"-ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
                   b"argument(s) must be one of the following: debug, verbose, notice, "
                   b"warning, nothing\r\n")


def test_successful_sets_read_back_the_same(compat):
    settings = [
        ("hz", "1000", "10"), ("hz", "0", "10"), ("maxmemory", "1GB", "0"),
        ("maxmemory", "99999999999999999999999", "0"), ("maxmemory-clients", "10%", "0"),
        ("notify-keyspace-events", "KEA", ""), ("notify-keyspace-events", "g$lshzxetd", ""),
        ("notify-keyspace-events", "nK", ""), ("shutdown-on-sigint", "force now nosave",
                                               "default"),
        ("shutdown-on-sigint", "default save", "default"),
        ("client-output-buffer-limit", "replica 1mb 2mb 3",
         "slave 268435456 67108864 60"),
        ("latency-tracking-info-percentiles", "1.50 99.999999 100", "50 99 99.9"),
        ("latency-tracking-info-percentiles", "", "50 99 99.9"),
        ("oom-score-adj", "relative", "no"), ("save", "100 5 200 6", ""),
        ("slave-read-only", "no", "yes"), ("proc-title-template", "x {{ y",
                                           "{title} {listen-addr} {server-mode}"),
        ("maxmemory-policy", "ALLKEYS-LRU", "noeviction"), ("requirepass", "", ""),
    ]
    for name, value, default in settings:
        try:
            compat.check("CONFIG", "SET", name, value)
            compat.check("CONFIG", "GET", name)
        finally:
            compat.check("CONFIG", "SET", name, default)
    compat.check("CONFIG", "GET", "client-output-buffer-limit")


def test_other_subcommands_match(compat):
    compat.script([
        ("CONFIG", "HELP"), ("config", "help", "x"), ("CONFIG", "NOSUCH"), ("CONFIG",),
        ("CONFIG", "REWRITE"), ("CONFIG", "RESETSTAT"), ("CONFIG", "RESETSTAT", "x"),
    ])


def test_shutdown_argument_errors_match(compat):
    # Only refused SHUTDOWNs: both servers must stay up.
    compat.script([
        ("SHUTDOWN", "foo"), ("SHUTDOWN", "nosave", "save"), ("SHUTDOWN", "save", "nosave"),
        ("SHUTDOWN", "abort"), ("SHUTDOWN", "now", "abort"), ("SHUTDOWN", "abort", "force"),
    ])
    compat.check("PING")

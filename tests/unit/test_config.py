"""The configuration table: value parsing, CONFIG SET's all-or-nothing rules, CONFIG GET."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.protocol.parser import split_inline
from ember.protocol.replies import Status
from ember.server.config import PARAMS, PARAMS_BY_NAME, Config, ConfigError
from ember.server.config_special import normalize_keyspace_events, printed_keyspace_events
from ember.server.config_types import format_memory, memtoull, sds_repr

load_all()


def parse(name, *args):
    return PARAMS_BY_NAME[name].parse(list(args), Config().get(name))


def reason(name, *args):
    with pytest.raises(ConfigError) as info:
        parse(name, *args)
    return str(info.value)


# ---- defaults ------------------------------------------------------------------------


def test_defaults_are_redis_defaults():
    config = Config()
    assert config.port == 6379
    assert config.bind == ["127.0.0.1", "-::1"]
    assert config.protected_mode is True
    assert config.databases == 16 and config.hz == 10
    assert config.maxclients == 10000 and config.timeout == 0
    assert config.tcp_keepalive == 300
    assert config.save == [(3600, 1), (300, 100), (60, 10000)]
    assert config.client_output_buffer_limit == {
        "normal": (0, 0, 0), "replica": (256 << 20, 64 << 20, 60),
        "pubsub": (32 << 20, 8 << 20, 60)}
    assert config.formatted("client-output-buffer-limit") == (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
    assert config.formatted("save") == "3600 1 300 100 60 10000"
    assert config.formatted("latency-tracking-info-percentiles") == "50 99 99.9"
    assert config.formatted("proc-title-template") == "{title} {listen-addr} {server-mode}"


def test_every_parameter_prints_its_default_and_parses_it_back():
    config = Config()
    for param in PARAMS:
        if param.name in ("dir", "replicaof"):   # chdir; "" is not a valid replicaof
            continue
        text = config.formatted(param.name)
        args = (text.split(" ") if text else []) if param.multi_arg else [text]
        assert param.parse(args, config.get(param.name)) == config.get(param.name), param.name


def test_aliases_share_the_value():
    config = Config()
    config.set("slave-read-only", ["no"])
    assert config.replica_read_only is False
    assert config.formatted("slave-read-only") == "no"
    assert config.param("hash-max-ziplist-entries") is config.param("hash-max-listpack-entries")
    assert config.param("slaveof").name == "replicaof"


# ---- value kinds ---------------------------------------------------------------------


def test_bool():
    assert parse("protected-mode", "YES") is True
    assert parse("protected-mode", "no") is False
    assert reason("protected-mode", "1") == "argument must be 'yes' or 'no'"


def test_integers_are_strict_and_bounded():
    assert parse("hz", "100") == 100
    for bad in ("1.5", " 5", "+5", "05", "", "5x"):
        assert reason("timeout", bad) == "argument couldn't be parsed into an integer"
    assert reason("port", "70000") == "argument must be between 0 and 65535 inclusive"
    assert reason("port", "-1") == "argument must be between 0 and 65535 inclusive"
    assert reason("maxclients", "0") == "argument must be between 1 and 4294967295 inclusive"
    assert reason("maxclients", "-1") == "argument must be between 1 and 4294967295 inclusive"
    assert parse("slowlog-log-slower-than", "-1") == -1


@pytest.mark.parametrize("text,value", [
    ("100", 100), ("1k", 1000), ("1kb", 1024), ("2m", 2_000_000), ("2MB", 2 << 20),
    ("1g", 10 ** 9), ("1Gb", 1 << 30), ("7b", 7), ("", 0),
])
def test_memory_units(text, value):
    assert memtoull(text) == value
    assert parse("maxmemory", text) == value


def test_memory_errors_and_limits():
    for bad in ("1.5mb", "10x", "-1", "mb1"):
        assert reason("maxmemory", bad) == "argument must be a memory value"
    assert parse("maxmemory", "99999999999999999999999") == 2 ** 64 - 1
    assert reason("proto-max-bulk-len", "1k") == (
        "argument must be between 1048576 and 9223372036854775807 inclusive")
    # An overflowing size wraps to a negative long long, as in C.
    assert reason("proto-max-bulk-len", "99999999999999999999b") == (
        "argument must be between 1048576 and 9223372036854775807 inclusive")


def test_percent_and_octal():
    assert parse("maxmemory-clients", "10%") == -10
    assert Config().param("maxmemory-clients").format(-10) == "10%"
    assert reason("maxmemory-clients", "200%") == "percentage argument must be less or equal to 100"
    assert reason("maxmemory-clients", "x") == "argument must be a memory or percent value"
    assert parse("unixsocketperm", "700") == 0o700
    assert reason("unixsocketperm", "800") == "argument couldn't be parsed as an octal number"
    assert reason("unixsocketperm", "1000") == "argument must be between 0 and 777 inclusive"


def test_enums():
    assert parse("maxmemory-policy", "ALLKEYS-LRU") == "allkeys-lru"
    assert parse("loglevel", "nothing") == "nothing"
    assert reason("loglevel", "loud") == (
        "argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
    assert parse("oom-score-adj", "relative") == "yes"


def test_flag_enums_print_in_table_order():
    assert parse("shutdown-on-sigint", "now", "save") == "save now"
    assert parse("shutdown-on-sigint", "force", "now", "nosave") == "nosave now force"
    assert parse("shutdown-on-sigint", "default", "save") == "save"
    assert parse("shutdown-on-sigint", "default") == "default"
    assert reason("shutdown-on-sigint", "save", "nosave") == (
        "shutdown options SAVE and NOSAVE can't be used simultaneously")
    assert reason("shutdown-on-sigint", "bogus").startswith("argument(s) must be one of")


def test_strings_with_checks():
    assert reason("dbfilename", "a/b") == "dbfilename can't be a path, just a filename"
    assert reason("cluster-announce-hostname", "a_b") == (
        "Hostnames may only contain alphanumeric characters, hyphens or dots")
    for bad in ("", "{title}", "{foo}", "{title"):
        assert reason("proc-title-template", bad) == (
            "template format is invalid or contains unknown variables")
    assert parse("proc-title-template", "x {{ y") == "x {{ y"


def test_save():
    assert parse("save", "900", "1", "60", "5") == [(900, 1), (60, 5)]
    assert parse("save", "") == []
    for bad in (("1",), ("0", "1"), ("x", "y"), ("1", "-1")):
        assert reason("save", *bad) == "Invalid save parameters"


def test_bind_and_replicaof():
    assert parse("bind", "") == []
    assert parse("bind", "1.2.3.4", "-::1") == ["1.2.3.4", "-::1"]
    assert reason("bind", *["h"] * 17) == "Too many bind addresses specified."
    assert parse("replicaof", "no", "one") is None
    assert parse("slaveof", "host", "6380") == ("host", 6380)
    assert reason("replicaof", "host", "x") == "Invalid master port"
    assert reason("replicaof", "host") == "wrong number of arguments"


def test_client_output_buffer_limit_merges_classes():
    value = parse("client-output-buffer-limit", "replica", "1mb", "2mb", "3")
    assert value["replica"] == (1 << 20, 2 << 20, 3)
    assert value["pubsub"] == (32 << 20, 8 << 20, 60)
    assert reason("client-output-buffer-limit", "normal", "1", "2") == (
        "Wrong number of arguments in buffer limit configuration.")
    assert reason("client-output-buffer-limit", "master", "1", "2", "3") == (
        "Invalid client class specified in buffer limit configuration.")
    assert reason("client-output-buffer-limit", "normal", "1", "x", "3") == (
        "Error in hard, soft or soft_seconds setting in buffer limit configuration.")


def test_oom_values_and_percentiles():
    assert parse("oom-score-adj-values", "1", "2", "3") == [1, 2, 3]
    assert reason("oom-score-adj-values", "1", "2") == "wrong number of arguments"
    assert reason("oom-score-adj-values", "0", "200", "3000") == (
        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    param = PARAMS_BY_NAME["latency-tracking-info-percentiles"]
    assert param.format(parse(param.name, "1.50", "99.999999", "100")) == "1.5 99.999999 100"
    assert reason(param.name, "50", "x") == "Invalid latency-tracking-info-percentiles parameters"
    assert reason(param.name, "101") == (
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")


@pytest.mark.parametrize("given_,kept,printed", [
    ("KEA", "AKE", "AKE"), ("g$lshzxetd", "A", "A"), ("Am", "Am", "Am"), ("nK", "nK", "nK"),
    ("Ed", "dE", "dE"), ("An", "An", "A"), ("KEAn", "AKEn", "AKE"), ("", "", ""),
    ("xg", "gx", "gx"),
])
def test_keyspace_event_flags_normalise(given_, kept, printed):
    """Kept with the "n" that "A" hides (Redis keeps the class), printed as Redis does."""
    assert normalize_keyspace_events(given_) == kept
    assert printed_keyspace_events(kept) == printed


def test_keyspace_event_flags_reject_unknown():
    assert reason("notify-keyspace-events", "q") == (
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")


@given(st.binary(max_size=40))
def test_repr_round_trips_through_the_config_splitter(data):
    text = data.decode("utf-8", "surrogateescape")
    assert split_inline(sds_repr(text).encode("utf-8", "surrogateescape")) == [data]


def test_memory_format_for_rewrite():
    assert [format_memory(v) for v in (0, 1 << 30, 3 << 20, 2048, 1000)] == [
        "0", "1gb", "3mb", "2kb", "1000"]


# ---- CONFIG SET rules ----------------------------------------------------------------


def test_set_many_is_all_or_nothing():
    config = Config()
    error = config.set_many([("hz", "50"), ("maxmemory", "1mb"), ("port", "70000")])
    assert error == ("ERR CONFIG SET failed (possibly related to argument 'port') - "
                     "argument must be between 0 and 65535 inclusive")
    assert config.hz == 10 and config.maxmemory == 0
    assert config.set_many([("hz", "50"), ("maxmemory", "1mb")]) is None
    assert config.hz == 50 and config.maxmemory == 1 << 20


def test_set_many_errors_name_the_argument_as_redis_does():
    config = Config()
    assert config.set_many([("hz", "5"), ("foo", "1"), ("daemonize", "no")]) == (
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
    assert config.set_many([("DAEMONIZE", "yes")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - "
        "can't set immutable config")
    assert config.set_many([("dir", "/tmp")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'dir') - "
        "can't set protected config")
    assert config.set_many([("HZ", "5"), ("hz", "6")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter")
    # A value error names the parameter in lower case; an alias counts apart.
    assert config.set_many([("MAXMEMORY", "abc")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
        "argument must be a memory value")
    assert config.set_many([("slave-read-only", "yes"), ("replica-read-only", "no")]) is None


def test_set_many_splits_multi_argument_values():
    config = Config()
    assert config.set_many([("save", "100 5 200 6")]) is None
    assert config.save == [(100, 5), (200, 6)]
    assert config.set_many([("save", "")]) is None
    assert config.save == []
    assert config.set_many([("bind", "")]) is None and config.bind == []


def test_hz_is_capped_and_appliers_can_refuse():
    config = Config()
    assert config.set_many([("hz", "100000")]) is None
    assert config.hz == 500
    assert config.set_many([("hz", "0")]) is None
    assert config.hz == 1

    def refuse(cfg):
        raise ConfigError("Unable to listen on this port. Check server logs.")

    config.add_applier("port", refuse)
    assert config.set_many([("timeout", "5"), ("port", "7000")]) == (
        "ERR CONFIG SET failed (possibly related to argument 'port') - "
        "Unable to listen on this port. Check server logs.")
    assert config.port == 6379 and config.timeout == 0


def test_loading_rules():
    config = Config()
    config.set("save", ["900", "1"], loading=True)
    config.set("save", ["60", "5"], loading=True)
    assert config.save == [(900, 1), (60, 5)]
    config.set("save", [""], loading=True)
    assert config.save == []
    with pytest.raises(ConfigError, match="wrong number of arguments"):
        config.set("port", ["1", "2"], loading=True)
    config.set("hz", ["0"], loading=True)
    config.finish_loading()
    assert config.hz == 1


# ---- CONFIG GET ----------------------------------------------------------------------


def test_matching_patterns_aliases_and_case():
    config = Config()
    found = config.matching(["maxmemory*"])
    assert set(found) == {"maxmemory", "maxmemory-policy", "maxmemory-samples",
                          "maxmemory-eviction-tenacity", "maxmemory-clients"}
    assert config.matching(["MAXMEMORY"]) == {"MAXMEMORY": "0"}
    assert config.matching(["HZ", "hz"]) == {"HZ": "10"}
    assert config.matching(["nosuch"]) == {}
    assert "slave-read-only" in config.matching(["slave*"])
    assert "use-exit-on-panic" not in config.matching(["*"])     # hidden
    assert config.matching(["use-exit-on-panic"]) == {"use-exit-on-panic": "no"}
    assert set(config.matching(["hz", "port"])) == {"hz", "port"}


# ---- through the dispatcher ----------------------------------------------------------


def test_config_commands_through_the_engine():
    engine = Engine(Config())
    client = engine.new_client()
    assert engine.execute(client, [b"CONFIG", b"SET", b"hz", b"20"]) == Status("OK")
    assert engine.execute(client, [b"CONFIG", b"GET", b"hz"]) == {b"hz": b"20"}
    error = engine.execute(client, [b"CONFIG", b"SET", b"hz", b"1", b"x"])
    assert error.message == "ERR syntax error"
    error = engine.execute(client, [b"CONFIG", b"REWRITE"])
    assert error.message == "ERR The server is running without a config file"
    help_lines = engine.execute(client, [b"CONFIG", b"HELP"])
    assert help_lines[0].startswith("CONFIG <subcommand>")


def test_resetstat_zeroes_counters():
    engine = Engine(Config())
    client = engine.new_client()
    engine.execute(client, [b"SET", b"k", b"v"])
    engine.execute(client, [b"GET", b"k"])
    engine.execute(client, [b"GET", b"missing"])
    engine.execute(client, [b"NOSUCH"])
    assert engine.keyspace_stats.hits and engine.keyspace_stats.misses
    assert engine.stats.total_error_replies and engine.stats.error_counts
    assert engine.execute(client, [b"CONFIG", b"RESETSTAT"]) == Status("OK")
    from ember.commands.registry import COMMANDS
    assert COMMANDS["get"].calls == 0 and COMMANDS["set"].calls == 0
    assert engine.keyspace_stats.hits == 0 and engine.keyspace_stats.misses == 0
    assert engine.stats.total_error_replies == 0 and engine.stats.error_counts == {}


def test_shutdown_arguments():
    engine = Engine(Config())
    client = engine.new_client()
    for args in ([b"foo"], [b"nosave", b"save"], [b"now", b"abort"]):
        assert engine.execute(client, [b"SHUTDOWN", *args]).message == "ERR syntax error"
    assert engine.execute(client, [b"SHUTDOWN", b"ABORT"]).message == (
        "ERR No shutdown in progress.")

    class FakeServer:
        reasons = []

        def request_shutdown(self, reason):
            self.reasons.append(reason)

    saves = []
    engine.hooks["server"] = FakeServer()
    engine.hooks["shutdown_save"] = lambda: saves.append(1) or False
    # Save points are configured by default: the failing save refuses the shutdown.
    assert engine.execute(client, [b"SHUTDOWN"]).message == (
        "ERR Errors trying to SHUTDOWN. Check logs.")
    assert engine.execute(client, [b"SHUTDOWN", b"NOSAVE"]) is None
    assert engine.hooks["server"].reasons == ["User requested shutdown..."]
    assert client.close_after_reply and saves == [1]


def test_log_lines_carry_redis_level_marks():
    import logging

    from ember.server import logsetup

    marks = [logsetup.mark(level) for level in (
        logging.DEBUG, logsetup.VERBOSE, logging.INFO, logging.WARNING, logging.ERROR)]
    assert marks == [".", "-", "*", "#", "#"]
    record = logging.LogRecord("ember", logging.INFO, "", 0, "Ready %s", ("now",), None)
    line = logsetup.RedisFormatter().format(record)
    assert re.match(r"^\d+:[CMS] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} \* Ready now$",
                    line)
    config = Config()
    try:
        assert config.set_many([("loglevel", "warning")]) is None
        assert logging.getLogger("ember").level == logging.WARNING
        assert config.set_many([("loglevel", "debug")]) is None
        assert logging.getLogger("ember").level == logging.DEBUG
    finally:
        logsetup.apply_level("notice")

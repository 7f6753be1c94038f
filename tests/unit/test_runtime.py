"""Introspection state without sockets: NO-TOUCH, slow log entries, latency samples,
CLIENT PAUSE rules, INFO sections and MONITOR lines, on an Engine with an injected clock."""

import pytest

import ember.commands
from ember.commands import runtime
from ember.commands.engine import Engine
from ember.commands.info import bytes_to_human, chosen_sections
from ember.commands.slowlog import LatencyMonitor, SlowLog, trimmed_argv
from ember.errors import ReplyError
from ember.protocol.replies import Verbatim
from ember.server.config import Config

ember.commands.load_all()


@pytest.fixture
def clock():
    return {"ms": 1_700_000_000_000}


@pytest.fixture
def engine(clock):
    config = Config()
    config.set("enable-debug-command", ["yes"], loading=True)
    return Engine(config, clock=lambda: clock["ms"])


def run(engine, client, *args):
    return engine.execute(client, [a.encode() if isinstance(a, str) else a for a in args])


def idle(engine, client, key):
    line = run(engine, client, "DEBUG", "OBJECT", key)
    return int(line.rsplit("lru_seconds_idle:", 1)[1])


def test_no_touch_keeps_access_time(engine, clock):
    client = engine.new_client()
    run(engine, client, "SET", "k", "v")
    clock["ms"] += 10_000
    engine.tick()
    assert idle(engine, client, "k") == 10
    assert run(engine, client, "CLIENT", "NO-TOUCH", "on") == "OK"
    assert run(engine, client, "GET", "k") == b"v"
    assert idle(engine, client, "k") == 10          # the read did not touch the key
    assert all(db.touching for db in engine.dbs)   # restored after the command
    run(engine, client, "CLIENT", "NO-TOUCH", "off")
    run(engine, client, "GET", "k")
    assert idle(engine, client, "k") == 0


def test_trimmed_argv_follows_redis_limits():
    argv = [b"DEL"] + [b"k%d" % i for i in range(40)]
    kept = trimmed_argv(argv)
    assert len(kept) == 32 and kept[:31] == argv[:31]
    assert kept[31] == b"... (10 more arguments)"
    assert trimmed_argv([b"SET", b"x" * 130]) == [b"SET", b"x" * 128 + b"... (2 more bytes)"]
    assert trimmed_argv([b"a"] * 32) == [b"a"] * 32


def test_slowlog_newest_first_and_trimmed():
    log = SlowLog()
    for i in range(5):
        log.push([b"CMD%d" % i], 100 + i, "1.2.3.4:5", b"", max_len=3)
    got = log.get(10)
    assert [entry[0] for entry in got] == [4, 3, 2]
    assert got[0][2:] == [104, [b"CMD4"], b"1.2.3.4:5", b""]
    log.reset()
    log.push([b"X"], 1, "", b"n", max_len=3)
    assert log.get(1)[0][0] == 5                  # ids keep counting after RESET


def test_slowlog_records_through_the_engine(engine):
    client = engine.new_client()
    assert run(engine, client, "CONFIG", "SET", "slowlog-log-slower-than", "0") == "OK"
    run(engine, client, "AUTH", "secret")
    run(engine, client, "PING")
    entries = run(engine, client, "SLOWLOG", "GET")
    assert [e[3] for e in entries[:3]] == [[b"PING"], [b"AUTH", b"(redacted)"],
                                           [b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"]]
    assert run(engine, client, "CONFIG", "SET", "slowlog-log-slower-than", "-1") == "OK"
    run(engine, client, "SLOWLOG", "RESET")
    run(engine, client, "PING")
    assert run(engine, client, "SLOWLOG", "LEN") == 0


def test_latency_samples_per_second_and_reset():
    monitor = LatencyMonitor()
    monitor.add_sample("command", 20, now=100)
    monitor.add_sample("command", 30, now=100)
    monitor.add_sample("command", 10, now=101)
    monitor.add_sample("fast-command", 5, now=101)
    assert monitor.history("command") == [[100, 30], [101, 10]]
    assert monitor.latest() == [[b"command", 101, 10, 30], [b"fast-command", 101, 5, 5]]
    assert monitor.reset(["nosuch", "command"]) == 1
    assert monitor.reset() == 1 and monitor.latest() == []
    for second in range(200):
        monitor.add_sample("command", 1, now=second)
    assert len(monitor.history("command")) == 160


def test_pause_rules(engine, clock):
    client = engine.new_client()
    now = engine.now()
    runtime.start_pause(engine, runtime.PAUSE_WRITE, now + 1000)
    assert runtime.must_wait(engine, client, [b"SET", b"k", b"v"])
    assert not runtime.must_wait(engine, client, [b"GET", b"k"])
    assert not runtime.must_wait(engine, client, [b"SET", b"k"])     # arity error first
    assert not runtime.must_wait(engine, client, [b"NOSUCH"])
    # A looser or shorter pause never weakens the one in force.
    runtime.start_pause(engine, runtime.PAUSE_ALL, now + 500)
    runtime.start_pause(engine, runtime.PAUSE_WRITE, now + 10)
    assert engine.pause_kind == runtime.PAUSE_ALL and engine.pause_until_ms == now + 1000
    assert runtime.must_wait(engine, client, [b"GET", b"k"])
    assert not runtime.active_expire_allowed(engine)
    clock["ms"] += 1000
    engine.tick()
    assert not runtime.must_wait(engine, client, [b"SET", b"k", b"v"])
    assert engine.pause_kind is None and runtime.active_expire_allowed(engine)


def test_unpause_wakes_waiters(engine):
    woken = []

    class FakeConn:
        def wake_after_pause(self):
            woken.append(self)

    conn = FakeConn()
    runtime.start_pause(engine, runtime.PAUSE_ALL, engine.now() + 60_000)
    engine.pause_waiters.add(conn)
    client = engine.new_client()
    assert run(engine, client, "CLIENT", "UNPAUSE") == "OK"
    assert woken == [conn] and engine.pause_kind is None and not engine.pause_waiters


def test_monitor_line_quoting(engine):
    client = engine.new_client(addr="127.0.0.1:5000")
    line = runtime.monitor_line(client, [b"set", b'a "b"\\', b"\x00\xff\r\n\t"], now=12.5)
    assert line == (b'+12.500000 [0 127.0.0.1:5000] "set" "a \\"b\\"\\\\" '
                    b'"\\x00\\xff\\r\\n\\t"\r\n')


def test_info_sections_and_human_sizes(engine):
    assert chosen_sections([]) == ["server", "clients", "memory", "persistence", "stats",
                                   "replication", "cpu", "modules", "errorstats", "cluster",
                                   "keyspace"]
    assert chosen_sections([b"KEYSPACE", b"cpu"]) == ["cpu", "keyspace"]
    assert len(chosen_sections([b"everything"])) == 13
    assert [bytes_to_human(n) for n in (0, 1023, 1024, 1536, 3 * 1024 ** 2, 5 * 1024 ** 3)] \
        == ["0B", "1023B", "1.00K", "1.50K", "3.00M", "5.00G"]
    client = engine.new_client()
    reply = run(engine, client, "INFO", "keyspace")
    assert type(reply) is Verbatim and reply == b"# Keyspace\r\n"
    run(engine, client, "SET", "k", "v")
    assert run(engine, client, "INFO", "keyspace") == (
        b"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")


def test_info_hooks_add_and_override_fields(engine):
    engine.hooks["info"] = {"replication": [
        lambda e: [("role", "slave"), ("master_host", "10.0.0.1")]]}
    client = engine.new_client()
    text = run(engine, client, "INFO", "replication").decode()
    assert "role:slave\r\n" in text and text.endswith("master_host:10.0.0.1\r\n")


def test_debug_refused_by_default(clock):
    engine = Engine(Config(), clock=lambda: clock["ms"])
    client = engine.new_client(addr="127.0.0.1:1")
    reply = run(engine, client, "DEBUG", "SLEEP", "0")
    assert isinstance(reply, ReplyError) and reply.message.startswith(
        "ERR DEBUG command not allowed.")


def test_slow_threshold_follows_config(engine):
    client = engine.new_client()
    assert engine.slow_ns == 10_000 * 1000
    run(engine, client, "CONFIG", "SET", "latency-monitor-threshold", "5")
    assert engine.slow_ns == 5 * 1_000_000
    run(engine, client, "CONFIG", "SET", "slowlog-log-slower-than", "-1")
    assert engine.slow_ns == 5 * 1_000_000
    run(engine, client, "CONFIG", "SET", "latency-monitor-threshold", "0")
    assert engine.slow_ns > 10 ** 15
    # A change made without CONFIG SET is picked up by the next cron sample.
    engine.config.set("slowlog-log-slower-than", ["3"])
    engine.metrics.sample()
    assert engine.slow_ns == 3000


def test_monitor_refused_for_deny_blocking_clients(engine):
    client = engine.new_client()
    client.flags.add("deny_blocking")
    assert run(engine, client, "MONITOR") == ReplyError(
        "ERR MONITOR isn't allowed for DENY BLOCKING client")
    client.flags.discard("deny_blocking")
    assert run(engine, client, "MONITOR") == "OK"
    assert engine.monitors == [client] and client.monitor
    run(engine, client, "RESET")
    assert engine.monitors == [] and not client.monitor

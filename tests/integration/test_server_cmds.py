"""TIME, LASTSAVE, SLOWLOG, LATENCY, MONITOR and DEBUG over TCP."""

import re
import time

import pytest
import redis

from tests.rawclient import RawClient
from tests.servers import start_ember, wait_until

MONITOR_LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)\r\n$")


@pytest.fixture
def config_restorer(raw):
    """CONFIG SET for one test, restored afterwards."""
    saved = {}

    def set_config(name, value):
        if name not in saved:
            saved[name] = raw.call("CONFIG", "GET", name)[1]
        assert raw.call("CONFIG", "SET", name, value) == "OK"
    yield set_config
    for name, value in saved.items():
        raw.call("CONFIG", "SET", name, value)


def test_time(raw):
    seconds, micros = raw.call("TIME")
    assert re.fullmatch(rb"\d+", seconds) and re.fullmatch(rb"\d+", micros)
    assert abs(int(seconds) - time.time()) < 5
    assert 0 <= int(micros) < 1_000_000
    assert raw.call_raw("TIME", "x") == b"-ERR wrong number of arguments for 'time' command\r\n"


def test_lastsave_is_the_start_time(raw, r):
    started = time.time() - int(r.info("server")["uptime_in_seconds"])
    assert abs(raw.call("LASTSAVE") - started) <= 2
    assert r.lastsave().timestamp() == raw.call("LASTSAVE")


def test_slowlog_records_slow_commands(raw):
    raw.call("SLOWLOG", "RESET")
    assert raw.call("SLOWLOG", "LEN") == 0
    raw.call("CLIENT", "SETNAME", "sleeper")
    raw.call("DEBUG", "SLEEP", "0.02")       # over the default 10 ms threshold
    assert raw.call("SLOWLOG", "LEN") == 1
    (entry,) = raw.call("SLOWLOG", "GET", "1")
    entry_id, when, duration, argv, addr, name = entry
    assert isinstance(entry_id, int) and abs(when - time.time()) < 5
    assert duration >= 20000
    assert argv == [b"DEBUG", b"SLEEP", b"0.02"]
    assert re.fullmatch(rb"127\.0\.0\.1:\d+", addr) and name == b"sleeper"
    raw.call("DEBUG", "SLEEP", "0.011")
    newest, oldest = raw.call("SLOWLOG", "GET")
    assert newest[0] == entry_id + 1 and oldest[0] == entry_id
    assert len(raw.call("SLOWLOG", "GET", "-1")) == 2
    assert raw.call("SLOWLOG", "GET", "0") == []
    assert raw.call("SLOWLOG", "RESET") == "OK"
    assert raw.call("SLOWLOG", "GET") == []


def test_slowlog_trims_arguments_and_length(raw, r, config_restorer):
    raw.call("SLOWLOG", "RESET")
    config_restorer("slowlog-log-slower-than", "0")
    r.execute_command("PING", "x" * 200)
    r.execute_command("DEL", *[f"k{i}" for i in range(40)])
    entries = raw.call("SLOWLOG", "GET", "-1")
    del_entry = next(e for e in entries if e[3][0] == b"DEL")
    assert len(del_entry[3]) == 32
    assert del_entry[3][-1] == b"... (10 more arguments)"
    ping = next(e for e in entries if e[3][0] == b"PING")
    assert ping[3][1] == b"x" * 128 + b"... (72 more bytes)"
    config_restorer("slowlog-max-len", "3")
    for _ in range(5):
        r.ping()
    assert raw.call("SLOWLOG", "LEN") == 3
    config_restorer("slowlog-log-slower-than", "-1")
    raw.call("SLOWLOG", "RESET")
    r.ping()
    assert raw.call("SLOWLOG", "LEN") == 0


def test_slowlog_errors_and_help(raw):
    assert raw.call_raw("SLOWLOG", "GET", "-2") == (
        b"-ERR count should be greater than or equal to -1\r\n")
    assert raw.call_raw("SLOWLOG", "GET", "abc") == (
        b"-ERR count should be greater than or equal to -1\r\n")
    assert raw.call_raw("SLOWLOG", "GET", "1", "2") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'GET'. "
        b"Try SLOWLOG HELP.\r\n")
    assert raw.call_raw("SLOWLOG", "LEN", "x") == (
        b"-ERR wrong number of arguments for 'slowlog|len' command\r\n")
    lines = raw.call("SLOWLOG", "HELP")
    assert lines[0].startswith("SLOWLOG <subcommand>") and lines[-1] == "    Prints this help."


def test_latency_monitor(raw, config_restorer):
    raw.call("LATENCY", "RESET")
    config_restorer("latency-monitor-threshold", "5")
    assert "no latency spike" in raw.call("LATENCY", "DOCTOR").decode()
    raw.call("DEBUG", "SLEEP", "0.02")
    ((event, when, latest, worst),) = raw.call("LATENCY", "LATEST")
    assert event == b"command" and abs(when - time.time()) < 5
    assert latest >= 20 and worst >= latest
    ((stamp, ms),) = raw.call("LATENCY", "HISTORY", "command")
    assert stamp == when and ms == latest
    assert raw.call("LATENCY", "HISTORY", "nosuch") == []
    doctor = raw.call("LATENCY", "DOCTOR").decode()
    assert "1. command: 1 latency spikes" in doctor
    assert raw.call("LATENCY", "RESET", "nosuch", "command") == 1
    assert raw.call("LATENCY", "LATEST") == []
    config_restorer("latency-monitor-threshold", "0")
    assert raw.call("LATENCY", "DOCTOR").decode().startswith("I'm sorry, Dave")
    assert raw.call("LATENCY", "HELP")[0].startswith("LATENCY <subcommand>")


def test_monitor_sees_other_clients_commands(ember_server, raw):
    monitor = RawClient(ember_server.port)
    try:
        assert monitor.call_raw("MONITOR") == b"+OK\r\n"
        assert parse_client_flags(raw, monitor) == "O"
        raw.call("SET", "a b", 'x"y\n')
        raw.call("GET", "nope")
        raw.call("CONFIG", "GET", "maxmemory")          # admin: not shown
        raw.call("SELECT", "3")
        raw.call_raw("AUTH", "pw")                      # fails, still shown, redacted
        raw.call_raw("NOSUCHCOMMAND")                   # rejected: not shown
        raw.call("SELECT", "0")
        lines = [monitor.read_raw() for _ in range(5)]
        parsed = [MONITOR_LINE.match(line) for line in lines]
        assert all(parsed), lines
        port = raw.sock.getsockname()[1]
        assert {int(m.group(4)) for m in parsed} == {port}
        assert abs(int(parsed[0].group(1)) - time.time()) < 5
        assert [(m.group(3), m.group(5)) for m in parsed] == [
            (b"0", rb'"SET" "a b" "x\"y\n"'),
            (b"0", b'"GET" "nope"'),
            (b"3", b'"SELECT" "3"'),
            (b"3", b'"AUTH" "(redacted)"'),
            (b"0", b'"SELECT" "0"'),
        ]
        # MONITOR again is ignored without a reply; the monitor sees its own commands
        # (ember writes that line before the reply to the command, Redis after it).
        monitor.send(b"*1\r\n$7\r\nMONITOR\r\n*1\r\n$4\r\nPING\r\n")
        replies = {monitor.read_raw(), monitor.read_raw()}
        assert b"+PONG\r\n" in replies
        assert any(reply.endswith(b'"PING"\r\n') for reply in replies)
    finally:
        monitor.close()
    # A closed monitor is dropped: other clients keep working.
    assert raw.call("PING") == "PONG"


def parse_client_flags(raw, monitor) -> str:
    port = monitor.sock.getsockname()[1]
    for line in raw.call("CLIENT", "LIST").decode().split("\n"):
        if f":{port} " in line:
            return dict(f.split("=", 1) for f in line.split(" "))["flags"]
    return ""


def test_redis_py_monitor(ember_server, r):
    with r.monitor() as monitor:
        other = redis.Redis(port=ember_server.port)
        other.set("via-py", "1")
        for event in monitor.listen():
            if event["command"] == "SET via-py 1":
                break
        other.close()


def test_reset_leaves_monitor_mode(ember_server, raw):
    monitor = RawClient(ember_server.port)
    try:
        monitor.call("MONITOR")
        assert monitor.call_raw("RESET") == b"+RESET\r\n"
        assert parse_client_flags(raw, monitor) == "N"
        raw.call("PING", "unseen")
        assert monitor.call_raw("PING") == b"+PONG\r\n"
    finally:
        monitor.close()


def test_debug_object_sleep_error_help(raw):
    raw.call("SET", "s", "v")
    raw.call("SET", "n", "123")
    raw.call("SET", "long", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN")
    line = raw.call("DEBUG", "OBJECT", "s")
    assert re.fullmatch(r"Value at:0x[0-9a-f]+ refcount:1 encoding:embstr "
                        r"serializedlength:2 lru:\d+ lru_seconds_idle:\d+", line), line
    assert "encoding:int serializedlength:2" in raw.call("DEBUG", "OBJECT", "n")
    assert "refcount:2147483647" in raw.call("DEBUG", "OBJECT", "n")
    assert "encoding:raw serializedlength:51" in raw.call("DEBUG", "OBJECT", "long")
    assert raw.call_raw("DEBUG", "OBJECT", "nokey") == b"-ERR no such key\r\n"
    assert raw.call("DEBUG", "SLEEP", "0") == "OK"
    assert raw.call_raw("DEBUG", "ERROR", "x y") == b"-x y\r\n"
    assert raw.call_raw("DEBUG", "ERROR", "WRONGTYPE custom") == b"-WRONGTYPE custom\r\n"
    # DEBUG ERROR replies are not counted in errorstats, as in Redis.
    assert raw.call_raw("DEBUG", "ERROR", "ZZCODE x") == b"-ZZCODE x\r\n"
    assert "errorstat_ZZCODE" not in raw.call("INFO", "errorstats").decode()
    assert raw.call_raw("DEBUG", "NOSUCH") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. "
        b"Try DEBUG HELP.\r\n")
    assert raw.call_raw("DEBUG", "OBJECT") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'OBJECT'. "
        b"Try DEBUG HELP.\r\n")
    assert raw.call("DEBUG", "HELP")[0].startswith("DEBUG <subcommand>")


def test_debug_set_active_expire(raw, r):
    def keys_in_db0():
        line = raw.call("INFO", "keyspace").decode()
        found = re.search(r"db0:keys=(\d+)", line)
        return int(found.group(1)) if found else 0

    try:
        assert raw.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
        raw.call("SET", "soon", "v", "PX", "1")
        # Nobody reads the key and the cron may not expire it: it stays counted.
        time.sleep(0.3)
        assert keys_in_db0() == 1
    finally:
        assert raw.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    assert wait_until(lambda: keys_in_db0() == 0)


def test_debug_refused_without_enable_debug_command():
    server = start_ember()
    try:
        client = RawClient(server.port)
        assert client.call_raw("DEBUG", "SLEEP", "0") == (
            b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to "
            b"\"local\", you can run it from a local connection, otherwise you need to set "
            b"this option in the configuration file, and then restart the server.\r\n")
        client.close()
    finally:
        server.stop()
    local = start_ember("--enable-debug-command", "local")
    try:
        client = RawClient(local.port)
        assert client.call_raw("DEBUG", "SLEEP", "0") == b"+OK\r\n"
        client.close()
    finally:
        local.stop()

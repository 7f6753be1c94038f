"""INFO, CLIENT, SLOWLOG, LATENCY, TIME, MONITOR and DEBUG against a real redis-server.

The reference is redis-server 7.0; where Redis 7.2 differs (CLIENT SETINFO / NO-TOUCH,
lib-name/lib-ver in CLIENT LIST, the fields 7.2 added to INFO) the comparison leaves out
exactly that difference and says so.
"""

import re

import pytest

from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember, start_redis

# Fields Redis 7.2 added to INFO over 7.0 (and ember's own version line).
INFO_72_ADDITIONS = {
    "Server": {"ember_version", "listener0"},
    "Clients": {"pubsub_clients", "watching_clients", "total_watched_keys",
                "total_blocking_keys", "total_blocking_keys_on_nokey"},
    "Stats": {"client_query_buffer_limit_disconnections",
              "client_output_buffer_limit_disconnections", "eventloop_cycles",
              "eventloop_duration_sum", "eventloop_duration_cmd_sum",
              "instantaneous_eventloop_cycles_per_sec",
              "instantaneous_eventloop_duration_usec", "acl_access_denied_auth",
              "acl_access_denied_cmd", "acl_access_denied_key", "acl_access_denied_channel"},
}
# Sections whose lines depend on what ran before (one line per command, error, db).
VARIABLE_SECTIONS = {"Commandstats", "Errorstats", "Latencystats", "Keyspace"}


def info_fields(text: bytes) -> dict:
    """Section title -> list of field names, in order."""
    sections = {}
    current = None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            current = sections.setdefault(line[2:], [])
        elif line:
            current.append(line.split(":", 1)[0])
    return sections


@pytest.mark.parametrize("args", [(), ("default",), ("all",), ("everything",),
                                  ("server", "clients"), ("keyspace", "CPU"), ("nosuch",)])
def test_info_sections_and_field_names(compat, args):
    ours, theirs = compat.both("INFO", *args)
    ours_fields = info_fields(_bulk_body(ours))
    redis_fields = info_fields(_bulk_body(theirs))
    assert list(ours_fields) == list(redis_fields)
    for title, names in redis_fields.items():
        if title in VARIABLE_SECTIONS:
            continue
        extra = INFO_72_ADDITIONS.get(title, set())
        assert [n for n in ours_fields[title] if n not in extra] == names, title
        assert set(ours_fields[title]) - set(names) <= extra, title


def _bulk_body(reply: bytes) -> bytes:
    assert reply.startswith(b"$"), reply[:40]
    header, _, rest = reply.partition(b"\r\n")
    return rest[:int(header[1:])]


def test_info_empty_for_unknown_section(compat):
    compat.check("INFO", "nosuchsection")


def test_client_errors_match(compat):
    compat.script([
        ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "a\nb"), ("CLIENT", "GETNAME"),
        ("CLIENT", "SETNAME", "compat"), ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", ""),
        ("CLIENT", "GETNAME"),
        ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "0"),
        ("CLIENT", "KILL", "ID", "abc"), ("CLIENT", "KILL", "foo", "bar"),
        ("CLIENT", "KILL", "TYPE", "xx"), ("CLIENT", "KILL", "USER", "nouser"),
        ("CLIENT", "KILL", "SKIPME", "maybe"), ("CLIENT", "KILL", "id"),
        ("CLIENT", "KILL", "ID", "999999"), ("CLIENT", "KILL", "ADDR", "1.1.1.1:1"),
        ("CLIENT", "KILL", "ID", "1", "TYPE"),
        ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "ID", "abc"),
        ("CLIENT", "LIST", "ID", "0"), ("CLIENT", "LIST", "ID", "999999"),
        ("CLIENT", "LIST", "foo"), ("CLIENT", "LIST", "TYPE"), ("CLIENT", "LIST", "TYPE", "master"),
        ("CLIENT", "REPLY", "foo"), ("CLIENT", "PAUSE", "abc"), ("CLIENT", "PAUSE", "-1"),
        ("CLIENT", "PAUSE", "10", "foo"), ("CLIENT", "PAUSE", "10", "WRITE", "x"),
        ("CLIENT", "NO-EVICT", "maybe"), ("CLIENT", "NO-EVICT", "on"),
        ("CLIENT", "NO-EVICT", "off"), ("CLIENT", "UNPAUSE"),
        ("CLIENT", "ID", "extra"), ("CLIENT", "NOSUCH"), ("CLIENT",),
        ("CLIENT", "KILL"), ("CLIENT", "SETNAME"),
    ])
    # MAXAGE is a Redis 7.4 filter (ember has it); 7.0 and 7.2 answer a syntax error.


def test_client_help_matches_apart_from_72_additions(compat):
    ours, theirs = compat.ember.call("CLIENT", "HELP"), compat.redis.call("CLIENT", "HELP")
    added_in_72 = ["SETINFO <option> <value>", "    Set client meta attr. Options are:",
                   "    * LIB-NAME: the client lib name.",
                   "    * LIB-VER: the client lib version.",
                   "NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on."]
    assert [line for line in ours if line not in added_in_72] == theirs


def test_client_list_fields_match_apart_from_lib_fields(compat):
    ours = compat.ember.call("CLIENT", "INFO").decode().rstrip("\n").split(" ")
    theirs = compat.redis.call("CLIENT", "INFO").decode().rstrip("\n").split(" ")
    names = [field.split("=", 1)[0] for field in ours]
    # Redis 7.2 appends lib-name and lib-ver; 7.0 does not have them.
    assert names[-2:] == ["lib-name", "lib-ver"]
    assert names[:-2] == [field.split("=", 1)[0] for field in theirs]
    for same in ("name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
                 "argv-mem", "multi-mem", "obl", "oll", "omem", "events", "cmd", "user",
                 "redir", "resp"):
        assert dict(f.split("=", 1) for f in ours)[same] == \
            dict(f.split("=", 1) for f in theirs)[same], same


def test_client_reply_with_raw_sockets(compat):
    pipeline = b"".join(encode_command(*c) for c in [
        ("CLIENT", "REPLY", "SKIP"), ("PING", "skipped"), ("PING", "a"),
        ("CLIENT", "REPLY", "OFF"), ("PING", "off"), ("CLIENT", "REPLY", "SKIP"),
        ("SET", "k", "v"), ("CLIENT", "REPLY", "ON"), ("GET", "k")])
    for side in (compat.ember, compat.redis):
        side.send(pipeline)
    for _ in range(3):
        assert compat.ember.read_raw() == compat.redis.read_raw()


def test_slowlog_len_reset_and_errors(compat):
    compat.script([
        ("SLOWLOG", "RESET"), ("SLOWLOG", "LEN"), ("SLOWLOG", "GET"), ("SLOWLOG", "GET", "5"),
        ("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "abc"), ("SLOWLOG", "GET", "1", "2"),
        ("SLOWLOG", "LEN", "x"), ("SLOWLOG", "foo"), ("SLOWLOG",), ("SLOWLOG", "HELP"),
    ])


def test_slowlog_entries_match(compat):
    compat.check("SLOWLOG", "RESET")
    try:
        compat.check("CONFIG", "SET", "slowlog-log-slower-than", "0")
        compat.check("DEL", *[f"k{i}" for i in range(40)])
        compat.check("ECHO", "y" * 300)
        ours = compat.ember.call("SLOWLOG", "GET", "3")
        theirs = compat.redis.call("SLOWLOG", "GET", "3")
    finally:
        compat.check("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    # Newest first; ids, times, durations and ports differ, the argument lists do not.
    assert [entry[3] for entry in ours] == [entry[3] for entry in theirs]
    assert [entry[5] for entry in ours] == [entry[5] for entry in theirs]


def test_latency_commands_match(compat):
    compat.script([
        ("CONFIG", "SET", "latency-monitor-threshold", "0"), ("LATENCY", "RESET"),
        ("LATENCY", "RESET"), ("LATENCY", "LATEST"), ("LATENCY", "HISTORY", "command"),
        ("LATENCY", "DOCTOR"), ("LATENCY", "RESET", "foo", "bar"), ("LATENCY", "HISTORY"),
        ("LATENCY", "foo"), ("LATENCY", "HELP"),
    ])
    try:
        compat.check("CONFIG", "SET", "latency-monitor-threshold", "1000")
        compat.check("LATENCY", "DOCTOR")
    finally:
        compat.check("CONFIG", "SET", "latency-monitor-threshold", "0")


def test_time_and_lastsave_shape(compat):
    for side in (compat.ember, compat.redis):
        reply = side.call_raw("TIME")
        assert re.fullmatch(rb"\*2\r\n\$\d+\r\n\d+\r\n\$\d+\r\n\d+\r\n", reply), reply
        assert re.fullmatch(rb":\d+\r\n", side.call_raw("LASTSAVE"))
    compat.script([("TIME", "x"), ("LASTSAVE", "x"), ("MONITOR", "x")])


def test_debug_matches(compat):
    compat.script([
        ("DEBUG", "SLEEP", "0"), ("DEBUG", "SLEEP", "abc"), ("DEBUG", "ERROR", "x y"),
        ("DEBUG", "ERROR", "-WRONG z"), ("DEBUG", "ERROR", ""), ("DEBUG", "ERROR", "a\nb"),
        ("DEBUG", "foo"), ("DEBUG", "OBJECT"), ("DEBUG", "OBJECT", "nokey"),
        ("DEBUG", "SET-ACTIVE-EXPIRE", "1"), ("DEBUG", "SET-ACTIVE-EXPIRE"), ("DEBUG",),
    ])
    for key, value in (("s", "v"), ("n", "123"), ("n2", "70000"), ("big", "12345678901234"),
                       ("long", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"),
                       ("neg", "-5"), ("lead", "0123")):
        compat.check("SET", key, value)
        ours, theirs = compat.both("DEBUG", "OBJECT", key)
        # The address and the LRU clock differ between two processes.
        normal = [re.sub(rb"at:0x[0-9a-f]+|lru:\d+ lru_seconds_idle:\d+", b"", reply)
                  for reply in (ours, theirs)]
        assert normal[0] == normal[1], (key, ours, theirs)


def test_monitor_lines_match(compat):
    monitors = [RawClient(compat.ember.sock.getpeername()[1]),
                RawClient(compat.redis.sock.getpeername()[1])]
    try:
        for monitor in monitors:
            assert monitor.call_raw("MONITOR") == b"+OK\r\n"
        script = [("SET", "a b", 'q"\n\x01'), ("GET", "a b"), ("SELECT", "2"),
                  ("AUTH", "pw"), ("HELLO", "2", "AUTH", "default", "pw"), ("SELECT", "0"),
                  ("CONFIG", "GET", "port"), ("NOSUCH",), ("PING",)]
        for command in script:
            compat.both(*command)
        lines = []
        for monitor in monitors:
            got = [monitor.read_raw() for _ in range(7)]
            lines.append([re.sub(rb"^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]", rb"[\1]", line)
                          for line in got])
        assert lines[0] == lines[1]
    finally:
        for monitor in monitors:
            monitor.close()


@pytest.fixture(scope="module")
def without_debug(redis_reference):
    """ember and redis-server started without enable-debug-command."""
    servers = [start_ember(), start_redis("--enable-debug-command", "no")]
    clients = [RawClient(server.port) for server in servers]
    yield clients
    for client, server in zip(clients, servers):
        client.close()
        server.stop()


def test_debug_refused_text_matches(without_debug):
    ours, theirs = without_debug
    for args in (("SLEEP", "0"), ("OBJECT", "k"), ("HELP",)):
        assert ours.call_raw("DEBUG", *args) == theirs.call_raw("DEBUG", *args)
    assert ours.call_raw("DEBUG") == theirs.call_raw("DEBUG")

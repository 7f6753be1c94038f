"""The fast lane (commands/lane.py) keeps everything Engine.execute/call do for a command:
command stats, error stats, slowlog, MONITOR, propagation, waking blocked clients, and
CLIENT PAUSE. Each test sends a pipeline in one write, so its commands reach the server
in one read and run as one batch."""

import socket
import threading

import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import wait_until


def pipeline(*commands) -> bytes:
    """One buffer holding every command, as a client's pipeline sends it."""
    return b"".join(encode_command(*command) for command in commands)


def send_batch(port: int, *commands) -> list:
    """Send ``commands`` in one write on a new connection; return each reply's bytes."""
    client = RawClient(port)
    try:
        client.send(pipeline(*commands))
        return [client.read_raw() for _ in commands]
    finally:
        client.sock.close()


def commandstats(r) -> dict:
    return r.info("commandstats")


def test_command_and_error_stats_count_every_pipelined_command(r, ember_server):
    r.config_resetstat()
    r.set("fl:s", "v")
    r.hset("fl:h", "f", "v")
    replies = send_batch(ember_server.port, *[("GET", "fl:s")] * 16, ("GET", "fl:h"),
                         ("GET", "fl:s", "extra"), ("INCR", "fl:s"))
    assert replies[:16] == [b"$1\r\nv\r\n"] * 16
    assert replies[16].startswith(b"-WRONGTYPE")
    assert replies[17] == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert replies[18] == b"-ERR value is not an integer or out of range\r\n"
    stats = commandstats(r)
    assert stats["cmdstat_get"]["calls"] == 17
    assert stats["cmdstat_get"]["failed_calls"] == 1
    assert stats["cmdstat_get"]["rejected_calls"] == 1
    assert stats["cmdstat_get"]["usec"] >= 0
    assert stats["cmdstat_incr"]["failed_calls"] == 1
    errors = r.info("errorstats")
    assert errors["errorstat_WRONGTYPE"]["count"] == 1
    assert errors["errorstat_ERR"]["count"] == 2
    assert r.client_list()[0]["cmd"] == "client|list"


def test_stats_are_current_for_a_command_later_in_the_same_batch(r, ember_server):
    """The lane sums a run of one command's calls and adds them when the run ends; a
    command after it in the same batch (INFO here, on the full path) already sees them,
    and so does the next batch."""
    r.config_resetstat()
    replies = send_batch(ember_server.port, *[("GET", "fl:run")] * 5, ("SET", "fl:run", "1"),
                         ("GET", "fl:run"), ("INFO", "commandstats"), ("GET", "fl:run"))
    info = replies[7].decode()
    assert "cmdstat_get:calls=6," in info
    assert "cmdstat_set:calls=1," in info
    stats = commandstats(r)
    assert stats["cmdstat_get"]["calls"] == 7
    assert stats["cmdstat_info"]["calls"] == 1      # the batch's (this one counts after)


def test_slowlog_sees_pipelined_commands(r, ember_server):
    r.config_set("slowlog-log-slower-than", 0)
    try:
        r.slowlog_reset()
        send_batch(ember_server.port, ("SET", "fl:a", "1"), ("GET", "fl:a"), ("INCR", "fl:a"))
        logged = [entry["command"] for entry in r.slowlog_get(10)]
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
    assert [b"INCR fl:a", b"GET fl:a", b"SET fl:a 1"] == [c for c in logged
                                                          if c.startswith((b"SET", b"GET",
                                                                           b"INCR"))]


def test_monitor_sees_pipelined_commands(r, ember_server):
    monitor = RawClient(ember_server.port)
    try:
        monitor.send(encode_command("MONITOR"))
        assert monitor.read_raw() == b"+OK\r\n"
        send_batch(ember_server.port, ("SET", "fl:m", "1"), ("GET", "fl:m"))
        lines = [monitor.read_raw(), monitor.read_raw()]
    finally:
        monitor.sock.close()
    assert b'"SET" "fl:m" "1"' in lines[0]
    assert b'"GET" "fl:m"' in lines[1]


def test_a_pipelined_write_wakes_a_blocked_client(r, ember_server):
    waiter = redis.Redis(port=ember_server.port)
    got = []
    thread = threading.Thread(target=lambda: got.append(waiter.blpop("fl:list", 10)))
    thread.start()
    try:
        assert wait_until(lambda: r.info("clients")["blocked_clients"] == 1)
        replies = send_batch(ember_server.port, ("RPUSH", "fl:list", "x"),
                             ("LLEN", "fl:list"), ("RPUSH", "fl:list", "y"))
        thread.join(10)
    finally:
        waiter.close()
    assert replies == [b":1\r\n", b":0\r\n", b":1\r\n"]
    assert got == [(b"fl:list", b"x")]
    assert r.lrange("fl:list", 0, -1) == [b"y"]


def test_client_pause_write_holds_pipelined_writes(r, ember_server):
    r.set("fl:p", "before")
    r.client_pause(10000, all=False)    # WRITE: reads go on, writes wait
    sock = socket.create_connection(("127.0.0.1", ember_server.port), timeout=10)
    try:
        sock.sendall(pipeline(("GET", "fl:p"), ("SET", "fl:p", "after"), ("GET", "fl:p")))
        first = b""
        while not first.endswith(b"before\r\n"):
            first += sock.recv(100)
        assert first == b"$6\r\nbefore\r\n"
        assert r.get("fl:p") == b"before"
        r.client_unpause()
        rest = b""
        while not rest.endswith(b"after\r\n"):
            rest += sock.recv(100)
    finally:
        r.client_unpause()
        sock.close()
    assert rest == b"+OK\r\n$5\r\nafter\r\n"


def test_wait_in_a_pipeline(r, ember_server):
    assert send_batch(ember_server.port, ("SET", "fl:w", "1"), ("WAIT", "0", "0"),
                      ("GET", "fl:w")) == [b"+OK\r\n", b":0\r\n", b"$1\r\n1\r\n"]


def test_hello_3_in_the_middle_of_a_pipeline(r, ember_server):
    """The lane encodes with the protocol the client has at each command."""
    commands = [("GET", "fl:none"), ("HELLO", "3"), ("GET", "fl:none"),
                ("HGETALL", "fl:none"), ("ZSCORE", "fl:none", "m"), ("HELLO", "2"),
                ("GET", "fl:none")]
    replies = send_batch(ember_server.port, *commands)
    assert replies[0] == b"$-1\r\n"
    assert replies[1].startswith(b"%7\r\n")
    assert replies[2:5] == [b"_\r\n", b"%0\r\n", b"_\r\n"]
    assert replies[5].startswith(b"*14\r\n")
    assert replies[6] == b"$-1\r\n"

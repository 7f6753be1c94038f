"""The fast lane (commands/lane.py) keeps everything Engine.execute/call do for a command:
command stats, error stats, slowlog, MONITOR, propagation, waking blocked clients, and
CLIENT PAUSE. Each test sends a pipeline in one write, so its commands reach the server
in one read and run as one batch."""

import socket
import threading

import pytest
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


# ---- runs (commands/runs.py): what must still see each command of a stretch ------------

def test_a_stretch_of_sets_aborts_a_watching_transaction(r, ember_server):
    watcher = redis.Redis(port=ember_server.port)
    watcher.delete("run:w")
    pipe = watcher.pipeline()
    pipe.watch("run:w")
    pipe.multi()
    pipe.set("run:w", "mine")
    send_batch(ember_server.port, *[("SET", "run:other", "v")] * 4,
               *[("SET", "run:w", "theirs")] * 4)
    with pytest.raises(redis.WatchError):
        pipe.execute()
    assert r.get("run:w") == b"theirs"


def test_stretches_send_every_keyspace_event(ember_server):
    r = redis.Redis(port=ember_server.port)
    r.config_set("notify-keyspace-events", "KEA")
    try:
        sub = r.pubsub()
        sub.psubscribe("__keyspace@0__:run:e*")
        assert sub.get_message(timeout=5)["type"] == "psubscribe"
        r.delete("run:e1", "run:e2")
        r.config_set("notify-keyspace-events", "KEAm")
        send_batch(ember_server.port, *[("SET", "run:e1", "1")] * 3,
                   *[("INCR", "run:e1")] * 3, *[("GET", "run:e2")] * 2)
        events = [sub.get_message(timeout=5) for _ in range(8)]
        assert [e["data"] for e in events] == [b"set"] * 3 + [b"incrby"] * 3 + [
            b"keymiss"] * 2
        sub.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_stretches_of_writes_reach_the_aof_and_survive_a_restart(tmp_path):
    from tests.servers import ServerProcess, ember_command, free_port

    def start():
        port = free_port()
        argv = ember_command() + ["--port", str(port), "--save", "", "--appendonly", "yes"]
        return ServerProcess(argv, port, str(tmp_path)).start()

    server = start()
    try:
        replies = send_batch(server.port, *[("SET", f"run:k{i % 5}", f"v{i}") for i in range(20)],
                             *[("INCR", "run:n")] * 30, *[("GET", "run:k1")] * 3)
        assert replies[-1] == b"$3\r\nv16\r\n"
    finally:
        server.stop()
    server = start()
    try:
        r = redis.Redis(port=server.port)
        assert r.mget([f"run:k{i}" for i in range(5)]) == [b"v15", b"v16", b"v17", b"v18",
                                                          b"v19"]
        assert r.get("run:n") == b"30"
    finally:
        server.stop()


def test_a_slowlog_threshold_of_zero_logs_each_command_of_a_stretch(r, ember_server):
    r.config_set("slowlog-log-slower-than", 0)
    try:
        r.slowlog_reset()
        send_batch(ember_server.port, *[("GET", "run:s")] * 5, *[("INCR", "run:c")] * 5)
        logged = [entry["command"] for entry in r.slowlog_get(128)]
    finally:
        r.config_set("slowlog-log-slower-than", 10000)
    assert logged.count(b"GET run:s") == 5 and logged.count(b"INCR run:c") == 5

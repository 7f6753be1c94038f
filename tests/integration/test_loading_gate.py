"""While the AOF loads at start-up: commands flagged ``loading`` in the command table
(SUBSCRIBE, MONITOR, CLIENT TRACKING, INFO ...) are served, the others get -LOADING; the
keyspace events the replayed commands cause reach subscribers (written by the event loop,
not the loader thread); the replay itself counts in no INFO commandstats and feeds no
MONITOR, as in Redis (call() in the AOF loading context). Real processes."""

import socket
import subprocess
import time

import redis

from tests.servers import ServerProcess, ember_command, free_port, wait_until

KEYS = 250000
LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"


def _argv(port: int) -> list:
    return ember_command() + ["--port", str(port), "--save", "", "--appendonly", "yes",
                              "--appendfsync", "no", "--notify-keyspace-events", "E$"]


def _connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 20
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.settimeout(20)
            return sock
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _read_until(sock: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, data[-300:]
        data += chunk
    return data


def _dbsize(client):
    try:
        return client.dbsize()
    except redis.ResponseError:
        return -1


def test_loading_flagged_commands_are_served_while_the_aof_loads(tmp_path):
    port = free_port()
    server = ServerProcess(_argv(port), port, str(tmp_path)).start()
    client = redis.Redis(port=port)
    pipe = client.pipeline(transaction=False)
    for i in range(KEYS):
        pipe.set(b"k%d" % i, b"v")
    pipe.execute()
    client.close()
    server.stop()

    proc = subprocess.Popen(_argv(port), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    socks = []
    try:
        sub = _connect(port)
        socks.append(sub)
        sub.sendall(b"INFO persistence\r\nSUBSCRIBE __keyevent@0__:set\r\n")
        got = _read_until(sub, b"subscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n")
        assert b"loading:1" in got                      # it was loading
        assert LOADING not in got

        monitor = _connect(port)
        tracker = _connect(port)
        other = _connect(port)
        socks += [monitor, tracker, other]
        monitor.sendall(b"MONITOR\r\n")
        assert _read_until(monitor, b"\r\n") == b"+OK\r\n"
        tracker.sendall(b"CLIENT TRACKING on\r\n")
        assert _read_until(tracker, b"\r\n") == b"+OK\r\n"
        other.sendall(b"GET k1\r\nINFO persistence\r\n")
        refused = _read_until(other, b"loading:1\r\n")
        assert refused.startswith(LOADING)

        # events caused by the replayed SETs reach the subscriber
        events = _read_until(sub, b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n")
        assert b"$2\r\nk" in events or b"$3\r\nk" in events or _read_until(sub, b"\r\n$")

        client = redis.Redis(port=port)
        assert wait_until(lambda: _dbsize(client) == KEYS, timeout=60)
        client.set("after", "1")
        fed = _read_until(monitor, b'"SET" "after" "1"\r\n')
        assert b'"SET" "k' not in fed and b'"set" "k' not in fed   # no replayed SET
        stats = client.info("commandstats")
        assert "cmdstat_set" in stats and stats["cmdstat_set"]["calls"] == 1, stats
        assert "cmdstat_monitor" in stats and "cmdstat_subscribe" in stats
        assert client.get("k7") == b"v"
        client.close()
    finally:
        for sock in socks:
            sock.close()
        proc.terminate()
        proc.wait(10)


def test_the_aof_loads_whole_over_maxmemory(tmp_path):
    """The AOF client obeys no maxmemory (Redis's mustObeyClient; no eviction while
    loading): a restart with a small maxmemory keeps every key, then refuses writes.
    The replay is not in the slow log either (call() in the AOF loading context)."""
    port = free_port()
    server = ServerProcess(_argv(port), port, str(tmp_path)).start()
    client = redis.Redis(port=port)
    for i in range(50):
        client.set("k%d" % i, "v" * 100)
    client.close()
    server.stop()
    server = ServerProcess(_argv(port) + ["--maxmemory", "1", "--slowlog-log-slower-than",
                                          "0"], port, str(tmp_path)).start()
    try:
        client = redis.Redis(port=port)
        assert wait_until(lambda: _dbsize(client) == 50, timeout=20), _dbsize(client)
        logged = [entry["command"] for entry in client.slowlog_get(128)]
        assert not [c for c in logged if c.startswith(b"SET")], logged   # replay: none
        try:
            client.set("more", "v")
            raise AssertionError("over maxmemory under noeviction: SET must be refused")
        except redis.exceptions.OutOfMemoryError:
            pass
        client.close()
    finally:
        server.stop()

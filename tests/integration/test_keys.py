"""Key and TTL commands over TCP with redis-py (RESP2 and RESP3), SCAN's guarantee while
another client writes, and KEYS/SCAN on a million keys (time per call, memory)."""

import time

import pytest
import redis

from tests.servers import LatencyProbe, start_ember


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_generic_commands(client):
    client.mset({"a": "1", "b": "2", "c": "3"})
    assert client.exists("a", "a", "z") == 2
    assert client.type("a") == b"string" and client.type("z") == b"none"
    assert client.touch("a", "z") == 1
    assert sorted(client.keys("*")) == [b"a", b"b", b"c"]
    assert client.keys("[ab]") in ([b"a", b"b"], [b"b", b"a"])
    assert client.dbsize() == 3
    assert client.randomkey() in (b"a", b"b", b"c")
    assert client.rename("a", "x") is True
    assert client.renamenx("x", "b") is False
    assert client.move("x", 1) is True and client.exists("x") == 0
    assert client.copy("b", "x", destination_db=1) is False
    assert client.copy("b", "x", destination_db=1, replace=True) is True
    assert client.swapdb(0, 1) is True
    assert client.get("x") == b"2" and client.dbsize() == 1
    assert client.unlink("x", "x") == 1 and client.delete("nope") == 0
    with pytest.raises(redis.ResponseError, match="no such key"):
        client.rename("nope", "y")
    with pytest.raises(redis.ResponseError, match="source and destination objects"):
        client.move("nope", 0)
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        client.swapdb(0, 99)


def test_object_subcommands(client):
    client.set("n", 5)
    client.set("s", "x" * 50)
    assert client.object("encoding", "n") == b"int"
    assert client.object("encoding", "s") == b"raw"
    assert client.object("refcount", "n") == 2 ** 31 - 1
    assert client.object("idletime", "s") == 0
    assert client.object("encoding", "missing") is None
    with pytest.raises(redis.ResponseError, match="LFU maxmemory policy is not selected"):
        client.object("freq", "n")
    help_lines = client.execute_command("OBJECT", "HELP")
    assert help_lines[0].startswith(b"OBJECT <subcommand>") and len(help_lines) == 15


def test_ttl_commands(client):
    client.set("k", "v")
    assert client.expire("k", 100) is True
    assert client.ttl("k") == 100
    assert 99_000 < client.pttl("k") <= 100_000
    assert client.expire("k", 50, gt=True) is False
    assert client.pexpireat("k", 99999999999999) is True
    assert client.pexpiretime("k") == 99999999999999
    assert client.expiretime("k") == 100000000000
    assert client.persist("k") is True and client.ttl("k") == -1
    assert client.ttl("missing") == -2
    with pytest.raises(redis.ResponseError, match="GT and LT options"):
        client.expire("k", 10, gt=True, lt=True)


def test_key_expires_over_time(client):
    client.set("k", "v", px=50)
    deadline = time.monotonic() + 5
    while client.exists("k") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.get("k") is None and client.ttl("k") == -2


def test_scan_iter_with_options(client):
    client.mset({f"user:{i}": i for i in range(300)})
    client.mset({f"other:{i}": i for i in range(50)})
    assert sorted(client.scan_iter(match="user:*", count=17)) == \
        sorted(f"user:{i}".encode() for i in range(300))
    assert len(list(client.scan_iter(_type="string", count=1000))) == 350
    assert list(client.scan_iter(_type="list")) == []
    cursor, keys = client.scan(0, count=5)
    assert cursor != 0 and 0 < len(keys) <= 5


def test_scan_guarantee_while_another_client_writes(ember_server):
    """Keys present for the whole scan come back, while a second client adds, deletes
    and re-creates thousands of keys between SCAN calls (growing then shrinking)."""
    scanner = redis.Redis(port=ember_server.port)
    writer = redis.Redis(port=ember_server.port)
    scanner.flushall()
    stable = {f"stable:{i}".encode() for i in range(3000)}
    writer.mset({key: 1 for key in stable})
    writer.mset({f"doomed:{i}": 1 for i in range(3000)})
    seen = []
    cursor = 0
    step = 0
    while True:
        cursor, keys = scanner.scan(cursor, count=25)
        seen.extend(keys)
        if cursor == 0:
            break
        step += 1
        pipe = writer.pipeline(transaction=False)
        if step < 60:                                   # grow
            pipe.mset({f"new:{step}:{j}": 1 for j in range(100)})
        elif step < 120:                                # shrink
            pipe.delete(*[f"doomed:{step * 50 + j}" for j in range(50)])
            pipe.delete(*[f"new:{step - 60}:{j}" for j in range(100)])
        pipe.delete(f"flip:{step}")                     # delete + re-create churn
        pipe.set(f"flip:{step - 1}", 1)
        pipe.execute()
        assert step < 5000
    missing = stable - set(seen)
    assert not missing, f"{len(missing)} stable keys never returned"
    assert all(writer.exists(k) or not k.startswith(b"stable:") for k in seen)
    scanner.close()
    writer.close()


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_keys_and_scan_on_a_million_keys():
    server = start_ember()
    try:
        client = redis.Redis(port=server.port)
        batch = 20_000
        for start in range(0, 1_000_000, batch):
            client.mset({b"key:%d" % i: b"v" for i in range(start, start + batch)})
        assert client.dbsize() == 1_000_000
        rss_loaded = _rss_kb(server.proc.pid)

        started = time.perf_counter()
        assert client.keys("key:99999?") == [b"key:999990", b"key:999991", b"key:999992",
                                             b"key:999993", b"key:999994", b"key:999995",
                                             b"key:999996", b"key:999997", b"key:999998",
                                             b"key:999999"] or \
            sorted(client.keys("key:99999?")) == [b"key:99999%d" % i for i in range(10)]
        assert time.perf_counter() - started < 2.0

        with LatencyProbe(server.port) as probe:
            assert len(client.keys("*")) == 1_000_000
            first_started = time.perf_counter()
            cursor, keys = client.scan(0, count=10)
            first_call = time.perf_counter() - first_started
            timings = []
            for _ in range(200):
                started = time.perf_counter()
                cursor, keys = client.scan(cursor, count=10)
                timings.append(time.perf_counter() - started)
                assert len(keys) == 10
        timings.sort()
        assert first_call < 1.0
        assert timings[len(timings) // 2] < 0.005       # O(COUNT), not O(keyspace)
        assert probe.worst < 2.0                        # the server never stalled for long
        # A full iteration with a big COUNT, then memory: snapshots are pointers only.
        total = 0
        cursor = 0
        while True:
            cursor, keys = client.scan(cursor, count=50_000)
            total += len(keys)
            if cursor == 0:
                break
        assert total == 1_000_000
        grown_mb = (_rss_kb(server.proc.pid) - rss_loaded) / 1024
        assert grown_mb < 300, f"RSS grew by {grown_mb:.0f} MB"
        client.close()
    finally:
        server.stop()

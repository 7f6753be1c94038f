"""List commands over TCP with redis-py in RESP2 and RESP3, the reply shapes each protocol
gives, and the time complexity on a million elements (pushes and pops at both ends stay
O(1), ranges near either end are cheap)."""

import time

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_pushes_pops_and_reads(client):
    assert client.rpush("l", "a", "b", "c") == 3
    assert client.lpush("l", "z") == 4
    assert client.lpushx("nokey", "x") == 0 and client.rpushx("l", "d") == 5
    assert client.lrange("l", 0, -1) == [b"z", b"a", b"b", b"c", b"d"]
    assert client.llen("l") == 5 and client.lindex("l", -1) == b"d"
    assert client.lindex("l", 99) is None
    assert client.lpop("l") == b"z" and client.rpop("l") == b"d"
    assert client.lpop("l", 2) == [b"a", b"b"]
    assert client.rpop("l", 0) == []
    assert client.rpop("l", 5) == [b"c"]
    assert client.exists("l") == 0
    assert client.lpop("l") is None and client.lpop("l", 3) is None


def test_middle_of_the_list(client):
    client.rpush("l", "a", "b", "a", "c")
    assert client.lset("l", 1, "B") is True
    assert client.linsert("l", "BEFORE", "c", "x") == 5
    assert client.linsert("l", "AFTER", "nope", "x") == -1
    assert client.lrem("l", -1, "a") == 1
    assert client.lrange("l", 0, -1) == [b"a", b"B", b"x", b"c"]
    assert client.lpos("l", "x") == 2 and client.lpos("l", "nope") is None
    assert client.lpos("l", "a", count=0) == [0]
    assert client.ltrim("l", 1, 2) is True
    assert client.lrange("l", 0, -1) == [b"B", b"x"]
    with pytest.raises(redis.ResponseError, match="index out of range"):
        client.lset("l", 10, "v")
    with pytest.raises(redis.ResponseError, match="no such key"):
        client.lset("nokey", 0, "v")


def test_moves_and_multi_pops(client):
    client.rpush("src", "1", "2", "3")
    assert client.lmove("src", "dst", "LEFT", "RIGHT") == b"1"
    assert client.rpoplpush("src", "dst") == b"3"
    assert client.lrange("dst", 0, -1) == [b"3", b"1"]
    assert client.lmpop(2, "nokey", "dst", direction="RIGHT", count=5) == [b"dst", [b"1", b"3"]]
    assert client.lmpop(1, "dst", direction="LEFT") is None
    client.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.lmove("src", "s", "LEFT", "LEFT")
    assert client.lrange("src", 0, -1) == [b"2"]
    assert client.type("src") == b"list" and client.object("encoding", "src") == b"listpack"


def test_raw_reply_shapes(client):
    """Missing keys: null bulk vs null array, as Redis gives them in each protocol."""
    conn = client.connection_pool.get_connection()
    try:
        def raw(*args):
            conn.send_command(*args)
            return conn.read_response()
        assert raw("LPOP", "nokey") is None
        assert raw("LPOP", "nokey", "1") is None
        assert raw("LPOS", "nokey", "a", "COUNT", "0") == []
        assert raw("LMPOP", "1", "nokey", "LEFT") is None
    finally:
        client.connection_pool.release(conn)


def test_a_million_elements_keep_end_operations_cheap(ember_server):
    client = redis.Redis(port=ember_server.port)
    client.flushall()
    try:
        batch = [str(i) for i in range(10_000)]
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.rpush("big", *batch)
        pipe.execute()
        assert client.llen("big") == 1_000_000
        assert client.object("encoding", "big") == b"quicklist"

        def timed(fn, repeat=200):
            started = time.perf_counter()
            for _ in range(repeat):
                fn()
            return (time.perf_counter() - started) / repeat

        per_op = max(timed(lambda: client.lpush("big", "x")), timed(lambda: client.rpop("big")),
                     timed(lambda: client.lrange("big", -10, -1)),
                     timed(lambda: client.lrange("big", 0, 9)), timed(lambda: client.lpop("big")))
        # An O(N) step on a million elements would take several ms per call.
        assert per_op < 0.002, per_op
        assert client.lindex("big", 500_000) == b"0"
        assert client.lrange("big", -2, -1) == [b"9798", b"9799"]     # 200 RPOPs went
    finally:
        client.flushall()
        client.close()

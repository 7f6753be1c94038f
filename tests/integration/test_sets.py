"""Set commands over TCP with redis-py, in RESP2 and RESP3 (set replies are Python sets
either way; RESP3 sends them as ``~`` sets, RESP2 as arrays)."""

import time

import pytest
import redis

from tests.rawclient import RawClient


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_add_remove_members(client):
    assert client.sadd("s", "a", "b", "c", "a") == 3
    assert client.smembers("s") == {b"a", b"b", b"c"}
    assert client.scard("s") == 3
    assert client.sismember("s", "a") == 1 and client.sismember("s", "x") == 0
    assert client.smismember("s", ["a", "x"]) == [1, 0]
    assert client.srem("s", "a", "x") == 1
    assert client.smembers("nokey") == set()
    assert client.srem("s", "b", "c") == 2
    assert client.exists("s") == 0
    assert client.type("s") in (b"none", "none")


def test_pop_and_random(client):
    client.sadd("s", *range(100))
    every = {b"%d" % i for i in range(100)}
    assert client.srandmember("s") in every
    picked = client.srandmember("s", 10)
    assert len(picked) == 10 == len(set(picked)) and set(picked) <= every
    repeated = client.srandmember("s", -300)
    assert len(repeated) == 300 and set(repeated) <= every
    popped = client.spop("s", 40)
    assert len(set(popped)) == 40 and set(popped) <= every
    assert client.scard("s") == 60
    assert client.spop("s") in every - set(popped)
    rest = client.spop("s", 1000)
    assert len(rest) == 59
    assert client.exists("s") == 0
    assert client.spop("s") is None
    with pytest.raises(redis.ResponseError, match="must be positive"):
        client.spop("s", -1)


def test_algebra_and_store(client):
    client.sadd("a", "1", "2", "3", "x")
    client.sadd("b", "2", "3", "4")
    assert client.sinter("a", "b") == {b"2", b"3"}
    assert client.sunion("a", "b") == {b"1", b"2", b"3", b"4", b"x"}
    assert client.sdiff("a", "b") == {b"1", b"x"}
    assert client.sintercard(2, ["a", "b"]) == 2
    assert client.sintercard(2, ["a", "b"], limit=1) == 1
    assert client.sinterstore("d", "a", "b") == 2
    assert client.object("encoding", "d") in (b"intset", "intset")
    assert client.sunionstore("d", "a", "b") == 5
    assert client.sdiffstore("d", "b", "a") == 1
    assert client.smembers("d") == {b"4"}
    assert client.smove("a", "b", "x") == 1
    assert client.smove("a", "b", "x") == 0
    assert client.sismember("b", "x") == 1
    client.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.sinter("a", "str")


def test_sscan_iterates_everything_once(client):
    members = {b"member:%d" % i for i in range(2000)}
    client.sadd("big", *members)
    seen = []
    cursor = 0
    while True:
        cursor, page = client.sscan("big", cursor, count=100)
        seen.extend(page)
        if cursor == 0:
            break
    assert sorted(seen) == sorted(members)
    assert set(client.sscan_iter("big", match="member:1?")) == \
        {b"member:%d" % i for i in range(10, 20)}


def test_encodings_over_the_wire(client):
    client.sadd("ints", *range(10))
    client.sadd("strs", "a", "b")
    client.sadd("big", *[f"m{i}" for i in range(200)])
    enc = {k: client.object("encoding", k) for k in ("ints", "strs", "big")}
    assert {k: v.decode() if isinstance(v, bytes) else v for k, v in enc.items()} == \
        {"ints": "intset", "strs": "listpack", "big": "hashtable"}
    assert client.type("ints") in (b"set", "set")
    assert client.copy("big", "big2") == 1
    assert client.scard("big2") == 200
    assert client.scan(0, _type="set", count=100)[1]


def test_resp3_wire_shapes(ember_server):
    raw = RawClient(ember_server.port)
    try:
        raw.call("HELLO", "3")
        raw.call("FLUSHALL")
        raw.call("SADD", "s", "1", "2")
        assert raw.call_raw("SMEMBERS", "s") == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert raw.call_raw("SPOP", "nokey", "2") == b"~0\r\n"
        assert raw.call_raw("SRANDMEMBER", "s", "5") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert raw.call_raw("SRANDMEMBER", "nokey") == b"_\r\n"
        assert raw.call_raw("SINTER", "s", "nokey") == b"~0\r\n"
        raw.call("HELLO", "2")
        assert raw.call_raw("SMEMBERS", "s") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        assert raw.call_raw("SRANDMEMBER", "nokey") == b"$-1\r\n"
    finally:
        raw.close()


def test_million_member_set_random_ops_are_fast(client):
    pipe = client.pipeline(transaction=False)
    for start in range(0, 200_000, 10_000):
        pipe.sadd("huge", *range(start, start + 10_000))
    pipe.execute()
    assert client.scard("huge") == 200_000
    pipe = client.pipeline(transaction=False)
    for _ in range(2000):
        pipe.spop("huge")
        pipe.srandmember("huge")
    started = time.perf_counter()
    pipe.execute()
    # 4000 O(1) commands; a scan of 200k members each would take minutes.
    assert time.perf_counter() - started < 5
    assert client.scard("huge") == 198_000

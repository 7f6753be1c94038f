"""HyperLogLog commands over TCP with redis-py, in RESP2 and RESP3."""

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_add_count_merge(client):
    assert client.pfadd("a", "x", "y", "z") == 1
    assert client.pfadd("a", "x") == 0
    assert client.pfadd("b", *[f"m{i}" for i in range(1000)]) == 1
    assert client.pfcount("a") == 3
    assert 990 <= client.pfcount("b") <= 1010
    assert client.pfcount("a", "b", "missing") == client.pfcount("b") + 3
    assert client.pfmerge("dest", "a", "b") is True
    assert client.pfcount("dest") == client.pfcount("a", "b")
    assert client.get("a")[:4] == b"HYLL"
    assert client.type("a") == b"string"
    assert client.execute_command("PFDEBUG", "ENCODING", "a") in (b"sparse", "sparse")
    assert client.execute_command("PFDEBUG", "TODENSE", "a") == 1
    registers = client.execute_command("PFDEBUG", "GETREG", "a")
    assert len(registers) == 16384 and sum(1 for v in registers if v) == 3
    assert client.strlen("a") == 16 + 12288
    assert client.pfcount("a") == 3
    assert client.execute_command("PFSELFTEST") in (b"OK", "OK", True)


def test_errors(client):
    client.set("s", "hello")
    client.rpush("l", "x")
    with pytest.raises(redis.ResponseError, match="Key is not a valid HyperLogLog"):
        client.pfadd("s", "a")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE Operation against a key"):
        client.pfcount("l")
    client.set("bad", b"HYLL\x01" + bytes(10) + b"\x80" + b"\x7f\xfe")
    with pytest.raises(redis.ResponseError, match="Corrupted HLL object detected"):
        client.pfcount("bad")
    with pytest.raises(redis.ResponseError, match="Corrupted HLL object detected"):
        client.pfmerge("out", "bad")
    assert client.exists("out") == 0


def test_strings_survive_set_and_expire(client):
    client.pfadd("h", *range(200))
    blob = client.get("h")
    client.set("copy", blob, ex=100)
    assert client.pfcount("copy") == client.pfcount("h")
    client.pfadd("copy", "new-element")
    assert 0 < client.ttl("copy") <= 100


def test_pfcount_cache_update_breaks_watch(ember_server):
    """PFCOUNT rewrites the cached cardinality: a WATCHed key counts as modified."""
    main = redis.Redis(port=ember_server.port)
    other = redis.Redis(port=ember_server.port)
    main.flushall()
    main.pfadd("h", "a", "b")
    with main.pipeline() as pipe:
        pipe.watch("h")
        assert other.pfcount("h") == 2          # writes the cache
        pipe.multi()
        pipe.pfcount("h")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    with main.pipeline() as pipe:
        pipe.watch("h")
        assert other.pfcount("h") == 2          # cached now: no change
        pipe.multi()
        pipe.pfcount("h")
        assert pipe.execute() == [2]
    main.close()
    other.close()


def test_pfadd_keyspace_event(ember_server):
    conn = redis.Redis(port=ember_server.port)
    conn.flushall()
    conn.config_set("notify-keyspace-events", "E$g")
    pubsub = conn.pubsub()
    try:
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
        conn.pfadd("h", "a")
        conn.pfcount("h")                       # the cache update sends no event
        conn.pfmerge("m", "h")
        conn.set("marker", "1")
        got = []
        while len(got) < 3:
            message = pubsub.get_message(timeout=5)
            assert message is not None, got
            got.append((message["channel"], message["data"]))
        assert got == [(b"__keyevent@0__:pfadd", b"h"), (b"__keyevent@0__:pfadd", b"m"),
                       (b"__keyevent@0__:set", b"marker")]
    finally:
        pubsub.close()
        conn.config_set("notify-keyspace-events", "")
        conn.close()

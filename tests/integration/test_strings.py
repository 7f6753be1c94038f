"""String and bitmap commands over TCP with redis-py, in RESP2 and RESP3."""

import pytest
import redis


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_set_get_with_options(client):
    assert client.set("k", "v") is True
    assert client.get("k") == b"v"
    assert client.set("k", "w", nx=True) is None
    assert client.set("k", "w", xx=True, get=True) == b"v"
    assert client.set("k", "x", ex=100, get=True) == b"w"
    assert client.set("k", "y", keepttl=True) is True
    with pytest.raises(redis.ResponseError, match="syntax error"):
        client.execute_command("SET", "k", "v", "NX", "XX")
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        client.set("k", "v", ex=0)


def test_string_family(client):
    assert client.setnx("a", "1") is True
    assert client.setnx("a", "2") is False
    assert client.mset({"b": "2", "c": "3"}) is True
    assert client.msetnx({"c": "9", "d": "4"}) is False
    assert client.mget("a", "b", "c", "d") == [b"1", b"2", b"3", None]
    assert client.append("a", "23") == 3
    assert client.strlen("a") == 3
    assert client.incrby("a", 7) == 130
    assert client.decr("a") == 129
    assert client.getrange("a", 0, 1) == b"12"
    assert client.setrange("a", 5, "!") == 6
    assert client.get("a") == b"129\x00\x00!"
    assert client.getset("a", "new") == b"129\x00\x00!"
    assert client.getdel("a") == b"new"
    assert client.getdel("a") is None
    assert client.execute_command("SETEX", "e", "100", "v") in (True, b"OK")
    assert client.psetex("p", 100000, "v") is True
    assert client.getex("e", persist=True) == b"v"
    assert client.getex("e", px=5000) == b"v"


def test_incrbyfloat_is_exact_long_double(client):
    assert client.incrbyfloat("f", 0.1) == pytest.approx(0.1)
    client.execute_command("INCRBYFLOAT", "f", "0.2")
    assert client.get("f") == b"0.3"                  # a C double would give 0.30000000000000004
    with pytest.raises(redis.ResponseError, match="increment would produce NaN or Infinity"):
        client.execute_command("INCRBYFLOAT", "f", "inf")
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        client.execute_command("INCRBYFLOAT", "f", "abc")


def test_lcs_reply_shapes(client):
    client.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert client.lcs("key1", "key2") == b"mytext"
    assert client.lcs("key1", "key2", len=True) == 6
    reply = client.execute_command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4",
                                   "WITHMATCHLEN")
    if isinstance(reply, dict):                        # RESP3 map
        assert reply == {b"matches": [[[4, 7], [5, 8], 4]], b"len": 6}
    else:                                              # RESP2 flat array
        assert reply == [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]


def test_bitmaps(client):
    assert client.setbit("b", 7, 1) == 0
    assert client.getbit("b", 7) == 1
    assert client.bitcount("b") == 1
    assert client.bitpos("b", 1) == 7
    assert client.bitop("NOT", "n", "b") == 1
    assert client.get("n") == b"\xfe"
    field = client.bitfield("bf")
    assert field.set("i8", 0, -100).get("u8", 0).overflow("FAIL").incrby("u2", 100, 9) \
        .execute() == [0, 156, None]
    assert client.bitfield_ro("bf", "u8", 0, items=[("i8", 0)]) == [156, -100]
    with pytest.raises(redis.ResponseError, match="BITFIELD_RO only supports the GET"):
        client.execute_command("BITFIELD_RO", "bf", "SET", "u8", "0", "1")


def test_pipeline_of_appends(client):
    pipe = client.pipeline(transaction=False)
    for i in range(500):
        pipe.append("log", "%04d," % i)
    replies = pipe.execute()
    assert replies[-1] == 2500
    assert client.get("log").startswith(b"0000,0001,")

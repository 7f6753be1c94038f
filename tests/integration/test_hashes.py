"""Hash commands over TCP with redis-py, in RESP2 and RESP3, on a real ember-server."""

import pytest
import redis

from tests.rawclient import RawClient


def test_hset_hget_hgetall_resp2(r):
    assert r.hset("user:1", mapping={"name": "ada", "year": "1815"}) == 2
    assert r.hset("user:1", "name", "ada lovelace") == 0
    assert r.hget("user:1", "name") == b"ada lovelace"
    assert r.hmget("user:1", ["name", "nope", "year"]) == [b"ada lovelace", None, b"1815"]
    assert r.hgetall("user:1") == {b"name": b"ada lovelace", b"year": b"1815"}
    assert r.hkeys("user:1") == [b"name", b"year"]
    assert r.hvals("user:1") == [b"ada lovelace", b"1815"]
    assert r.hlen("user:1") == 2 and r.hstrlen("user:1", "year") == 4
    assert r.hexists("user:1", "name") and not r.hexists("user:1", "age")
    assert r.hsetnx("user:1", "name", "x") == 0 and r.hsetnx("user:1", "age", "36") == 1
    assert r.hincrby("user:1", "age", 1) == 37
    assert r.hincrbyfloat("user:1", "score", "0.1") == pytest.approx(0.1)
    assert r.hincrbyfloat("user:1", "score", "0.2") == pytest.approx(0.3)
    assert r.hget("user:1", "score") == b"0.3"       # long double: not 0.30000000000000004
    assert r.hdel("user:1", "name", "age", "year", "score") == 4
    assert r.exists("user:1") == 0
    assert r.hgetall("user:1") == {}


def test_resp3_replies(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}          # a RESP3 map
    assert r3.hgetall("missing") == {}
    assert r3.hget("h", "zz") is None
    pairs = r3.execute_command("HRANDFIELD", "h", "2", "WITHVALUES")
    assert sorted(map(tuple, pairs)) == [(b"a", b"1"), (b"b", b"2")]
    assert r3.execute_command("HRANDFIELD", "missing") is None
    assert r3.hincrbyfloat("h", "a", "1.5") == pytest.approx(2.5)


def test_raw_resp3_bytes(ember_server):
    client = RawClient(ember_server.port)
    try:
        client.call("HELLO", "3")
        client.call("DEL", "h")
        client.call("HSET", "h", "f", "v")
        assert client.call_raw("HGETALL", "h") == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
        assert client.call_raw("HRANDFIELD", "h", "1", "WITHVALUES") == \
            b"*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        assert client.call_raw("HMGET", "h", "f", "g") == b"*2\r\n$1\r\nv\r\n_\r\n"
        assert client.call_raw("HGETALL", "nokey") == b"%0\r\n"
    finally:
        client.close()


def test_errors_over_redis_py(r):
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.hset("s", "a", "1")
    r.hset("h", "n", "abc")
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("h", "n", 1)
    with pytest.raises(redis.ResponseError, match="hash value is not a float"):
        r.hincrbyfloat("h", "n", 1)
    r.hset("h", "big", str(2 ** 63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.hincrby("h", "big", 1)


def test_hscan_iter_visits_a_big_hash_once(r):
    fields = {f"field:{i}": str(i) for i in range(5000)}
    r.hset("big", mapping=fields)
    assert r.object("encoding", "big") == b"hashtable"
    seen = {}
    cursor = 0
    pages = 0
    while True:
        cursor, page = r.hscan("big", cursor, count=100)
        pages += 1
        for field, value in page.items():
            assert field not in seen
            seen[field] = value
        if cursor == 0:
            break
    assert pages > 10
    assert seen == {k.encode(): v.encode() for k, v in fields.items()}
    matched = dict(r.hscan_iter("big", match="field:49*", count=500))
    assert set(matched) == {k.encode() for k in fields if k.startswith("field:49")}
    cursor, names = r.hscan("big", 0, count=10000, no_values=True)
    assert cursor == 0 and sorted(names) == sorted(k.encode() for k in fields)


def test_small_hash_scans_in_one_call_like_a_listpack(r):
    r.hset("small", mapping={f"f{i}": i for i in range(100)})
    assert r.object("encoding", "small") == b"listpack"
    cursor, page = r.hscan("small", 0, count=1)
    assert cursor == 0 and len(page) == 100


def test_hrandfield_counts(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert sorted(r.hrandfield("h", 10)) == [b"a", b"b", b"c"]
    assert len(r.hrandfield("h", -50)) == 50
    assert len(set(r.hrandfield("h", 2))) == 2
    assert r.hrandfield("missing", 5) == []
    # Redis streams a reply of any length; ember refuses one it would have to build whole.
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.hrandfield("h", -(2 ** 62))


def test_hrandfield_on_a_big_hash_is_uniform_enough(r):
    r.hset("big", mapping={f"f{i}": i for i in range(1000)})
    picks = r.hrandfield("big", -20000)
    counts = {}
    for field in picks:
        counts[field] = counts.get(field, 0) + 1
    assert len(counts) > 950                      # nearly every field seen
    assert max(counts.values()) < 80              # mean 20
    unique = r.hrandfield("big", 600)
    assert len(set(unique)) == 600

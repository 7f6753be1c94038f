"""Hash commands byte for byte against a real redis-server: replies, errors, edge cases,
encodings and RESP3 shapes.

Where Redis 7.2 (what ember implements) differs from an older reference server, the test
asserts ember's 7.2 reply explicitly instead of comparing. Field expiry (Redis 7.4) is
not in the reference server: see tests/integration/test_hash_field_ttl.py.
"""

import pytest

from tests.compat.test_command_compat import redis_version

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


@pytest.fixture
def small_listpacks(compat):
    """Both servers with tiny listpack limits (3 entries, 8-byte strings), restored after."""
    compat.check("CONFIG", "SET", "hash-max-listpack-entries", "3")
    compat.check("CONFIG", "SET", "hash-max-listpack-value", "8")
    yield compat
    compat.check("CONFIG", "SET", "hash-max-listpack-entries", "512")
    compat.check("CONFIG", "SET", "hash-max-listpack-value", "64")


def same_hash(compat, key: str) -> None:
    """HGETALL of ``key`` equal on both servers as a field -> value mapping (a hashtable's
    order is its own on each server)."""
    got, expected = compat.ember.call("HGETALL", key), compat.redis.call("HGETALL", key)
    as_dict = [dict(zip(reply[::2], reply[1::2])) for reply in (got, expected)]
    assert as_dict[0] == as_dict[1] and len(got) == len(expected), (key, got, expected)


def resp3(compat):
    """Switch both connections of ``compat`` to RESP3."""
    compat.ember.call("HELLO", "3")
    compat.redis.call("HELLO", "3")


def test_hset_hget_family(compat):
    compat.script([
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HSET", "h", "a", "1"),
        ("HSET", "h", "a", "2", "d", "4", "d", "5"),
        ("HGET", "h", "a"), ("HGET", "h", "nope"), ("HGET", "nokey", "a"),
        ("HMGET", "h", "a", "nope", "d", "a"), ("HMGET", "nokey", "a", "b"),
        ("HMSET", "h", "x", "1", "y", ""), ("HGET", "h", "y"),
        ("HSETNX", "h", "a", "9"), ("HSETNX", "h", "z", "9"), ("HSETNX", "new", "f", "v"),
        ("HLEN", "h"), ("HLEN", "nokey"),
        ("HSTRLEN", "h", "a"), ("HSTRLEN", "h", "y"), ("HSTRLEN", "h", "nope"),
        ("HSTRLEN", "nokey", "a"),
        ("HEXISTS", "h", "a"), ("HEXISTS", "h", "nope"), ("HEXISTS", "nokey", "a"),
        ("HGETALL", "h"), ("HKEYS", "h"), ("HVALS", "h"),
        ("HGETALL", "nokey"), ("HKEYS", "nokey"), ("HVALS", "nokey"),
        ("TYPE", "h"), ("OBJECT", "ENCODING", "h"),
        ("HSET", "", "", ""), ("HGETALL", ""), ("HSTRLEN", "", ""),
    ])


def test_argument_count_errors(compat):
    compat.script([
        ("HSET", "h", "a"), ("HSET", "h", "a", "1", "b"), ("HMSET", "h", "a"),
        ("HMSET", "h", "a", "1", "b"), ("HSETNX", "h", "a"), ("HGET", "h"),
        ("HMGET", "h"), ("HDEL", "h"), ("HLEN",), ("HINCRBY", "h", "a"),
        ("HINCRBYFLOAT", "h", "a", "1", "2"), ("HRANDFIELD",), ("HSCAN", "h"),
        ("HSTRLEN", "h"), ("HEXISTS", "h", "a", "b"), ("HGETALL", "h", "x"),
        ("EXISTS", "h"),
    ])


def test_every_command_refuses_other_types(compat):
    compat.check("SET", "s", "v")
    for command in [("HSET", "s", "a", "1"), ("HMSET", "s", "a", "1"),
                    ("HSETNX", "s", "a", "1"), ("HGET", "s", "a"), ("HMGET", "s", "a"),
                    ("HDEL", "s", "a"), ("HLEN", "s"), ("HSTRLEN", "s", "a"),
                    ("HEXISTS", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"),
                    ("HGETALL", "s"), ("HINCRBY", "s", "a", "1"),
                    ("HINCRBYFLOAT", "s", "a", "1"), ("HRANDFIELD", "s"),
                    ("HRANDFIELD", "s", "1"), ("HRANDFIELD", "s", "1", "WITHVALUES"),
                    ("HSCAN", "s", "0")]:
        assert compat.check(*command) == WRONGTYPE, command
    compat.check("GET", "s")


def test_hdel_removes_fields_and_the_emptied_key(compat):
    compat.script([
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HDEL", "h", "a", "nope", "a"), ("HLEN", "h"), ("HDEL", "nokey", "a"),
        ("HDEL", "h", "b", "c", "b"), ("EXISTS", "h"), ("TYPE", "h"), ("HLEN", "h"),
        ("HGETALL", "h"),
    ])


def test_hincrby_limits_and_errors(compat):
    compat.script([
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"),
        ("HINCRBY", "h", "n", "x"), ("HINCRBY", "h", "n", "1.5"), ("HINCRBY", "h", "n", ""),
        ("HINCRBY", "h", "n", "9223372036854775808"),
        ("HINCRBY", "h", "n", LLONG_MAX), ("HINCRBY", "h", "n", "6"),
        ("HSET", "h", "max", LLONG_MAX, "min", LLONG_MIN, "s", "abc", "f", "1.5",
         "z", "007", "sp", " 1", "plus", "+1", "e", ""),
        ("HINCRBY", "h", "max", "1"), ("HINCRBY", "h", "max", "0"),
        ("HINCRBY", "h", "min", "-1"), ("HINCRBY", "h", "min", LLONG_MIN),
        ("HINCRBY", "h", "min", LLONG_MAX), ("HINCRBY", "h", "max", LLONG_MIN),
        ("HINCRBY", "h", "s", "1"), ("HINCRBY", "h", "f", "1"), ("HINCRBY", "h", "z", "1"),
        ("HINCRBY", "h", "sp", "1"), ("HINCRBY", "h", "plus", "1"),
        ("HINCRBY", "h", "e", "1"), ("HINCRBY", "newkey", "f", LLONG_MIN),
        ("HGETALL", "h"), ("HGETALL", "newkey"),
    ])


def test_hincrbyfloat_formatting_and_errors(compat):
    compat.script([
        ("HINCRBYFLOAT", "h", "a", "0.1"), ("HINCRBYFLOAT", "h", "a", "0.2"),
        ("HINCRBYFLOAT", "h", "a", "10.5"), ("HINCRBYFLOAT", "h", "a", "-10.8"),
        ("HINCRBYFLOAT", "h", "b", "3.0e3"), ("HINCRBYFLOAT", "h", "c", "-0.0"),
        ("HINCRBYFLOAT", "h", "d", "0x10"), ("HINCRBYFLOAT", "h", "e", "1e400"),
        ("HINCRBYFLOAT", "h", "f", "5e-20"), ("HINCRBYFLOAT", "h", "g", "1.7976931348623157e308"),
        ("HINCRBYFLOAT", "h", "a", "abc"), ("HINCRBYFLOAT", "h", "a", "inf"),
        ("HINCRBYFLOAT", "h", "a", "-inf"), ("HINCRBYFLOAT", "h", "a", "nan"),
        ("HINCRBYFLOAT", "h", "a", ""), ("HINCRBYFLOAT", "h", "a", " 1"),
        ("HSET", "h", "s", "abc", "i", "inf", "n", "12", "sp", "1 "),
        ("HINCRBYFLOAT", "h", "s", "1"), ("HINCRBYFLOAT", "h", "i", "1"),
        ("HINCRBYFLOAT", "h", "n", "0.5"), ("HINCRBYFLOAT", "h", "sp", "1"),
        ("HSET", "h", "big", LLONG_MAX), ("HINCRBYFLOAT", "h", "big", "1"),
        ("OBJECT", "ENCODING", "h"),
    ])
    same_hash(compat, "h")


def test_encoding_conversions(small_listpacks):
    compat = small_listpacks
    compat.script([
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "a", "4"), ("OBJECT", "ENCODING", "h"),
        ("HSET", "h", "d", "4"), ("OBJECT", "ENCODING", "h"),
        ("HDEL", "h", "a", "b", "c"), ("OBJECT", "ENCODING", "h"),     # never back
        ("HSET", "v", "a", "123456789"), ("OBJECT", "ENCODING", "v"),
        ("HSET", "f", "123456789", "a"), ("OBJECT", "ENCODING", "f"),
        ("HSET", "edge", "a", "12345678"), ("OBJECT", "ENCODING", "edge"),
        ("HSETNX", "nx", "a", "123456789"), ("OBJECT", "ENCODING", "nx"),
        ("HSETNX", "nx2", "a", "1"), ("HSETNX", "nx2", "a", "123456789"),
        ("OBJECT", "ENCODING", "nx2"),
        ("HINCRBY", "i", "123456789", "1"), ("OBJECT", "ENCODING", "i"),
        ("HINCRBY", "i2", "a", "123456789"), ("OBJECT", "ENCODING", "i2"),
        ("HINCRBYFLOAT", "fl", "a", "12345678.5"), ("OBJECT", "ENCODING", "fl"),
        ("HMSET", "m", "a", "1", "b", "2", "c", "3", "d", "4"), ("OBJECT", "ENCODING", "m"),
        ("COPY", "m", "m2"), ("OBJECT", "ENCODING", "m2"), ("TYPE", "m2"),
    ])
    same_hash(compat, "m2")


def test_zero_listpack_entries_converts_on_any_write(compat):
    compat.check("HSET", "h", "a", "1")
    compat.check("CONFIG", "SET", "hash-max-listpack-entries", "0")
    try:
        compat.script([
            ("HSET", "h", "a", "2"), ("OBJECT", "ENCODING", "h"),
            ("HSET", "h2", "a", "2"), ("OBJECT", "ENCODING", "h2"),
            ("HSETNX", "h3", "a", "2"), ("OBJECT", "ENCODING", "h3"),
            ("HINCRBY", "h4", "a", "2"), ("OBJECT", "ENCODING", "h4"),
        ])
    finally:
        compat.check("CONFIG", "SET", "hash-max-listpack-entries", "512")


def test_hset_with_more_pairs_than_a_listpack_holds(small_listpacks):
    compat = small_listpacks
    command = ("HSET", "dup", "a", "1", "a", "2", "a", "3", "a", "4")
    compat.check(*command)
    if redis_version(compat) >= (7, 2):
        compat.check("OBJECT", "ENCODING", "dup")
        return
    # Redis 7.2 converts before writing when the command has more pairs than the limit,
    # duplicates or not (hashTypeTryConversion); 7.0 only looked at the lengths.
    assert compat.ember.call_raw("OBJECT", "ENCODING", "dup") == b"$9\r\nhashtable\r\n"


def test_hrandfield_errors_and_edge_counts(compat):
    compat.script([
        ("HSET", "h", "a", "1", "b", "2", "c", "3"),
        ("HRANDFIELD", "h", "3"), ("HRANDFIELD", "h", "5", "WITHVALUES"),
        ("HRANDFIELD", "h", LLONG_MAX), ("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
        ("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
        ("HRANDFIELD", "h", LLONG_MIN), ("HRANDFIELD", "h", LLONG_MIN, "WITHVALUES"),
        ("HRANDFIELD", "h", "0"), ("HRANDFIELD", "h", "0", "WITHVALUES"),
        ("HRANDFIELD", "h", "1", "WITHVALUES", "x"), ("HRANDFIELD", "h", "1", "VALUES"),
        ("HRANDFIELD", "h", "x"), ("HRANDFIELD", "h", "1.5"), ("HRANDFIELD", "h", ""),
        ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "5"),
        ("HRANDFIELD", "nokey", "-5", "WITHVALUES"), ("HRANDFIELD", "nokey", "0"),
        ("HRANDFIELD", "nokey", "x"),
    ])


def test_hrandfield_random_picks(compat):
    compat.check("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
    fields = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"}
    for client in (compat.ember, compat.redis):
        single = client.call("HRANDFIELD", "h")
        assert single in fields
        picks = client.call("HRANDFIELD", "h", "-20")
        assert len(picks) == 20 and set(picks) <= set(fields)
        unique = client.call("HRANDFIELD", "h", "3")
        assert len(set(unique)) == 3 and set(unique) <= set(fields)
        flat = client.call("HRANDFIELD", "h", "-6", "WITHVALUES")
        assert len(flat) == 12
        assert all(fields[flat[i]] == flat[i + 1] for i in range(0, 12, 2))
        one = client.call("HRANDFIELD", "h", "1", "WITHVALUES")
        assert len(one) == 2 and fields[one[0]] == one[1]


def test_hscan(compat):
    compat.script([
        ("HSET", "h", "a", "1", "b", "2", "c", "3", "ab", "4"),
        ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "COUNT", "1"),
        ("HSCAN", "h", "0", "MATCH", "a*"), ("HSCAN", "h", "0", "MATCH", "*"),
        ("HSCAN", "h", "0", "MATCH", "a*", "COUNT", "1", "MATCH", "b*"),
        ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "-1"),
        ("HSCAN", "h", "0", "COUNT", "x"), ("HSCAN", "h", "0", "COUNT"),
        ("HSCAN", "h", "0", "MATCH"), ("HSCAN", "h", "0", "TYPE", "hash"),
        ("HSCAN", "h", "x"), ("HSCAN", "h", "-1"), ("HSCAN", "h", "18446744073709551615"),
        ("HSCAN", "h", "18446744073709551616"), ("HSCAN", "h", ""),
        ("HSCAN", "nokey", "0"), ("HSCAN", "nokey", "0", "COUNT", "x"),
        ("HSCAN", "nokey", "x"),
    ])


def test_hscan_novalues_is_redis_7_4(compat):
    compat.check("HSET", "h", "a", "1", "b", "2")
    if redis_version(compat) >= (7, 4):
        compat.check("HSCAN", "h", "0", "NOVALUES")
        compat.check("HSCAN", "h", "0", "NOVALUES", "MATCH", "b")
        return
    # NOVALUES came with Redis 7.4; older servers call it a syntax error.
    assert compat.ember.call_raw("HSCAN", "h", "0", "NOVALUES") == \
        b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert compat.ember.call_raw("HSCAN", "h", "0", "NOVALUES", "MATCH", "b") == \
        b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n"
    assert compat.ember.call_raw("HSCAN", "h", "0", "NOVALUES", "COUNT") == \
        b"-ERR syntax error\r\n"


def test_hscan_of_a_hashtable_visits_every_field_once(small_listpacks):
    compat = small_listpacks
    fields = [f"f{i}" for i in range(50)]
    compat.check("HSET", "h", *[x for f in fields for x in (f, "v" + f)])
    for client in (compat.ember, compat.redis):
        seen = {}
        cursor = b"0"
        while True:
            cursor, page = client.call("HSCAN", "h", cursor, "COUNT", "7")
            for i in range(0, len(page), 2):
                seen[page[i]] = page[i + 1]
            if cursor == b"0":
                break
        assert seen == {f.encode(): b"v" + f.encode() for f in fields}


def test_resp3_shapes(compat):
    compat.check("HSET", "h", "a", "1", "b", "2", "c", "3")
    resp3(compat)
    compat.script([
        ("HGETALL", "h"), ("HGETALL", "nokey"), ("HKEYS", "h"), ("HVALS", "nokey"),
        ("HRANDFIELD", "h", "3", "WITHVALUES"), ("HRANDFIELD", "h", "0", "WITHVALUES"),
        ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "2", "WITHVALUES"),
        ("HMGET", "h", "a", "z"), ("HGET", "h", "z"), ("HSCAN", "h", "0"),
        ("HINCRBYFLOAT", "h", "a", "1.5"), ("HINCRBY", "h", "b", "1"),
    ])
    for client in (compat.ember, compat.redis):
        pairs = client.call("HRANDFIELD", "h", "-3", "WITHVALUES")
        assert len(pairs) == 3 and all(isinstance(p, list) and len(p) == 2 for p in pairs)

"""DUMP/RESTORE compared with redis-server: the same replies and errors byte for byte, and
payloads crossing servers (redis DUMP -> ember RESTORE and back) give the same values."""

import pytest

from ember.persistence.crc64 import crc64
from tests.compat.test_rdb_interop import populate, redis_caller, report

pytestmark = pytest.mark.compat


def keys_of(client) -> list:
    return sorted(client.call("KEYS", "*"))


def test_errors_and_options_match(compat):
    compat.check("SET", "k", "hello")
    payload = compat.redis.call("DUMP", "k")
    body = payload[:-10] + b"X" + payload[-10:-8]        # a trailing byte: accepted
    trailing = body + crc64(body).to_bytes(8, "little")
    newer = payload[:-10] + (99).to_bytes(2, "little")
    newer += crc64(newer).to_bytes(8, "little")
    bad_body = b"\x00\x40" + payload[2:-10]
    bad_body = bad_body + payload[-10:-8]
    bad_body += crc64(bad_body).to_bytes(8, "little")
    unknown_type = b"\x42" + payload[1:-8]
    unknown_type += crc64(unknown_type).to_bytes(8, "little")
    compat.script([
        ("DUMP", "nokey"),
        ("RESTORE", "k", "0", payload),
        ("RESTORE", "k", "-1", payload, "REPLACE"),
        ("RESTORE", "n", "abc", payload),
        ("RESTORE", "n", "-5", payload),
        ("RESTORE", "n", "0", payload, "IDLETIME", "-1"),
        ("RESTORE", "n", "0", payload, "IDLETIME", "x"),
        ("RESTORE", "n", "0", payload, "FREQ", "256"),
        ("RESTORE", "n", "0", payload, "FREQ", "-1"),
        ("RESTORE", "n", "0", payload, "IDLETIME", "1", "FREQ", "3"),
        ("RESTORE", "n", "0", payload, "FREQ", "1", "IDLETIME", "3"),
        ("RESTORE", "n", "0", payload, "BOGUS"),
        ("RESTORE", "n", "0", payload, "IDLETIME"),
        ("RESTORE", "n", "0", b"short"),
        ("RESTORE", "n", "0", payload[:-1] + b"\x00"),
        ("RESTORE", "n", "0", newer),
        ("RESTORE", "n", "0", bad_body),
        ("RESTORE", "n", "0", unknown_type),
        ("RESTORE", "n", "0", trailing),
        ("GET", "n"),
        ("RESTORE", "n", "0", payload, "REPLACE", "IDLETIME", "100"),
        ("OBJECT", "IDLETIME", "n"),
        ("RESTORE", "t", "100000", payload),
        ("RESTORE", "a", "4102444800000", payload, "ABSTTL"),
        ("PEXPIRETIME", "a"),
        ("RESTORE", "gone", "1", payload, "ABSTTL"),
        ("EXISTS", "gone"),
        ("RESTORE", "n", "1", payload, "ABSTTL", "REPLACE"),    # expired: replaces = deletes
        ("EXISTS", "n"),
        ("RESTORE",),
        ("RESTORE", "x", "0"),
        ("DUMP",),
    ])
    ttl_ember, ttl_redis = compat.ember.call("PTTL", "t"), compat.redis.call("PTTL", "t")
    assert 99000 < ttl_ember <= 100000 and 99000 < ttl_redis <= 100000


def test_redis_payloads_restore_in_ember(compat):
    populate(compat.redis.call)
    populate(compat.ember.call)        # same key names, so both have the same keyspace
    keys = keys_of(compat.redis)
    payloads = {key: compat.redis.call("DUMP", key) for key in keys}
    ours = {key: compat.ember.call("DUMP", key) for key in keys}
    for key in keys:
        # redis -> ember, ember -> redis, each restored under a new name
        assert compat.ember.call("RESTORE", b"r:" + key, 0, payloads[key]) == "OK", key
        assert compat.redis.call("RESTORE", b"e:" + key, 0, ours[key]) == "OK", key
    ember_report = redis_caller(compat.ember)
    redis_report = redis_caller(compat.redis)
    for key in keys:
        a = report(ember_report, b"r:" + key)      # ember, from redis's payload
        b = report(redis_report, b"e:" + key)      # redis, from ember's payload
        c = report(redis_report, key)              # the original
        assert a[0] == c[0] and a[2:] == c[2:], key
        assert b[0] == c[0] and b[2:] == c[2:], key


def test_restore_replace_over_other_types(compat):
    compat.check("RPUSH", "l", "a", "b")
    compat.check("SET", "s", "v")
    payload = compat.redis.call("DUMP", "l")
    compat.check("RESTORE", "s", "0", payload, "REPLACE")
    compat.check("LRANGE", "s", "0", "-1")
    compat.check("TYPE", "s")


def test_ember_payloads_pass_redis_deep_sanitization():
    """redis-server with sanitize-dump-payload yes validates every listpack, entry count
    and stream lp-count of what ember dumps."""
    from ember.persistence.rdb import dump_payload
    from tests.servers import start_redis
    from tests.unit.harness import Harness
    h = Harness()
    populate(h)
    h("XADD", "s2", "1-1", "a", "1")
    h("XADD", "s2", "2-1", "b", "2", "c", "3")
    h("XDEL", "s2", "1-1")
    server = start_redis("--sanitize-dump-payload", "yes")
    try:
        from tests.rawclient import RawClient
        client = RawClient(server.port)
        for key, value in h.db.data.items():
            assert client.call("RESTORE", key, 0, dump_payload(value)) == "OK", key
        assert client.call("DBSIZE") == len(h.db.data)
        client.close()
    finally:
        server.stop()


def test_string_payloads_are_byte_identical(compat):
    """Strings are written as Redis writes them: integer encodings, LZF over 20 bytes
    (liblzf), raw otherwise. Collections differ (ember writes the plain encodings)."""
    if b"redis_version:7.0." not in compat.redis.call("INFO", "server"):
        pytest.skip("ember's payloads carry RDB version 10 (Redis 7.0's, so that 7.0 "
                    "restores them); 7.2+ writes 11")
    values = [b"hello", b"12345", b"-7", b"123456789012345", b"", b"abc" * 200, b"x" * 21,
              b"hello world, this is a longer string " * 5, bytes(range(256)), b"9" * 30]
    for value in values:
        compat.check("SET", "k", value)
        compat.check("DUMP", "k")
    compat.check("CONFIG", "SET", "rdbcompression", "no")
    try:
        compat.check("DUMP", "k")
    finally:
        compat.check("CONFIG", "SET", "rdbcompression", "yes")

"""Redis 7.4 per-field expiry of hashes over TCP on a real ember-server: the session-store
pattern, active removal of fields nobody touches, and deadlines that follow the hash.

The reference redis-server here predates 7.4, so these check the documented behaviour
(replies -2/0/1/2, -1 for no deadline, HLEN counting fields not yet removed) rather than
comparing with it. Field expiry is observed by asking (HLEN, EXISTS): there is no event
to wait for without notifications, so ``wait_until`` polls.
"""

import time

import pytest
import redis

from tests.servers import wait_until


@pytest.fixture
def lazy_only(r):
    """Active expiry off for the test (DEBUG SET-ACTIVE-EXPIRE 0), back on after."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield r
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def server_ms(client) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def wait_past(client, deadline_ms: int) -> None:
    """Return once the server's clock is past ``deadline_ms``."""
    assert wait_until(lambda: server_ms(client) > deadline_ms, timeout=5)


def hexpire(client, command, key, amount, *fields, condition=()):
    return client.execute_command(command, key, amount, *condition, "FIELDS", len(fields),
                                  *fields)


def test_session_store_expires_one_field_and_keeps_the_rest(r):
    r.hset("session:42", mapping={"user": "ada", "csrf": "tok", "cart": "3"})
    assert hexpire(r, "HPEXPIRE", "session:42", 150, "csrf") == [1]
    deadline = r.execute_command("HPEXPIRETIME", "session:42", "FIELDS", 1, "csrf")[0]
    assert r.execute_command("HTTL", "session:42", "FIELDS", 2, "csrf", "user") == [1, -1]
    assert r.hget("session:42", "csrf") == b"tok"
    wait_past(r, deadline)
    assert r.hget("session:42", "csrf") is None
    assert r.hgetall("session:42") == {b"user": b"ada", b"cart": b"3"}
    assert r.execute_command("HTTL", "session:42", "FIELDS", 1, "csrf") == [-2]
    assert r.hlen("session:42") == 2


def test_expired_fields_are_never_returned_but_hlen_counts_them(lazy_only):
    r = lazy_only
    r.hset("h", mapping={f"f{i}": i for i in range(6)})
    hexpire(r, "HPEXPIRE", "h", 50, "f1", "f3", "f5")
    deadline = r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "f1")[0]
    wait_past(r, deadline)
    assert r.hlen("h") == 6                       # Redis 7.4: not removed yet, counted
    assert r.hgetall("h") == {b"f0": b"0", b"f2": b"2", b"f4": b"4"}
    assert r.hkeys("h") == [b"f0", b"f2", b"f4"]
    assert r.hvals("h") == [b"0", b"2", b"4"]
    assert dict(r.hscan_iter("h")) == {b"f0": b"0", b"f2": b"2", b"f4": b"4"}
    assert r.hmget("h", ["f0", "f1"]) == [b"0", None]
    assert not r.hexists("h", "f3") and r.hstrlen("h", "f5") == 0
    assert r.hlen("h") == 3                       # the reads removed them
    assert sorted(r.hrandfield("h", 10)) == [b"f0", b"f2", b"f4"]


def test_active_expiry_reclaims_ten_thousand_untouched_fields(r):
    fields = [f"f{i}" for i in range(10_000)]
    r.hset("big", mapping={f: "x" for f in fields})
    r.hset("big", mapping={"keep1": "a", "keep2": "b"})
    assert hexpire(r, "HPEXPIRE", "big", 100, *fields) == [1] * 10_000
    for i in range(1000):
        r.hset(f"small:{i}", "only", "v")
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        hexpire(pipe, "HPEXPIRE", f"small:{i}", 100, "only")
    pipe.execute()
    assert r.dbsize() == 1001
    started = time.monotonic()
    assert wait_until(lambda: r.hlen("big") == 2 and r.dbsize() == 1, timeout=10)
    assert time.monotonic() - started < 10
    assert r.hgetall("big") == {b"keep1": b"a", b"keep2": b"b"}
    assert r.ping()


def test_reply_codes_conditions_and_persist(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert hexpire(r, "HEXPIRE", "h", 100, "a", "zz") == [1, -2]
    assert hexpire(r, "HEXPIRE", "h", 200, "a", "b", condition=("NX",)) == [0, 1]
    assert hexpire(r, "HEXPIRE", "h", 50, "a", "b", condition=("GT",)) == [0, 0]
    assert hexpire(r, "HEXPIRE", "h", 50, "a", "c", condition=("LT",)) == [1, 1]
    assert hexpire(r, "HEXPIRE", "h", 500, "c", condition=("XX",)) == [1]
    assert r.execute_command("HTTL", "h", "FIELDS", 3, "a", "b", "c") == [50, 200, 500]
    assert r.execute_command("HPERSIST", "h", "FIELDS", 3, "a", "a", "zz") == [1, -1, -2]
    now_s = r.time()[0]
    assert hexpire(r, "HEXPIREAT", "h", now_s + 1000, "b") == [1]
    assert r.execute_command("HEXPIRETIME", "h", "FIELDS", 1, "b") == [now_s + 1000]
    assert hexpire(r, "HEXPIREAT", "h", now_s - 10, "b") == [2]      # past: deleted
    assert hexpire(r, "HPEXPIRE", "h", 0, "c", "zz") == [2, -2]
    assert r.hgetall("h") == {b"a": b"1"}
    assert hexpire(r, "HPEXPIRE", "h", 0, "a") == [2]
    assert r.exists("h") == 0
    assert hexpire(r, "HEXPIRE", "h", 10, "a", "b") == [-2, -2]
    assert r.execute_command("HPTTL", "h", "FIELDS", 1, "a") == [-2]


def test_writes_keep_or_drop_deadlines_as_redis(r):
    r.hset("h", mapping={"n": 10, "f": 1, "s": "x"})
    hexpire(r, "HEXPIRE", "h", 100, "n", "f", "s")
    assert r.hincrby("h", "n", 5) == 15
    assert r.hincrbyfloat("h", "f", "0.5") == pytest.approx(1.5)
    r.hset("h", "s", "y")
    assert r.execute_command("HTTL", "h", "FIELDS", 3, "n", "f", "s") == [100, 100, -1]


def test_errors(r):
    r.hset("h", "a", 1)
    r.set("s", "v")
    cases = [
        (("HEXPIRE", "s", 10, "FIELDS", 1, "a"), "WRONGTYPE"),
        (("HTTL", "s", "FIELDS", 1, "a"), "WRONGTYPE"),
        (("HPERSIST", "s", "FIELDS", 1, "a"), "WRONGTYPE"),
        (("HEXPIRE", "h", -1, "FIELDS", 1, "a"), "invalid expire time, must be >= 0"),
        (("HEXPIRE", "h", 2 ** 48 // 1000, "FIELDS", 1, "a"),
         "invalid expire time in 'hexpire' command"),
        (("HPEXPIRE", "h", "x", "FIELDS", 1, "a"), "value is not an integer or out of range"),
        (("HEXPIRE", "h", 10, "FIELDS", 0, "a"), "Parameter `numFields` should be greater"),
        (("HEXPIRE", "h", 10, "FIELDS", 3, "a", "b"),
         "The `numfields` parameter must match the number of arguments"),
        (("HEXPIRE", "h", 10, "XX", "NX", "FIELDS", 1, "a"),
         "Mandatory argument FIELDS is missing or not at the right position"),
        (("HTTL", "h", "FIELDS", -1, "a"), "Number of fields must be a positive integer"),
        (("HPERSIST", "h", "FIELDS", 1, "a", "b"), "The `numfields` parameter must match"),
        (("HEXPIRE", "h", 10, "FIELDS", 1), "wrong number of arguments for 'hexpire'"),
        (("HTTL", "h", "FIELDS", 1), "wrong number of arguments for 'httl'"),
    ]
    for args, error in cases:
        with pytest.raises(redis.ResponseError, match=error.replace("(", r"\(")):
            r.execute_command(*args)


def test_encoding_becomes_listpackex(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.object("encoding", "h") == b"listpack"
    assert hexpire(r, "HEXPIRE", "h", 100, "zz") == [-2]
    assert r.object("encoding", "h") == b"listpackex"
    hexpire(r, "HEXPIRE", "h", 100, "c")
    hexpire(r, "HEXPIRE", "h", 50, "b")
    assert r.hkeys("h") == [b"b", b"c", b"a"]      # by deadline first, as Redis's listpack
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "b") == [50]


def test_deadlines_travel_with_rename_move_and_copy(r):
    for key in ("src", "moved", "orig"):
        r.hset(key, mapping={"tmp": 1, "perm": 2})
        hexpire(r, "HPEXPIRE", key, 150, "tmp")
    r.rename("src", "dst")
    r.move("moved", 9)
    r.copy("orig", "copy")
    assert r.execute_command("HPTTL", "dst", "FIELDS", 1, "tmp")[0] > 0
    assert r.execute_command("HPTTL", "copy", "FIELDS", 1, "tmp")[0] > 0
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=9)
    try:
        assert other.execute_command("HPTTL", "moved", "FIELDS", 1, "tmp")[0] > 0
        # Nobody reads them: active expiry alone must find them under their new names.
        assert wait_until(lambda: r.hlen("dst") == 1 and r.hlen("copy") == 1
                          and r.hlen("orig") == 1 and other.hlen("moved") == 1, timeout=5)
        assert other.hgetall("moved") == {b"perm": b"2"}
    finally:
        other.flushdb()
        other.close()

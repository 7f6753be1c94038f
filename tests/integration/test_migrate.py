"""MIGRATE between servers: ember -> another ember, ember -> redis-server, redis-server ->
ember; options, errors and replies as Redis gives them."""

import pytest
import redis

from tests.servers import free_port, redis_server_path, require_redis, start_ember, start_redis


@pytest.fixture(scope="module")
def target_ember():
    server = start_ember("--requirepass", "secret")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def target_redis():
    if redis_server_path() is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed")
    server = start_redis("--requirepass", "secret")
    yield server
    server.stop()


def _target(server):
    client = redis.Redis(port=server.port, password="secret")
    client.flushall()
    return client


@pytest.fixture(params=["ember", "redis"])
def target(request, target_ember, target_redis):
    server = target_ember if request.param == "ember" else target_redis
    client = _target(server)
    yield server, client
    client.close()


def test_migrate_moves_keys_with_ttls(r, target):
    server, dest = target
    r.set("a", "1")
    r.rpush("l", "x", "y")
    r.pexpire("l", 100000)
    r.zadd("z", {"m": 1.5})
    port = server.port
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "a", 0, 5000, "AUTH", "secret") == b"OK"
    assert r.exists("a") == 0 and dest.get("a") == b"1"
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "", 2, 5000, "COPY",
                             "AUTH2", "default", "secret", "KEYS", "l", "z", "nope") == b"OK"
    assert r.exists("l", "z") == 2
    dest.execute_command("SELECT", 2)
    assert dest.lrange("l", 0, -1) == [b"x", b"y"] and 0 < dest.pttl("l") <= 100000
    assert dest.zscore("z", "m") == 1.5


def test_busykey_replace_and_nokey(r, target):
    server, dest = target
    port = server.port
    r.set("k", "new")
    dest.set("k", "old")
    with pytest.raises(redis.ResponseError,
                       match="^Target instance replied with error: BUSYKEY Target key name "
                             "already exists.$"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 5000, "AUTH", "secret")
    assert r.get("k") == b"new"
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 5000, "REPLACE",
                             "AUTH", "secret") == b"OK"
    assert dest.get("k") == b"new" and r.exists("k") == 0
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 5000) == b"NOKEY"


def test_wrong_password_is_a_target_error(r, target):
    server, _ = target
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match="^Target instance replied with error: "):
        r.execute_command("MIGRATE", "127.0.0.1", server.port, "k", 0, 5000, "AUTH", "bad")
    assert r.get("k") == b"v"


def test_connection_errors_and_syntax(r):
    r.set("k", "v")
    port = free_port()
    with pytest.raises(redis.ResponseError,
                       match="^IOERR error or timeout writing to target instance$"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 200)
    with pytest.raises(redis.ResponseError,
                       match="^IOERR error or timeout connecting to the client$"):
        r.execute_command("MIGRATE", "nonexistent.invalid", port, "k", 0, 200)
    with pytest.raises(redis.ResponseError, match="must be set to the empty string"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 200, "KEYS", "k")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, 200, "AUTH")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "k", 0, "soon")
    assert r.get("k") == b"v"


def test_timeout_reading_from_a_silent_target(r):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)                       # accepts, never answers
    try:
        r.set("k", "v")
        with pytest.raises(redis.ResponseError,
                           match="^IOERR error or timeout reading to target instance$"):
            r.execute_command("MIGRATE", "127.0.0.1", listener.getsockname()[1], "k", 0, 300)
        assert r.get("k") == b"v"
    finally:
        listener.close()


def test_getkeys(raw):
    assert raw.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "COPY",
                    "AUTH2", "u", "p", "KEYS", "a", "b") == [b"a", b"b"]
    assert raw.call("COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "5") == [b"k"]


def test_redis_migrates_into_ember(target_ember, target_redis):
    source = _target(target_redis)
    dest = _target(target_ember)
    source.hset("h", mapping={"f": "v", "n": "12"})
    source.sadd("s", 1, 2, 3)
    source.xadd("st", {"a": "1"}, id="5-5")
    assert source.execute_command("MIGRATE", "127.0.0.1", target_ember.port, "", 0, 5000,
                                  "AUTH", "secret", "KEYS", "h", "s", "st") == b"OK"
    assert dest.hgetall("h") == {b"f": b"v", b"n": b"12"}
    assert dest.smembers("s") == {b"1", b"2", b"3"}
    assert dest.xrange("st") == [(b"5-5", {b"a": b"1"})]
    source.close()
    dest.close()

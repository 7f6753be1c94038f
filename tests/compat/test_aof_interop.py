"""Multi-part AOF directories across servers: a real redis-server 7.0 started on ember's
appendonlydir loads the same keyspace, and ember loads redis-server 7.0's (BASE as RDB
or as commands, plus INCR files); compared key by key over the wire."""

import shutil

import pytest
import redis

from tests.integration.test_replication_common import value_of
from tests.servers import (
    ServerProcess,
    ember_command,
    free_port,
    redis_server_path,
    require_redis,
    wait_until,
)

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module", autouse=True)
def _need_redis():
    if redis_server_path() is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed")


def start_ember(directory, *args) -> ServerProcess:
    port = free_port()
    return ServerProcess(ember_command() + ["--port", str(port), "--save", "",
                                            "--appendonly", "yes", *args],
                         port, str(directory)).start()


def start_redis(directory, *args) -> ServerProcess:
    port = free_port()
    return ServerProcess([redis_server_path(), "--port", str(port), "--save", "",
                          "--appendonly", "yes", *args], port, str(directory)).start()


def fill(client) -> None:
    """Every plain type, TTLs, several dbs, relative and random commands, a transaction."""
    client.set("str", "v")
    client.set("num", 10)
    client.incrby("num", 5)
    client.append("str", "++")
    client.set("ttl", "x", ex=1000)
    client.expire("num", 2000)
    client.rpush("list", *[f"e{i}" for i in range(200)])
    client.lpop("list")
    client.sadd("set", *range(100))
    client.spop("set", 3)
    client.sadd("words", "a", "b", "c")
    client.zadd("zset", {"a": 1, "b": 2.5, "c": -3})
    client.zincrby("zset", 1.25, "a")
    client.hset("hash", mapping={f"f{i}": i for i in range(50)})
    client.hdel("hash", "f3")
    client.xadd("stream", {"f": "v"}, id="1-1")
    client.xadd("stream", {"g": "w"}, id="2-0")
    pipe = client.pipeline(transaction=True)
    pipe.set("tx1", 1)
    pipe.incr("tx1")
    pipe.execute()
    client.execute_command("SELECT", "7")
    client.set("db7", "seven")
    client.execute_command("SELECT", "0")
    client.set("gone", 1)
    client.delete("gone")


def snapshot(client) -> dict:
    """Every key of dbs 0 and 7 as (type, contents, ttl rounded to 10 s)."""
    out = {}
    for db in (0, 7):
        client.execute_command("SELECT", db)
        for key in client.keys("*"):
            kind, value = value_of(client, key)
            ttl = client.ttl(key)
            out[(db, key)] = (kind, value, ttl if ttl < 0 else round(ttl, -1))
    client.execute_command("SELECT", 0)
    return out


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_loads_embers_appendonlydir(tmp_path, preamble):
    ember = start_ember(tmp_path, "--aof-use-rdb-preamble", preamble)
    try:
        client = redis.Redis(port=ember.port)
        fill(client)
        client.execute_command("BGREWRITEAOF")       # a BASE with data, then INCR writes
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] == 1)
        client.rpush("list", "after-rewrite")
        client.set("late", "1", px=5000000)
        expected = snapshot(client)
    finally:
        ember.stop()
    ref = start_redis(tmp_path, "--aof-use-rdb-preamble", preamble)
    try:
        assert snapshot(redis.Redis(port=ref.port)) == expected
    finally:
        ref.stop()
    assert "DB loaded from append only file" in ref.log


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_ember_loads_redis_appendonlydir(tmp_path, preamble):
    ref = start_redis(tmp_path, "--aof-use-rdb-preamble", preamble)
    try:
        client = redis.Redis(port=ref.port)
        fill(client)
        client.execute_command("BGREWRITEAOF")
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] == 1)
        client.set("after", "rewrite")
        client.expire("str", 3000)
        expected = snapshot(client)
    finally:
        ref.stop()
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "appendonlydir", copy / "appendonlydir")
    ember = start_ember(copy, "--aof-use-rdb-preamble", preamble)
    try:
        client = redis.Redis(port=ember.port)
        assert snapshot(client) == expected
        client.set("written-by-ember", "1")       # and ember goes on appending to it
    finally:
        ember.stop()
    ref = start_redis(copy)
    try:
        assert redis.Redis(port=ref.port).get("written-by-ember") == b"1"
    finally:
        ref.stop()


@pytest.mark.parametrize("appendonly", ["yes", "no"])
def test_info_persistence_has_redis_fields_in_redis_order(tmp_path, appendonly):
    names = []
    for kind, starter in (("redis", start_redis), ("ember", start_ember)):
        (tmp_path / kind).mkdir()
        server = starter(tmp_path / kind, "--appendonly", appendonly)
        try:
            info = redis.Redis(port=server.port).info("persistence")
        finally:
            server.stop()
        names.append(list(info))            # field names, in the order the server sent
    assert names[0] == names[1]

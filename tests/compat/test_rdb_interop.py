"""RDB files across servers: ember writes -> redis-server 7.0 loads, and redis-server
7.0 writes (every compact encoding it uses) -> ember loads; compared key by key."""

import os
import tempfile
import time

import pytest
import redis

from ember.persistence.rdb import load_rdb, write_rdb
from ember.storage.keyspace import Database
from ember.storage.types.hash import HashValue
from ember.storage.types.list import ListValue
from ember.storage.types.set import SetValue
from ember.storage.types.zset import ZSet
from tests.servers import redis_server_path, require_redis, start_redis
from tests.unit.harness import START_MS, Harness

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module", autouse=True)
def _need_redis():
    if redis_server_path() is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed")


def ember_view(value):
    """(type, comparable contents) of an ember value."""
    if isinstance(value, (bytes, bytearray)):
        return "string", bytes(value)
    if isinstance(value, ListValue):
        return "list", list(value.items)
    if isinstance(value, SetValue):
        return "set", set(value)
    if isinstance(value, ZSet):
        return "zset", dict(value.scores)
    if isinstance(value, HashValue):
        return "hash", dict(value.fields)
    raise AssertionError(f"unexpected value {value!r}")


def redis_view(client, key):
    """(type, comparable contents) of a key read from a server with redis-py."""
    kind = client.type(key).decode()
    if kind == "string":
        return kind, client.get(key)
    if kind == "list":
        return kind, client.lrange(key, 0, -1)
    if kind == "set":
        return kind, client.smembers(key)
    if kind == "zset":
        return kind, dict(client.zrange(key, 0, -1, withscores=True))
    if kind == "hash":
        return kind, client.hgetall(key)
    raise AssertionError(f"unexpected type {kind}")


def populate(run, big: int = 600):
    """Every type in small and large encodings, with TTLs, via commands."""
    run("SET", "str", "hello")
    run("SET", "int", "12345")
    run("SET", "neg", "-7")
    run("SET", "bigint", "123456789012345")
    run("SET", "long", "x" * 300)
    run("SET", "compressible", "abc" * 200)
    run("SET", "empty", "")
    run("SET", "ttl", "v", "PX", "3600000")
    run("RPUSH", "list", "a", "1", "-2", "300000", "b" * 70)
    run("RPUSH", "biglist", *[f"item{i}" for i in range(big)])
    run("RPUSH", "hugeitem", "z" * 10000, "small")
    run("SADD", "intset", "1", "2", "3", "-100", "99999999999")
    run("SADD", "lpset", "a", "b", "1")
    run("SADD", "bigset", *[f"m{i}" for i in range(big)])
    run("ZADD", "zset", "1", "a", "2.5", "b", "-3", "c", "inf", "d")
    run("ZADD", "bigzset", *[x for i in range(big) for x in (str(i / 7), f"m{i}")])
    run("HSET", "hash", "f1", "v1", "f2", "2", "f3", "")
    run("HSET", "bighash", *[x for i in range(big) for x in (f"f{i}", f"v{i}")])
    run("HSET", "longhash", "f", "v" * 100)
    run("EXPIRE", "hash", "1000")
    run("SELECT", "3")
    run("SET", "indb3", "yes")
    run("SELECT", "0")


def test_redis_loads_what_ember_wrote():
    h = Harness()
    h.now = int(time.time() * 1000)      # redis-server drops keys already expired
    h.engine.tick()
    populate(h)
    tmp = tempfile.mkdtemp(prefix="rdb-interop-")
    with open(os.path.join(tmp, "dump.rdb"), "wb") as f:
        write_rdb(f.write, h.engine.dbs)
    server = start_redis("--dir", tmp, "--dbfilename", "dump.rdb")
    try:
        client = redis.Redis(port=server.port)
        for db in h.engine.dbs:
            if not db.data:
                continue
            client.execute_command("SELECT", db.id)
            assert client.dbsize() == len(db.data)
            for key, value in db.data.items():
                assert redis_view(client, key) == ember_view(value), key
                deadline = db.expires.get(key)
                if deadline is None:
                    assert client.pttl(key) == -1
                else:
                    assert client.pexpiretime(key) == deadline
        client.close()
    finally:
        server.stop()


def test_ember_loads_what_redis_wrote():
    server = start_redis()
    try:
        client = redis.Redis(port=server.port)
        populate(client.execute_command)
        client.save()
        path = os.path.join(client.config_get("dir")["dir"], "dump.rdb")
        expected = {}
        deadlines = {}
        for dbid in (0, 3):
            client.execute_command("SELECT", dbid)
            for key in client.keys("*"):
                expected[dbid, key] = redis_view(client, key)
                deadlines[dbid, key] = client.pexpiretime(key)
        client.close()
    finally:
        server.stop()
    dbs = [Database(i, lambda: START_MS) for i in range(16)]
    with open(path, "rb") as f:
        aux = load_rdb(f.read, dbs)
    assert aux["redis-ver"].startswith(b"7.")
    got = {(db.id, key): ember_view(value) for db in dbs for key, value in db.data.items()}
    assert got == expected
    for (dbid, key), deadline in deadlines.items():
        assert dbs[dbid].expires.get(key, -1) == deadline

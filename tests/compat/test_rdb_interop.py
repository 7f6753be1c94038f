"""RDB files across servers: ember writes -> redis-server 7.0 loads, and redis-server
7.0 writes (every compact encoding it uses) -> ember loads; compared key by key."""

import os
import tempfile
import time

import pytest
import redis

from ember.errors import ReplyError
from ember.persistence.rdb import load_rdb, write_rdb
from ember.protocol.encoder import encode
from ember.protocol.reader import ReplyReader
from ember.storage.types.hash import HashValue
from ember.storage.types.list import ListValue
from ember.storage.types.set import SetValue
from ember.storage.types.stream import StreamValue
from ember.storage.types.zset import ZSet
from tests.rawclient import RawClient
from tests.servers import redis_server_path, require_redis, start_redis
from tests.unit.harness import Harness

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
    if isinstance(value, StreamValue):
        return "stream", (sorted(value.entries.items()), value.last_id, value.first_id,
                          value.max_deleted_id, value.entries_added, len(value.groups))
    raise AssertionError(f"unexpected value {value!r}")


def report(call, key) -> list:
    """What the server says about ``key``: type, contents (order-free where Redis's order
    is unspecified), PEXPIRETIME, and for streams their groups and pending entries.
    ``call(*args)`` returns a parsed RESP2 reply."""
    kind = call("TYPE", key)
    out = [kind, call("PEXPIRETIME", key)]
    if kind == "string":
        out.append(call("GET", key))
    elif kind == "list":
        out.append(call("LRANGE", key, 0, -1))
    elif kind == "set":
        out.append(sorted(call("SMEMBERS", key)))
    elif kind == "zset":
        flat = call("ZRANGE", key, 0, -1, "WITHSCORES")
        # scores as numbers: Redis 7.0 prints %.17g, 7.2 the shortest round-trip text
        out.append([(m, float(score)) for m, score in zip(flat[0::2], flat[1::2])])
    elif kind == "hash":
        flat = call("HGETALL", key)
        out.append(sorted(zip(flat[0::2], flat[1::2])))
    elif kind == "stream":
        out.append(call("XRANGE", key, "-", "+"))
        out.append(call("XLEN", key))
        groups = call("XINFO", "GROUPS", key)
        out.append(groups)
        for group in groups:
            name = group[1]
            out.append(call("XPENDING", key, name))
            pending = call("XPENDING", key, name, "-", "+", 1000)
            out.append([[p[0], p[1], p[3]] for p in pending])      # no idle time
    return out


def ember_caller(h):
    """call(*args) on a Harness, replies parsed from their RESP2 bytes as a server's."""
    def call(*args):
        try:
            reply = h(*args)
        except ReplyError as exc:
            reply = exc
        reader = ReplyReader()
        reader.feed(encode(reply))
        return _plain(reader.get())
    return call


def redis_caller(client: RawClient):
    return lambda *args: _plain(client.call(*args))


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "decode") and not isinstance(value, (bytes, bytearray)):
        return str(value)
    return value


def keyspace_report(call, dbids) -> dict:
    """report() for every key of the given databases, by (db, key)."""
    out = {}
    for dbid in dbids:
        call("SELECT", dbid)
        for key in call("KEYS", "*"):
            out[dbid, key] = report(call, key)
    call("SELECT", 0)
    return out


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
    run("RPUSH", "multinode", *[f"element-{i}" for i in range(5 * big)])   # several nodes
    run("SADD", "intset", "1", "2", "3", "-100", "99999999999")
    run("SADD", "lpset", "a", "b", "1")
    run("SADD", "bigset", *[f"m{i}" for i in range(big)])
    run("ZADD", "zset", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e")
    run("ZADD", "bigzset", *[x for i in range(big) for x in (str(i / 7), f"m{i}")])
    run("HSET", "hash", "f1", "v1", "f2", "2", "f3", "")
    run("HSET", "bighash", *[x for i in range(big) for x in (f"f{i}", f"v{i}")])
    run("HSET", "longhash", "f", "v" * 100)
    run("EXPIRE", "hash", "1000")
    for i in range(1, 301):
        fields = ("a", str(i), "b", "x" * (i % 5)) if i % 3 else ("other", str(-i))
        run("XADD", "stream", f"{i}-{i % 4}", *fields)
    run("XDEL", "stream", "5-1", "6-2", "250-2")
    run("XGROUP", "CREATE", "stream", "g1", "0")
    run("XGROUP", "CREATE", "stream", "g2", "$")
    run("XGROUP", "CREATE", "stream", "g3", "100-0")
    run("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "stream", ">")
    run("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "stream", ">")
    run("XACK", "stream", "g1", "1-1", "3-3")
    run("XGROUP", "CREATECONSUMER", "stream", "g2", "idle")
    run("XADD", "emptystream", "1-1", "f", "v")
    run("XDEL", "emptystream", "1-1")
    run("XGROUP", "CREATE", "mkstream", "g", "$", "MKSTREAM")
    run("SELECT", "3")
    run("SET", "indb3", "yes")
    run("SELECT", "0")


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "lzf"])
def test_redis_loads_what_ember_wrote(compress):
    h = Harness()
    h.now = int(time.time() * 1000)      # redis-server drops keys already expired
    h.engine.tick()
    populate(h)
    tmp = tempfile.mkdtemp(prefix="rdb-interop-")
    with open(os.path.join(tmp, "dump.rdb"), "wb") as f:
        write_rdb(f.write, h.engine.dbs, compress=compress)
    server = start_redis("--dir", tmp, "--dbfilename", "dump.rdb")
    try:
        client = RawClient(server.port)
        got = keyspace_report(redis_caller(client), (0, 3))
        client.close()
    finally:
        server.stop()
    expected = keyspace_report(ember_caller(h), (0, 3))
    assert len(expected) == 24
    assert got == expected


def test_ember_loads_what_redis_wrote():
    server = start_redis()
    try:
        client = redis.Redis(port=server.port)
        populate(client.execute_command)
        client.save()
        path = os.path.join(client.config_get("dir")["dir"], "dump.rdb")
        client.close()
        raw = RawClient(server.port)
        expected = keyspace_report(redis_caller(raw), (0, 3))
        raw.close()
    finally:
        server.stop()
    h = Harness()
    with open(path, "rb") as f:
        aux = load_rdb(f.read, h.engine.dbs)
    assert aux["redis-ver"].startswith(b"7.")
    assert keyspace_report(ember_caller(h), (0, 3)) == expected

"""Replication between ember and a real redis-server 7.0, in both directions.

After a mixed write load (every type, TTLs, MULTI, scripts, expiry, eviction) on the
primary, the replica holds the same keyspace: every key's type, value and absolute expiry
(PEXPIRETIME) compared. Real processes, Redis's own replication protocol.
"""

import random

import pytest

from tests.integration.test_replication_common import (
    FAST,
    client,
    ember,
    info,
    offsets_equal,
    snapshot,
)
from tests.rawclient import RawClient, encode_command
from tests.servers import redis_server_path, require_redis, start_redis, wait_until

pytestmark = pytest.mark.compat


@pytest.fixture(autouse=True)
def _need_redis():
    if redis_server_path() is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed")


def mixed_load(conn, rounds: int = 300, seed: int = 7) -> None:
    """Writes of every type, relative and absolute TTLs, MULTI, scripts, several dbs."""
    rnd = random.Random(seed)
    conn.execute_command("SELECT", 0)
    for i in range(rounds):
        k = "k%d" % rnd.randrange(60)
        op = rnd.randrange(22)
        if op == 0:
            conn.set("s" + k, rnd.randrange(1000))
        elif op == 1:
            conn.incrby("n" + k, rnd.randrange(-5, 9))
        elif op == 2:
            conn.append("s" + k, "xy")
        elif op == 3:
            conn.rpush("l" + k, *[rnd.randrange(100) for _ in range(rnd.randrange(1, 4))])
        elif op == 4:
            conn.lpop("l" + k)
        elif op == 5:
            conn.sadd("set" + k, *[rnd.randrange(50) for _ in range(3)])
        elif op == 6:
            conn.srem("set" + k, rnd.randrange(50))
        elif op == 7:
            conn.zadd("z" + k, {str(rnd.randrange(40)): rnd.random() * 100})
        elif op == 8:
            conn.zincrby("z" + k, 1.5, str(rnd.randrange(40)))
        elif op == 9:
            conn.hset("h" + k, "f%d" % rnd.randrange(10), rnd.randrange(99))
        elif op == 10:
            conn.hincrbyfloat("h" + k, "float", 0.25)
        elif op == 11:
            conn.xadd("x" + k, {"a": i}, id="%d-%d" % (1000 + i, 1))
        elif op == 12:
            conn.pfadd("hll" + k, *["e%d" % rnd.randrange(500) for _ in range(5)])
        elif op == 13:
            conn.set("t" + k, i, ex=rnd.randrange(100, 1000))
        elif op == 14:
            conn.expire("s" + k, rnd.randrange(100, 1000))
        elif op == 15:
            conn.persist("s" + k)
        elif op == 16:
            conn.set("gone" + k, i, px=rnd.randrange(1, 30))      # expires during the load
        elif op == 17:
            with conn.pipeline(transaction=True) as tx:
                tx.incr("m" + k).rpush("ml" + k, i).expire("m" + k, 500).execute()
        elif op == 18:
            conn.eval("redis.call('hset', KEYS[1], 'lua', ARGV[1]);"
                      "return redis.call('incr', KEYS[2])", 2, "h" + k, "n" + k, i)
        elif op == 19:
            conn.execute_command("SELECT", rnd.randrange(3))
            conn.set("db" + k, i)
            conn.execute_command("SELECT", 0)
        elif op == 20:
            conn.delete("l" + k, "s" + k)
        else:
            conn.execute_command("GETEX", "t" + k, "PX", rnd.randrange(1000, 5000))
    # The short TTLs pass (expiry is part of the load): reads expire them lazily and the
    # primary propagates DELs.
    assert wait_until(lambda: not conn.exists(*["gonek%d" % i for i in range(60)]))


def same_keyspaces(primary_server, replica_server, primary, replica) -> None:
    assert offsets_equal(primary, replica, 15)
    left, right = snapshot(primary_server), snapshot(replica_server)
    assert left.keys() == right.keys()
    assert left == right


def test_redis_replicates_from_ember():
    primary_server = ember()
    p = client(primary_server)
    p.set("seed", "before-sync")
    p.rpush("seedlist", *range(20))
    p.set("seedttl", "v", px=900_000)
    replica_server = start_redis("--replicaof", "127.0.0.1", str(primary_server.port))
    r = client(replica_server)
    try:
        assert wait_until(lambda: info(r).get("master_link_status") == "up", 10)
        mixed_load(p)
        same_keyspaces(primary_server, replica_server, p, r)
        assert info(p)["slave0"].startswith("ip=127.0.0.1,port=%d,state=online"
                                            % replica_server.port)
    finally:
        r.close()
        p.close()
        replica_server.stop()
        primary_server.stop()


def test_ember_replicates_from_redis():
    primary_server = start_redis("--repl-diskless-sync-delay", "0")
    p = client(primary_server)
    p.set("seed", "before-sync")
    p.rpush("seedlist", *range(20))          # listpack/quicklist encodings in the RDB
    p.hset("seedhash", mapping={"a": 1, "b": 2})
    p.zadd("seedz", {"a": 1, "b": 2.5})
    p.sadd("seedints", 1, 2, 3)
    p.sadd("seedset", "a", "b")
    p.set("seedttl", "v", px=900_000)
    replica_server = ember("--replicaof", "127.0.0.1", str(primary_server.port))
    r = client(replica_server)
    try:
        assert wait_until(lambda: info(r).get("master_link_status") == "up", 10)
        mixed_load(p)
        same_keyspaces(primary_server, replica_server, p, r)
    finally:
        r.close()
        p.close()
        replica_server.stop()
        primary_server.stop()


@pytest.mark.parametrize("direction", ["ember->redis", "redis->ember"])
def test_eviction_is_replicated_as_del(direction):
    """maxmemory on the primary: evicted keys reach the replica as DELs."""
    if direction == "ember->redis":
        primary_server = ember()
        make_replica = start_redis
    else:
        primary_server = start_redis(*FAST)
        make_replica = ember
    p = client(primary_server)
    replica_server = make_replica("--replicaof", "127.0.0.1", str(primary_server.port))
    r = client(replica_server)
    try:
        assert wait_until(lambda: info(r).get("master_link_status") == "up", 10)
        used = int(info(p, "memory")["used_memory"])
        p.config_set("maxmemory-policy", "allkeys-random")
        p.config_set("maxmemory", used + 2_000_000)
        for i in range(4000):
            p.set("fill%d" % i, "x" * 1000)
        assert int(info(p, "stats")["evicted_keys"]) > 0
        p.config_set("maxmemory", 0)
        same_keyspaces(primary_server, replica_server, p, r)
    finally:
        r.close()
        p.close()
        replica_server.stop()
        primary_server.stop()


def test_replication_command_errors_match(compat):
    """Argument errors of the replication commands, byte for byte (a lone primary)."""
    compat.script([
        ("FAILOVER",), ("FAILOVER", "ABORT"), ("FAILOVER", "TIMEOUT", "0"),
        ("FAILOVER", "TIMEOUT", "x"), ("FAILOVER", "BOGUS"), ("FAILOVER", "TO", "h", "x"),
        ("FAILOVER", "FORCE"),
        ("WAIT", "x", "0"), ("WAIT", "0", "-1"), ("WAIT", "0", "x"), ("WAIT", "0", "0"),
        ("WAIT", "1"),
        ("REPLCONF", "listening-port"), ("REPLCONF", "bogus", "1"),
        ("REPLCONF", "listening-port", "x"), ("REPLCONF", "capa", "eof"),
        ("REPLICAOF", "h", "x"), ("REPLICAOF", "NO", "ONE"), ("SLAVEOF", "no", "one"),
        ("REPLICAOF", "h"), ("PSYNC", "?"), ("ROLE", "x"),
        ("PSYNC", "?", "-1", "FAILOVER"),
    ])


def test_wait_and_getack_across_implementations():
    """WAIT on a redis-server primary counts an ember replica (REPLCONF GETACK -> ACK), and
    WAIT on an ember primary counts a redis-server replica."""
    for make_primary, make_replica in ((lambda: start_redis(*FAST), ember),
                                       (ember, start_redis)):
        primary_server = make_primary()
        replica_server = make_replica("--replicaof", "127.0.0.1", str(primary_server.port))
        p = client(primary_server)
        try:
            assert wait_until(lambda c=p: "state=online" in info(c).get("slave0", ""), 10)
            p.set("k", "v")
            assert p.execute_command("WAIT", 1, 5000) == 1
            assert p.execute_command("WAIT", 2, 50) == 1
        finally:
            p.close()
            replica_server.stop()
            primary_server.stop()


def test_publish_on_ember_reaches_a_redis_replicas_subscribers():
    primary_server = ember()
    replica_server = start_redis("--replicaof", "127.0.0.1", str(primary_server.port))
    p, r = client(primary_server), client(replica_server)
    try:
        assert wait_until(lambda: info(r).get("master_link_status") == "up", 10)
        sub = r.pubsub()
        sub.subscribe("news")
        assert sub.get_message(timeout=5)["type"] == "subscribe"
        p.publish("news", "hello")
        message = sub.get_message(timeout=5)
        assert message is not None and message["data"] == b"hello"
        sub.close()
    finally:
        p.close()
        r.close()
        replica_server.stop()
        primary_server.stop()


@pytest.mark.parametrize("direction", ["ember->redis", "redis->ember"])
def test_failover_across_implementations(direction):
    """FAILOVER on one implementation hands the primary role to the other (PSYNC ...
    FAILOVER, +CONTINUE), and the data follows."""
    make_primary, make_replica = ((ember, start_redis) if direction == "ember->redis"
                                  else (lambda *a: start_redis(*FAST, *a), ember))
    primary_server = make_primary()
    p = client(primary_server)
    p.set("before", "1")
    replica_server = make_replica("--replicaof", "127.0.0.1", str(primary_server.port))
    r = client(replica_server)
    try:
        assert offsets_equal(p, r)
        assert wait_until(lambda: "state=online" in info(p).get("slave0", ""), 10)
        assert p.execute_command("FAILOVER") == b"OK"
        assert wait_until(lambda: info(r)["role"] == "master"
                          and info(p).get("master_link_status") == "up", 15)
        r.set("after", "2")
        assert offsets_equal(r, p)
        assert p.get("after") == b"2" and r.get("before") == b"1"
    finally:
        p.close()
        r.close()
        replica_server.stop()
        primary_server.stop()


def test_chain_ember_redis_ember_and_promotion_in_the_middle():
    """ember -> redis-server -> ember: the relayed stream and the middle's RDB reach the
    end of the chain; promoting the middle keeps the end on a partial resync (PSYNC2)."""
    top = ember()
    t = client(top)
    t.set("seed", "1")
    middle = start_redis("--replicaof", "127.0.0.1", str(top.port), *FAST)
    m = client(middle)
    assert wait_until(lambda: info(m).get("master_link_status") == "up", 10)
    end = ember("--replicaof", "127.0.0.1", str(middle.port))
    e = client(end)
    try:
        mixed_load(t, rounds=150)
        assert offsets_equal(t, m, 15) and offsets_equal(m, e, 15)
        assert snapshot(top) == snapshot(middle) == snapshot(end)
        m.execute_command("REPLICAOF", "NO", "ONE")
        m.set("promoted", "yes")
        assert offsets_equal(m, e, 15)
        assert e.get("promoted") == b"yes"
        assert int(info(m, "stats")["sync_partial_ok"]) >= 1
    finally:
        for conn in (t, m, e):
            conn.close()
        for server in (end, middle, top):
            server.stop()


def test_scripts_cannot_write_on_a_read_only_replica():
    """EVAL/EVALSHA/FCALL on a read-only replica: the same replies and READONLY errors
    from ember's replica as from redis-server's."""
    library = "#!lua name=lib\nredis.register_function('w', function() " \
              "return redis.call('set', 'x', '1') end)\nredis.register_function{" \
              "function_name='r', callback=function() return redis.call('get', 'k') end, " \
              "flags={'no-writes'}}"
    commands = [
        ("EVAL", "return redis.call('set', 'x', '1')", "0"),
        ("EVAL", "return redis.call('get', 'k')", "0"),
        ("EVAL", "#!lua\nreturn redis.call('get', 'k')", "0"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"),
        ("EVALSHA", "a22335312368ca3ce990a8254cce543809e8ea73", "0"),
        ("FCALL", "w", "0"), ("FCALL", "r", "0"), ("FCALL_RO", "r", "0"),
        ("SET", "x", "1"),
    ]
    replies = []
    for make in (lambda *a: start_redis(*FAST, *a), ember):
        primary_server = make()
        p = client(primary_server)
        p.set("k", "v")
        p.function_load(library)
        p.script_load("return redis.call('set', 'x', '1')")
        replica_server = make("--replicaof", "127.0.0.1", str(primary_server.port))
        try:
            assert offsets_equal(p, client(replica_server))
            raw = RawClient(replica_server.port)
            got = []
            for command in commands:
                raw.send(encode_command(*command))
                got.append(raw.read_raw())
            raw.close()
            replies.append(got)
        finally:
            p.close()
            replica_server.stop()
            primary_server.stop()
    for command, from_redis, from_ember in zip(commands, *replies):
        assert from_ember == from_redis, command
    assert replies[1][0].startswith(b"-READONLY You can't write against a read only replica.")
    assert replies[1][5] == b"-READONLY You can't write against a read only replica.\r\n"

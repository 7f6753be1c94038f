"""maxmemory over TCP: every policy under a writer adding three times maxmemory, OOM,
the ``evicted`` event, MULTI, and other clients kept answering while keys go."""

import pytest
import redis

from tests.servers import LatencyProbe, start_ember

POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
            "volatile-lfu", "volatile-random", "volatile-ttl"]
LIMIT = 2 * 1024 * 1024
VALUE = b"v" * 1000


@pytest.fixture(scope="module")
def server():
    proc = start_ember("--maxmemory-policy", "allkeys-lru")
    yield proc
    proc.stop()


@pytest.fixture
def m(server):
    client = redis.Redis(port=server.port)
    client.config_set("maxmemory", 0)
    client.flushall()
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("notify-keyspace-events", "")
    client.config_resetstat()
    yield client
    client.config_set("maxmemory", 0)
    client.flushall()
    client.close()


def _used(client) -> int:
    return client.info("memory")["used_memory"]


def _write(client, prefix: str, total_bytes: int, ttl=None, batch: int = 200) -> int:
    """Pipelined SETs of ``total_bytes`` worth of values; returns how many were refused."""
    refused = 0
    n = total_bytes // len(VALUE)
    for start in range(0, n, batch):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + batch)):
            pipe.set("%s:%d" % (prefix, i), VALUE, ex=ttl)
        for reply in pipe.execute(raise_on_error=False):
            if isinstance(reply, redis.ResponseError):
                assert str(reply) == ("command not allowed when used memory > "
                                      "'maxmemory'."), reply
                refused += 1
    return refused


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_keeps_memory_at_the_limit(m, policy):
    volatile = policy.startswith("volatile-")
    m.config_set("maxmemory-policy", policy)
    m.config_set("maxmemory", LIMIT)
    m.set("persistent", b"p" * 100)                 # no TTL: only allkeys-* may take it
    refused = _write(m, "k", 3 * LIMIT, ttl=3600 if volatile else None)
    used = _used(m)
    assert used <= LIMIT * 1.05, (policy, used)
    assert used >= LIMIT * 0.9, (policy, used)
    evicted = m.info("stats")["evicted_keys"]
    if policy == "noeviction":
        assert refused > 0 and evicted == 0
        assert m.get("k:0") == VALUE                # reads still served
        assert m.get("persistent") == b"p" * 100
    else:
        assert refused == 0 and evicted > 0
        assert m.dbsize() < 3 * LIMIT // len(VALUE)
    if volatile:
        assert m.get("persistent") == b"p" * 100
    if policy.endswith("-lru") or policy == "volatile-ttl":
        n = 3 * LIMIT // len(VALUE)
        assert m.exists("k:%d" % (n - 1)) and not m.exists("k:0")


def test_volatile_policy_without_volatile_keys_is_oom(m):
    m.config_set("maxmemory-policy", "volatile-lru")
    m.config_set("maxmemory", LIMIT)
    refused = _write(m, "k", 2 * LIMIT)
    assert refused > 0
    assert m.info("stats")["evicted_keys"] == 0
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        m.lpush("list", "x")
    assert m.llen("list") == 0                       # a read is not denyoom
    assert m.delete("k:0") == 1


def test_evicted_event_and_multi(m, server):
    m.config_set("notify-keyspace-events", "Ee")
    sub = redis.Redis(port=server.port).pubsub()
    sub.psubscribe("__keyevent@0__:evicted")
    assert sub.get_message(timeout=2)["type"] == "psubscribe"
    m.config_set("maxmemory-policy", "allkeys-lru")
    m.set("first", VALUE)
    m.config_set("maxmemory", _used(m) + 2000)
    for i in range(10):
        m.set("k:%d" % i, VALUE)
    message = sub.get_message(timeout=2)
    assert message["channel"] == b"__keyevent@0__:evicted" and message["data"] == b"first"
    sub.close()
    m.config_set("maxmemory-policy", "noeviction")
    pipe = m.pipeline(transaction=True)
    pipe.set("more", VALUE * 10)
    pipe.set("more2", VALUE * 10)
    pipe.execute()                                   # under the limit when queued: runs
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        m.set("again", VALUE)
    with pytest.raises(redis.ResponseError):      # queuing refused, EXEC aborted
        pipe = m.pipeline(transaction=True)
        pipe.set("in-multi", "v")
        pipe.execute()
    assert not m.exists("in-multi")


def test_eviction_does_not_stall_other_clients(m, server):
    m.config_set("maxmemory-policy", "allkeys-lru")
    _write(m, "k", 8 * 1024 * 1024)                  # 8,000 keys, no limit yet
    with LatencyProbe(server.port) as probe:
        m.config_set("maxmemory", 2 * 1024 * 1024)   # most keys must go
        for i in range(300):
            m.set("new:%d" % i, VALUE)
    assert _used(m) <= 2 * 1024 * 1024 * 1.05
    assert probe.worst < 0.25, probe.worst           # generous: a shared, loaded machine


def test_info_memory_fields(m):
    m.config_set("maxmemory", "100mb")
    info = m.info("memory")
    for field in ("used_memory", "used_memory_human", "used_memory_peak",
                  "used_memory_dataset", "maxmemory", "maxmemory_policy",
                  "mem_fragmentation_ratio"):
        assert field in info
    assert info["maxmemory"] == 100 * 1024 * 1024
    before = info["used_memory"]
    m.set("big", b"x" * 100_000)
    assert 100_000 < _used(m) - before < 101_000
    assert 100_000 < m.memory_usage("big") < 101_000
    m.delete("big")
    assert _used(m) == before

"""ember replicating ember: full sync, the command stream, PSYNC, WAIT, INFO and ROLE.

Real ember-server processes talking Redis's replication protocol over TCP.
"""

import signal
import time

import pytest
import redis

from tests.integration.test_replication_common import client, ember, info, offsets_equal, snapshot
from tests.rawclient import RawClient, encode_command
from tests.servers import ServerProcess, wait_until


@pytest.fixture
def pair():
    """An ember primary with a little data, and an ember replica of it, in sync."""
    primary = ember("--enable-debug-command", "yes")
    p = client(primary)
    p.set("before", "sync")
    p.rpush("list", "a", "b", "c")
    p.set("ttl", "v", px=500_000)
    p.function_load("#!lua name=before\nredis.register_function{function_name='f', "
                    "callback=function() return 1 end, flags={'no-writes'}}")
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    r = client(replica)
    assert offsets_equal(p, r)
    yield primary, replica, p, r
    p.close()
    r.close()
    replica.stop()
    primary.stop()


def test_full_sync_then_stream(pair):
    primary, replica, p, r = pair
    assert r.get("before") == b"sync"
    assert r.lrange("list", 0, -1) == [b"a", b"b", b"c"]
    assert r.fcall("f", 0) == 1                      # libraries travel in the RDB
    p.hset("h", mapping={"f": "1", "g": "2"})
    p.incr("counter")
    p.expire("counter", 1000)
    p1 = client(primary, 5)
    p1.sadd("s", "x")
    with p.pipeline(transaction=True) as tx:
        tx.set("m1", "1").set("m2", "2").execute()
    p.eval("redis.call('set', KEYS[1], 'lua'); redis.call('lpush', 'list', 'z')", 1, "sk")
    assert offsets_equal(p, r)
    assert snapshot(primary) == snapshot(replica)


def test_replica_is_read_only_and_reports_its_role(pair):
    primary, replica, p, r = pair
    raw = RawClient(replica.port)
    raw.send(encode_command("SET", "x", "1"))
    assert raw.read_raw() == b"-READONLY You can't write against a read only replica.\r\n"
    raw.close()
    assert r.get("before") == b"sync"      # reads are fine
    role = r.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", primary.port, b"connected"]
    fields = info(r)
    assert fields["role"] == "slave"
    assert fields["master_port"] == str(primary.port)
    assert fields["master_link_status"] == "up"
    assert fields["slave_read_only"] == "1"
    pinfo = info(p)
    assert pinfo["connected_slaves"] == "1"
    assert "port=%d,state=online" % replica.port in pinfo["slave0"]
    assert pinfo["master_replid"] == fields["master_replid"]
    prole = p.execute_command("ROLE")
    assert prole[0] == b"master" and prole[2][0][1] == str(replica.port).encode()
    r.config_set("replica-read-only", "no")
    assert r.set("local", 1)


def test_expired_keys_stay_until_the_primarys_del(pair):
    primary, replica, p, r = pair
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    p.set("short", "v", px=50)
    assert offsets_equal(p, r)
    assert wait_until(lambda: r.get("short") is None)   # logically expired on the replica
    assert r.dbsize() == 4                               # but still there
    assert p.get("short") is None                        # the primary expires it: DEL
    assert offsets_equal(p, r)
    assert wait_until(lambda: r.dbsize() == 3)


def test_partial_resync_after_the_link_drops(pair):
    primary, replica, p, r = pair
    for i in range(100):
        p.set("k%d" % i, i)
    assert offsets_equal(p, r)
    full = int(p.info("stats")["sync_full"])
    p.client_kill_filter(_type="replica")
    for i in range(100, 150):              # written while the replica is away
        p.set("k%d" % i, i)
    assert offsets_equal(p, r)
    stats = p.info("stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == full
    assert snapshot(primary) == snapshot(replica)


def test_wait_counts_replicas_that_acked(pair):
    primary, replica, p, r = pair
    p.set("w", 1)
    assert p.execute_command("WAIT", 1, 2000) == 1
    assert p.execute_command("WAIT", 2, 100) == 1        # only one replica: times out
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica"):
        r.execute_command("WAIT", 1, 0)


def test_wait_waits_for_the_callers_own_last_write(pair):
    """WAIT's target is the offset right after the calling client's last write (Redis's
    c->woff): writes of other clients made later do not make it wait."""
    primary, replica, p, r = pair
    other = client(primary)
    p.set("mine", 1)
    assert p.execute_command("WAIT", 1, 5000) == 1         # acked up to my write
    replica.proc.send_signal(signal.SIGSTOP)                # no more ACKs from now on
    try:
        other.set("theirs", 1)                              # the stream moves on
        assert other.execute_command("WAIT", 1, 200) == 0   # not acked: times out
        started = time.monotonic()
        assert p.execute_command("WAIT", 1, 3000) == 1      # mine still is: at once
        assert time.monotonic() - started < 1.5
        with p.pipeline(transaction=True) as tx:            # a transaction's writes
            tx.set("tx", 1).incr("n").execute()
        assert p.execute_command("WAIT", 1, 100) == 0       # count as mine
        third = client(primary)
        third.eval("redis.call('set', KEYS[1], 'v')", 1, "lua")   # and a script's
        assert third.execute_command("WAIT", 1, 100) == 0
        third.close()
    finally:
        replica.proc.send_signal(signal.SIGCONT)
    assert p.execute_command("WAIT", 1, 5000) == 1
    other.close()


def test_mem_replication_backlog_reports_the_backlog(pair):
    primary, replica, p, r = pair
    for i in range(50):
        p.set("m%d" % i, "x" * 100)
    assert offsets_equal(p, r)
    held = int(info(p, "memory")["mem_replication_backlog"])
    assert held >= int(info(p)["repl_backlog_histlen"]) > 5000
    alone = ember()
    try:
        assert int(info(client(alone), "memory")["mem_replication_backlog"]) == 0
    finally:
        alone.stop()


def test_replica_keeps_logically_expired_keys_of_its_rdb_at_start_up(pair):
    """Restarted from its own RDB, a replica keeps keys whose TTL passed meanwhile (as
    Redis, which drops them at load only on a primary); the primary's DEL removes them."""
    primary, replica, p, r = pair
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")    # no DEL until we ask
    p.set("short", "v", px=400)
    deadline = time.time() * 1000 + 400
    assert offsets_equal(p, r)
    r.save()
    keys = r.dbsize()
    replica.stop()
    assert wait_until(lambda: time.time() * 1000 > deadline + 50, 5)
    r.close()
    restarted = ServerProcess(replica.argv, replica.port, replica.cwd).start()
    r2 = client(restarted)
    try:
        assert r2.dbsize() == keys                  # loaded although expired
        assert r2.get("short") is None              # and invisible to reads
        assert offsets_equal(p, r2)
        assert r2.dbsize() == keys
        assert p.get("short") is None               # the primary expires it: DEL
        assert wait_until(lambda: r2.dbsize() == keys - 1)
    finally:
        r2.close()
        restarted.stop()


def test_promotion_keeps_the_history_for_the_other_replica(pair):
    primary, replica, p, r = pair
    second = ember("--replicaof", "127.0.0.1", str(replica.port))   # chained
    s = client(second)
    p.set("chained", "yes")
    assert offsets_equal(p, s)
    assert s.get("chained") == b"yes"
    old_id = info(r)["master_replid"]
    r.execute_command("REPLICAOF", "NO", "ONE")
    fields = info(r)
    assert fields["role"] == "master" and fields["master_replid2"] == old_id
    r.set("after", "promotion")
    assert offsets_equal(r, s)                           # the sub-replica continues
    assert s.get("after") == b"promotion"
    assert int(r.info("stats")["sync_partial_ok"]) >= 1
    # the old primary follows the new one with a partial resync too
    p.execute_command("REPLICAOF", "127.0.0.1", replica.port)
    assert offsets_equal(r, p)
    assert p.get("after") == b"promotion"
    assert snapshot(replica) == snapshot(second) == snapshot(primary)
    s.close()
    second.stop()


def test_min_replicas_to_write(pair):
    primary, replica, p, r = pair
    p.config_set("min-replicas-to-write", 2)
    raw = RawClient(primary.port)
    raw.send(encode_command("SET", "x", "1"))
    assert raw.read_raw() == b"-NOREPLICAS Not enough good replicas to write.\r\n"
    raw.close()
    assert p.get("before") == b"sync"
    p.config_set("min-replicas-to-write", 1)
    assert p.set("x", 1)


def test_replica_serve_stale_data_no(pair):
    primary, replica, p, r = pair
    r.config_set("replica-serve-stale-data", "no")
    assert r.get("before") == b"sync"
    primary.stop()
    assert wait_until(lambda: info(r)["master_link_status"] == "down")
    raw = RawClient(replica.port)
    raw.send(encode_command("GET", "before"))
    assert raw.read_raw() == (b"-MASTERDOWN Link with MASTER is down and "
                              b"replica-serve-stale-data is set to 'no'.\r\n")
    raw.close()
    assert r.info("server")             # INFO has the stale flag; PING has not


def test_partial_resync_continues_in_the_streams_database(pair):
    primary, replica, p, r = pair
    p3 = client(primary, 3)
    p3.set("a", 1)                          # the stream is now in db 3
    assert offsets_equal(p, r)
    p.client_kill_filter(_type="replica")
    p3.set("b", 2)                          # no SELECT: the primary is still in db 3
    assert offsets_equal(p, r)
    assert int(p.info("stats")["sync_partial_ok"]) == 1
    assert client(replica, 3).get("b") == b"2" and r.get("b") is None


def test_chained_full_sync_in_the_middle_of_a_database(pair):
    primary, replica, p, r = pair
    p5 = client(primary, 5)
    p5.set("x", 1)                          # the primary's stream is in db 5
    assert offsets_equal(p, r)
    second = ember("--replicaof", "127.0.0.1", str(replica.port))
    s = client(second)
    try:
        assert offsets_equal(p, s)
        p5.set("y", 2)                      # relayed without a SELECT
        assert offsets_equal(p, s)
        assert client(second, 5).get("y") == b"2"
        assert snapshot(primary) == snapshot(second)
    finally:
        s.close()
        second.stop()


def test_masterauth_and_announced_address():
    primary = ember("--requirepass", "s3cret")
    p = redis.Redis(port=primary.port, password="s3cret")
    p.set("secret", "data")
    replica = ember("--replicaof", "127.0.0.1", str(primary.port), "--masterauth", "s3cret",
                    "--replica-announce-ip", "10.1.2.3", "--replica-announce-port", "7777",
                    "--replica-priority", "42")
    r = client(replica)
    try:
        assert offsets_equal(p, r)
        assert r.get("secret") == b"data"
        assert info(p)["slave0"].startswith("ip=10.1.2.3,port=7777,state=online")
        role = p.execute_command("ROLE")
        assert role[2][0][:2] == [b"10.1.2.3", b"7777"]
        assert info(r)["slave_priority"] == "42"
    finally:
        p.close()
        r.close()
        replica.stop()
        primary.stop()


def test_wrong_masterauth_keeps_the_link_down():
    primary = ember("--requirepass", "s3cret")
    replica = ember("--replicaof", "127.0.0.1", str(primary.port), "--masterauth", "wrong")
    r = client(replica)
    try:
        assert wait_until(lambda: "Unable to AUTH to MASTER" in replica.log)
        assert info(r)["master_link_status"] == "down"
    finally:
        r.close()
        replica.stop()
        primary.stop()


def test_publish_reaches_subscribers_on_the_replica(pair):
    primary, replica, p, r = pair
    sub = r.pubsub()
    sub.subscribe("news")
    assert sub.get_message(timeout=5)["type"] == "subscribe"
    assert p.publish("news", "hello") == 0          # nobody listens on the primary
    message = sub.get_message(timeout=5)
    assert message is not None and message["data"] == b"hello"
    sub.close()


def test_disk_based_full_sync():
    """repl-diskless-sync no: the RDB goes through a file and is sent as $<len>."""
    primary = ember("--repl-diskless-sync", "no")
    p = client(primary)
    p.rpush("l", *range(1000))
    p.set("s", "v" * 10_000)
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    r = client(replica)
    try:
        assert offsets_equal(p, r)
        assert "target: disk" in primary.log
        assert snapshot(primary) == snapshot(replica)
    finally:
        p.close()
        r.close()
        replica.stop()
        primary.stop()


def test_client_kill_type_master_reconnects_with_a_partial_resync(pair):
    primary, replica, p, r = pair
    assert r.client_kill_filter(_type="master") == 1
    p.set("after-kill", 1)
    assert offsets_equal(p, r)
    assert r.get("after-kill") == b"1"
    assert int(p.info("stats")["sync_partial_ok"]) == 1


def test_replica_with_aof_rewrites_it_after_a_full_sync():
    """appendonly yes on a replica: the full sync's data replaces the AOF (a rewrite), so
    a restart without the primary comes back with the primary's data."""
    primary = ember()
    p = client(primary)
    p.set("from-primary", "1")
    replica = ember("--replicaof", "127.0.0.1", str(primary.port), "--appendonly", "yes")
    r = client(replica)
    try:
        assert offsets_equal(p, r)
        p.set("streamed", "2")
        assert offsets_equal(p, r)
        assert wait_until(lambda: int(info(r, "persistence")["aof_rewrites"]) >= 1
                          and info(r, "persistence")["aof_rewrite_in_progress"] == "0", 10)
        expected = snapshot(primary)
        primary.stop()
        replica.stop()
        replica = ServerProcess(replica.argv, replica.port, replica.cwd).start()
        assert snapshot(replica) == expected
    finally:
        p.close()
        r.close()
        replica.stop()
        primary.stop()

"""Replicas that go away under write load come back identical: a partial resync when the
backlog covers the gap, a full one otherwise (and after a kill -9, which loses the
replica's state: no persistence here)."""

import signal
import threading

import redis

from tests.integration.test_replication_common import client, ember, info, offsets_equal, snapshot
from tests.servers import ServerProcess, wait_until


class Writer(threading.Thread):
    """SETs and RPUSHes on the primary until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.conn = redis.Redis(port=port)
        self.stop = threading.Event()
        self.count = 0

    def run(self):
        while not self.stop.is_set():
            self.conn.set("key%d" % (self.count % 5000), self.count)
            self.conn.rpush("log", self.count)
            self.count += 1

    def finish(self):
        self.stop.set()
        self.join()
        self.conn.close()


def stats(conn) -> dict:
    return {k: int(v) for k, v in info(conn, "stats").items() if k.startswith("sync_")}


def test_gap_within_the_backlog_is_a_partial_resync_beyond_it_a_full_one():
    primary = ember("--repl-backlog-size", "16kb")
    p = client(primary)
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    r = client(replica)
    try:
        assert offsets_equal(p, r)
        for gap, expect in ((2_000, "sync_partial_ok"), (200_000, "sync_full")):
            before = stats(p)
            replica.proc.send_signal(signal.SIGSTOP)
            p.client_kill_filter(_type="replica")
            p.set("gap", "x" * gap)                 # written while the replica is away
            replica.proc.send_signal(signal.SIGCONT)
            assert offsets_equal(p, r)
            after = stats(p)
            assert after[expect] == before[expect] + 1, (gap, before, after)
            assert snapshot(primary) == snapshot(replica)
    finally:
        p.close()
        r.close()
        replica.stop()
        primary.stop()


def test_kill_9_and_restart_under_write_load():
    primary = ember()
    p = client(primary)
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    writer = Writer(primary.port)
    try:
        assert offsets_equal(p, client(replica))
        writer.start()
        assert wait_until(lambda: writer.count > 2000)
        replica.proc.send_signal(signal.SIGKILL)
        replica.proc.wait()
        assert wait_until(lambda: info(p)["connected_slaves"] == "0")
        count = writer.count
        assert wait_until(lambda: writer.count > count + 2000)     # the gap
        replica = ServerProcess(replica.argv, replica.port, replica.cwd).start()
        r = client(replica)
        assert wait_until(lambda: info(r).get("master_link_status") == "up", 10)
        count = writer.count
        assert wait_until(lambda: writer.count > count + 2000)     # catching up under load
        writer.finish()
        assert offsets_equal(p, r)
        assert snapshot(primary) == snapshot(replica)
        assert r.llen("log") == writer.count
        r.close()
    finally:
        if not writer.stop.is_set():
            writer.finish()
        p.close()
        replica.stop()
        primary.stop()


def test_restart_from_its_own_rdb_is_a_partial_resync():
    """A replica killed with SIGKILL and restarted from the RDB it saved earlier asks
    for the offset that file holds (its AUX repl-id/repl-offset) and continues."""
    primary = ember()
    p = client(primary)
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    r = client(replica)
    try:
        for i in range(200):
            p.set("k%d" % i, i)
        p.execute_command("SELECT", 2)      # the stream is in db 2 when the file is saved
        client(primary, 2).set("in2", "x")
        assert offsets_equal(p, r)
        r.save()                            # the replica's own snapshot, at this offset
        for i in range(200, 300):
            client(primary, 2).set("k%d" % i, i)     # after the save: no SELECT needed
        assert offsets_equal(p, r)
        replica.proc.send_signal(signal.SIGKILL)
        replica.proc.wait()
        for i in range(300, 400):
            client(primary, 2).set("k%d" % i, i)     # while it is down
        full = stats(p)["sync_full"]
        r.close()
        replica = ServerProcess(replica.argv, replica.port, replica.cwd).start()
        r = client(replica)
        assert offsets_equal(p, r)
        after = stats(p)
        assert after["sync_full"] == full and after["sync_partial_ok"] == 1
        assert snapshot(primary) == snapshot(replica)
    finally:
        p.close()
        r.close()
        replica.stop()
        primary.stop()

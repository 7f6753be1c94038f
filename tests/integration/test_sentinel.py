"""redis-sentinel driving ember: three real redis-sentinel processes watch an ember
primary and two ember replicas; a writer goes through redis-py's Sentinel client; the
primary is killed with SIGKILL.

Checked: a replica is promoted within down-after-milliseconds + 5 s, the writer carries on
through Sentinel, the other replica follows the new primary, the old primary rejoins as a
replica when restarted, and writes confirmed with ``WAIT 1`` are never lost (the
acknowledged-but-unconfirmed writes lost are printed).
"""

import os
import shutil
import signal
import tempfile
import threading
import time

import pytest
import redis
from redis.sentinel import Sentinel

from tests.integration.test_replication_common import info
from tests.servers import ServerProcess, ember_command, free_port, wait_until

DOWN_AFTER_MS = 2000
SENTINEL = shutil.which("redis-sentinel")

pytestmark = pytest.mark.skipif(SENTINEL is None, reason="redis-sentinel is not installed")


def start_ember_with_config(port: int, lines: list) -> ServerProcess:
    """ember-server started from a config file (CONFIG REWRITE needs one)."""
    cwd = tempfile.mkdtemp(prefix="ember-sentinel-")
    path = os.path.join(cwd, "ember.conf")
    with open(path, "w") as fh:
        fh.write("\n".join(["port %d" % port, 'save ""', "appendonly no",
                            "repl-diskless-sync-delay 0", *lines]) + "\n")
    return ServerProcess(ember_command() + [path], port, cwd).start()


class SentinelProcess(ServerProcess):
    """redis-sentinel never prints "Ready to accept connections": wait for +monitor."""

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.log_lines.append(line)
            if "+monitor master" in line:
                self._ready.set()
        self._ready.set()


def start_sentinel(primary_port: int) -> ServerProcess:
    port = free_port()
    cwd = tempfile.mkdtemp(prefix="sentinel-")
    path = os.path.join(cwd, "sentinel.conf")
    with open(path, "w") as fh:
        fh.write("\n".join([
            "port %d" % port, "bind 127.0.0.1", "daemonize no",
            "sentinel monitor mymaster 127.0.0.1 %d 2" % primary_port,
            "sentinel down-after-milliseconds mymaster %d" % DOWN_AFTER_MS,
            "sentinel failover-timeout mymaster 10000",
            "sentinel parallel-syncs mymaster 2"]) + "\n")
    server = SentinelProcess([SENTINEL, path], port, cwd)
    server.start()
    return server


def conf(server) -> str:
    with open(os.path.join(server.cwd, "ember.conf")) as fh:
        return fh.read()


def reachable(predicate) -> bool:
    """``predicate()``, False while the server is unreachable (restarting)."""
    try:
        return predicate()
    except (OSError, redis.ConnectionError):
        return False


class Writer(threading.Thread):
    """INCR-free writes of unique keys through Sentinel; records what was acknowledged
    and what ``WAIT 1`` confirmed."""

    def __init__(self, sentinel):
        super().__init__(daemon=True)
        self.sentinel = sentinel
        self.acked = []
        self.confirmed = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self):
        master = self.sentinel.master_for("mymaster", socket_timeout=0.5,
                                          socket_connect_timeout=0.5)
        i = 0
        while not self.stop.is_set():
            key = "w%d" % i
            i += 1
            try:
                master.set(key, i)
                self.acked.append(key)
                if i % 5 == 0 and master.execute_command("WAIT", 1, 200) >= 1:
                    self.confirmed.append(key)
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError,
                    redis.ResponseError):
                self.errors += 1
                time.sleep(0.05)        # back off while Sentinel reconfigures


def test_sentinel_fails_over_an_ember_group():
    servers = []
    try:
        p_port, a_port, b_port = free_port(), free_port(), free_port()
        primary = start_ember_with_config(p_port, [])
        servers.append(primary)
        replicas = [start_ember_with_config(port, ["replicaof 127.0.0.1 %d" % p_port])
                    for port in (a_port, b_port)]
        servers += replicas
        p = redis.Redis(port=p_port)
        assert wait_until(lambda: info(p)["connected_slaves"] == "2"
                          and "state=online" in info(p).get("slave1", ""), 10)
        sentinels = [start_sentinel(p_port) for _ in range(3)]
        servers += sentinels
        s0 = redis.Redis(port=sentinels[0].port, decode_responses=True)
        # Sentinels know both replicas and each other (hello messages through ember).
        assert wait_until(lambda: len(s0.sentinel_slaves("mymaster")) == 2
                          and len(s0.sentinel_sentinels("mymaster")) == 2, 20)

        writer = Writer(Sentinel([("127.0.0.1", s.port) for s in sentinels],
                                 socket_timeout=0.5))
        writer.start()
        assert wait_until(lambda: len(writer.confirmed) > 20, 10)

        killed_at = time.monotonic()
        primary.proc.send_signal(signal.SIGKILL)
        primary.proc.wait()

        def promoted():
            addr = s0.sentinel_get_master_addr_by_name("mymaster")
            return addr is not None and int(addr[1]) != p_port

        assert wait_until(promoted, DOWN_AFTER_MS / 1000 + 5, 0.05)
        failover_seconds = time.monotonic() - killed_at
        new_port = int(s0.sentinel_get_master_addr_by_name("mymaster")[1])
        other_port = a_port if new_port == b_port else b_port
        new = redis.Redis(port=new_port)
        other = redis.Redis(port=other_port)
        assert info(new)["role"] == "master"
        # The other replica follows the new primary.
        assert wait_until(lambda: info(other).get("master_port") == str(new_port)
                          and info(other).get("master_link_status") == "up", 15)
        # Sentinel's MULTI / SLAVEOF / CONFIG REWRITE / CLIENT KILL / EXEC took effect in
        # the config files too.
        by_port = {server.port: server for server in replicas}
        assert wait_until(lambda: "replicaof 127.0.0.1 %d" % new_port in conf(by_port[other_port]))
        assert "replicaof" not in conf(by_port[new_port])
        # The writer carries on through Sentinel.
        done_before = len(writer.acked)
        assert wait_until(lambda: len(writer.acked) > done_before + 50, 10)

        # The old primary comes back and is turned into a replica of the primary.
        primary._ready = threading.Event()      # wait for this start's ready line
        primary.start()
        old = redis.Redis(port=p_port)

        def current_port() -> int:
            """The primary Sentinel names now: on a loaded machine a sentinel can miss
            the new primary's PINGs for down-after-milliseconds and fail over again."""
            return int(s0.sentinel_get_master_addr_by_name("mymaster")[1])

        # Sentinel converts an instance it knows as a replica after it reported
        # role:master for 8 s (4 hello periods), seen by INFO every 10 s.
        rejoined = wait_until(lambda: reachable(lambda: info(old).get("role") == "slave"
                                                and info(old).get("master_port")
                                                == str(current_port())
                                                and info(old).get("master_link_status")
                                                == "up"), 40, 0.1)
        assert rejoined, "the old primary did not rejoin:\n%s\n%s\n%s" % (
            reachable(lambda: {k: v for k, v in info(old).items()
                               if k.startswith(("role", "master"))}),
            "".join(sentinels[0].log_lines[-40:]), "".join(primary.log_lines[-40:]))
        if current_port() != new_port:     # a second failover: follow it
            new_port, other_port = current_port(), new_port
            new, other = redis.Redis(port=new_port), redis.Redis(port=other_port)
            assert wait_until(lambda: info(other).get("master_port") == str(new_port)
                              and info(other).get("master_link_status") == "up", 15)

        writer.stop.set()
        writer.join()
        assert wait_until(lambda: info(new)["master_repl_offset"]
                          == info(other)["master_repl_offset"]
                          == info(old)["master_repl_offset"], 10)
        present = set(new.keys("w*"))
        lost = [k for k in writer.acked if k.encode() not in present]
        lost_confirmed = [k for k in writer.confirmed if k.encode() not in present]
        print("\nfailover in %.2f s; acknowledged writes %d, lost %d; WAIT-confirmed %d, "
              "lost %d; writer errors %d" % (failover_seconds, len(writer.acked), len(lost),
                                              len(writer.confirmed), len(lost_confirmed),
                                              writer.errors))
        assert lost_confirmed == []
        assert set(other.keys("w*")) == present == set(old.keys("w*"))
    finally:
        for server in servers:
            server.stop()

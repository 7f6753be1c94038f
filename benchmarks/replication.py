"""Replication measurements: ember next to redis-server, same machine, same run.

* full-sync time for N keys (default 1,000,000): REPLICAOF until the replica's link is up
  with every key loaded, for ember->ember, ember->redis, redis->ember and redis->redis;
* partial-resync bytes after a short link drop (the replica stopped for a few writes, its
  connection killed): the backlog bytes sent, next to the RDB size a full sync would send;
* primary throughput (redis-benchmark SET) with no replica and with two replicas attached,
  ember vs redis-server;
* replication lag under that load: time from a write on the primary until the replica
  serves it (probes every 50 ms), and the offset gap in bytes.

Run from the repository root: ``python benchmarks/replication.py [--keys 1000000]``.
``--only inprocess`` measures the replication path's CPU per command without sockets
(as hotpath.py does; steady on a noisy machine, and deterministic under
``valgrind --tool=callgrind`` with ``--rounds`` small and PYTHONHASHSEED fixed).
Results are printed as a Markdown table and saved under benchmarks/results/.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.servers import LatencyProbe, start_ember, start_redis, wait_until  # noqa: E402

FAST = ("--repl-diskless-sync-delay", "0")


def start(kind: str, *extra):
    """An ember or redis server with full syncs starting at once."""
    return (start_ember if kind == "ember" else start_redis)(*FAST, *extra)


def info(conn, section="replication") -> dict:
    return conn.info(section)


def populate(conn, keys: int) -> None:
    """``keys`` string keys (key:N -> value:N) in MSET batches of 1000."""
    pipe = conn.pipeline(transaction=False)
    for start_at in range(0, keys, 1000):
        pipe.mset({"key:%d" % i: "value:%d" % i for i in range(start_at,
                                                                min(start_at + 1000, keys))})
        if len(pipe) >= 50:
            pipe.execute()
    pipe.execute()


def full_sync(primary_kind: str, replica_kind: str, keys: int) -> dict:
    primary = start(primary_kind)
    p = redis.Redis(port=primary.port)
    populate(p, keys)
    replica = start(replica_kind)
    r = redis.Redis(port=replica.port, socket_timeout=60)
    try:
        with LatencyProbe(primary.port) as on_primary, LatencyProbe(replica.port) as on_rep:
            started = time.perf_counter()
            r.execute_command("REPLICAOF", "127.0.0.1", primary.port)
            assert wait_until(lambda: info(r).get("master_link_status") == "up"
                              and r.dbsize() == keys, 600, 0.02)
            seconds = time.perf_counter() - started
        # How responsive both stayed: the slowest PING answered during the sync.
        return {"test": "full sync %d keys %s->%s" % (keys, primary_kind, replica_kind),
                "seconds": round(seconds, 2),
                "worst_ping_ms_primary": round(on_primary.worst * 1000, 1),
                "worst_ping_ms_replica": round(on_rep.worst * 1000, 1)}
    finally:
        r.close()
        p.close()
        replica.stop()
        primary.stop()


def partial_resync(kind: str) -> dict:
    primary = start(kind)
    p = redis.Redis(port=primary.port)
    populate(p, 100_000)
    replica = start(kind, "--replicaof", "127.0.0.1", str(primary.port))
    r = redis.Redis(port=replica.port)
    try:
        assert wait_until(lambda: info(r).get("master_link_status") == "up"
                          and info(r)["master_repl_offset"]
                          == info(p)["master_repl_offset"], 120)
        replica.proc.send_signal(signal.SIGSTOP)
        p.client_kill_filter(_type="replica")
        for i in range(100):
            p.set("gap:%d" % i, "x" * 10)
        replica.proc.send_signal(signal.SIGCONT)
        assert wait_until(lambda: info(r).get("master_link_status") == "up"
                          and info(r)["master_repl_offset"]
                          == info(p)["master_repl_offset"], 30)
        sent = [int(n) for n in re.findall(r"Sending (\d+) bytes of backlog", primary.log)]
        path = os.path.join(primary.cwd, "probe.rdb")
        subprocess.run(["redis-cli", "-p", str(primary.port), "--rdb", path],
                       capture_output=True)
        rdb_size = os.path.getsize(path)
        return {"test": "partial resync after a drop (%s, 100 SETs missed, 100k keys)" % kind,
                "backlog_bytes": sent[-1] if sent else None,
                "partial_ok": info(p, "stats")["sync_partial_ok"],
                "rdb_bytes_for_comparison": rdb_size}
    finally:
        r.close()
        p.close()
        replica.stop()
        primary.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(server, requests: int, pipeline: int) -> tuple:
    """(ops/s, µs of the server's CPU per request) of one redis-benchmark SET run."""
    before = cpu_seconds(server.proc.pid)
    ops = benchmark(server.port, requests, pipeline)
    used = cpu_seconds(server.proc.pid) - before
    return ops, round(used * 1e6 / requests, 2)


def benchmark(port: int, requests: int, pipeline: int) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n",
                          str(requests), "-P", str(pipeline), "-c", "50", "-q",
                          "-r", "100000"], capture_output=True, text=True).stdout
    match = re.search(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(match.group(1)) if match else 0.0


class LagProbe(threading.Thread):
    """Writes a probe key on the primary every 50 ms and times until the replica has it."""

    def __init__(self, primary_port: int, replica_port: int):
        super().__init__(daemon=True)
        self.p = redis.Redis(port=primary_port)
        self.r = redis.Redis(port=replica_port)
        self.stop = threading.Event()
        self.lags = []
        self.offset_gaps = []

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            self.p.set("lagprobe", n)
            started = time.perf_counter()
            while self.r.get("lagprobe") != str(n).encode() and not self.stop.is_set():
                time.sleep(0.0005)
            self.lags.append(time.perf_counter() - started)
            self.offset_gaps.append(info(self.p)["master_repl_offset"]
                                    - info(self.r)["master_repl_offset"])
            time.sleep(0.05)


def throughput(kind: str, requests: int, pipeline: int) -> dict:
    primary = start(kind)
    p = redis.Redis(port=primary.port)
    replicas = []
    try:
        alone, cpu_alone = measured(primary, requests, pipeline)
        replicas = [start(kind, "--replicaof", "127.0.0.1", str(primary.port))
                    for _ in range(2)]
        rs = [redis.Redis(port=rep.port) for rep in replicas]
        assert wait_until(lambda: all(info(r).get("master_link_status") == "up"
                                      for r in rs), 120)
        probe = LagProbe(primary.port, replicas[0].port)
        probe.start()
        attached, cpu_attached = measured(primary, requests, pipeline)
        probe.stop.set()
        probe.join()
        lags = sorted(probe.lags) or [0]
        return {"test": "SET -P %d, %s primary" % (pipeline, kind),
                "ops_alone": alone, "ops_two_replicas": attached,
                "primary_cpu_us_per_op_alone": cpu_alone,
                "primary_cpu_us_per_op_two_replicas": cpu_attached,
                "lag_ms_median": round(statistics.median(lags) * 1000, 2),
                "lag_ms_p99": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))] * 1000,
                                    2),
                "lag_samples": len(lags),
                "lag_ms_max": round(lags[-1] * 1000, 2),
                "offset_gap_bytes_max": max(probe.offset_gaps or [0])}
    finally:
        p.close()
        for rep in replicas:
            rep.stop()
        primary.stop()


class _Loop:
    """Stands in for the event loop in-process: call_soon callbacks run by hand."""

    def __init__(self):
        self.ready = []

    def call_soon(self, callback, *args):
        self.ready.append((callback, args))

    def call_later(self, *args):
        return None

    def create_task(self, coro):
        coro.close()

    def run(self) -> None:
        while self.ready:
            ready, self.ready = self.ready, []
            for callback, args in ready:
                callback(*args)


def _drive(feed, loop, chunk: bytes, rounds: int) -> float:
    for _ in range(100):            # warm-up
        feed(chunk)
        loop.run()
    started = time.perf_counter_ns()
    for _ in range(rounds):
        feed(chunk)
        loop.run()
    return time.perf_counter_ns() - started


def inprocess_primary(replicas: int, pipeline: int, rounds: int) -> float:
    """ns per SET on a primary with ``replicas`` online replicas, without sockets (the
    hotpath.py way): parse, run, encode and queue the stream, one write per replica per
    batch. Run under ``valgrind --tool=callgrind`` for instruction counts."""
    from benchmarks.hotpath import REQUESTS, FakeTransport
    from ember.protocol.parser import RequestParser
    from ember.server.app import Server
    from ember.server.config import Config
    from ember.server.connection import Connection

    loop = _Loop()
    server = Server(Config())
    server.loop = loop
    server.parser_class = RequestParser
    primary = server.engine.hooks["replication"].primary
    primary.sync_runner = None
    for _ in range(replicas):
        conn = Connection(server)
        conn.connection_made(FakeTransport())
        peer = primary.attach(conn.client, psync=True, replid="?", offset=-1)
        primary.snapshot_started([peer])
        primary.rdb_sent(peer)
    conn = Connection(server)
    conn.connection_made(FakeTransport())
    return _drive(conn.data_received, loop, REQUESTS["set"] * pipeline,
                  rounds) / (rounds * pipeline)


def inprocess_replica(pipeline: int, rounds: int) -> float:
    """ns per SET a replica applies from its primary's stream, without sockets."""
    from benchmarks.hotpath import REQUESTS
    from ember.server.app import Server
    from ember.server.config import Config

    loop = _Loop()
    server = Server(Config())
    server.loop = loop
    repl = server.engine.hooks["replication"]
    repl.io.connect = lambda link: None
    repl.replicaof("127.0.0.1", 1)
    repl.link._go_online()
    return _drive(repl.link.feed, loop, REQUESTS["set"] * pipeline,
                  rounds) / (rounds * pipeline)


def inprocess(rounds: int) -> list:
    """The in-process table: primary with 0 and 2 replicas, replica apply, -P 1 and 16."""
    import logging

    logging.disable(logging.WARNING)
    results = []
    for pipeline in (1, 16):
        per = max(rounds // pipeline, 1)
        for replicas in (0, 2):
            ns = min(inprocess_primary(replicas, pipeline, per) for _ in range(3))
            results.append({"test": "in-process SET -P %d, primary, %d replicas"
                            % (pipeline, replicas), "ns_per_command": round(ns)})
        ns = min(inprocess_replica(pipeline, per) for _ in range(3))
        results.append({"test": "in-process SET -P %d, replica applying" % pipeline,
                        "ns_per_command": round(ns)})
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--pipelines", type=lambda v: [int(x) for x in v.split(",")],
                        default=[1, 16], help="redis-benchmark -P values (default 1,16)")
    parser.add_argument("--only", choices=("full", "partial", "throughput", "inprocess"))
    parser.add_argument("--rounds", type=int, default=100_000,
                        help="commands per in-process measurement (--only inprocess)")
    args = parser.parse_args()
    results = []
    if args.only == "inprocess":
        for row in inprocess(args.rounds):
            print(row, flush=True)
        return
    if not args.skip_full and args.only in (None, "full"):
        for primary_kind, replica_kind in (("ember", "ember"), ("ember", "redis"),
                                           ("redis", "ember"), ("redis", "redis")):
            results.append(full_sync(primary_kind, replica_kind, args.keys))
            print(results[-1], flush=True)
    for kind in ("ember", "redis") if args.only in (None, "partial") else ():
        results.append(partial_resync(kind))
        print(results[-1], flush=True)
    for pipeline in args.pipelines if args.only in (None, "throughput") else ():
        for kind in ("ember", "redis"):
            results.append(throughput(kind, args.requests, pipeline))
            print(results[-1], flush=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "replication-%s.json" % stamp)
    with open(out, "w") as fh:
        json.dump(results, fh, indent=2)
    print("saved", out)


if __name__ == "__main__":
    main()

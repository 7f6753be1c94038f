#!/usr/bin/env python3
"""Persistence side by side with redis-server: SAVE and start-up load of N keys,
throughput with the AOF on (everysec, always), and throughput while BGSAVE runs.

    python benchmarks/persistence.py [--keys 1000000] [--requests 100000] [--clients 50]

Each server runs in its own temporary directory. The dataset (SET key:<i> <value>, 16
bytes by default, --value-size) is sent with ``redis-cli --pipe``; SAVE is timed from the
client; the load time is what each server logs ("DB loaded from disk: X seconds"), else
the time to "Ready to accept connections" minus the same for an empty dataset.
redis-benchmark runs SET and GET with -P 1 against each server in the same
configuration; the ratio is ember / redis. During BGSAVE, redis-benchmark SET runs while
the child writes the snapshot of N keys.
Results are printed as a markdown table.
"""

import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ember_command() -> list:
    """The ember-server command (installed script, else the module)."""
    exe = shutil.which("ember-server")
    return [exe] if exe else [sys.executable, "-m", "ember"]


class Server:
    """One server process in a directory; ``ready_seconds`` is its start-up time."""

    def __init__(self, kind: str, directory: str, *args: str):
        self.kind = kind
        self.port = free_port()
        base = ember_command() if kind == "ember" else ["redis-server"]
        argv = base + ["--port", str(self.port), "--save", "", *args]
        started = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=directory, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.load_seconds = None        # what the server logs: "DB loaded from disk: X s"
        for line in self.proc.stdout:
            if "DB loaded from disk:" in line:
                self.load_seconds = float(line.split("DB loaded from disk:")[1].split()[0])
            if "Ready to accept connections" in line:
                break
        else:
            raise RuntimeError(f"{kind} did not start")
        self.ready_seconds = time.monotonic() - started

    def cli(self, *args: str) -> str:
        """redis-cli against this server."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], check=True,
                              capture_output=True, text=True).stdout.strip()

    def stop(self) -> None:
        """SHUTDOWN NOSAVE and wait."""
        try:
            self.cli("SHUTDOWN", "NOSAVE")
        except subprocess.CalledProcessError:
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


VALUE_SIZE = 16


def populate(server: Server, keys: int) -> None:
    """SET key:<i> <VALUE_SIZE bytes> for i < keys, through redis-cli --pipe (in slices,
    so a big dataset is never built in memory at once)."""
    # random hex: LZF (redis-server's rdbcompression) finds little to compress in it
    value = (b"value-0123456789" if VALUE_SIZE == 16
             else os.urandom(VALUE_SIZE // 2 + 1).hex().encode()[:VALUE_SIZE])
    tail = b"$%d\r\n%s\r\n" % (len(value), value)
    step = max(1, (64 << 20) // (VALUE_SIZE + 40))
    for first in range(0, keys, step):
        chunks = []
        for i in range(first, min(keys, first + step)):
            key = b"key:%d" % i
            chunks.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n" % (len(key), key) + tail)
        subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"],
                       input=b"".join(chunks), check=True, capture_output=True)


REPEAT = 1


def benchmark(server: Server, test: str, requests: int, clients: int) -> float:
    """requests per second of one redis-benchmark test (the median of REPEAT runs)."""
    samples = []
    for _ in range(REPEAT):
        out = subprocess.run(["redis-benchmark", "-p", str(server.port), "-t", test, "-n",
                              str(requests), "-c", str(clients), "-r", "100000", "--csv"],
                             check=True, capture_output=True, text=True).stdout
        rows = list(csv.reader(io.StringIO(out)))
        samples.append(float(rows[1][1]))
    return statistics.median(samples)


def save_and_load(kind: str, keys: int) -> tuple:
    """(SAVE seconds, load seconds, file size) for ``keys`` keys."""
    directory = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    try:
        empty = Server(kind, directory)
        empty_ready = empty.ready_seconds
        populate(empty, keys)
        started = time.monotonic()
        empty.cli("SAVE")
        save_seconds = time.monotonic() - started
        empty.stop()
        size = os.path.getsize(os.path.join(directory, "dump.rdb"))
        loaded = Server(kind, directory)
        load_seconds = loaded.load_seconds
        if load_seconds is None:
            load_seconds = loaded.ready_seconds - empty_ready
        assert int(loaded.cli("DBSIZE")) == keys
        loaded.stop()
        return save_seconds, load_seconds, size
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def aof_throughput(kind: str, fsync: str, requests: int, clients: int) -> dict:
    """SET and GET requests/s with appendonly yes and the given appendfsync (``off``:
    appendonly no, the baseline)."""
    directory = tempfile.mkdtemp(prefix=f"bench-aof-{kind}-")
    args = (["--appendonly", "no"] if fsync == "off" else
            ["--appendonly", "yes", "--appendfsync", fsync])
    try:
        server = Server(kind, directory, *args)
        result = {test: benchmark(server, test, requests, clients) for test in ("set", "get")}
        server.stop()
        return result
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def bgsave_throughput(kind: str, keys: int, requests: int, clients: int) -> tuple:
    """(SET requests/s without and during a BGSAVE of ``keys`` keys)."""
    directory = tempfile.mkdtemp(prefix=f"bench-bg-{kind}-")
    try:
        server = Server(kind, directory)
        populate(server, keys)
        quiet = benchmark(server, "set", requests, clients)
        server.cli("BGSAVE")
        during = benchmark(server, "set", requests, clients)
        still = server.cli("INFO", "persistence")
        server.stop()
        return quiet, during, "rdb_bgsave_in_progress:1" in still
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def micro(number: int = 300000) -> None:
    """In-process cost per command of Engine.execute with the AOF off and on (the AOF's
    propagator appends the encoded command to its buffer, not flushed during the run)."""
    import timeit

    sys.path.insert(0, ROOT)
    from ember.commands import load_all
    from ember.commands.engine import Engine
    from ember.persistence.aof import AppendOnlyFile
    from ember.persistence.aof_manifest import Manifest
    from ember.persistence.snapshot import ChildRunner
    from ember.server.config import Config

    load_all()
    engine = Engine(Config())
    client = engine.new_client()
    engine.execute(client, [b"SET", b"k", b"v"])
    commands = ([b"GET", b"k"], [b"SET", b"k", b"v"], [b"INCR", b"n"])

    def measure() -> dict:
        return {argv[0].decode(): min(timeit.repeat(
            lambda argv=argv: engine.execute(client, argv), number=number, repeat=5))
            / number * 1e9 for argv in commands}
    off = measure()
    directory = tempfile.mkdtemp(prefix="bench-micro-")
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        aof = AppendOnlyFile(engine.config, "appendonlydir", Manifest(), ChildRunner(),
                             lambda write: None)
        aof.open()
        engine.propagators.append(aof.propagate)
        on = measure()
        aof.buf.clear()
        alone = min(timeit.repeat(lambda: (aof.propagate(0, [b"SET", b"k", b"v"]),
                                           aof.buf.clear()), number=number, repeat=5))
        aof.close()
    finally:
        os.chdir(cwd)
        shutil.rmtree(directory, ignore_errors=True)
    print("| command | AOF off ns | AOF on ns |\n|---|---|---|")
    for name in off:
        print(f"| {name} | {off[name]:.0f} | {on[name]:.0f} |")
    print(f"\nAppendOnlyFile.propagate alone (encode + append): {alone / number * 1e9:.0f} ns")


def main(argv=None) -> int:
    """Run every measurement and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--value-size", type=int, default=16,
                    help="bytes per value (1000 with 1000000 keys: a 1 GB dataset)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="redis-benchmark runs per measurement (the median is shown)")
    ap.add_argument("--only", choices=("load", "aof", "bgsave"), default=None,
                    help="run one section only")
    ap.add_argument("--micro", action="store_true",
                    help="only the in-process per-command cost, AOF off vs on")
    args = ap.parse_args(argv)
    if args.micro:
        micro()
        return 0
    global REPEAT, VALUE_SIZE
    REPEAT = args.repeat
    VALUE_SIZE = args.value_size
    if args.only in (None, "load"):
        section_load(args)
    if args.only in (None, "aof"):
        section_aof(args)
    if args.only in (None, "bgsave"):
        section_bgsave(args)
    return 0


def section_load(args) -> None:
    """SAVE and start-up load of --keys keys."""
    print(f"## SAVE and start-up load, {args.keys} keys of {args.value_size} bytes\n")
    print("| server | SAVE s | load s | dump.rdb bytes |\n|---|---|---|---|")
    figures = {}
    for kind in ("redis", "ember"):
        figures[kind] = save_and_load(kind, args.keys)
        save, load, size = figures[kind]
        print(f"| {kind} | {save:.2f} | {load:.2f} | {size} |", flush=True)
    print(f"| ember / redis | {figures['ember'][0] / figures['redis'][0]:.1f}x | "
          f"{figures['ember'][1] / max(figures['redis'][1], 1e-3):.1f}x | |\n")


def section_aof(args) -> None:
    """redis-benchmark SET/GET with the AOF off, everysec and always."""
    print("## redis-benchmark with appendonly yes (-P 1, requests/s; off = appendonly no)\n")
    print("| appendfsync | test | redis | ember | ember/redis |\n|---|---|---|---|---|")
    for fsync in ("off", "everysec", "always"):
        redis_rps = aof_throughput("redis", fsync, args.requests, args.clients)
        ember_rps = aof_throughput("ember", fsync, args.requests, args.clients)
        for test in ("set", "get"):
            print(f"| {fsync} | {test.upper()} | {redis_rps[test]:.0f} | "
                  f"{ember_rps[test]:.0f} | {ember_rps[test] / redis_rps[test]:.2f} |",
                  flush=True)


def section_bgsave(args) -> None:
    """SET throughput before and while a BGSAVE of --keys keys runs (one run each: the
    child must still be writing during the second)."""
    global REPEAT
    REPEAT = 1
    print(f"\n## SET throughput while BGSAVE of {args.keys} keys runs (requests/s)\n")
    print("| server | no BGSAVE | during BGSAVE | ratio | child still running at end |")
    print("|---|---|---|---|---|")
    for kind in ("redis", "ember"):
        quiet, during, running = bgsave_throughput(kind, args.keys, args.requests,
                                                   args.clients)
        print(f"| {kind} | {quiet:.0f} | {during:.0f} | {during / quiet:.2f} | {running} |",
              flush=True)


if __name__ == "__main__":
    raise SystemExit(main())

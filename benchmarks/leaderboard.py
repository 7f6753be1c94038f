#!/usr/bin/env python3
"""A leaderboard on a 1,000,000-member sorted set, ember-server and redis-server side by side.

    python benchmarks/leaderboard.py [--members 1000000] [--requests 200000]
                                     [--clients 50] [--pipeline 1] [--repeat 1]

Both servers are started as benchmarks/compare.py starts them (its ``Server`` and helpers
are imported from there: free ports, persistence off, servers pinned to CPU 1 and the
load generators to CPU 0 when ``taskset`` and two CPUs exist). Then, for each server:

1. load: ``--members`` members ``player:<12 digits>`` with random integer scores, one
   ``ZADD lb score member`` per member, pipelined 1000 commands at a time from this
   script (the member names are the ones redis-benchmark's ``__rand_int__`` produces with
   ``-r``, so the workload below finds them); the load rate and the memory afterwards
   (INFO ``used_memory_rss``, and its growth over the empty server) are reported;
2. each leaderboard command alone, with redis-benchmark's custom-command mode:
   ``ZINCRBY lb __rand_int__ player:__rand_int__`` (random member, random increment),
   ``ZREVRANGE lb 0 9 WITHSCORES`` (the top ten), ``ZRANK lb player:__rand_int__`` and
   ``ZSCORE lb player:__rand_int__`` (random members);
3. the mixed workload: the four commands at once, one redis-benchmark process each
   (the clients split between them), started together against the same server; its
   throughput is the sum of the four. The four load generators share one CPU, so for
   redis-server this run measures them as much as the server.

The table gives ops/s for each server and ember/redis; results are also written to
benchmarks/results/leaderboard-<stamp>.json and .md.
"""

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import (  # noqa: E402  (benchmarks/ is not a package)
    BENCH_CPU,
    RESULTS,
    ROOT,
    Server,
    ember_argv,
    parse_csv,
    send,
    version,
)

KEY = "lb"
WORKLOAD = {
    "ZINCRBY": ["ZINCRBY", KEY, "__rand_int__", "player:__rand_int__"],
    "ZREVRANGE top10": ["ZREVRANGE", KEY, "0", "9", "WITHSCORES"],
    "ZRANK": ["ZRANK", KEY, "player:__rand_int__"],
    "ZSCORE": ["ZSCORE", KEY, "player:__rand_int__"],
}
BATCH = 1000


def parse_args(argv=None):
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--requests", "-n", type=int, default=200_000,
                    help="requests per command run (default 200000)")
    ap.add_argument("--clients", "-c", type=int, default=50, help="connections per run")
    ap.add_argument("--pipeline", "-P", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="repetitions (median reported)")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--ember", default=None, help="ember-server command (default: installed)")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--redis-benchmark", default="redis-benchmark")
    ap.add_argument("--out", default=str(RESULTS))
    return ap.parse_args(argv)


# ---- loading --------------------------------------------------------------------------------

def _command(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def load(port: int, members: int, seed: int = 42) -> float:
    """ZADD every member, BATCH commands per write; returns the seconds it took."""
    rng = random.Random(seed)
    key = KEY.encode()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for first in range(0, members, BATCH):
            last = min(first + BATCH, members)
            sock.sendall(b"".join(
                _command(b"ZADD", key, b"%d" % rng.randrange(1_000_000), b"player:%012d" % i)
                for i in range(first, last)))
            expected, seen, buffer = last - first, 0, b""
            while seen < expected:
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed the connection while loading")
                buffer += chunk
                seen = buffer.count(b"\r\n")
            if b"-" in buffer:
                raise RuntimeError(f"ZADD failed: {buffer[:200]!r}")
    return time.perf_counter() - started


def info_field(port: int, section: str, field: str) -> int:
    """One integer field of INFO ``section``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_command(b"INFO", section.encode()))
        data = b""
        while b"\r\n" not in data or len(data) < int(data[1:data.index(b"\r\n")]) + 3:
            data += sock.recv(65536)
    for line in data.decode().splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"INFO {section} has no {field}")


# ---- redis-benchmark runs -------------------------------------------------------------------

def bench_argv(args, port: int, command: list, requests: int, clients: int, pin: bool) -> list:
    argv = [args.redis_benchmark, "-p", str(port), "-c", str(clients), "-n", str(requests),
            "-P", str(args.pipeline), "-r", str(args.members), "--csv", *command]
    return (["taskset", "-c", BENCH_CPU] + argv) if pin else argv


def run_alone(args, server: Server, name: str, pin: bool) -> float:
    """One command alone: redis-benchmark's requests per second."""
    done = subprocess.run(bench_argv(args, server.port, WORKLOAD[name], args.requests,
                                     args.clients, pin),
                          capture_output=True, text=True, timeout=3600)
    rows = parse_csv(done.stdout)
    if done.returncode != 0 or not rows:
        raise RuntimeError(f"redis-benchmark failed on {server.name}: {done.stderr}")
    return rows[0]["rps"]


def run_mixed(args, server: Server, pin: bool) -> dict:
    """The four commands at once (one process each, clients split between them): each
    command's rps and the total over the wall time of the whole run."""
    clients = max(1, args.clients // len(WORKLOAD))
    started = time.perf_counter()
    procs = {name: subprocess.Popen(bench_argv(args, server.port, command, args.requests,
                                               clients, pin),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, command in WORKLOAD.items()}
    result = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=3600)
        rows = parse_csv(out)
        if proc.returncode != 0 or not rows:
            raise RuntimeError(f"redis-benchmark failed on {server.name}: {err}")
        result[name] = rows[0]["rps"]
    wall = time.perf_counter() - started
    result["total"] = args.requests * len(WORKLOAD) / wall
    return result


# ---- the run --------------------------------------------------------------------------------

def median(values: list) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def main(argv=None) -> int:
    """Start both servers, load, run the workload, print and save the results."""
    args = parse_args(argv)
    pin = (not args.no_pin and shutil.which("taskset") is not None
           and len(os.sched_getaffinity(0)) >= 2)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    servers = {}
    results = {"redis": {}, "ember": {}}
    try:
        servers["redis"] = Server("redis", [args.redis_server], dict(os.environ), pin)
        servers["ember"] = Server("ember", ember_argv(args.ember), env, pin)
        print(f"redis-server port {servers['redis'].port}, ember-server port "
              f"{servers['ember'].port}, pinning {'on' if pin else 'off'}", flush=True)
        for name, server in servers.items():
            send(server.port, "FLUSHALL")
            empty_rss = info_field(server.port, "memory", "used_memory_rss")
            seconds = load(server.port, args.members)
            card = send(server.port, "ZCARD", KEY)
            rss = info_field(server.port, "memory", "used_memory_rss")
            results[name]["load"] = {
                "seconds": seconds, "zadd_per_s": args.members / seconds,
                "zcard": int(card[1:].split(b"\r\n")[0]),
                "used_memory_rss": rss, "rss_growth": rss - empty_rss,
                "bytes_per_member": (rss - empty_rss) / args.members,
            }
            print(f"  {name}: loaded {args.members:,} members in {seconds:.1f} s", flush=True)
        samples = {name: {} for name in servers}
        for rep in range(args.repeat):
            order = ["redis", "ember"] if rep % 2 == 0 else ["ember", "redis"]
            for command in WORKLOAD:
                for name in order:
                    rps = run_alone(args, servers[name], command, pin)
                    samples[name].setdefault(command, []).append(rps)
            for name in order:
                for command, rps in run_mixed(args, servers[name], pin).items():
                    samples[name].setdefault("mixed " + command, []).append(rps)
            print(f"  repetition {rep + 1}/{args.repeat} done", flush=True)
        for name in servers:
            results[name]["rps"] = {k: median(v) for k, v in samples[name].items()}
    finally:
        for server in servers.values():
            server.stop()
    report(args, results, pin)
    return 0


def report(args, results: dict, pin: bool) -> None:
    """Print the tables and write the result files."""
    lines = [f"leaderboard: {args.members:,} members, -n {args.requests:,}, "
             f"-c {args.clients}, -P {args.pipeline}, median of {args.repeat}", ""]
    head = f"{'':<32}{'redis':>14}{'ember':>14}{'ember/redis':>13}"
    lines.append(head)
    r_load, e_load = results["redis"]["load"], results["ember"]["load"]
    lines.append(f"{'load ZADD/s':<32}{r_load['zadd_per_s']:>14,.0f}"
                 f"{e_load['zadd_per_s']:>14,.0f}"
                 f"{e_load['zadd_per_s'] / r_load['zadd_per_s']:>13.2f}")
    for field, title, scale in (("used_memory_rss", "used_memory_rss (MB)", 2**20),
                                ("rss_growth", "RSS growth (MB)", 2**20),
                                ("bytes_per_member", "RSS bytes/member", 1)):
        lines.append(f"{title:<32}{r_load[field] / scale:>14,.1f}"
                     f"{e_load[field] / scale:>14,.1f}{e_load[field] / r_load[field]:>13.2f}")
    for command, redis_rps in results["redis"]["rps"].items():
        ember_rps = results["ember"]["rps"][command]
        lines.append(f"{command + ' ops/s':<32}{redis_rps:>14,.0f}{ember_rps:>14,.0f}"
                     f"{ember_rps / redis_rps:>13.2f}")
    text = "\n".join(lines)
    print("\n" + text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "members": args.members,
            "requests": args.requests, "clients": args.clients, "pipeline": args.pipeline,
            "repeat": args.repeat, "pinned": pin,
            "redis_server": version([args.redis_server, "--version"]),
            "git": version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])}
    (out / f"leaderboard-{stamp}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    (out / f"leaderboard-{stamp}.md").write_text(
        f"# leaderboard, {meta['date']}\n\n```\n{json.dumps(meta, indent=2)}\n```\n\n"
        f"```\n{text}\n```\n")
    print(f"\nresults: {out / f'leaderboard-{stamp}.json'} and .md")


if __name__ == "__main__":
    sys.exit(main())

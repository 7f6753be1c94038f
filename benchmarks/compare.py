#!/usr/bin/env python3
"""redis-benchmark against ember-server and redis-server side by side, in the same run.

    python benchmarks/compare.py [--repeat 3] [--requests N] [--tests ping,set,get,incr,mset]
                                 [--suite core|datatypes] [--pipeline 1,16] [--clients 50]
                                 [--hiredis]

Both servers are started with persistence off on free ports and stay up for the whole
run. For every pipeline depth, repetition and test, redis-benchmark runs once against
each server (the order alternates between repetitions so neither always goes first),
pinned to CPU 0 while the servers are pinned to CPU 1 (when ``taskset`` exists and the
machine has two CPUs). Each test is a separate redis-benchmark run so that the server's
CPU time (utime + stime from /proc/<pid>/stat, before and after) belongs to that test
alone. The printed tables show medians over the repetitions; the raw samples go to
benchmarks/results/ as JSON and markdown. See benchmarks/README.md for how to read them.

The LRANGE tests (lrange_100/300/500/600) read a list that must exist: redis-benchmark's
own lrange tests LPUSH it first in the same run, which would mix that LPUSH's CPU time
into the measurement. So before each LRANGE run the list is filled here (``mylist``,
LIST_FILL elements of redis-benchmark's default 3-byte payload) and redis-benchmark runs
just the LRANGE command, reported under redis-benchmark's own test name.
"""

import argparse
import csv
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, BENCH_CPU = "1", "0"
# redis-benchmark's -t name -> the tests it runs; "ping" is split so each run is one test.
EXPAND = {"ping": ["ping_inline", "ping_mbulk"],
          "lrange": ["lrange_100", "lrange_300", "lrange_500", "lrange_600"]}
# --suite name -> its tests ("core" is the default --tests).
SUITES = {
    "core": "ping,set,get,incr,mset",
    "datatypes": "lpush,rpop,sadd,hset,zadd,lrange_100,lrange_600",
}
# LRANGE tests: the range each reads and redis-benchmark's name for it.
LRANGE = {f"lrange_{n}": (n, f"LRANGE_{n} (first {n} elements)") for n in (100, 300, 500, 600)}
LIST_FILL = 1000                     # elements in the list LRANGE reads (>= 600)
LIST_PAYLOAD = "xxx"                 # redis-benchmark's default -d 3 value


def parse_args(argv=None):
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per test (default 3)")
    ap.add_argument("--requests", "-n", type=int, default=None,
                    help="requests per run (default 100000 at -P1, 1000000 when pipelined)")
    ap.add_argument("--tests", "-t", default=None,
                    help="comma-separated redis-benchmark tests (default: the core suite, "
                         "ping,set,get,incr,mset)")
    ap.add_argument("--suite", choices=sorted(SUITES), default=None,
                    help="a named list of tests: core (" + SUITES["core"] + ") or "
                         "datatypes (" + SUITES["datatypes"] + "); with --tests, both run")
    ap.add_argument("--pipeline", "-P", default="1,16", help="comma-separated pipeline depths")
    ap.add_argument("--clients", "-c", type=int, default=50, help="parallel connections")
    ap.add_argument("--hiredis", action="store_true",
                    help="start ember with EMBER_PARSER=hiredis (the hiredis request parser)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin CPUs with taskset")
    ap.add_argument("--ember", default=None, help="ember-server command (default: installed)")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--redis-benchmark", default="redis-benchmark")
    ap.add_argument("--out", default=str(RESULTS), help="directory for the result files")
    return ap.parse_args(argv)


# ---- servers ----------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ping(port: int) -> bool:
    """True when a server answers PING on ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def send(port: int, *args: str) -> bytes:
    """Send one command and return the first chunk of its reply."""
    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        return sock.recv(65536)


class Server:
    """A server process on a free port, pinned to the server CPU, stopped at the end."""

    def __init__(self, name: str, argv: list, env: dict, pin: bool):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        self.log_path = os.path.join(self.dir, "server.log")
        full = argv + ["--port", str(self.port), "--save", "", "--appendonly", "no"]
        if pin:
            full = ["taskset", "-c", SERVER_CPU] + full   # taskset execs: same pid
        self.argv = full
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(full, cwd=self.dir, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not ping(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start:\n{Path(self.log_path).read_text()}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """utime + stime of the server process so far (all its threads)."""
        with open(f"/proc/{self.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self) -> None:
        """Terminate the process (SIGTERM, SIGKILL after 10 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ember_argv(option) -> list:
    """How to start ember-server: the option, the installed script, or the module."""
    if option:
        return option.split()
    exe = shutil.which("ember-server")
    return [exe] if exe else [sys.executable, "-m", "ember"]


# ---- one benchmark run ------------------------------------------------------------------

def parse_csv(text: str) -> list:
    """redis-benchmark --csv rows as dicts: test, rps and (7.x) latency columns in ms."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        if not row.get("test") or not row.get("rps"):
            continue
        rows.append({
            "test": row["test"],
            "rps": float(row["rps"]),
            "p50_ms": _float(row.get("p50_latency_ms")),
            "p99_ms": _float(row.get("p99_latency_ms")),
            "avg_ms": _float(row.get("avg_latency_ms")),
        })
    return rows


def _float(value):
    return float(value) if value not in (None, "") else None


def fill_list(server: Server) -> None:
    """The list the LRANGE tests read: ``mylist`` with LIST_FILL elements."""
    send(server.port, "DEL", "mylist")
    reply = send(server.port, "LPUSH", "mylist", *[LIST_PAYLOAD] * LIST_FILL)
    if not reply.startswith(b":"):
        raise RuntimeError(f"could not fill mylist on {server.name}: {reply!r}")


def run_test(args, server: Server, test: str, requests: int, pipeline: int, pin: bool) -> list:
    """One redis-benchmark run of one test; rows with the server's CPU µs per request."""
    argv = [args.redis_benchmark, "-p", str(server.port), "-c", str(args.clients),
            "-n", str(requests), "-P", str(pipeline), "--csv"]
    lrange = LRANGE.get(test)
    if lrange is not None:
        fill_list(server)
        argv += ["LRANGE", "mylist", "0", str(lrange[0] - 1)]
    else:
        argv += ["-t", test]
    if pin:
        argv = ["taskset", "-c", BENCH_CPU] + argv
    before = server.cpu_seconds()
    done = subprocess.run(argv, capture_output=True, text=True,
                          timeout=max(300, requests // 500))
    cpu = server.cpu_seconds() - before
    if done.returncode != 0:
        raise RuntimeError(f"redis-benchmark failed on {server.name}: {done.stderr}")
    rows = parse_csv(done.stdout)
    if lrange is not None:
        for row in rows:
            row["test"] = lrange[1]
    if not rows:
        raise RuntimeError(f"no results from redis-benchmark on {server.name}:\n"
                           f"{done.stdout}\n{done.stderr}")
    total = requests * len(rows)
    for row in rows:
        row["cpu_us_per_req"] = cpu * 1e6 / total
    return rows


# ---- the run ----------------------------------------------------------------------------

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(samples: dict) -> list:
    """Medians per (pipeline, test): samples[(pipeline, test, server)] -> list of rows."""
    out = []
    for pipeline, test in dict.fromkeys((p, t) for p, t, _ in samples):
        line = {"pipeline": pipeline, "test": test}
        for name in ("redis", "ember"):
            rows = samples.get((pipeline, test, name), [])
            for field in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req"):
                line[f"{name}_{field}"] = median(r[field] for r in rows)
        line["rps_ratio"] = _ratio(line["ember_rps"], line["redis_rps"])
        line["cpu_ratio"] = _ratio(line["ember_cpu_us_per_req"], line["redis_cpu_us_per_req"])
        out.append(line)
    return out


def _ratio(a, b):
    return a / b if a is not None and b else None


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


COLUMNS = (
    ("test", "test", "<16"), ("redis rps", "redis_rps", ",.0f"),
    ("ember rps", "ember_rps", ",.0f"), ("ember/redis", "rps_ratio", ".2f"),
    ("redis p50", "redis_p50_ms", ".3f"), ("ember p50", "ember_p50_ms", ".3f"),
    ("redis p99", "redis_p99_ms", ".3f"), ("ember p99", "ember_p99_ms", ".3f"),
    ("redis µs/req", "redis_cpu_us_per_req", ".2f"),
    ("ember µs/req", "ember_cpu_us_per_req", ".2f"), ("cpu ember/redis", "cpu_ratio", ".1f"),
)


def table(lines: list, markdown: bool = False) -> str:
    """The summary lines of one pipeline depth as a text (or markdown) table."""
    cells = [[fmt(line[key], spec) if key != "test" else line[key]
              for _, key, spec in COLUMNS] for line in lines]
    heads = [title for title, _, _ in COLUMNS]
    if markdown:
        rows = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        rows += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(rows)
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    fmt_row = "  ".join("{:<%d}" % w if i == 0 else "{:>%d}" % w for i, w in enumerate(widths))
    return "\n".join([fmt_row.format(*heads)] + [fmt_row.format(*c) for c in cells])


def selected_tests(args) -> list:
    """The tests to run, one redis-benchmark test each: --suite's then --tests' (the core
    suite when neither is given), with group names expanded and repeats dropped."""
    names = []
    if args.suite:
        names += SUITES[args.suite].split(",")
    if args.tests:
        names += args.tests.split(",")
    if not names:
        names = SUITES["core"].split(",")
    tests = [t for name in names if name.strip()
             for t in EXPAND.get(name.strip().lower(), [name.strip().lower()])]
    return list(dict.fromkeys(tests))


def requests_for(args, pipeline: int) -> int:
    """-n for one pipeline depth: --requests, else 100k unpipelined and 1M pipelined."""
    if args.requests:
        return args.requests
    return 100_000 if pipeline == 1 else 1_000_000


def version(argv: list) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def main(argv=None) -> int:
    """Start both servers, run every test at every depth, print and save the results."""
    args = parse_args(argv)
    tests = selected_tests(args)
    pipelines = [int(p) for p in args.pipeline.split(",") if p.strip()]
    pin = (not args.no_pin and shutil.which("taskset") is not None
           and len(os.sched_getaffinity(0)) >= 2)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if args.hiredis:
        env["EMBER_PARSER"] = "hiredis"
    servers = {}
    try:
        servers["redis"] = Server("redis", [args.redis_server], dict(os.environ), pin)
        servers["ember"] = Server("ember", ember_argv(args.ember), env, pin)
        print(f"redis-server pid {servers['redis'].pid} port {servers['redis'].port}; "
              f"ember-server pid {servers['ember'].pid} port {servers['ember'].port}; "
              f"pinning {'server CPU 1, benchmark CPU 0' if pin else 'off'}"
              f"{'; EMBER_PARSER=hiredis' if args.hiredis else ''}", flush=True)
        for server in servers.values():        # warm up (not recorded)
            run_test(args, server, ",".join(tests), 2000, 1, pin)
        samples = {}
        started = time.monotonic()
        for pipeline in pipelines:
            requests = requests_for(args, pipeline)
            for rep in range(args.repeat):
                order = ["redis", "ember"] if rep % 2 == 0 else ["ember", "redis"]
                for name in order:
                    send(servers[name].port, "FLUSHALL")
                for test in tests:
                    for name in order:
                        for row in run_test(args, servers[name], test, requests, pipeline, pin):
                            samples.setdefault((pipeline, row["test"], name), []).append(row)
                print(f"  -P {pipeline}: repetition {rep + 1}/{args.repeat} done "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    summary = summarize(samples)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "repeat": args.repeat, "clients": args.clients, "tests": tests,
        "pipelines": {str(p): requests_for(args, p) for p in pipelines},
        "pinned": pin, "hiredis": args.hiredis,
        "redis_server": version([args.redis_server, "--version"]),
        "redis_benchmark": version([args.redis_benchmark, "--version"]),
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "git": version(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
    }
    text = []
    for pipeline in pipelines:
        lines = [s for s in summary if s["pipeline"] == pipeline]
        text.append((pipeline, lines))
        print(f"\n-P {pipeline}  (-n {requests_for(args, pipeline)}, -c {args.clients}, "
              f"median of {args.repeat})")
        print(table(lines))
    save(Path(args.out), meta, summary, samples, text)
    return 0


def save(out: Path, meta: dict, summary: list, samples: dict, text: list) -> None:
    """Write <stamp>.json (metadata, medians, raw samples) and <stamp>.md under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + ("-hiredis" if meta["hiredis"] else "")
    raw = [{"pipeline": p, "test": t, "server": s, "runs": rows}
           for (p, t, s), rows in samples.items()]
    data = {"meta": meta, "summary": summary, "samples": raw}
    (out / f"compare-{stamp}.json").write_text(json.dumps(data, indent=2) + "\n")
    md = [f"# ember vs redis-server, {meta['date']}", "",
          "```", json.dumps(meta, indent=2), "```", ""]
    for pipeline, lines in text:
        md += [f"## -P {pipeline} (-n {meta['pipelines'][str(pipeline)]}, median of "
               f"{meta['repeat']})", "", table(lines, markdown=True), ""]
    (out / f"compare-{stamp}.md").write_text("\n".join(md))
    print(f"\nresults: {out / f'compare-{stamp}.json'} and .md")


if __name__ == "__main__":
    sys.exit(main())

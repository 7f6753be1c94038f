"""Eviction quality and memory accounting, ember side by side with redis-server.

Modes (``--mode``):

``hit`` (default)
    Replays the same read-through cache trace against ember and redis-server: GET a key;
    on a miss, SET it with a TTL. Keys follow Zipf(0.99) over ``--keys`` distinct keys
    (1,000,000); the cache holds ``--cache-fraction`` (10%) of them. Two workloads per
    policy (``--policies``, allkeys-lru and allkeys-lfu): ``zipf`` alone, and ``scan``,
    the same Zipf stream with a periodic sequential pass over cold keys (a batch job
    reading keys nobody else reads) whose hit ratio is reported for the Zipf requests
    only. Each server's maxmemory is set to what its own keyspace takes for the cache's
    number of keys (measured first), so both caches hold the same number of keys (the
    same maxmemory in bytes would give Redis's smaller keys a bigger cache). The hit
    ratio is counted over the second half of each trace (the first half warms up).

``rss``
    For each dataset of the issue (1,000,000 small strings, 100,000 hashes of 10 fields,
    a 1,000,000-member sorted set, a 1,000,000-entry list) starts a fresh ember-server,
    loads the data, and compares the growth of INFO used_memory (the incremental
    estimate) with the growth of the process's RSS.

``structures``
    In-process: bytes per key of the access table of each policy family (dict, LRUAccess,
    LFUAccess) and ns per GET/SET through ``Engine.execute`` under each.

    python benchmarks/eviction.py                    # hit ratios, ~4 minutes
    python benchmarks/eviction.py --keys 200000 --requests 400000   # quicker
    python benchmarks/eviction.py --mode rss
    python benchmarks/eviction.py --mode structures
"""

import argparse
import bisect
import itertools
import os
import random
import socket
import sys
import time
import timeit
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from compare import Server, ember_argv  # noqa: E402

try:
    import hiredis
except ImportError:     # pragma: no cover - hiredis comes with the test extras
    hiredis = None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", default="hit", choices=("hit", "rss", "structures"))
    parser.add_argument("--keys", type=int, default=1_000_000, help="distinct keys")
    parser.add_argument("--requests", type=int, default=1_000_000,
                        help="requests per trace")
    parser.add_argument("--cache-fraction", type=float, default=0.10)
    parser.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    parser.add_argument("--workloads", default="zipf,scan")
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--ttl", type=int, default=3600)
    parser.add_argument("--batch", type=int, default=64, help="GETs per round trip")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ember", default=None, help="command line to start ember")
    parser.add_argument("--lfu-decay-time", default=None,
                        help="CONFIG SET on both servers (default: leave Redis's 1)")
    parser.add_argument("--servers", default="redis,ember",
                        help="redis, ember, ember-exact (exact LRU instead of CLOCK)")
    return parser.parse_args(argv)


# ---- a minimal pipelined client -----------------------------------------------------------

class Client:
    """A raw RESP connection: send many commands, read their replies (hiredis)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    @staticmethod
    def encode(*args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            if not isinstance(arg, bytes):
                arg = str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(out)

    def pipeline(self, payload: bytes, count: int) -> list:
        self.sock.sendall(payload)
        replies = []
        while len(replies) < count:
            reply = self.reader.gets()
            if reply is False:
                self.reader.feed(self.sock.recv(1 << 20))
                continue
            replies.append(reply)
        return replies

    def call(self, *args):
        return self.pipeline(self.encode(*args), 1)[0]

    def info(self, section: str) -> dict:
        text = self.call("INFO", section).decode()
        fields = {}
        for line in text.splitlines():
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value
        return fields

    def close(self) -> None:
        self.sock.close()


def start(name: str, args) -> Server:
    """redis, ember, or ember-exact (ember with the exact-LRU access table)."""
    env = dict(os.environ)
    if name == "redis":
        return Server("redis", ["redis-server"], env, pin=False)
    if name == "ember-exact":
        env["EMBER_EXACT_LRU"] = "1"
    return Server("ember", ember_argv(args.ember), env, pin=False)


# ---- traces --------------------------------------------------------------------------------

def zipf_ranks(n: int, count: int, s: float, rng: random.Random) -> list:
    """``count`` draws of ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1) ** s."""
    cum = list(itertools.accumulate(1.0 / (k + 1) ** s for k in range(n)))
    total = cum[-1]
    return [bisect.bisect_left(cum, rng.random() * total) for _ in range(count)]


def make_trace(args, workload: str) -> list:
    """(key, counted) pairs: the key to read and whether its result counts."""
    rng = random.Random(args.seed)
    ranks = zipf_ranks(args.keys, args.requests, 0.99, rng)
    ids = list(range(args.keys))
    rng.shuffle(ids)                       # hot keys are spread over the key names
    trace = [(b"key:%07d" % ids[r], True) for r in ranks]
    if workload == "scan":
        cache = int(args.keys * args.cache_fraction)
        period = max(cache, args.requests // 8)
        out = []
        scan_id = 0
        for start in range(0, len(trace), period):
            out.extend(trace[start:start + period])
            # a pass over as many cold keys as the cache holds, never read again
            out.extend((b"cld:%07d" % (scan_id + i), False) for i in range(cache))
            scan_id += cache
        trace = out
    return trace


def replay(client: Client, trace: list, args) -> tuple:
    """Read-through replay; returns (hits, lookups) over the counted second half."""
    value = b"v" * args.value_size
    ttl = b"%d" % args.ttl
    half = len(trace) // 2
    hits = lookups = 0
    batch = args.batch
    encode = Client.encode
    for start in range(0, len(trace), batch):
        chunk = trace[start:start + batch]
        payload = b"".join(encode(b"GET", key) for key, _ in chunk)
        replies = client.pipeline(payload, len(chunk))
        misses = []
        for i, ((key, counted), reply) in enumerate(zip(chunk, replies)):
            if reply is None:
                misses.append(key)
            if counted and start + i >= half:
                lookups += 1
                hits += reply is not None
        if misses:
            client.pipeline(b"".join(encode(b"SET", key, value, b"EX", ttl)
                                     for key in misses), len(misses))
    return hits, lookups


def bytes_per_key(client: Client, args, sample: int) -> float:
    """used_memory growth per key of this workload's shape, on this server."""
    client.call("FLUSHALL")
    client.call("CONFIG", "SET", "maxmemory", "0")
    before = int(client.info("memory")["used_memory"])
    value = b"v" * args.value_size
    for start in range(0, sample, 1000):
        end = min(sample, start + 1000)
        client.pipeline(b"".join(Client.encode(b"SET", b"key:%07d" % i, value, b"EX", args.ttl)
                                 for i in range(start, end)), end - start)
    after = int(client.info("memory")["used_memory"])
    client.call("FLUSHALL")
    return (after - before) / sample


def run_hit(args) -> None:
    policies = args.policies.split(",")
    workloads = args.workloads.split(",")
    traces = {w: make_trace(args, w) for w in workloads}
    cache_keys = int(args.keys * args.cache_fraction)
    results = {}
    names = args.servers.split(",")
    for name in names:
        server = start(name, args)
        try:
            client = Client(server.port)
            per_key = bytes_per_key(client, args, cache_keys)
            base = int(client.info("memory")["used_memory"])
            maxmemory = int(base + per_key * cache_keys)
            for policy in policies:
                for workload in workloads:
                    client.call("FLUSHALL")
                    client.call("CONFIG", "RESETSTAT")
                    client.call("CONFIG", "SET", "maxmemory-policy", policy)
                    if args.lfu_decay_time is not None:
                        client.call("CONFIG", "SET", "lfu-decay-time", args.lfu_decay_time)
                    client.call("CONFIG", "SET", "maxmemory", str(maxmemory))
                    started = time.perf_counter()
                    hits, lookups = replay(client, traces[workload], args)
                    elapsed = time.perf_counter() - started
                    info = client.info("stats")
                    results[(name, policy, workload)] = {
                        "hit": hits / lookups, "maxmemory": maxmemory,
                        "keys": client.call("DBSIZE"), "per_key": per_key,
                        "evicted": int(info["evicted_keys"]),
                        "rps": len(traces[workload]) / elapsed,
                    }
                    print(name, policy, workload, results[(name, policy, workload)],
                          flush=True)
                    client.call("CONFIG", "SET", "maxmemory", "0")
            client.close()
        finally:
            server.stop()
    print()
    print(f"{args.keys:,} keys, {args.requests:,} requests per trace, cache "
          f"{cache_keys:,} keys, values {args.value_size} B, hit ratio over the 2nd half")
    print()
    print("| policy | workload | " + " | ".join(f"{n} hit" for n in names) + " | "
          + " | ".join(f"{n} keys" for n in names) + " | "
          + " | ".join(f"{n} req/s" for n in names) + " |")
    print("|---|---|" + "---|" * (3 * len(names)))
    for policy in policies:
        for workload in workloads:
            row = [results[(n, policy, workload)] for n in names]
            print(f"| {policy} | {workload} | "
                  + " | ".join(f"{r['hit']:.4f}" for r in row) + " | "
                  + " | ".join(f"{r['keys']:,}" for r in row) + " | "
                  + " | ".join(f"{r['rps']:,.0f}" for r in row) + " |")
    for name in names:
        any_result = results[(name, policies[0], workloads[0])]
        print(f"{name}: {any_result['per_key']:.0f} B/key measured, maxmemory "
              f"{any_result['maxmemory']:,}")


# ---- RSS vs the estimate ---------------------------------------------------------------------

def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _load_strings(client):
    for start in range(0, 1_000_000, 1000):
        args = [b"MSET"]
        for i in range(start, start + 1000):
            args += [b"key:%07d" % i, b"value:%d" % i]
        client.call(*args)


def _load_hashes(client):
    for start in range(0, 100_000, 100):
        payload = b"".join(
            Client.encode(b"HSET", b"hash:%06d" % i,
                          *[x for f in range(10) for x in (b"field:%d" % f, b"val:%d" % i)])
            for i in range(start, start + 100))
        client.pipeline(payload, 100)


def _load_zset(client):
    for start in range(0, 1_000_000, 1000):
        args = [b"ZADD", b"zset"]
        for i in range(start, start + 1000):
            args += [b"%d" % i, b"member:%07d" % i]
        client.call(*args)


def _load_list(client):
    for start in range(0, 1_000_000, 1000):
        client.call(b"RPUSH", b"list", *[b"element:%07d" % i for i in range(start, start + 1000)])


DATASETS = [("1,000,000 small strings", _load_strings),
            ("100,000 hashes of 10 fields", _load_hashes),
            ("1,000,000-member sorted set", _load_zset),
            ("1,000,000-entry list", _load_list)]


def run_rss(args) -> None:
    print("| dataset | RSS growth | used_memory growth | estimate / RSS |")
    print("|---|---|---|---|")
    for label, load in DATASETS:
        server = start("ember", args)
        try:
            client = Client(server.port)
            client.call("MEMORY", "PURGE")
            rss0, used0 = rss_of(server.pid), int(client.info("memory")["used_memory"])
            load(client)
            rss1, used1 = rss_of(server.pid), int(client.info("memory")["used_memory"])
            grow_rss, grow_used = rss1 - rss0, used1 - used0
            print(f"| {label} | {grow_rss / 2**20:.1f} MiB | {grow_used / 2**20:.1f} MiB "
                  f"| {grow_used / grow_rss:.2f} |", flush=True)
            client.close()
        finally:
            server.stop()


# ---- the structures in-process ------------------------------------------------------------

def run_structures(args) -> None:
    from ember.commands import load_all
    from ember.commands.engine import Engine
    from ember.server.config import Config

    load_all()
    n = 200_000
    print("| policy | access table B/key | GET ns | SET ns (overwrite) |")
    print("|---|---|---|---|")
    for policy in ("noeviction", "allkeys-lru", "allkeys-lfu"):
        engine = Engine(Config())
        client = engine.new_client()
        engine.execute(client, [b"CONFIG", b"SET", b"maxmemory-policy", policy.encode()])
        db = engine.dbs[0]
        keys = [b"key:%d" % i for i in range(n)]
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        access = type(db.access)()
        for key in keys:
            access[key] = 1_700_000_000
        per_key = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
        del access
        for key in keys[:10000]:
            engine.execute(client, [b"SET", key, b"v"])
        get = _time(engine, client, [b"GET", b"key:77"])
        put = _time(engine, client, [b"SET", b"key:77", b"w"])
        print(f"| {policy} | {per_key:.0f} | {get:.0f} | {put:.0f} |")


def _time(engine, client, argv: list, number: int = 100_000) -> float:
    """Best of five: ns per ``engine.execute(client, argv)``."""
    ex = engine.execute
    runs = timeit.repeat(lambda: ex(client, argv), number=number, repeat=5)
    return min(runs) / number * 1e9


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.mode == "hit":
        if hiredis is None:
            sys.exit("hit mode needs hiredis (pip install hiredis)")
        run_hit(args)
    elif args.mode == "rss":
        run_rss(args)
    else:
        run_structures(args)


if __name__ == "__main__":
    main()

"""In-process cost of the request path, without sockets: CPU time per command.

Drives ``Connection.data_received`` with the exact bytes redis-benchmark sends (a
fake transport collects the replies), so it measures what ember's Python does per
command (parse, dispatch, handler, encode, queue) and nothing of the kernel or the
event loop. It is steadier than throughput on a noisy machine, and can be run under
``valgrind --tool=callgrind`` for instruction counts that do not depend on the load:

    python benchmarks/hotpath.py                      # every test, -P 1 and -P 16
    python benchmarks/hotpath.py --tests get --pipeline 16 --rounds 20000
    valgrind --tool=callgrind python benchmarks/hotpath.py --tests get --rounds 2000

The event loop itself is left out (its per-iteration work is shared by every client
served in that iteration). Prints ns per command (best of ``--repeat`` runs, each
``--rounds`` batches).
"""

import argparse
import time

from ember.protocol.parser import RequestParser
from ember.server.app import Server
from ember.server.config import Config
from ember.server.connection import Connection

# What redis-benchmark sends for each test (key and value as its defaults make them).
REQUESTS = {
    "ping_inline": b"PING\r\n",
    "ping_mbulk": b"*1\r\n$4\r\nPING\r\n",
    "set": b"*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n",
    "get": b"*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n",
    "incr": b"*2\r\n$4\r\nINCR\r\n$20\r\ncounter:__rand_int__\r\n",
    "mset": b"*21\r\n$4\r\nMSET\r\n" + b"$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n" * 10,
}


class NoLoop:
    """Stands in for the event loop: the flush the server schedules is run by hand."""

    def call_soon(self, callback, *args):
        return None

    def close(self):
        pass


class FakeTransport:
    """Just enough of an asyncio transport for Connection: counts what is written."""

    def __init__(self):
        self.written = 0

    def write(self, data):
        self.written += len(data)

    def get_write_buffer_size(self):
        return 0

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 6379)}.get(
            name, default)

    def close(self):
        pass

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


def run(test: str, pipeline: int, rounds: int) -> float:
    """ns per command for ``rounds`` batches of ``pipeline`` requests of ``test``."""
    loop = NoLoop()
    try:
        server = Server(Config())
        server.loop = loop
        server.parser_class = RequestParser
        conn = Connection(server)
        conn.connection_made(FakeTransport())
        chunk = REQUESTS[test] * pipeline
        feed = conn.data_received
        flush = server.flush_all
        feed(REQUESTS["set"])   # as in redis-benchmark's run, GET finds SET's key
        flush()
        for _ in range(100):    # warm-up: caches, first-call paths
            feed(chunk)
            flush()
        started = time.perf_counter_ns()
        for _ in range(rounds):
            feed(chunk)
            flush()
        elapsed = time.perf_counter_ns() - started
        return elapsed / (rounds * pipeline)
    finally:
        loop.close()


def main() -> None:
    """Parse the options, run every (test, pipeline) pair and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", default=",".join(REQUESTS))
    parser.add_argument("--pipeline", default="1,16")
    parser.add_argument("--rounds", type=int, default=0,
                        help="batches per run (default: about 200,000 commands)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'test':<12} {'-P':>3} {'ns/cmd':>8}")
    for depth in (int(p) for p in args.pipeline.split(",")):
        rounds = args.rounds or max(200_000 // depth, 1)
        for test in args.tests.split(","):
            best = min(run(test, depth, rounds) for _ in range(args.repeat))
            print(f"{test:<12} {depth:>3} {best:>8.0f}")


if __name__ == "__main__":
    main()

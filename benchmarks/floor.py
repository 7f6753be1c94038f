#!/usr/bin/env python3
"""A bare uvloop server that does only the unavoidable work: what the interpreter allows.

    python benchmarks/compare.py --ember "python benchmarks/floor.py" [--tests mset]

This is not ember. It answers PING, GET, SET, INCR and MSET (what the core benchmark
sends) with the least a Python server on asyncio can do per request: hiredis's C reader
splits the requests (pure ``bytes.split`` for inline PING), a plain dict holds the
values, and a batch's replies leave in one ``transport.write``. No command table, no
stats, no TTL, no LRU clock, no memory tally, no error checking worth the name. Run
through compare.py in place of ember-server, its ratios against redis-server are a
ceiling for ember's: a goal this server misses cannot be met by any server of ember's
design (CPython, asyncio, uvloop) on the same machine. Anything it does not know (the
CONFIG GET redis-benchmark sends first) gets an empty array.
"""

import asyncio
import sys

import hiredis

try:
    import uvloop
except ImportError:     # pragma: no cover - the floor is only meaningful with uvloop
    uvloop = None

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
NULL = b"$-1\r\n"
EMPTY = b"*0\r\n"


class Floor(asyncio.Protocol):
    """One client: parse, run, write, nothing else."""

    def __init__(self, data):
        self.data = data
        self.reader = hiredis.Reader()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, chunk):
        if chunk[:1] != b"*":       # inline: redis-benchmark's PING_INLINE
            self.transport.write(PONG * chunk.count(b"\n"))
            return
        self.reader.feed(chunk)
        gets = self.reader.gets
        data = self.data
        out = []
        append = out.append
        argv = gets()
        while argv is not False:
            name = argv[0]
            if name == b"GET":
                value = data.get(argv[1])
                append(NULL if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
            elif name == b"SET":
                data[argv[1]] = argv[2]
                append(OK)
            elif name == b"INCR":
                value = b"%d" % (int(data.get(argv[1], b"0")) + 1)
                data[argv[1]] = value
                append(b":%s\r\n" % value)
            elif name == b"MSET":
                for i in range(1, len(argv), 2):
                    data[argv[i]] = argv[i + 1]
                append(OK)
            elif name == b"PING":
                append(PONG)
            else:
                append(EMPTY)
            argv = gets()
        self.transport.write(b"".join(out))


def main(argv=None) -> None:
    """Serve on ``--port N`` (127.0.0.1) until killed; other options are ignored."""
    argv = sys.argv[1:] if argv is None else argv
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 6379
    if uvloop is not None:
        uvloop.install()
    loop = asyncio.new_event_loop()
    data = {}
    server = loop.run_until_complete(
        loop.create_server(lambda: Floor(data), "127.0.0.1", port))
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()

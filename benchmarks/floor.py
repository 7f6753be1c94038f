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

Two options make the ceiling closer to ember's own design:

- ``--split ember``: ember's own request parser splits the requests (a pipeline of one
  framing comes back as a Stretch, one flat tuple of arguments, which is cheaper than
  hiredis's lists), and each Stretch is answered by one flat loop over its arguments.
  This is the most ember's approach could do with no bookkeeping at all.
- ``--lru``: also store an access time for every key a command touches, in a second
  dict: the least bookkeeping an LRU policy needs (ember keeps more: the memory tally,
  which reads the old value, the TTL check, command stats).
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


class StretchFloor(asyncio.Protocol):
    """One client, split by ember's RequestParser: a Stretch (a pipeline of one framing)
    is answered by one loop over its flat arguments, anything else command by command.
    With ``access`` (a dict), every key touched gets an access time, as LRU needs."""

    def __init__(self, data, access):
        from ember.protocol.parser import RequestParser
        self.data = data
        self.access = access
        self.parser = RequestParser()
        self.parser.unauthenticated = False
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, chunk):
        commands = self.parser.parse(chunk)
        if type(commands) is not list:
            reply = self._stretch(commands.name.upper(), commands.args, commands.count)
            if reply is not None:
                self.transport.write(reply)
                return
            commands = commands.commands()
        self.transport.write(b"".join(map(self._one, commands)))

    def _stretch(self, name, args, count):
        """The replies to ``count`` commands ``name`` whose arguments are ``args``."""
        data = self.data
        access = self.access
        if name == b"MSET":
            pairs = iter(args)
            if access is None:
                for key in pairs:
                    data[key] = next(pairs)
            else:
                for key in pairs:
                    data[key] = next(pairs)
                    access[key] = 0
            return OK * count
        if name == b"INCR":
            get = data.get
            numbers = []
            put = numbers.append
            for key in args:
                value = b"%d" % (int(get(key, b"0")) + 1)
                data[key] = value
                if access is not None:
                    access[key] = 0
                put(value)
            return b":" + b"\r\n:".join(numbers) + b"\r\n"
        if name == b"PING":
            return PONG * count
        return None     # GET and SET: command by command (the floor's MSET and INCR are
        # what its numbers are quoted for)

    def _one(self, argv):
        """The reply to one command (the hiredis floor's answers)."""
        name = argv[0].upper()
        data = self.data
        if name == b"GET" and len(argv) == 2:
            value = data.get(argv[1])
            if self.access is not None and value is not None:
                self.access[argv[1]] = 0
            return NULL if value is None else b"$%d\r\n%s\r\n" % (len(value), value)
        if name == b"SET" and len(argv) >= 3:
            data[argv[1]] = argv[2]
            if self.access is not None:
                self.access[argv[1]] = 0
            return OK
        if name in (b"MSET", b"INCR", b"PING"):
            return self._stretch(name, argv[1:], 1)
        return EMPTY


def main(argv=None) -> None:
    """Serve on ``--port N`` (127.0.0.1) until killed; ``--split ember`` and ``--lru`` as
    the module says; other options (compare.py's) are ignored."""
    argv = sys.argv[1:] if argv is None else argv
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 6379
    split = argv[argv.index("--split") + 1] if "--split" in argv else "hiredis"
    access = {} if "--lru" in argv else None
    if uvloop is not None:
        uvloop.install()
    loop = asyncio.new_event_loop()
    data = {}
    if split == "ember":
        def protocol():
            return StretchFloor(data, access)
    elif access is None:
        def protocol():
            return Floor(data)
    else:
        sys.exit("--lru needs --split ember")
    server = loop.run_until_complete(
        loop.create_server(protocol, "127.0.0.1", port))
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()

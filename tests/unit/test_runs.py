"""Runs (commands/runs.py): a stretch of PING, GET, SET, INCR or MSET run in one call must leave
exactly what running each command through its handler leaves.

Two in-process servers with the same hand-moved clock get the same pipelines through
``Connection.data_received``: one may use runs, the other may not (its slow-log threshold
is under ``RUN_SLOW_FLOOR_NS``). Their replies, keyspaces, memory tallies and statistics
must be equal.
"""

from copy import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.commands.engine import Engine
from ember.commands.registry import COMMANDS
from ember.commands.runs import ALL_RUNS, NO_RUNS, READ_RUNS, runs_allowed
from ember.protocol.framing import Stretch
from ember.protocol.parser import RequestParser
from ember.server.app import Server
from ember.server.config import Config
from ember.server.connection import Connection

NOW_MS = 1_700_000_000_000


class _Transport:
    """Collects what the connection writes."""

    def __init__(self):
        self.data = bytearray()

    def write(self, data):
        self.data += data

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


class _Loop:
    def call_soon(self, callback, *args):
        return None

    def call_later(self, delay, callback, *args):
        return None


class _Side:
    """One in-process server and one client connection to it."""

    def __init__(self, runs: bool):
        config = Config()
        if not runs:
            config.set("slowlog-log-slower-than", ["100"])
        self.now = NOW_MS
        self.server = Server(config, Engine(config, clock=lambda: self.now))
        self.server.loop = _Loop()
        self.server.parser_class = RequestParser
        self.transport = _Transport()
        self.conn = Connection(self.server)
        self.conn.connection_made(self.transport)

    def send(self, data: bytes) -> bytes:
        """Feed ``data`` as one chunk; the bytes written back."""
        self.transport.data.clear()
        self.conn.data_received(data)
        self.server.flush_all()
        return bytes(self.transport.data)

    @property
    def db(self):
        return self.conn.client.db

    def state(self) -> dict:
        """What a run must leave as the handlers do."""
        db = self.db
        engine = self.server.engine
        return {
            "data": {key: value if type(value) is bytes else repr(value)
                     for key, value in db.data.items()},
            "expires": dict(db.expires), "access": dict(db.access),
            "used": db.mem.used, "keys": db.mem.keys, "hits": db.stats.hits,
            "misses": db.stats.misses, "expired": db.stats.expired, "dirty": engine.dirty,
            "calls": {name: (COMMANDS[name].calls, COMMANDS[name].failed_calls)
                      for name in ("ping", "get", "set", "incr", "mset")},
        }


def _request(*args) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _send_both(with_runs, without, chunk: bytes) -> None:
    """Send ``chunk`` to both sides: the same replies, and the same calls counted.
    COMMANDS' counters are shared, so each side's are read as the difference it made."""
    before = {name: (COMMANDS[name].calls, COMMANDS[name].failed_calls)
              for name in ("ping", "get", "set", "incr", "mset")}
    got = with_runs.send(chunk)
    middle = {name: (COMMANDS[name].calls, COMMANDS[name].failed_calls) for name in before}
    expected = without.send(chunk)
    after = {name: (COMMANDS[name].calls, COMMANDS[name].failed_calls) for name in before}
    assert got == expected, chunk
    for name in before:
        assert (middle[name][0] - before[name][0], middle[name][1] - before[name][1]) \
            == (after[name][0] - middle[name][0], after[name][1] - middle[name][1]), name


def _run_both(chunks, setup=()):
    """Send ``setup`` then ``chunks`` to a server with runs and one without; return
    both sides after comparing every reply and the calls counted."""
    sides = []
    for runs in (True, False):
        side = _Side(runs)
        for chunk in setup:
            side.send(chunk)
        sides.append(side)
    with_runs, without = sides
    assert runs_allowed(with_runs.server.engine, with_runs.conn.client) == ALL_RUNS
    assert runs_allowed(without.server.engine, without.conn.client) == NO_RUNS
    for chunk in chunks:
        _send_both(with_runs, without, chunk)
    mine, theirs = with_runs.state(), without.state()
    del mine["calls"], theirs["calls"]
    assert mine == theirs
    return with_runs, without


def test_stretches_of_each_command_match_the_handlers():
    setup = [_request(b"SET", b"s", b"hello"), _request(b"SET", b"n", b"41"),
             _request(b"LPUSH", b"list", b"x"), _request(b"SET", b"ttl", b"v", b"EX", b"100")]
    chunks = [
        _request(b"PING") * 16,
        _request(b"GET", b"s") * 8 + _request(b"GET", b"missing") * 8,
        _request(b"SET", b"s", b"other") * 4 + _request(b"SET", b"new", b"v") * 4,
        _request(b"INCR", b"n") * 16,
        # inline lines repeated (a Stretch straight from the parser)
        b"PING\r\n" * 16, b"GET s\r\n" * 8, b"INCR n\r\n" * 5, b"set s v\r\n" * 3,
        b"GET list\r\n" * 3, b"MSET a 1 b 2\r\n" * 4,
        _request(b"MSET", b"s", b"1", b"new", b"2") * 4 + _request(b"MSET", b"list", b"3")
        + _request(b"MSET", b"ttl", b"4", b"s", b"5") * 2 + _request(b"MSET", b"s") * 2
        + _request(b"MSET", *[b"k%d" % i for i in range(40)], b"v")
        + _request(b"MSET", *[b"k%d" % i for i in range(33)]),
        # each stretch stops at what its handler must do: wrong type, TTL, arity, name
        _request(b"GET", b"s") * 3 + _request(b"GET", b"list") + _request(b"GET", b"s") * 3,
        _request(b"SET", b"a", b"1") * 3 + _request(b"SET", b"list", b"y")
        + _request(b"SET", b"ttl", b"w") * 2,
        _request(b"INCR", b"n") * 2 + _request(b"INCR", b"s") + _request(b"INCR", b"fresh")
        + _request(b"INCR", b"n") * 2,
        _request(b"GET", b"s") * 2 + _request(b"get", b"s") * 2 + _request(b"GET", b"s", b"x")
        + _request(b"PING", b"msg") * 2 + _request(b"PING") * 2,
    ]
    _run_both(chunks, setup)


def test_a_key_past_its_deadline_is_expired_by_the_handler():
    sides = _run_both([], [_request(b"SET", b"k", b"5", b"PX", b"10"),
                           _request(b"SET", b"c", b"5", b"PX", b"10")])
    for side in sides:
        side.now += 20      # past both deadlines, not yet actively expired
        side.server.engine.tick()
    replies = [side.send(_request(b"GET", b"k") * 4 + _request(b"INCR", b"c") * 4
                         + _request(b"SET", b"k", b"v") * 2) for side in sides]
    assert replies[0] == replies[1] == b"$-1\r\n" * 4 + b":1\r\n:2\r\n:3\r\n:4\r\n" \
        + b"+OK\r\n" * 2
    assert sides[0].state()["expired"] == sides[1].state()["expired"] == 2


def test_counters_reach_the_int_encoded_limit_as_the_handler_does():
    setup = [_request(b"SET", b"c", b"99999999999999998"),      # 17 digits
             _request(b"SET", b"z", b"0"), _request(b"SET", b"lead", b"007"),
             _request(b"SET", b"top", b"9223372036854775806")]
    _run_both([_request(b"INCR", b"c") * 4 + _request(b"INCR", b"z") * 2
               + _request(b"INCR", b"lead") * 2 + _request(b"INCR", b"top") * 3], setup)


def test_big_values_are_replied_by_the_handler():
    big = b"x" * 5000
    _run_both([_request(b"SET", b"big", big) * 2 + _request(b"GET", b"big") * 3
               + _request(b"GET", b"small") * 2], [_request(b"SET", b"small", b"v")])


def test_runs_stay_off_while_something_would_see_each_command():
    side = _Side(True)
    engine, client = side.server.engine, side.conn.client
    assert runs_allowed(engine, client) == ALL_RUNS
    side.send(_request(b"CONFIG", b"SET", b"notify-keyspace-events", b"KEA"))
    assert runs_allowed(engine, client) == READ_RUNS   # a listener: GET only
    side.send(_request(b"CONFIG", b"SET", b"notify-keyspace-events", b"KEAm"))
    assert runs_allowed(engine, client) == NO_RUNS     # keymiss comes from the database
    side.send(_request(b"CONFIG", b"SET", b"notify-keyspace-events", b""))
    assert runs_allowed(engine, client) == ALL_RUNS
    side.send(_request(b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"))
    assert runs_allowed(engine, client) == NO_RUNS     # every command in the slow log


_KEYS = st.sampled_from([b"a", b"b", b"n", b"list", b"ttl"])
_VALUES = st.sampled_from([b"", b"0", b"1", b"12", b"007", b"-3", b"x", b"99999999999999999",
                           b"9223372036854775807", b"y" * 4100])
_COMMAND = st.one_of(
    st.tuples(st.just(b"GET"), _KEYS),
    st.tuples(st.just(b"SET"), _KEYS, _VALUES),
    st.tuples(st.just(b"INCR"), _KEYS),
    st.tuples(st.just(b"MSET"), _KEYS, _VALUES, _KEYS, _VALUES),
    st.tuples(st.just(b"MSET"), _KEYS),
    st.tuples(st.sampled_from([b"PING", b"ping"])),
    st.tuples(st.just(b"DEL"), _KEYS),
    st.tuples(st.just(b"LPUSH"), _KEYS, _VALUES),
    st.tuples(st.just(b"PEXPIRE"), _KEYS, st.sampled_from([b"1", b"100000"])),
)
# Stretches of one command, as pipelines repeat them.
_STRETCH = st.tuples(_COMMAND, st.integers(1, 6))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_STRETCH, min_size=1, max_size=6), min_size=1, max_size=4),
       st.lists(st.booleans(), min_size=4, max_size=4))
def test_random_pipelines_match_the_handlers(batches, clock_moves):
    """Random pipelines of stretches (keys of every type, TTLs that pass between batches,
    counters at their limits, big values) leave the same replies and state either way."""
    sides = [_Side(True), _Side(False)]
    for batch, move in zip(batches, clock_moves):
        chunk = b"".join(_request(*command) * count for command, count in batch)
        replies = [side.send(chunk) for side in sides]
        assert replies[0] == replies[1]
        if move:
            for side in sides:
                side.now += 5
                side.server.engine.tick()
    mine, theirs = sides[0].state(), sides[1].state()
    del mine["calls"], theirs["calls"]
    assert mine == theirs


def test_learned_pipelines_run_as_stretches_match_the_handlers():
    """A pipeline of a framing the client repeats reaches its run as a Stretch
    (Connection._run_stretch, no list per command); where its run stops (a wrong type, a
    key past its deadline, a big value, a counter out of reach), the rest is run the
    usual way. Replies and state are the handlers'."""
    setup = [_request(b"SET", b"s", b"hello"), _request(b"SET", b"n", b"41"),
             _request(b"LPUSH", b"l", b"x"), _request(b"SET", b"t", b"v", b"PX", b"10"),
             _request(b"SET", b"b", b"y" * 5000), _request(b"SET", b"z", b"-1")]
    pipelines = [
        [(b"PING",)] * 8,
        [(b"GET", b"s"), (b"GET", b"m"), (b"GET", b"n"), (b"GET", b"l"), (b"GET", b"s")],
        [(b"GET", b"s"), (b"GET", b"b"), (b"GET", b"t"), (b"GET", b"s")],
        [(b"SET", b"s", b"a"), (b"SET", b"o", b"b"), (b"SET", b"l", b"c"),
         (b"SET", b"t", b"d"), (b"SET", b"s", b"e")],
        [(b"MSET", b"s", b"a", b"o", b"b"), (b"MSET", b"l", b"c", b"t", b"d"),
         (b"MSET", b"s", b"e", b"s", b"f")],
        [(b"INCR", b"n"), (b"INCR", b"c"), (b"INCR", b"n"), (b"INCR", b"z"),
         (b"INCR", b"s"), (b"INCR", b"n")],
    ]
    sides = [_Side(True), _Side(False)]
    for side in sides:
        for chunk in setup:
            side.send(chunk)
    for pipeline in pipelines:
        learn = _request(*pipeline[0]) * len(pipeline)
        chunk = b"".join(_request(*command) for command in pipeline)
        for side in sides:
            side.send(learn)
        for side in sides:
            side.now += 11      # past t's deadline, before the active cycle saw it
            side.server.engine.tick()
        assert type(RequestParser.parse(copy(sides[0].conn.parser), chunk)) is Stretch
        _send_both(*sides, chunk)
    mine, theirs = sides[0].state(), sides[1].state()
    del mine["calls"], theirs["calls"]
    assert mine == theirs


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"GET", b"SET", b"INCR", b"MSET"]),
       st.lists(st.tuples(_KEYS.filter(lambda key: len(key) == 1),
                          st.sampled_from([b"0", b"7", b"x", b"-"])), min_size=2, max_size=20))
def test_random_learned_stretches_match_the_handlers(name, commands):
    """Random pipelines of one framing (one-byte keys of every type, one-byte values),
    each sent after the client learned the framing, leave the same replies and state
    whether their run takes them or the handlers do."""
    sides = [_Side(True), _Side(False)]
    argv = [(name, key, value) if name == b"SET" else (name, key, value, key, key)
            if name == b"MSET" else (name, key) for key, value in commands]
    setup = [_request(b"SET", b"a", b"5"), _request(b"LPUSH", b"b", b"x"),
             _request(b"SET", b"n", b"x")]
    chunk = b"".join(_request(*command) for command in argv)
    for side in sides:
        for request in setup:
            side.send(request)
        side.send(_request(*argv[0]) * 2)   # the framing learned
    assert type(RequestParser.parse(copy(sides[0].conn.parser), chunk)) is Stretch
    _send_both(*sides, chunk)
    _send_both(*sides, chunk)
    mine, theirs = sides[0].state(), sides[1].state()
    del mine["calls"], theirs["calls"]
    assert mine == theirs

"""Pipelines that cross the fast lane's boundaries (commands/lane.py), sent in one write
to ember and to redis-server: the replies must be the same bytes.

The lane runs data commands of a plain client without Engine.execute; each pipeline here
has a command in the middle that changes what "plain" means for the rest of it (MULTI,
CLIENT REPLY, SELECT, an error, an unknown command, a wrong arity), so a lane
that kept going past it would answer differently from Redis.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.compat.test_protocol_compat import both
from tests.rawclient import RawClient, encode_command


def pipeline(*commands) -> bytes:
    """One buffer holding every command, as a client's pipeline sends it."""
    return b"".join(encode_command(*command) for command in commands)


PIPELINES = {
    "multi in the middle": [("DEL", "pl:a", "pl:b"), ("SET", "pl:a", "1"), ("GET", "pl:a"),
                            ("MULTI",), ("SET", "pl:b", "2"), ("INCR", "pl:a"),
                            ("GET", "pl:a"), ("EXEC",), ("GET", "pl:b")],
    "multi with an error": [("DEL", "pl:a"), ("MULTI",), ("GET", "pl:a", "x"), ("SET", "pl:a", "1"),
                            ("EXEC",), ("GET", "pl:a")],
    "client reply off/skip": [("SET", "pl:a", "1"), ("CLIENT", "REPLY", "OFF"),
                              ("GET", "pl:a"), ("INCR", "pl:a"), ("CLIENT", "REPLY", "ON"),
                              ("GET", "pl:a"), ("CLIENT", "REPLY", "SKIP"), ("GET", "pl:a"),
                              ("GET", "pl:a"), ("DEL", "pl:a")],
    "select in the middle": [("SELECT", "0"), ("SET", "pl:a", "db0"), ("SELECT", "3"),
                             ("GET", "pl:a"), ("SET", "pl:a", "db3"), ("SELECT", "0"),
                             ("GET", "pl:a"), ("SELECT", "3"), ("DEL", "pl:a"),
                             ("SELECT", "0"), ("DEL", "pl:a")],
    "errors inside the run": [("DEL", "pl:h"), ("HSET", "pl:h", "f", "v"), ("GET", "pl:h"),
                              ("INCR", "pl:h"), ("GET",), ("GET", "pl:h", "x"),
                              ("NOSUCHCOMMAND", "x"), ("HGET", "pl:h", "f"),
                              ("SET", "pl:h", "v", "EX", "0"), ("OBJECT", "NOPE"),
                              ("DEL", "pl:h")],
    "counters": [("SET", "pl:c", "9"), ("INCR", "pl:c"), ("INCRBY", "pl:c", "-20"),
                 ("INCR", "pl:c"), ("SET", "pl:c", "0099"), ("INCR", "pl:c"),
                 ("SET", "pl:c", "99999999999999999"), ("INCR", "pl:c"),
                 ("INCRBY", "pl:c", "9223372036854775807"), ("SET", "pl:c", " 1"),
                 ("INCR", "pl:c"), ("SET", "pl:c", "9223372036854775806"), ("INCR", "pl:c"),
                 ("INCR", "pl:c"), ("DECR", "pl:c"), ("APPEND", "pl:c", "0"), ("INCR", "pl:c"),
                 ("SET", "pl:c", "5"), ("APPEND", "pl:c", "0"), ("INCR", "pl:c"),
                 ("GET", "pl:c"), ("DEL", "pl:c")],
    "ping and echo": [("PING",), ("PING", "x"), ("ECHO", "e"), ("PING", "a", "b"),
                      ("ECHO",)],
}


@pytest.mark.parametrize("name", list(PIPELINES))
def test_pipeline_matches_redis(ember_server, redis_reference, name):
    both(ember_server, redis_reference, pipeline(*PIPELINES[name]))


@pytest.mark.parametrize("data", [
    b"PING\r\n" * 16,
    b"PING\r\nECHO hello\r\n\r\nSET pl:i \"a b\"\r\nGET pl:i\r\nDEL pl:i\r\n",
    b"PING\r\n  \r\nECHO 'x y'\r\nPING\r\n",
    b"PING\r\nECHO \"unbalanced\r\nPING\r\n",
    b"PING\r\n*1\r\n$4\r\nPING\r\nPING\r\n",
    b"PING\r\nPING\nPING\r\n",
    b"ECHO \x0bx\r\nPING\r\n",
])
def test_inline_pipelines_match_redis(ember_server, redis_reference, data):
    both(ember_server, redis_reference, data)


def _chunk_by_chunk(port: int, chunks: list) -> list:
    """Send each chunk (a list of commands) as one write and read its replies before the
    next, on one connection: each chunk reaches the server as its own read."""
    client = RawClient(port)
    try:
        replies = []
        for commands in chunks:
            client.send(pipeline(*commands))
            replies.append([client.read_raw() for _ in commands])
        return replies
    finally:
        client.close()


def test_repeated_framings_match_redis(ember_server, redis_reference):
    """The parser learns a framing a client repeats (a same-shaped pipeline, a single
    command of the same size as the one before) and matches later chunks against it; a
    chunk of the same size or start but another framing must still be read as written."""
    mset = ("MSET",) + tuple(x for i in range(5) for x in ("fr:k%d" % i, "v%02d" % i))
    same_size = ("MSET",) + tuple(x for i in range(5) for x in ("fr:kk%d" % i, "v%d" % i))
    chunks = [[mset], [mset], [mset], [same_size], [mset], [("GET", "fr:k1")],
              [("GET", "fr:k2")], [("GET", "fr:k3")], [("GET", "fr:k4")] * 4,
              [("GET", "fr:k1")] * 4, [("GET", "fr:k1")] * 2 + [("GET", "fr:kk1"),
                                                                ("GET", "fr:k")],
              [("SET", "fr:k1", "a\r\nb")] * 3, [("GET", "fr:k1")],
              [("DEL", "fr:k1", "fr:k2")], [("DEL", "fr:k3", "fr:k4")], [("GET", "fr:k1")],
              [("DEL",) + same_size[1::2], ("DEL",) + mset[1::2]]]
    assert len(pipeline(*chunks[10])) == len(pipeline(*chunks[9]))
    got = _chunk_by_chunk(ember_server.port, chunks)
    expected = _chunk_by_chunk(redis_reference.port, chunks)
    assert got == expected
    assert len(pipeline(same_size)) == len(pipeline(mset))


# (No CLIENT REPLY SKIP here: queued in MULTI, Redis answers EXEC with an array header
# and no element, which is not a reply a test can compare.)
_COMMANDS = st.sampled_from([
    ("GET", "pl:s"), ("SET", "pl:s", "7"), ("INCR", "pl:s"), ("APPEND", "pl:s", "1"),
    ("DEL", "pl:s"), ("LPUSH", "pl:s", "x"), ("MULTI",), ("EXEC",), ("DISCARD",),
    ("PING",), ("GET",), ("BOGUS",), ("SELECT", "1"),
    ("SELECT", "0"), ("EXPIRE", "pl:s", "100"), ("TTL", "pl:s"), ("TYPE", "pl:s"),
])


@settings(max_examples=40, deadline=None)
@given(st.lists(_COMMANDS, min_size=1, max_size=20))
def test_random_pipelines_match_redis(ember_server, redis_reference, commands):
    # The closing DISCARD ends a MULTI left open, so the sentinel is answered.
    data = pipeline(("SELECT", "1"), ("DEL", "pl:s"), ("SELECT", "0"), ("DEL", "pl:s"),
                    *commands, ("DISCARD",))
    both(ember_server, redis_reference, data)


# Stretches of one command, as pipelines repeat them (commands/runs.py runs a stretch of
# PING, GET, SET or INCR in one call): keys of another type, TTLs, counters at the edge of
# what is kept as an integer, values of 4 KB and more, names in other cases, other arities.
_STRETCH_COMMANDS = st.sampled_from([
    ("GET", "rn:a"), ("GET", "rn:b"), ("get", "rn:a"), ("GET", "rn:l"), ("GET", "rn:a", "x"),
    ("SET", "rn:a", "1"), ("SET", "rn:b", "007"), ("SET", "rn:a", "99999999999999999"),
    ("SET", "rn:b", "9223372036854775806"), ("SET", "rn:a", "y" * 5000), ("SET", "rn:l", "s"),
    ("SET", "rn:b", "v", "EX", "100"), ("INCR", "rn:a"), ("INCR", "rn:b"), ("INCR", "rn:l"),
    ("incr", "rn:c"), ("PING",), ("ping",), ("PING", "m"), ("DEL", "rn:a"),
    ("LPUSH", "rn:l", "x"), ("PEXPIRE", "rn:a", "100000"),
])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_STRETCH_COMMANDS, st.integers(1, 8)), min_size=1, max_size=10))
def test_random_stretches_match_redis(ember_server, redis_reference, stretches):
    data = pipeline(("DEL", "rn:a", "rn:b", "rn:c", "rn:l"),
                    *(command for command, count in stretches for _ in range(count)))
    both(ember_server, redis_reference, data)


def test_stretches_in_resp3_match_redis(ember_server, redis_reference):
    """A run's replies in RESP3: a missing key's null is ``_``, a hit the same bulk."""
    chunks = [[("HELLO", "3")], [("SET", "r3:k", "v"), ("DEL", "r3:none")],
              [("GET", "r3:k"), ("GET", "r3:none")] * 4 + [("GET", "r3:none")] * 4,
              [("INCR", "r3:n")] * 4 + [("PING",)] * 4, [("DEL", "r3:k", "r3:n")]]
    got = _chunk_by_chunk(ember_server.port, chunks)
    expected = _chunk_by_chunk(redis_reference.port, chunks)
    assert got[1:] == expected[1:]      # (HELLO's map names each server)
    assert got[2][1] == b"_\r\n"


def _inline_chunk_by_chunk(port: int, chunks: list) -> list:
    """Send each (line, count) as ``count`` copies of that inline line in one write and
    read their replies before the next, on one connection."""
    client = RawClient(port)
    try:
        replies = []
        for line, count in chunks:
            client.send((line + b"\r\n") * count)
            replies.append([client.read_raw() for _ in range(count)])
        return replies
    finally:
        client.close()


def test_learned_pipelines_as_stretches_match_redis(ember_server, redis_reference):
    """A pipeline of a framing the client already sent, or of one command with keys of
    several lengths, reaches ember's runs as a Stretch (no argument list per command):
    keys in every state (a string, a counter, a list, one with a TTL, a missing one, a
    big value), so a run stops part-way and the rest is answered the usual way, and
    repeated inline lines. Each chunk is sent twice (the second of a framing as a
    learned one); the replies are Redis's."""
    setup = [[("DEL", "st:a", "st:b", "st:c", "st:l", "st:t", "st:g", "st:m", "st:bb",
               "st:cc", "st:dd", "st:ccc")],
             [("SET", "st:a", "hello"), ("SET", "st:b", "41"), ("RPUSH", "st:l", "x"),
              ("SET", "st:t", "v", "EX", "100"), ("SET", "st:g", "y" * 5000)]]
    keys = ["st:a", "st:b", "st:l", "st:t", "st:m", "st:g", "st:a"]
    pipelines = [
        [("GET", key) for key in keys],
        [("INCR", key) for key in ("st:b", "st:c", "st:b", "st:a", "st:b")],
        [("SET", key, "v") for key in ("st:a", "st:m", "st:t", "st:l", "st:a")],
        [("MSET", "st:a", "1", key, "2") for key in ("st:b", "st:c", "st:l", "st:t")],
        [("GET", key) for key in keys],
        [("MSET", "st:a", "1", "st:b")] * 3,
        # keys of several lengths (a redis-py pipeline): one Stretch without learning
        [("GET", key) for key in ("st:a", "st:bb", "st:l", "st:ccc", "st:g", "st:b")],
        [("INCR", key) for key in ("st:b", "st:cc", "st:b", "st:a")],
        [("SET", key, value) for key, value in (("st:a", "1"), ("st:dd", "22"),
                                                ("st:t", "x"), ("st:l", "y"))],
    ]
    chunks = setup + [chunk for pipeline_ in pipelines for chunk in (pipeline_, pipeline_)]
    chunks.append([("DEL", "st:a", "st:b", "st:c", "st:l", "st:t", "st:g", "st:m",
                    "st:bb", "st:cc", "st:dd", "st:ccc")])
    assert _chunk_by_chunk(ember_server.port, chunks) == \
        _chunk_by_chunk(redis_reference.port, chunks)
    lines = [(b"DEL st:i", 1), (b"INCR st:i", 8), (b"GET st:i", 8), (b"PING", 16),
             (b"ping", 3), (b"SET st:i \"a b\"", 4), (b"GET st:i", 2), (b"MSET st:i 1", 3),
             (b"GET st:i", 3), (b"DEL st:i", 1)]
    assert _inline_chunk_by_chunk(ember_server.port, lines) == \
        _inline_chunk_by_chunk(redis_reference.port, lines)

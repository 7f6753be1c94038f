"""Keyspace notifications compared with redis-server: the same command script runs on both
with notify-keyspace-events enabled, a subscriber to ``__key*__:*`` on each side records
every message, and the two sequences must be identical (channel, event, key, order).

Active expiry is switched off on both (DEBUG SET-ACTIVE-EXPIRE 0) so that keys expire
when a command touches them, at the same point of the script on both servers.
"""

import time

import pytest

from tests.rawclient import RawClient, encode_command

DONE = "cmp:notifications:done"

STRINGS = [
    ("SET", "s", "1"), ("SETRANGE", "s", "1", "xy"), ("SET", "n", "10"), ("INCR", "n"),
    ("DECRBY", "n", "3"), ("INCRBYFLOAT", "n", "1.5"), ("APPEND", "s", "z"),
    ("APPEND", "new", "z"), ("SETBIT", "b", "7", "1"), ("MSET", "m1", "a", "m2", "b"),
    ("MSETNX", "m3", "a", "m1", "x"), ("SETNX", "s", "2"), ("SETNX", "s2", "2"),
    ("GETSET", "s2", "3"), ("GETDEL", "s2"), ("GETDEL", "nosuch"), ("SETEX", "e", "100", "v"),
    ("PSETEX", "e2", "100000", "v"), ("GETEX", "e", "PERSIST"), ("GETEX", "e2", "EX", "50"),
    ("SET", "s", "k", "KEEPTTL"), ("SET", "s", "v", "NX"), ("SET", "s", "v", "XX", "GET"),
    ("BITOP", "OR", "dest", "b", "b"), ("BITOP", "AND", "dest", "nosuch"),
    ("BITFIELD", "bf", "SET", "u8", "0", "255"), ("GET", "nosuch"),
]

KEYS = [
    ("SET", "k1", "v"), ("DEL", "k1", "nosuch"), ("SET", "k2", "v"), ("UNLINK", "k2"),
    ("SET", "r1", "v"), ("RENAME", "r1", "r2"), ("SET", "r3", "v"), ("RENAMENX", "r2", "r3"),
    ("RENAME", "r2", "r3"), ("COPY", "r3", "c1"), ("COPY", "r3", "c1", "REPLACE"),
    ("MOVE", "c1", "1"), ("EXPIRE", "r3", "100"), ("PEXPIRE", "r3", "200000", "GT"),
    ("EXPIREAT", "r3", "4000000000"), ("PERSIST", "r3"), ("PERSIST", "r3"),
    ("EXPIRE", "r3", "-1"), ("SET", "t", "v"), ("PEXPIREAT", "t", "1"),
    ("RPUSH", "srt", "3", "1", "2"), ("SORT", "srt", "STORE", "sorted"),
    ("SORT", "nosuch", "STORE", "sorted"), ("SELECT", "1"), ("SET", "db1", "v"),
    ("DEL", "db1", "c1"), ("SELECT", "0"), ("SWAPDB", "0", "1"), ("SWAPDB", "0", "1"),
    ("SET", "x", "1"), ("FLUSHDB",),
]

LISTS = [
    ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "d"), ("RPUSHX", "none", "d"),
    ("LINSERT", "l", "BEFORE", "a", "z"), ("LSET", "l", "0", "q"), ("LREM", "l", "1", "z"),
    ("LTRIM", "l", "0", "2"), ("LPOP", "l"), ("RPOP", "l", "1"), ("RPUSH", "l2", "x", "y"),
    ("LMOVE", "l2", "l3", "LEFT", "RIGHT"), ("RPOPLPUSH", "l2", "l3"),
    ("LMPOP", "2", "nosuch", "l3", "LEFT", "COUNT", "5"), ("BLPOP", "l", "0"),
    ("RPUSH", "b1", "v"), ("BLMOVE", "b1", "b2", "RIGHT", "LEFT", "0"),
    ("BRPOPLPUSH", "b2", "b2", "0"), ("LPOP", "nosuch"), ("LTRIM", "b2", "1", "0"),
]

HASHES = [
    ("HSET", "h", "a", "1", "b", "2"), ("HSETNX", "h", "a", "x"), ("HSETNX", "h", "c", "3"),
    ("HMSET", "h", "d", "4"), ("HINCRBY", "h", "a", "5"), ("HINCRBYFLOAT", "h", "b", "0.5"),
    ("HDEL", "h", "a", "nosuch"), ("HDEL", "h", "b", "c", "d"), ("HDEL", "nosuch", "a"),
]

SETS = [
    ("SADD", "s1", "a", "b", "c"), ("SADD", "s1", "a"), ("SREM", "s1", "a", "x"),
    ("SADD", "s2", "b", "d"), ("SMOVE", "s1", "s2", "c"), ("SMOVE", "s1", "s2", "nosuch"),
    ("SINTERSTORE", "si", "s1", "s2"), ("SUNIONSTORE", "su", "s1", "s2"),
    ("SDIFFSTORE", "sd", "s2", "s1"), ("SDIFFSTORE", "sd", "s1", "s1"),
    ("SINTERSTORE", "empty", "nosuch", "s1"), ("SPOP", "s1"), ("SPOP", "su", "10"),
]

ZSETS = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), ("ZADD", "z", "XX", "5", "a"),
    ("ZADD", "z", "NX", "1", "a"), ("ZINCRBY", "z", "1", "b"), ("ZADD", "z", "INCR", "1", "b"),
    ("ZREM", "z", "c", "nosuch"), ("ZREMRANGEBYSCORE", "z", "100", "200"),
    ("ZADD", "z", "0", "e", "0", "f"), ("ZREMRANGEBYRANK", "z", "0", "0"),
    ("ZREMRANGEBYLEX", "z", "[f", "[f"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "1"),
    ("ZADD", "z2", "1", "x", "2", "y"), ("ZUNIONSTORE", "zu", "2", "z", "z2"),
    ("ZINTERSTORE", "zi", "2", "z", "z2"), ("ZDIFFSTORE", "zd", "1", "z2"),
    ("ZRANGESTORE", "zr", "z2", "0", "0"), ("ZRANGESTORE", "zr", "z2", "5", "6"),
    ("ZMPOP", "1", "z2", "MIN", "COUNT", "5"), ("BZPOPMIN", "zu", "0"),
    ("BZPOPMAX", "zu", "0"), ("ZREMRANGEBYRANK", "zi", "0", "-1"),
]

SCRIPTS = {"strings": STRINGS, "keys": KEYS, "lists": LISTS, "hashes": HASHES,
           "sets": SETS, "zsets": ZSETS}


class Listener:
    """A RESP2 subscriber to every keyspace channel, on one server."""

    def __init__(self, port: int):
        self.client = RawClient(port)
        self.client.call("PSUBSCRIBE", "__key*__:*")
        self.client.call("SUBSCRIBE", DONE)

    def drain(self, publisher: RawClient) -> list:
        """Every message up to a marker published now."""
        publisher.call("PUBLISH", DONE, "x")
        messages = []
        while True:
            message = self.client.read_value()
            if message[0] == b"message" and message[1] == DONE.encode():
                return messages
            messages.append(tuple(message[2:]))

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def notifying(compat, ember_server, redis_reference):
    """Both servers with notifications on and active expiry off; a listener on each."""
    def configure(flags: str):
        compat.check("CONFIG", "SET", "notify-keyspace-events", flags)

    compat.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    listeners = (Listener(ember_server.port), Listener(redis_reference.port))
    try:
        yield configure, listeners
    finally:
        for listener in listeners:
            listener.close()
        compat.check("CONFIG", "SET", "notify-keyspace-events", "")
        compat.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        compat.check("FLUSHALL")


def _compare(compat, listeners) -> list:
    ours, theirs = (listener.drain(side) for listener, side in
                    zip(listeners, (compat.ember, compat.redis)))
    assert ours == theirs
    return ours


@pytest.mark.parametrize("family", sorted(SCRIPTS))
def test_events_of_each_family_match_redis(compat, notifying, family):
    configure, listeners = notifying
    configure("KEA")
    for command in SCRIPTS[family]:
        if command[0] == "SPOP":        # members come in no particular order
            compat.check_unordered(*command)
            continue
        for side in (compat.ember, compat.redis):
            side.send(encode_command(*command))
        got, expected = compat.ember.read_raw(), compat.redis.read_raw()
        assert got == expected, f"{command}: ember {got!r} != redis {expected!r}"
    events = _compare(compat, listeners)
    assert events, "the script produced no event at all"


def test_expired_events_match_redis(compat, notifying):
    configure, listeners = notifying
    configure("KEA")
    compat.script([("SET", "gone", "v", "PX", "1"), ("RPUSH", "gone2", "a"),
                   ("PEXPIRE", "gone2", "1")])
    time.sleep(0.01)        # let the 1 ms deadlines pass (time cannot be awaited)
    compat.script([("GET", "gone"), ("LLEN", "gone2"), ("GET", "gone")])
    assert (b"__keyevent@0__:expired", b"gone") in _compare(compat, listeners)


def test_overwriting_a_key_past_its_deadline_expires_it_first(compat, notifying):
    """Writes over a key whose deadline passed (SET, MSET, a STORE destination, COPY,
    PFADD): Redis's lookupKeyWrite expires it (event, expired_keys) before the write."""
    configure, listeners = notifying
    configure("KEAn")
    before = [expired_keys(side) for side in (compat.ember, compat.redis)]
    compat.script([("SADD", "src", "m"), ("RPUSH", "list", "3", "1")]
                  + [("SET", key, "v", "PX", "1") for key in ("o1", "o2", "o3", "d1", "d2",
                                                              "d3", "d4")])
    time.sleep(0.01)        # let the 1 ms deadlines pass (time cannot be awaited)
    compat.script([("SET", "o1", "w"), ("MSET", "o2", "w", "new", "w", "o3", "w"),
                   ("GET", "o2"), ("SUNIONSTORE", "d1", "src"), ("SORT", "list", "STORE", "d2"),
                   ("COPY", "src", "d3"), ("PFADD", "d4", "x")])
    events = _compare(compat, listeners)
    assert (b"__keyevent@0__:expired", b"o3") in events
    after = [expired_keys(side) for side in (compat.ember, compat.redis)]
    assert after[0] - before[0] == after[1] - before[1] == 7


def expired_keys(side) -> int:
    """expired_keys from a side's INFO stats (counted since the server started)."""
    side.send(encode_command("INFO", "stats"))
    reply = side.read_raw()
    line = next(line for line in reply.split(b"\r\n") if line.startswith(b"expired_keys:"))
    return int(line.split(b":")[1])


@pytest.mark.parametrize("flags", ["Kg", "E$", "Kl", "Els", "Khz", "Ex", "KEd", "AK"])
def test_class_filters_match_redis(compat, notifying, flags):
    configure, listeners = notifying
    configure(flags)
    compat.script(STRINGS[:6] + LISTS[:4] + HASHES[:3] + SETS[:3] + ZSETS[:3] + KEYS[:6])
    _compare(compat, listeners)


def test_new_and_keymiss_events_match_redis(compat, notifying):
    configure, listeners = notifying
    configure("KEnm")
    compat.script([("SET", "a", "1"), ("SET", "a", "2"), ("GET", "a"), ("GET", "missing"),
                   ("RPUSH", "l", "x"), ("RPUSH", "l", "y"), ("LRANGE", "nolist", "0", "-1"),
                   ("HSET", "h", "f", "v"), ("HGET", "nohash", "f"), ("SADD", "s", "m"),
                   ("ZADD", "z", "1", "m"), ("INCR", "counter"), ("APPEND", "ap", "x")])
    assert (b"__keyevent@0__:keymiss", b"missing") in _compare(compat, listeners)

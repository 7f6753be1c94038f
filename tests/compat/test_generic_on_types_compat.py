"""Generic key commands on every value type, byte for byte against redis-server.

TYPE, COPY (REPLACE, DB), RENAME/RENAMENX (the TTL moves with the key), MOVE and SCAN TYPE
must treat hashes, lists, sets and sorted sets as Redis does, and the copies must hold the
same contents as the originals.
"""

import pytest

CREATE = {
    "hash": [("HSET", "k", "f1", "v1", "f2", "v2")],
    "list": [("RPUSH", "k", "a", "b", "c", "b")],
    "set": [("SADD", "k", "x", "y", "z")],
    "zset": [("ZADD", "k", "1", "a", "2.5", "b", "-3", "c")],
    "string": [("SET", "k", "v")],
}

READ = {
    "hash": lambda key: ("HGETALL", key),
    "list": lambda key: ("LRANGE", key, "0", "-1"),
    "set": lambda key: ("SMEMBERS", key),
    "zset": lambda key: ("ZRANGE", key, "0", "-1", "WITHSCORES"),
    "string": lambda key: ("GET", key),
}

MUTATE = {
    "hash": lambda key: ("HSET", key, "f3", "v3"),
    "list": lambda key: ("RPUSH", key, "d"),
    "set": lambda key: ("SADD", key, "w"),
    "zset": lambda key: ("ZADD", key, "9", "q"),
    "string": lambda key: ("APPEND", key, "x"),
}

# Encodings that 7.0 and 7.2 report alike for these small values (7.2 reports small lists
# and non-integer sets as listpack where 7.0 says quicklist/hashtable; those are covered by
# the per-type compat tests).
SAME_ENCODING = {"hash", "zset", "string"}


def _read(compat, kind: str, key: str) -> None:
    if kind == "set":
        compat.check_unordered(*READ[kind](key))
    else:
        compat.check(*READ[kind](key))


@pytest.mark.parametrize("kind", sorted(CREATE))
def test_generic_commands_on_each_type(compat, kind):
    compat.script(CREATE[kind])
    compat.check("TYPE", "k")
    if kind in SAME_ENCODING:
        compat.check("OBJECT", "ENCODING", "k")
    # COPY: new key, existing key without and with REPLACE, another database.
    compat.check("COPY", "k", "k2")
    _read(compat, kind, "k2")
    compat.check("COPY", "k", "k2")
    compat.check("COPY", "k", "k2", "REPLACE")
    compat.check("COPY", "k", "k3", "DB", "1")
    compat.check("SELECT", "1")
    compat.check("TYPE", "k3")
    _read(compat, kind, "k3")
    compat.check("SELECT", "0")
    # The copy is independent of the original: changing it leaves the original alone.
    compat.check(*MUTATE[kind]("k2"))
    _read(compat, kind, "k2")
    _read(compat, kind, "k")
    compat.check("DEL", "k2")
    # RENAME carries the TTL; RENAMENX refuses an existing target.
    compat.check("EXPIRE", "k", "1000")
    compat.check("RENAME", "k", "k4")
    compat.check("EXISTS", "k")
    compat.check("TTL", "k4")
    _read(compat, kind, "k4")
    compat.script(CREATE[kind])
    compat.check("RENAMENX", "k4", "k")
    compat.check("RENAMENX", "k4", "k5")
    # MOVE to another database keeps value and TTL; a taken name there refuses.
    compat.check("MOVE", "k5", "2")
    compat.check("EXISTS", "k5")
    compat.check("SELECT", "2")
    compat.check("TYPE", "k5")
    compat.check("TTL", "k5")
    _read(compat, kind, "k5")
    compat.check("SELECT", "0")
    compat.script([("SET", "k5", "other")])
    compat.check("SELECT", "2")
    compat.check("MOVE", "k5", "0")
    compat.check("SELECT", "0")


def test_scan_type_filters_every_type(compat):
    for kind, commands in CREATE.items():
        compat.script([(c[0], f"{kind}:1", *c[2:]) for c in commands])
        compat.script([(c[0], f"{kind}:2", *c[2:]) for c in commands])
    for kind in CREATE:
        compat.check_unordered("SCAN", "0", "TYPE", kind, "COUNT", "1000")
    compat.check_unordered("SCAN", "0", "TYPE", "stream", "COUNT", "1000")
    compat.check_unordered("SCAN", "0", "TYPE", "nosuchtype", "COUNT", "1000")

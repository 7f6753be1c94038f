"""Memory accounting: the incremental estimate equals a fresh walk after any writes."""

import random

from ember.storage import memory
from tests.unit.harness import Harness


def _settled_matches(h) -> None:
    mem = h.db.mem
    memory.settle(mem)
    assert mem.used == sum(memory.recount(db) for db in h.engine.dbs)
    assert mem.keys == sum(len(db.data) for db in h.engine.dbs)
    for db in h.engine.dbs:     # the remembered estimates are the current ones
        for key, size in db.charged.items():
            assert size == memory.estimate(db.data[key]), key


def test_strings_are_charged_and_released(h):
    db = h.db
    h("SET", "k", "v" * 10)
    assert db.mem.used == len(b"k") + 10 + memory.STRING_KEY
    h("SET", "k", "v" * 100)
    assert db.mem.used == 1 + 100 + memory.STRING_KEY
    h("EXPIRE", "k", 100)
    assert db.mem.used == 1 + 100 + memory.STRING_KEY + memory.TTL_ENTRY
    h("SET", "k", "v" * 100)            # SET clears the TTL
    assert db.mem.used == 1 + 100 + memory.STRING_KEY
    h("APPEND", "k", "tail")            # becomes a bytearray, estimated apart
    _settled_matches(h)
    h("DEL", "k")
    assert db.mem.used == 0 and not db.charged and db.mem.keys == 0


def test_in_place_changes_are_settled(h):
    db = h.db
    h("HSET", "h", "f", "v")
    small = memory.used_bytes(db.mem)
    for i in range(200):
        h("HSET", "h", "field:%d" % i, "value" * 4)
    big = memory.used_bytes(db.mem)
    assert big > small + 200 * 60
    h("RPUSH", "l", *["x" * 20] * 500)
    h("ZADD", "z", *[x for i in range(300) for x in (i, "m%d" % i)])
    h("SADD", "s", *["member:%d" % i for i in range(300)])
    h("XADD", "x", "*", "a", "1")
    _settled_matches(h)
    full = memory.used_bytes(db.mem)
    h("LTRIM", "l", 0, 9)
    h("ZREMRANGEBYRANK", "z", 0, -2)
    _settled_matches(h)
    assert memory.used_bytes(db.mem) < full - 500 * 50


def test_random_writes_match_a_fresh_walk():
    rng = random.Random(7)
    h = Harness()
    ops = [
        lambda k: h("SET", k, "v" * rng.randrange(0, 300)),
        lambda k: h("APPEND", k, "ab") if h.db.peek(k.encode()) is None
        or type(h.db.peek(k.encode())) in (bytes, bytearray) else None,
        lambda k: h("DEL", k),
        lambda k: h("EXPIRE", k, 100),
        lambda k: h("RENAME", k, "other") if h.db.peek(k.encode()) is not None else None,
        lambda k: h("COPY", k, "copy", "REPLACE") if h.db.peek(k.encode()) is not None
        else None,
    ]
    typed = {
        "h": lambda k: h("HSET", k, "f%d" % rng.randrange(50), "x" * rng.randrange(40)),
        "l": lambda k: h("RPUSH", k, "e" * rng.randrange(30)),
        "s": lambda k: h("SADD", k, "m%d" % rng.randrange(100)),
        "z": lambda k: h("ZADD", k, rng.random(), "m%d" % rng.randrange(100)),
    }
    for step in range(3000):
        name = rng.choice("hlszk")
        key = "%s%d" % (name, rng.randrange(8))
        try:
            if name in typed and rng.random() < 0.7:
                typed[name](key)
            else:
                rng.choice(ops)(key)
        except Exception:           # WRONGTYPE and the like: the accounting must hold
            pass
        if step % 500 == 0:
            h("SELECT", rng.randrange(3))
        if step % 997 == 0:
            h("FLUSHDB")
        if step % 701 == 0:
            h("SWAPDB", 0, 1)
    h.advance(200_000)              # every TTL passes: lazy and active expiry
    for db in h.engine.dbs:
        for key in list(db.data):
            db.peek(key)
    _settled_matches(h)
    assert h.db.mem.used > 0


def test_mset_is_tallied_as_pair_by_pair_stores(h):
    """MSET's one-loop tally (new keys, overwritten strings, a repeated key, a container,
    a bytearray) and its way through keys with a TTL, live or past their deadline."""
    h.engine.keyspace_listeners.clear()     # (with a listener MSET goes key by key)
    h("HSET", "hash", "f", "v" * 50)
    h("SET", "grown", "x")
    h("APPEND", "grown", "yz")          # a bytearray now
    h("SET", "old", "1234")
    h("MSET", "new", "a", "old", "bb", "new", "ccc", "hash", "d", "grown", "e" * 40)
    assert h("MGET", "new", "old", "hash", "grown") == [b"ccc", b"bb", b"d", b"e" * 40]
    _settled_matches(h)
    h("SET", "ttl", "v", "PX", 100)
    h("SET", "gone", "v", "PX", 10)
    h.advance(50)
    h("MSET", "ttl", "w" * 30, "gone", "back", "fresh", "f", "ttl", "last")
    assert h.db.expires == {}
    assert h("MGET", "ttl", "gone", "fresh") == [b"last", b"back", b"f"]
    assert h("INFO", "stats").count(b"expired_keys:1") == 1
    _settled_matches(h)


def test_a_loader_filling_the_tables_directly_is_recounted(h):
    h("SET", "a", "1")
    h.db.data[b"loaded"] = b"x" * 1000          # as an RDB loader does
    h.db.expires[b"loaded"] = h.now + 100_000
    used = int(_info_field(h, "used_memory"))   # INFO notices the count is off
    assert used == memory.STARTUP_BYTES + memory.recount(h.db)
    _settled_matches(h)


def test_used_memory_in_info_and_memory_commands(h):
    empty = int(_info_field(h, "used_memory"))
    assert empty == memory.STARTUP_BYTES
    for i in range(100):
        h("SET", "key:%d" % i, "x" * 100)
    used = int(_info_field(h, "used_memory"))
    per_key = (used - empty) / 100
    assert 200 < per_key < 400
    assert _info_field(h, "used_memory_dataset") == str(used - empty)
    usage = h("MEMORY", "USAGE", "key:1")
    assert 200 < usage < 400
    assert h("MEMORY", "USAGE", "nokey") is None
    stats = h("MEMORY", "STATS")
    assert stats[b"keys.count"] == 100 and stats[b"total.allocated"] == used
    h("FLUSHALL")
    assert int(_info_field(h, "used_memory")) == empty
    assert int(_info_field(h, "used_memory_peak")) >= used


def test_memory_usage_samples(h):
    h("HSET", "h", *[x for i in range(100) for x in ("f%d" % i, "v" * (i * 5))])
    few = h("MEMORY", "USAGE", "h", "SAMPLES", 1)
    every = h("MEMORY", "USAGE", "h", "SAMPLES", 0)
    assert every > few      # the first field is the smallest one
    for bad, text in ((["SAMPLES", "-1"], "ERR syntax error"),
                      (["SAMPLES", "x"], "ERR value is not an integer or out of range"),
                      (["FOO"], "ERR syntax error"), (["SAMPLES"], "ERR syntax error")):
        try:
            h("MEMORY", "USAGE", "h", *bad)
        except Exception as exc:
            assert str(exc) == text
        else:
            raise AssertionError(bad)


def test_memory_doctor_purge_help_malloc(h):
    assert h("MEMORY", "DOCTOR").startswith(b"Hi Sam, this instance is empty")
    assert h("MEMORY", "PURGE").upper() == "OK"
    assert b"CPython" in h("MEMORY", "MALLOC-STATS")
    assert h("MEMORY", "HELP")[0].startswith("MEMORY <subcommand>")


def _info_field(h, name: str) -> str:
    text = h("INFO", "memory").decode() if isinstance(h("INFO", "memory"), bytes) \
        else str(h("INFO", "memory"))
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise KeyError(name)


def test_counters_are_charged_like_strings(h):
    """INCR's one-step path (Database.incr_counter) keeps the tally exact."""
    h("SET", "c", "9")
    h("INCR", "c")
    h("INCRBY", "c", 99_990)
    h("DECR", "c")
    h("SET", "d", "5")
    h("APPEND", "d", "0")               # a bytearray: the general path
    h("INCR", "d")
    _settled_matches(h)

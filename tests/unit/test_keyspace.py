"""Key commands and the SCAN cursor helper, driven through the Engine without sockets.

What a byte comparison with redis-server cannot show: the SCAN guarantee under arbitrary
interleavings of writes (Hypothesis), snapshot eviction and restarts, cursor parsing,
what each write propagates and which keyspace events it records, OBJECT on other
types, COPY's independence of the copy, RANDOMKEY on big keyspaces.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.commands.keys import duplicate, random_key, string_encoding, type_name
from ember.errors import ReplyError
from ember.storage.scan import ScanCursors, parse_cursor
from tests.unit.harness import START_MS


class FakeHash(dict):
    """Stands in for a non-string type: says its TYPE and OBJECT ENCODING names."""

    type_name = "hash"
    encoding = "listpack"


# ---- SCAN cursors ---------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    (b"0", 0), (b"", 0), (b"00", 0), (b"-0", 0), (b"+5", 5), (b"-1", 2 ** 64 - 1),
    (b"18446744073709551615", 2 ** 64 - 1), (b"1\x00junk", 1),
    (b"-18446744073709551615", 1), (b" 1", None), (b"1 ", None), (b"\t1", None),
    (b"-", None), (b"+", None), (b"abc", None), (b"0x1", None), (b"1.0", None),
    (b"18446744073709551616", None),
])
def test_parse_cursor_is_strtoul(text, value):
    assert parse_cursor(text) == value


def scan_all(cursors, owner, container, count, between=None):
    """Run a whole scan; ``between(step)`` may change the container between calls."""
    cursor, seen, step = 0, [], 0
    while True:
        cursor, keys = cursors.page(owner, container, cursor, count)
        seen.extend(keys)
        if cursor == 0:
            return seen
        step += 1
        assert step < 10_000, "scan did not terminate"
        if between:
            between(step)


@settings(max_examples=200, deadline=None)
@given(initial=st.integers(0, 300), count=st.integers(1, 40),
       changes=st.lists(st.tuples(st.sampled_from(["add", "del", "readd"]),
                                  st.integers(0, 400)), max_size=60))
def test_scan_returns_every_key_present_throughout(initial, count, changes):
    cursors = ScanCursors()
    owner = object()
    data = {b"k%d" % i: 1 for i in range(initial)}
    touched = set()
    plan = iter(changes)

    def between(step):
        for _ in range(3):
            change = next(plan, None)
            if change is None:
                return
            action, n = change
            key = b"k%d" % n
            touched.add(key)
            if action == "add":
                data[key] = 1
            elif action == "del":
                data.pop(key, None)
            else:                      # delete and re-insert: moves to the dict's end
                data.pop(key, None)
                data[key] = 1

    throughout = {k for k in data}
    seen = scan_all(cursors, owner, data, count, between)
    throughout -= touched
    assert throughout <= set(seen)
    assert set(seen) <= {b"k%d" % i for i in range(401)}
    assert len(cursors) == 0           # finished scans leave no snapshot behind


def test_scan_of_a_small_container_takes_no_snapshot():
    cursors = ScanCursors()
    assert cursors.page("o", {b"a": 1, b"b": 2}, 0, 10) == (0, [b"a", b"b"])
    fields = {b"f%d" % i: 1 for i in range(100)}
    assert cursors.page("h", fields, 0, 10, whole_below=128) == (0, list(fields))
    assert len(cursors) == 0
    assert cursors.page("h", fields, 0, 10, whole_below=64)[0] != 0


def test_unknown_or_evicted_cursor_restarts_and_terminates():
    cursors = ScanCursors(max_snapshots=2)
    data = {b"k%d" % i: 1 for i in range(100)}
    first, _ = cursors.page("a", data, 0, 10)
    cursors.page("b", data, 0, 10)
    cursors.page("c", data, 0, 10)     # evicts a's snapshot (least recently used)
    assert len(cursors) == 2
    seen = []
    cursor = first
    steps = 0
    while True:
        cursor, keys = cursors.page("a", data, cursor, 10)
        seen.extend(keys)
        steps += 1
        if cursor == 0:
            break
    assert set(seen) == set(data) and steps == 10
    # A made-up cursor, or one from another owner, restarts from a fresh snapshot too.
    assert set(scan_all_from(cursors, "z", data, 12345)) == set(data)
    assert set(scan_all_from(cursors, "b", data, first)) == set(data)


def scan_all_from(cursors, owner, data, cursor):
    seen = []
    while True:
        cursor, keys = cursors.page(owner, data, cursor, 10)
        seen.extend(keys)
        if cursor == 0:
            return seen


def test_snapshot_memory_is_bounded():
    cursors = ScanCursors(max_keys=250)
    small = {b"k%d" % i: 1 for i in range(50)}
    for owner in range(10):
        cursors.page(owner, small, 0, 10)
    assert len(cursors) == 5           # 6 * 50 keys would exceed 250
    big = {b"k%d" % i: 1 for i in range(100)}
    for owner in range(10):
        cursors.page(owner, big, 0, 10)
    assert len(cursors) == 4           # the budget stretches to four of the biggest
    cursors = ScanCursors(max_snapshots=3)
    for owner in range(10):
        cursors.page(owner, small, 0, 10)
    assert len(cursors) == 3


def test_scan_command_filters_type_match_and_expired(h):
    for i in range(30):
        h("SET", "k%d" % i, "v")
    h.db.set(b"h1", FakeHash())
    h("PEXPIRE", "k0", 10)
    h.now += 10
    h.engine.tick()
    assert b"k0" in h("SCAN", 0, "COUNT", 100, "MATCH", "k0")[1]   # alive at the deadline
    h.now += 1
    h.engine.tick()
    seen, cursor = [], b"0"
    while True:
        cursor, keys = h("SCAN", cursor, "COUNT", 7, "MATCH", "k*")
        seen.extend(keys)
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(b"k%d" % i for i in range(1, 30))
    assert h.db_events[-1] == (0, "expired", b"k0")
    assert h("SCAN", 0, "TYPE", "HASH", "COUNT", 100) == [b"0", [b"h1"]]
    with pytest.raises(ReplyError, match="invalid cursor"):
        h("SCAN", "x")


# ---- writes: propagation and events ---------------------------------------------------

def test_del_expires_first_then_deletes(h):
    h("SET", "a", "1")
    h("SET", "b", "1")
    h("PEXPIRE", "b", 5)
    h.propagated.clear()
    h.now += 5
    h.engine.tick()
    assert h("EXISTS", "b") == 1 and h.propagated == []   # alive at the deadline
    h.now += 1
    h.engine.tick()
    assert h("DEL", "a", "b", "c") == 1
    assert h.propagated == [[b"DEL", b"b"], [b"DEL", b"a", b"b", b"c"]]
    assert h.db_events[-2:] == [(0, "del", b"a"), (0, "expired", b"b")]
    h.propagated.clear()
    assert h("UNLINK", "nothing") == 0
    assert h.propagated == []


def test_rename_moves_value_and_ttl_with_events(h):
    h("SET", "a", "1")
    h("PEXPIREAT", "a", START_MS + 5000)
    h("SET", "b", "old")
    h("EXPIRE", "b", 100)
    dirty = h.engine.dirty
    assert h("RENAME", "a", "b") == "OK"
    assert h.engine.dirty == dirty + 1
    assert h("GET", "b") == b"1" and h("PEXPIRETIME", "b") == START_MS + 5000
    assert h("EXISTS", "a") == 0
    assert h.db_events[-2:] == [(0, "rename_from", b"a"), (0, "rename_to", b"b")]
    h.now += 5000
    h.engine.tick()
    assert h("GET", "b") == b"1"                      # alive at the deadline itself
    h.now += 1
    h.engine.tick()
    assert h("GET", "b") is None                      # the TTL came along
    h("SET", "x", "1")
    assert h("RENAMENX", "x", "y") == 1 and h("PTTL", "y") == -1


def test_move_copy_swapdb_events_and_isolation(h):
    h("SET", "k", "v")
    h("PEXPIREAT", "k", START_MS + 9000)
    assert h("MOVE", "k", 3) == 1
    assert h.db_events[-2:] == [(0, "move_from", b"k"), (3, "move_to", b"k")]
    h("SELECT", 3)
    assert h("PEXPIRETIME", "k") == START_MS + 9000
    h("APPEND", "k", "x")
    assert h("COPY", "k", "c", "DB", 4) == 1
    assert h.db_events[-1] == (4, "copy_to", b"c")
    h("APPEND", "k", "y")                             # the copy must not change
    h("SELECT", 4)
    assert h("GET", "c") == b"vx" and h("PEXPIRETIME", "c") == START_MS + 9000
    h.db.set(b"hash", FakeHash({b"f": b"1"}))
    assert h("COPY", "hash", "hash2") == 1
    h.db.data[b"hash"][b"g"] = b"2"
    assert h.db.data[b"hash2"] == {b"f": b"1"} and h("TYPE", "hash2") == "hash"
    h.propagated.clear()
    assert h("SWAPDB", 4, 0) == "OK"
    assert h.propagated == [[b"SWAPDB", b"4", b"0"]]
    assert h("DBSIZE") == 0
    h("SELECT", 0)
    assert h("GET", "c") == b"vx"


def test_flush_and_swapdb_propagate_even_when_empty(h):
    for command in (("FLUSHDB",), ("FLUSHALL",), ("SWAPDB", 1, 1)):
        h.propagated.clear()
        h(*command)
        assert h.propagated == [[c if isinstance(c, bytes) else str(c).encode()
                                 for c in command]]


# ---- reads --------------------------------------------------------------------------

def test_exists_and_type_count_hits_without_touching(h):
    h("SET", "k", "v")
    h.db.access[b"k"] = 1
    hits, misses = h.engine.keyspace_stats.hits, h.engine.keyspace_stats.misses
    assert h("EXISTS", "k", "k", "x") == 2 and h("TYPE", "k") == "string"
    assert h.engine.keyspace_stats.hits == hits + 3
    assert h.engine.keyspace_stats.misses == misses + 1
    assert h.db.access[b"k"] == 1                     # EXISTS/TYPE do not touch
    assert h("TOUCH", "k", "x") == 1
    assert h.db.access[b"k"] == START_MS // 1000


def test_object_on_strings_and_other_types(h):
    assert string_encoding(b"123") == b"int" and string_encoding(b"0123") == b"embstr"
    assert string_encoding(bytearray(b"1")) == b"raw"
    assert string_encoding(b"x" * 45) == b"raw"
    h.db.set(b"h", FakeHash())
    assert h("OBJECT", "ENCODING", "h") == b"listpack"
    assert h("OBJECT", "REFCOUNT", "h") == 1
    h.db.access[b"h"] = START_MS // 1000 - 42
    assert h("OBJECT", "IDLETIME", "h") == 42
    h.engine.config.maxmemory_policy = "allkeys-lfu"
    with pytest.raises(ReplyError, match="LFU maxmemory policy is selected"):
        h("OBJECT", "IDLETIME", "h")
    assert h("OBJECT", "FREQ", "h") == 0
    h("SET", "n", "5")
    h.engine.config.maxmemory = 1 << 30
    assert h("OBJECT", "REFCOUNT", "n") == 1          # no shared integers under LFU
    h.engine.config.maxmemory_policy = "noeviction"
    assert h("OBJECT", "REFCOUNT", "n") == 2 ** 31 - 1


def test_type_names_and_duplicates():
    assert type_name(None) == "none" and type_name(bytearray()) == "string"
    assert type_name(FakeHash()) == "hash" and type_name(set()) == "set"
    value = bytearray(b"ab")
    copy = duplicate(value)
    copy += b"c"
    assert value == b"ab"


def test_randomkey_big_keyspace_and_expired_keys(h):
    assert h("RANDOMKEY") is None
    db = h.db
    for i in range(5000):
        db.set(b"k%d" % i, b"v")
    drawn = {random_key(db) for _ in range(2000)}
    assert len(drawn) > 1000 and drawn <= set(db.data)
    for i in range(4999):                             # all but one gone: the cached
        db.delete(b"k%d" % i)                          # sample must notice
    assert random_key(db) == b"k4999"
    h("PEXPIRE", "k4999", 1)
    h.now += 1
    h.engine.tick()
    assert h("RANDOMKEY") == b"k4999"                 # alive at the deadline
    h.now += 1
    h.engine.tick()
    assert h("RANDOMKEY") is None and h("DBSIZE") == 0


def test_keys_skips_but_keeps_expired(h):
    h("SET", "a", "1")
    h("SET", "b", "1")
    h("PEXPIRE", "a", 1)
    h.now += 1
    h.engine.tick()
    assert sorted(h("KEYS", "*")) == [b"a", b"b"]    # alive at the deadline
    h.now += 1
    h.engine.tick()
    assert h("KEYS", "*") == [b"b"] and h("KEYS", "?") == [b"b"]
    assert h("DBSIZE") == 2                           # KEYS does not delete it

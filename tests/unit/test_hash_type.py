"""HashValue and the hash commands driven through an Engine (no sockets), with an injected
clock for Redis 7.4's per-field expiry: lazy and active removal, propagation, events,
and deadlines that survive RENAME, MOVE, COPY and SWAPDB."""

from types import SimpleNamespace

import pytest

import ember.commands
from ember.commands.engine import Engine
from ember.errors import ReplyError
from ember.server.config import Config
from ember.storage.types.hash import HashExpiryIndex, HashValue

ember.commands.load_all()

LIMITS = SimpleNamespace(hash_max_listpack_entries=4, hash_max_listpack_value=8)
T0 = 1_700_000_000_000


# ---- HashValue --------------------------------------------------------------------------

def test_set_reports_new_fields_and_keeps_insertion_order():
    value = HashValue()
    assert value.set(b"a", b"1", LIMITS) is True
    assert value.set(b"b", b"2", LIMITS) is True
    assert value.set(b"a", b"3", LIMITS) is False
    assert list(value.fields.items()) == [(b"a", b"3"), (b"b", b"2")]
    assert value.encoding == "listpack" and len(value) == 2


def test_encoding_converts_on_entries_and_on_long_strings_and_never_back():
    value = HashValue()
    for i in range(4):
        value.set(b"f%d" % i, b"v", LIMITS)
    assert value.encoding == "listpack"
    value.set(b"f4", b"v", LIMITS)
    assert value.encoding == "hashtable"
    for i in range(5):
        value.delete(b"f%d" % i)
    value.set(b"x", b"y", LIMITS)
    assert value.encoding == "hashtable"
    long_field = HashValue()
    long_field.set(b"123456789", b"v", LIMITS)
    assert long_field.encoding == "hashtable"
    long_value = HashValue()
    long_value.set(b"f", b"123456789", LIMITS)
    assert long_value.encoding == "hashtable"


def test_prepare_converts_before_writing_as_redis_7_2():
    many = HashValue()
    many.prepare([b"HSET", b"k"] + [b"a", b"1"] * 5, 2, LIMITS)   # 5 pairs > 4 entries
    assert many.encoding == "hashtable"
    long_arg = HashValue()
    long_arg.prepare([b"HSET", b"k", b"a", b"123456789"], 2, LIMITS)
    assert long_arg.encoding == "hashtable"
    fits = HashValue()
    fits.prepare([b"HSET", b"k", b"a", b"12345678"], 2, LIMITS)
    assert fits.encoding == "listpack"


def test_listpackex_orders_fields_by_deadline_then_the_rest():
    value = HashValue()
    for field in (b"a", b"b", b"c", b"d"):
        value.set(field, field.upper(), LIMITS)
    value.extend_for_ttl()
    assert value.encoding == "listpackex"
    value.set_deadline(b"c", 500)
    value.set_deadline(b"b", 500)          # same deadline: goes before c, as Redis
    value.set_deadline(b"d", 100)
    assert list(value.fields) == [b"d", b"b", b"c", b"a"]
    value.persist(b"d")                    # no deadline any more: moved to the end
    assert list(value.fields) == [b"b", b"c", b"a", b"d"]
    value.set(b"b", b"new", LIMITS)        # overwriting drops the deadline: to the end
    assert list(value.fields) == [b"c", b"a", b"d", b"b"]
    assert value.deadline(b"b") is None and value.deadline(b"c") == 500
    value.set(b"c", b"kept", LIMITS, keep_ttl=True)
    assert value.deadline(b"c") == 500 and list(value.fields)[0] == b"c"


def test_deadlines_expiry_and_next_deadline():
    value = HashValue()
    for field in (b"a", b"b", b"c"):
        value.set(field, b"v", LIMITS)
    value.set_deadline(b"a", 300)
    value.set_deadline(b"b", 100)
    value.set_deadline(b"b", 200)          # replaces 100 (a stale heap entry remains)
    assert value.next_deadline() == 200
    assert not value.is_expired(b"b", 200) and value.is_expired(b"b", 201)
    assert value.live_items(250) == [(b"a", b"v"), (b"c", b"v")]
    assert value.pop_expired(301, 1) == [b"b"]
    assert value.pop_expired(301, 10) == [b"a"]
    assert value.next_deadline() is None and list(value.fields) == [b"c"]
    assert value.persist(b"c") is False


def test_copy_is_independent_and_keeps_deadlines_and_encoding():
    value = HashValue()
    value.set(b"a", b"1", LIMITS)
    value.set(b"b", b"2", LIMITS)
    value.extend_for_ttl()
    value.set_deadline(b"b", 1000)
    value.indexed_at = 1000
    dup = value.copy()
    assert dup.encoding == "listpackex" and dup.deadline(b"b") == 1000
    assert dup.indexed_at is None and dup.next_deadline() == 1000
    dup.set(b"a", b"changed", LIMITS)
    dup.persist(b"b")
    assert value.fields[b"a"] == b"1" and value.deadline(b"b") == 1000


def test_expiry_index_orders_hashes_and_skips_stale_entries():
    index = HashExpiryIndex()
    early, late = HashValue(), HashValue()
    for value, when in ((early, 100), (late, 200)):
        value.set(b"f", b"v", LIMITS)
        value.set_deadline(b"f", when)
        index.track(0, b"k", value)
    index.track(0, b"k", early)            # already indexed at 100: nothing added
    assert len(index) == 2
    assert index.pop_due(100) is None
    assert index.pop_due(101)[4] is early
    assert index.pop_due(300)[4] is late
    assert index.pop_due(300) is None


# ---- commands through an Engine ----------------------------------------------------------

class Harness:
    """An Engine with a hand-moved clock, a client, and the writes it propagates."""

    def __init__(self):
        self.now = T0
        self.engine = Engine(Config(), clock=lambda: self.now)
        self.engine.tick()
        self.client = self.engine.new_client()
        self.propagated = []
        self.events = []
        self.engine.propagators.append(lambda db, argv: self.propagated.append(argv))
        self.engine.keyspace_listeners.append(
            lambda db, key, event: self.events.append((db.id, key, event)))

    def __call__(self, *args):
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        reply = self.engine.execute(self.client, argv)
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def advance(self, ms: int) -> None:
        self.now += ms
        self.engine.tick()

    def cron(self) -> None:
        for hook in self.engine.hooks.get("cron", ()):
            hook()


@pytest.fixture
def h():
    return Harness()


def test_hexpire_reply_codes_and_absolute_propagation(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    h.propagated.clear()
    assert h("HPEXPIRE", "k", 1000, "FIELDS", 3, "a", "b", "zz") == [1, 1, -2]
    assert h.propagated == [[b"HPEXPIREAT", b"k", b"%d" % (T0 + 1000), b"FIELDS", b"2",
                             b"a", b"b"]]
    assert h("HPEXPIRE", "k", 5000, "NX", "FIELDS", 2, "a", "c") == [0, 1]
    assert h("HPEXPIRE", "k", 500, "GT", "FIELDS", 2, "a", "b") == [0, 0]
    assert h("HPEXPIRE", "k", 500, "LT", "FIELDS", 1, "a") == [1]
    assert h("HPEXPIRE", "k", 500, "XX", "FIELDS", 1, "nope") == [-2]
    h("HSET", "k", "d", 4)
    assert h("HPEXPIRE", "k", 500, "XX", "FIELDS", 1, "d") == [0]
    assert h("HPEXPIRE", "k", 500, "GT", "FIELDS", 1, "d") == [0]
    assert h("HPEXPIRE", "k", 500, "LT", "FIELDS", 1, "d") == [1]   # none = infinite
    assert h("HPTTL", "k", "FIELDS", 4, "a", "b", "c", "d") == [500, 1000, 5000, 500]
    assert h("HTTL", "k", "FIELDS", 1, "c") == [5]
    assert h("HPEXPIRETIME", "k", "FIELDS", 1, "c") == [T0 + 5000]
    assert h("HEXPIRETIME", "k", "FIELDS", 1, "c") == [(T0 + 5000 + 999) // 1000]
    h.advance(1)
    assert h("HTTL", "k", "FIELDS", 1, "a") == [1]                  # rounded up


def test_hexpire_in_the_past_deletes_and_propagates_hdel(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    h.propagated.clear()
    assert h("HEXPIREAT", "k", 1, "FIELDS", 2, "a", "zz") == [2, -2]
    assert h.propagated == [[b"HDEL", b"k", b"a"]]
    h.propagated.clear()
    assert h("HPEXPIRE", "k", 0, "FIELDS", 1, "b") == [2]
    assert h("HPEXPIRE", "k", 100, "FIELDS", 1, "c") == [1]
    assert h("HPEXPIREAT", "k", 0, "FIELDS", 1, "c") == [2]
    assert h.propagated[0] == [b"HDEL", b"k", b"b"]
    assert h.propagated[-1] == [b"HDEL", b"k", b"c"]
    assert h("EXISTS", "k") == 0
    assert (0, b"k", "del") in h.events


def test_hexpire_that_changes_nothing_propagates_nothing(h):
    h("HSET", "k", "a", 1, "b", 2)
    h("HPEXPIRE", "k", 100, "FIELDS", 1, "a")
    h.propagated.clear()
    assert h("HPEXPIRE", "k", 50, "GT", "FIELDS", 3, "a", "b", "zz") == [0, 0, -2]
    assert h("HPEXPIREAT", "k", 0, "NX", "FIELDS", 1, "a") == [0]
    assert h.propagated == []
    assert h("HPEXPIRE", "k", 50, "LT", "FIELDS", 2, "a", "b") == [1, 1]
    assert h.propagated == [[b"HPEXPIREAT", b"k", b"%d" % (T0 + 50), b"LT", b"FIELDS",
                             b"2", b"a", b"b"]]


def test_hexpire_argument_errors(h):
    h("HSET", "k", "a", 1)
    h("SET", "s", "v")
    cases = [
        (("HEXPIRE", "s", 10, "FIELDS", 1, "a"), "WRONGTYPE"),
        (("HEXPIRE", "k", "x", "FIELDS", 1, "a"),
         "ERR value is not an integer or out of range"),
        (("HEXPIRE", "k", -1, "FIELDS", 1, "a"), "ERR invalid expire time, must be >= 0"),
        (("HEXPIRE", "k", (1 << 48) // 1000, "FIELDS", 1, "a"),
         "ERR invalid expire time in 'hexpire' command"),
        (("HPEXPIREAT", "k", 1 << 46, "FIELDS", 1, "a"),
         "ERR invalid expire time in 'hpexpireat' command"),
        (("HEXPIRE", "k", 10, "FIELDZ", 1, "a"),
         "ERR Mandatory argument FIELDS is missing or not at the right position"),
        (("HEXPIRE", "k", 10, "NX", "XX", "FIELDS", 1, "a"),
         "ERR Mandatory argument FIELDS is missing or not at the right position"),
        (("HEXPIRE", "k", 10, "FIELDS", 0, "a"),
         "ERR Parameter `numFields` should be greater than 0"),
        (("HEXPIRE", "k", 10, "FIELDS", "x", "a"),
         "ERR Parameter `numFields` should be greater than 0"),
        (("HEXPIRE", "k", 10, "FIELDS", 2, "a"),
         "ERR The `numfields` parameter must match the number of arguments"),
        (("HEXPIRE", "k", 10, "NX", "FIELDS", 1),
         "ERR The `numfields` parameter must match the number of arguments"),
        (("HTTL", "k", "FIELDS", 0, "a"), "ERR Number of fields must be a positive integer"),
        (("HPERSIST", "k", "FIELDS", 2, "a"),
         "ERR The `numfields` parameter must match the number of arguments"),
        (("HTTL", "k", "F", 1, "a"),
         "ERR Mandatory argument FIELDS is missing or not at the right position"),
        (("HPTTL", "s", "FIELDS", 1, "a"), "WRONGTYPE"),
    ]
    for args, error in cases:
        with pytest.raises(ReplyError) as info:
            h(*args)
        assert info.value.message.startswith(error), (args, info.value.message)
    assert h("HPEXPIREAT", "k", (1 << 46) - 1, "FIELDS", 1, "a") == [1]
    assert h("HEXPIRE", "missing", 10, "FIELDS", 2, "a", "b") == [-2, -2]
    assert h("HTTL", "missing", "FIELDS", 1, "a") == [-2]
    assert h("HPERSIST", "missing", "FIELDS", 1, "a") == [-2]


def test_hpersist_and_overwrite_drop_deadlines(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    h("HPEXPIRE", "k", 100, "FIELDS", 3, "a", "b", "c")
    assert h("HPERSIST", "k", "FIELDS", 3, "a", "zz", "a") == [1, -2, -1]
    h("HSET", "k", "b", 9)
    h("HINCRBY", "k", "c", 1)               # keeps the deadline
    assert h("HTTL", "k", "FIELDS", 3, "a", "b", "c") == [-1, -1, 1]
    h.advance(101)
    assert h("HPERSIST", "k", "FIELDS", 1, "c") == [-2]     # passed: pretend absent
    assert h("HGETALL", "k") == {b"a": b"1", b"b": b"9"}


def test_lazy_expiry_removes_field_propagates_hdel_and_sends_hexpired(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    h("HPEXPIRE", "k", 100, "FIELDS", 2, "a", "b")
    h.advance(100)
    assert h("HGET", "k", "a") == b"1"      # deadline == now: still there
    h.advance(1)
    h.propagated.clear()
    h.events.clear()
    assert h("HLEN", "k") == 3              # Redis 7.4 counts them until removed
    assert h("HGETALL", "k") == {b"c": b"3"}
    assert h("HKEYS", "k") == [b"c"] and h("HVALS", "k") == [b"3"]
    assert h("HSCAN", "k", 0) == [b"0", [b"c", b"3"]]
    assert h.propagated == [] and h("HLEN", "k") == 3       # iterating removes nothing
    assert h("HGET", "k", "a") is None
    assert h.propagated == [[b"HDEL", b"k", b"a"]]
    assert (0, b"k", "hexpired") in h.events
    assert h("HLEN", "k") == 2
    assert h("HEXISTS", "k", "b") == 0 and h("HLEN", "k") == 1
    assert h("HSTRLEN", "k", "c") == 1
    assert h("HTTL", "k", "FIELDS", 1, "a") == [-2]


def test_lazy_expiry_of_the_last_field_deletes_the_hash(h):
    h("HSET", "k", "a", 1, "b", 2)
    h("HPEXPIRE", "k", 10, "FIELDS", 2, "a", "b")
    h.advance(11)
    h.events.clear()
    assert h("HMGET", "k", "a", "b", "a") == [None, None, None]
    assert [e for _, _, e in h.events] == ["hexpired", "del"]
    assert h("EXISTS", "k") == 0
    h("HSET", "k", "a", 1)
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "a")
    h.advance(11)
    assert h("HINCRBY", "k", "a", 5) == 5                   # starts again from 0
    assert h("HTTL", "k", "FIELDS", 1, "a") == [-1]
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "a")
    h.advance(11)
    assert h("HSETNX", "k", "a", "new") == 1
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "a")
    h.advance(11)
    assert h("HINCRBYFLOAT", "k", "a", "1.5") == b"1.5"


def test_hset_over_an_expired_field_counts_as_update_like_redis(h):
    h("HSET", "k", "a", 1, "b", 2)
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "a")
    h.advance(11)
    assert h("HSET", "k", "a", 3) == 0
    assert h("HGET", "k", "a") == b"3" and h("HTTL", "k", "FIELDS", 1, "a") == [-1]
    assert h("HDEL", "k", "b") == 1


def test_hrandfield_removes_due_fields_first(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    h("HPEXPIRE", "k", 10, "FIELDS", 2, "a", "b")
    h.advance(11)
    h.propagated.clear()
    assert h("HRANDFIELD", "k", 5) == [b"c"]
    assert sorted(h.propagated) == [[b"HDEL", b"k", b"a"], [b"HDEL", b"k", b"b"]]
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "c")
    h.advance(11)
    assert h("HRANDFIELD", "k") is None and h("EXISTS", "k") == 0


def test_hincrbyfloat_propagates_the_result_and_the_deadline(h):
    h("HSET", "k", "a", "1")
    h.propagated.clear()
    assert h("HINCRBYFLOAT", "k", "a", "0.1") == b"1.1"
    assert h.propagated == [[b"HSET", b"k", b"a", b"1.1"]]
    h("HPEXPIRE", "k", 1000, "FIELDS", 1, "a")
    h.propagated.clear()
    h("HINCRBYFLOAT", "k", "a", "0.2")
    assert h.propagated == [[b"HSET", b"k", b"a", b"1.3"],
                            [b"HPEXPIREAT", b"k", b"%d" % (T0 + 1000), b"FIELDS", b"1",
                             b"a"]]


def test_active_expiry_reclaims_untouched_fields_in_the_cron(h):
    h("HSET", "k", *[x for i in range(300) for x in (f"f{i}", "v")])
    h("HSET", "keep", "a", 1, "b", 2)
    h("HPEXPIRE", "k", 50, "FIELDS", 300, *[f"f{i}" for i in range(300)])
    h("HPEXPIRE", "keep", 50, "FIELDS", 1, "a")
    h.cron()
    assert h("HLEN", "k") == 300
    h.advance(51)
    h.propagated.clear()
    h.events.clear()
    h.cron()
    assert h("EXISTS", "k") == 0
    assert h("HGETALL", "keep") == {b"b": b"2"} and h("HLEN", "keep") == 1
    assert len(h.propagated) == 301
    assert (0, b"k", "del") in h.events and (0, b"keep", "hexpired") in h.events


def test_active_expiry_respects_set_active_expire(h):
    h("HSET", "k", "a", 1, "b", 2)
    h("HPEXPIRE", "k", 5, "FIELDS", 1, "a")
    h.engine.active_expire_enabled = False          # what DEBUG SET-ACTIVE-EXPIRE 0 sets
    h.advance(10)
    h.cron()
    assert h("HLEN", "k") == 2
    h.engine.active_expire_enabled = True
    h.cron()
    assert h("HLEN", "k") == 1


def test_deadlines_follow_rename_move_copy_and_swapdb(h):
    for key in ("r", "m", "c", "s"):
        h("HSET", key, "a", 1, "b", 2)
        h("HPEXPIRE", key, 100, "FIELDS", 1, "a")
    h("RENAME", "r", "r2")
    h("MOVE", "m", 3)
    h("COPY", "c", "c2")
    h("SWAPDB", 0, 5)
    h("SELECT", 5)
    assert h("HPTTL", "r2", "FIELDS", 2, "a", "b") == [100, -1]
    h.advance(101)
    h.cron()
    for key in ("r2", "c", "c2", "s"):
        assert h("HLEN", key) == 1, key
    h("SELECT", 3)
    assert h("HLEN", "m") == 1


def test_deleted_and_retyped_keys_leave_nothing_to_reclaim(h):
    h("HSET", "k", "a", 1)
    h("HPEXPIRE", "k", 10, "FIELDS", 1, "a")
    h("DEL", "k")
    h("SET", "k", "string")
    h.advance(11)
    h.propagated.clear()
    h.cron()
    assert h("GET", "k") == b"string" and h.propagated == []


def test_hrandfield_shapes_and_limits(h):
    h("HSET", "k", "a", 1, "b", 2, "c", 3)
    picks = h("HRANDFIELD", "k", -10)
    assert len(picks) == 10 and set(picks) <= {b"a", b"b", b"c"}
    flat = h("HRANDFIELD", "k", -4, "WITHVALUES")
    assert len(flat) == 8 and all(flat[i + 1] == {b"a": b"1", b"b": b"2", b"c": b"3"}[
        flat[i]] for i in range(0, 8, 2))
    two = h("HRANDFIELD", "k", 2)
    assert len(set(two)) == 2 and two == sorted(two)          # listpack order
    h.client.resp = 3
    pairs = h("HRANDFIELD", "k", 2, "WITHVALUES")
    assert len(pairs) == 2 and all(len(p) == 2 for p in pairs)
    with pytest.raises(ReplyError, match="out of range"):
        h("HRANDFIELD", "k", -(1 << 40))


def test_index_entries_of_deleted_hashes_are_compacted_away(h):
    for i in range(1500):
        h("HSET", f"k{i}", "a", 1)
        h("HPEXPIRE", f"k{i}", 10_000, "FIELDS", 1, "a")
    index = h.engine.hooks["hash_field_reaper"].index
    assert len(index) == 1500
    h("FLUSHALL")
    h("HSET", "live", "a", 1)
    h("HPEXPIRE", "live", 10_000, "FIELDS", 1, "a")
    h.cron()                                   # nothing is due yet; stale entries go
    assert len(index) == 1
    h.advance(10_001)
    h.cron()
    assert h("EXISTS", "live") == 0

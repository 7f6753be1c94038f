"""SetValue (no sockets): encodings and their conversions as Redis 7.2, iteration order,
O(1) random picks and removals, the set algebra's results, and what the set commands
record when driven through an Engine (keyspace events, dirty counter, propagation)."""

import random
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.errors import ReplyError
from ember.server.config import Config
from ember.storage.types.set import (
    HASHTABLE,
    INTSET,
    LISTPACK,
    SetValue,
    difference_value,
    intersection,
    intersection_card,
    intersection_value,
    is_int_member,
    union_value,
)

load_all()

LIMITS = SimpleNamespace(set_max_intset_entries=512, set_max_listpack_entries=128,
                         set_max_listpack_value=64)


def small_limits(intset=4, entries=6, value=8):
    return SimpleNamespace(set_max_intset_entries=intset, set_max_listpack_entries=entries,
                           set_max_listpack_value=value)


def make(*members, limits=LIMITS) -> SetValue:
    value = SetValue.create(members[0], len(members), limits)
    for member in members:
        value.add(member, limits)
    return value


def b(*items) -> list:
    return [str(i).encode() for i in items]


# ---- encodings ----------------------------------------------------------------------------

def test_integer_members_follow_string2ll():
    assert is_int_member(b"0") and is_int_member(b"-9223372036854775808")
    for text in (b"01", b"-0", b"+1", b" 1", b"1.0", b"9223372036854775808", b""):
        assert not is_int_member(text), text


def test_create_picks_encoding_from_first_member_and_size_hint():
    assert SetValue.create(b"1", 1, LIMITS).encoding == INTSET
    assert SetValue.create(b"x", 1, LIMITS).encoding == LISTPACK
    assert SetValue.create(b"1", 200, LIMITS).encoding == INTSET
    assert SetValue.create(b"x", 128, LIMITS).encoding == LISTPACK
    assert SetValue.create(b"1", 513, LIMITS).encoding == HASHTABLE
    assert SetValue.create(b"x", 129, LIMITS).encoding == HASHTABLE


def test_intset_iterates_in_numeric_order_and_converts_to_listpack_sorted():
    value = make(*b(10, -5, 3, 100))
    assert value.encoding == INTSET
    assert value.members() == b(-5, 3, 10, 100)
    assert value.add(b"zz", LIMITS)
    assert value.encoding == LISTPACK
    assert value.members() == b(-5, 3, 10, 100) + [b"zz"]
    value.add(b"7", LIMITS)
    assert value.members() == b(-5, 3, 10, 100, "zz", 7)      # appended, not sorted


def test_intset_too_big_becomes_hashtable_directly():
    limits = small_limits(intset=4, entries=100)
    value = make(*b(1, 2, 3, 4), limits=limits)
    assert value.encoding == INTSET
    value.add(b"5", limits)
    assert value.encoding == HASHTABLE


def test_intset_to_listpack_needs_room_for_count_and_widths():
    limits = small_limits(intset=100, entries=3, value=8)
    full = make(*b(1, 2, 3), limits=limits)
    full.add(b"x", limits)
    assert full.encoding == HASHTABLE                # 3 members: no room in a listpack
    wide = make(*b(123456789), limits=limits)
    wide.add(b"x", limits)
    assert wide.encoding == HASHTABLE                # 9 digits > set-max-listpack-value
    negative = make(*b(-1234567), limits=limits)
    negative.add(b"x", limits)
    assert negative.encoding == LISTPACK             # "-1234567" is exactly 8 bytes
    long_string = make(*b(1), limits=limits)
    long_string.add(b"y" * 9, limits)
    assert long_string.encoding == HASHTABLE


def test_listpack_limits_and_no_way_back():
    value = make(*[b"m%d" % i for i in range(128)])
    assert value.encoding == LISTPACK
    value.add(b"one-more", LIMITS)
    assert value.encoding == HASHTABLE
    for i in range(100):
        value.remove(b"m%d" % i)
    assert value.encoding == HASHTABLE
    long_member = make(b"a")
    long_member.add(b"x" * 65, LIMITS)
    assert long_member.encoding == HASHTABLE
    exactly = make(b"a")
    exactly.add(b"x" * 64, LIMITS)
    assert exactly.encoding == LISTPACK


def test_maybe_convert_uses_the_size_hint_only():
    value = make(b"a")
    value.maybe_convert(128, LIMITS)
    assert value.encoding == LISTPACK
    value.maybe_convert(129, LIMITS)
    assert value.encoding == HASHTABLE
    ints = make(b"1")
    ints.maybe_convert(513, LIMITS)
    assert ints.encoding == HASHTABLE


def test_listpack_keeps_insertion_order_across_removals():
    value = make(*b("c", "a", "b", "d", "e"))
    value.remove(b"a")
    value.remove(b"d")
    value.add(b"a", LIMITS)
    assert value.members() == b("c", "b", "e", "a")


def test_copy_is_independent_and_keeps_encoding():
    value = make(*b("x", "y"))
    dup = value.copy()
    dup.add(b"z", LIMITS)
    dup.remove(b"x")
    assert value.members() == b("x", "y") and dup.members() == b("y", "z")
    assert dup.encoding == value.encoding == LISTPACK


# ---- random picks -------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "remove", "pop"]),
                          st.integers(0, 40)), max_size=120))
def test_random_operations_match_a_python_set(ops):
    value = SetValue()
    model = []                          # insertion order as a dict would keep it
    for op, n in ops:
        member = b"%d" % n if n % 3 else b"s%d" % n
        if op == "add":
            was_intset = value.encoding == INTSET
            assert value.add(member, LIMITS) == (member not in model)
            if was_intset and value.encoding == LISTPACK:
                model.sort(key=int)         # an intset converts in numeric order
            if member not in model:
                model.append(member)
        elif op == "remove":
            assert value.remove(member) == (member in model)
            if member in model:
                model.remove(member)
        elif model:
            popped = value.pop_random()
            assert popped in model
            model.remove(popped)
        assert len(value) == len(model)
        assert sorted(value) == sorted(model)
        if value.encoding == LISTPACK:
            assert value.members() == model
        for member in model:
            assert member in value
        if model:
            assert value.random_member() in model


def test_random_member_is_uniform():
    value = make(*b(*range(10)))
    counts = {}
    for _ in range(20_000):
        member = value.random_member()
        counts[member] = counts.get(member, 0) + 1
    assert len(counts) == 10
    assert min(counts.values()) > 1600 and max(counts.values()) < 2400


def test_random_distinct_and_repeated():
    value = make(*[b"m%d" % i for i in range(1000)])
    picked = value.random_distinct(300)
    assert len(picked) == 300 == len(set(picked))
    assert all(m in value for m in picked)
    repeated = value.random_members(5000)
    assert len(repeated) == 5000 and len(set(repeated)) < 1000 + 1


def _time_pops(value: SetValue, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        value.add(value.pop_random(), LIMITS)
        value.random_member()
    return time.perf_counter() - started


def test_random_pick_and_pop_are_constant_time():
    small = SetValue(HASHTABLE)
    big = SetValue(HASHTABLE)
    for i in range(200):
        small.add(b"member:%d" % i, LIMITS)
    for i in range(300_000):
        big.add(b"member:%d" % i, LIMITS)
    _time_pops(big, 1000)
    small_time = min(_time_pops(small, 5000) for _ in range(3))
    big_time = min(_time_pops(big, 5000) for _ in range(3))
    # A scan of the set would make the big one ~1500 times slower.
    assert big_time < 10 * small_time, (small_time, big_time)


def test_many_removals_compact_the_dict_and_keep_order():
    value = SetValue(HASHTABLE)
    for i in range(5000):
        value.add(b"%d" % i, LIMITS)
    for i in range(0, 4990):
        value.remove(b"%d" % i)
    assert value.members() == b(*range(4990, 5000))
    assert value.random_member() in value


# ---- algebra --------------------------------------------------------------------------------

def test_intersection_walks_the_smallest_set():
    big = make(*b("a", "b", "c", "d", "e"))
    small = make(*b("e", "c", "a"))
    assert intersection([big, small]) == b("e", "c", "a")
    assert intersection([small, small]) == b("e", "c", "a")
    assert intersection_card([big, small]) == 3
    assert intersection_card([big, small], limit=2) == 2


def test_intersection_value_encodings():
    ints = make(*b(3, 1, 2))
    strings = make(*b("x", 1, 2, 3))
    assert intersection_value([ints, strings], LIMITS).encoding == INTSET
    mixed = make(*b("x", "y", 2))
    result = intersection_value([strings, mixed], LIMITS)
    assert result.encoding == LISTPACK and result.members() == b("x", 2)
    big = SetValue(HASHTABLE)
    for member in b(*range(200)):
        big.add(member, LIMITS)
    big_ints = intersection_value([big, big], LIMITS)
    assert big_ints.encoding == INTSET and len(big_ints) == 200   # back to an intset


def test_union_builds_from_an_intset():
    first = make(*b("b", "a"))
    second = make(*b(5, 1))
    result = union_value([second, None, first], LIMITS)
    assert result.encoding == LISTPACK
    assert result.members() == b(1, 5, "b", "a")
    assert union_value([None], LIMITS).members() == []
    assert union_value([second], LIMITS).encoding == INTSET


def test_difference_algorithms_and_same_set():
    first = make(*b("a", "b", "c", 1))
    other = make(*b("b", 1))
    assert difference_value([first, other], LIMITS).members() == b("a", "c")
    assert difference_value([first, None], LIMITS).members() == b("a", "b", "c", 1)
    assert difference_value([first, first], LIMITS).members() == []
    assert difference_value([None, first], LIMITS).members() == []
    # Algorithm 2 (add all, then remove): a big first set and small others.
    big = SetValue(HASHTABLE)
    for i in range(200):
        big.add(b"m%d" % i, LIMITS)
    tiny = [make(b"m%d" % i) for i in range(5)]
    result = difference_value([big] + tiny, LIMITS)
    assert len(result) == 195 and result.encoding == HASHTABLE


# ---- commands through an Engine -------------------------------------------------------------

class Harness:
    """An engine recording propagation and keyspace events."""

    def __init__(self):
        self.engine = Engine(Config())
        self.client = self.engine.new_client()
        self.propagated = []
        self.events = []
        self.engine.propagators.append(lambda db, argv: self.propagated.append(list(argv)))
        self.engine.keyspace_listeners.append(
            lambda db, key, event: self.events.append((event, key)))

    def __call__(self, *args):
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        reply = self.engine.execute(self.client, argv)
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def reset(self):
        self.propagated.clear()
        self.events.clear()


@pytest.fixture
def h():
    return Harness()


def test_spop_propagates_srem_and_del(h):
    h("SADD", "s", "a", "b", "c")
    h.reset()
    member = h("SPOP", "s")
    assert h.propagated == [[b"SREM", b"s", member]]
    assert h.events == [("spop", b"s")]
    h.reset()
    popped = h("SPOP", "s", "5")
    assert sorted(popped) == sorted({b"a", b"b", b"c"} - {member})
    assert h.propagated == [[b"DEL", b"s"]]
    assert h.events == [("spop", b"s"), ("del", b"s")]
    assert h("EXISTS", "s") == 0


def test_spop_count_propagates_batches_of_1024_srem(h):
    h("SADD", "s", *range(3000))
    h.reset()
    dirty = h.engine.dirty
    popped = h("SPOP", "s", "2500")
    assert len(set(popped)) == 2500
    assert h.propagated[0] == [b"MULTI"] and h.propagated[-1] == [b"EXEC"]
    srems = h.propagated[1:-1]
    assert [len(argv) - 2 for argv in srems] == [1024, 1024, 452]
    assert all(argv[:2] == [b"SREM", b"s"] for argv in srems)
    assert sorted(m for argv in srems for m in argv[2:]) == sorted(popped)
    assert h.engine.dirty - dirty == 2500
    assert h("SCARD", "s") == 500
    h("SADD", "s", *range(3000))
    h.reset()
    assert len(h("SPOP", "s", "1024")) == 1024                 # one batch: no MULTI
    assert len(h.propagated) == 1 and len(h.propagated[0]) == 1026
    h.reset()
    assert h("SPOP", "s", "0") == [] and h("SPOP", "nokey", "3") == []
    assert h.propagated == []
    h("MULTI")
    h("SPOP", "s", "1000")
    h("SADD", "s", "x")
    h("EXEC")
    assert [argv[0] for argv in h.propagated] == [b"MULTI", b"SREM", b"SADD", b"EXEC"]


def test_srem_and_smove_events(h):
    h("SADD", "a", "1", "2")
    h.reset()
    assert h("SREM", "a", "1", "2", "3") == 2
    assert h.events == [("srem", b"a"), ("del", b"a")]
    h("SADD", "a", "x")
    h.reset()
    assert h("SMOVE", "a", "b", "x") == 1
    assert h.events == [("srem", b"a"), ("del", b"a"), ("sadd", b"b")]
    assert h.propagated == [[b"SMOVE", b"a", b"b", b"x"]]
    h.reset()
    assert h("SMOVE", "a", "b", "x") == 0 and h.propagated == []


def test_store_commands_replace_and_delete_destination(h):
    h("SET", "dst", "string")
    h("EXPIRE", "dst", "100")
    h("SADD", "a", "1", "2")
    h("SADD", "b", "2", "3")
    h.reset()
    assert h("SINTERSTORE", "dst", "a", "b") == 1
    assert h("TTL", "dst") == -1
    assert h.events == [("sinterstore", b"dst")]
    h.reset()
    assert h("SDIFFSTORE", "dst", "a", "a") == 0
    assert h.events == [("del", b"dst")] and h("EXISTS", "dst") == 0
    h.reset()
    assert h("SUNIONSTORE", "dst", "nokey") == 0
    assert h.events == [] and h.propagated == []


def test_srandmember_huge_negative_count_is_refused_not_built(h):
    h("SADD", "s", "a")
    with pytest.raises(ReplyError, match="value is out of range"):
        h("SRANDMEMBER", "s", "-9223372036854775807")
    assert h("SRANDMEMBER", "s", "9223372036854775807") == [b"a"]
    assert len(h("SRANDMEMBER", "s", "-1000")) == 1000


def test_sadd_respects_config_set_limits(h):
    h("CONFIG", "SET", "set-max-listpack-entries", "2")
    h("SADD", "s", "a", "b")
    assert h("OBJECT", "ENCODING", "s") == b"listpack"
    h("SADD", "s", "c")
    assert h("OBJECT", "ENCODING", "s") == b"hashtable"


def test_random_seed_does_not_matter_for_membership(h):
    random.seed(1)
    h("SADD", "s", *range(50))
    assert all(m in {b"%d" % i for i in range(50)} for m in h("SRANDMEMBER", "s", "-100"))


def test_spop_that_leaves_few_members_re_encodes_like_redis_7_2(h):
    h("SADD", "s", *[f"m{i}" for i in range(10)], "x" * 70)
    assert h("OBJECT", "ENCODING", "s") == b"hashtable"
    h("SPOP", "s", "9")                 # 2 left: 2 * 5 > 9, members just removed
    assert h("OBJECT", "ENCODING", "s") == b"hashtable"
    h("SADD", "t", *[f"m{i}" for i in range(10)], "x" * 70)
    h("SPOP", "t", "10")                # 1 left: 1 * 5 <= 10, a new set is built
    left = h("SMEMBERS", "t")
    assert len(left) == 1
    assert h("OBJECT", "ENCODING", "t") == (b"hashtable" if left[0] == b"x" * 70
                                            else b"listpack")
    h("SADD", "i", *range(20))
    h("SPOP", "i", "18")
    assert h("OBJECT", "ENCODING", "i") == b"intset"

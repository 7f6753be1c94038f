"""ZSet, the sorted-set type, without sockets: Redis's order (score, then member bytes as
memcmp), ranks, score and lex ranges, pops, encodings and their conversions, copies, the
random picks, and the O(log N) cost of ZADD/ZREM/ZRANK/ZSCORE on a 1,000,000-member set
(timing ratios between sizes, no absolute timings)."""

import math
import random
import time
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

import ember.commands
from ember.commands.blocking import BLOCKED
from ember.commands.engine import Engine
from ember.protocol.replies import NULL_ARRAY
from ember.server.config import Config
from ember.storage.types.zset import TOP, LexRange, ScoreRange, ZSet

ember.commands.load_all()
LIMITS = SimpleNamespace(zset_max_listpack_entries=128, zset_max_listpack_value=64)


def make(*pairs, limits=LIMITS) -> ZSet:
    zset = ZSet()
    for member, score in pairs:
        zset.insert(member, score, limits)
    return zset


def members(zset: ZSet) -> list:
    return [member for member, _ in zset]


def test_order_is_score_then_member_bytes():
    zset = make((b"b", 1.0), (b"a", 1.0), (b"\xff", 1.0), (b"", 1.0), (b"ab", 1.0),
                (b"z", -math.inf), (b"y", math.inf), (b"c", 0.5))
    assert members(zset) == [b"z", b"c", b"", b"a", b"ab", b"b", b"\xff", b"y"]
    assert zset.rank(b"ab") == 4 and zset.rank(b"ab", reverse=True) == 3
    assert zset.rank(b"nope") is None
    assert zset.at(0) == (b"z", -math.inf)


def test_update_remove_and_lookups():
    zset = make((b"a", 1.0), (b"b", 2.0), (b"c", 3.0))
    zset.update(b"a", 1.0, 5.0)
    assert members(zset) == [b"b", b"c", b"a"] and zset.score(b"a") == 5.0
    assert zset.remove(b"b") and not zset.remove(b"b")
    assert len(zset) == 2 and b"b" not in zset and b"c" in zset
    assert zset.slice(0, 2, reverse=True) == [(b"a", 5.0), (b"c", 3.0)]


def test_score_bounds_with_exclusive_ends_and_infinities():
    zset = make((b"m", -math.inf), (b"a", 1.0), (b"b", 2.0), (b"bb", 2.0), (b"c", 3.0),
                (b"p", math.inf))

    def names(low, low_ex, high, high_ex):
        lo, hi = zset.score_bounds(ScoreRange(low, low_ex, high, high_ex))
        return [m for m, _ in zset.slice(lo, hi)]

    assert names(2, False, 2, False) == [b"b", b"bb"]
    assert names(2, True, 3, False) == [b"c"]
    assert names(1, False, 2, True) == [b"a"]
    assert names(-math.inf, False, math.inf, False) == [b"m", b"a", b"b", b"bb", b"c", b"p"]
    assert names(-math.inf, True, math.inf, True) == [b"a", b"b", b"bb", b"c"]
    assert names(math.inf, False, math.inf, False) == [b"p"]
    assert names(math.inf, True, math.inf, False) == []
    assert names(3, False, 1, False) == []
    assert names(2, True, 2, False) == []


def test_lex_bounds_with_equal_scores():
    zset = make(*[(m, 0.0) for m in (b"a", b"b", b"bb", b"c", b"", b"\xff")])

    def names(spec):
        lo, hi = zset.lex_bounds(spec)
        return [m for m, _ in zset.slice(lo, hi)]

    assert names(LexRange(None, True, TOP, True)) == [b"", b"a", b"b", b"bb", b"c", b"\xff"]
    assert names(LexRange(b"b", False, b"c", True)) == [b"b", b"bb"]
    assert names(LexRange(b"b", True, b"c", False)) == [b"bb", b"c"]
    assert names(LexRange(b"", False, b"a", False)) == [b"", b"a"]
    assert names(LexRange(TOP, True, None, True)) == []
    assert names(LexRange(b"c", False, b"b", False)) == []
    assert names(LexRange(b"b", True, b"b", False)) == []


def test_lex_bounds_with_unequal_scores_walk_like_a_listpack():
    # sorted by score: b(1) a(2) d(3) c(4); from the first member >= "b" while <= "c".
    zset = make((b"b", 1.0), (b"a", 2.0), (b"d", 3.0), (b"c", 4.0))
    lo, hi = zset.lex_bounds(LexRange(b"b", False, b"c", False))
    assert zset.slice(lo, hi) == [(b"b", 1.0), (b"a", 2.0)]
    # the first member is above max: nothing, even though later members fit.
    assert zset.lex_bounds(LexRange(b"a", False, b"a", False)) == (0, 0)
    lo, hi = zset.lex_bounds_reverse(LexRange(b"b", False, b"c", False))
    assert zset.slice(lo, hi, reverse=True) == [(b"c", 4.0), (b"d", 3.0)]


def test_pop_and_remove_slice():
    zset = make(*[(b"m%d" % i, float(i)) for i in range(10)])
    assert zset.pop(2) == [(b"m0", 0.0), (b"m1", 1.0)]
    assert zset.pop(3, highest=True) == [(b"m9", 9.0), (b"m8", 8.0), (b"m7", 7.0)]
    assert zset.remove_slice(1, 3) == 2
    assert members(zset) == [b"m2", b"m5", b"m6"]
    assert zset.pop(100) == [(b"m2", 2.0), (b"m5", 5.0), (b"m6", 6.0)] and not zset
    assert zset.scores == {}


def test_encoding_follows_the_limits_and_never_goes_back():
    limits = SimpleNamespace(zset_max_listpack_entries=3, zset_max_listpack_value=4)
    zset = make((b"a", 1.0), (b"b", 2.0), (b"c", 3.0), limits=limits)
    assert zset.encoding == "listpack"
    zset.insert(b"d", 4.0, limits)
    assert zset.encoding == "skiplist"
    zset.remove(b"d")
    zset.remove(b"c")
    assert zset.encoding == "skiplist"
    small = make((b"a", 1.0), limits=limits)
    small.insert(b"toolong", 1.0, limits)
    assert small.encoding == "skiplist"
    assert ZSet.create(4, 1, limits).encoding == "skiplist"
    assert ZSet.create(3, 5, limits).encoding == "skiplist"
    assert ZSet.create(3, 4, limits).encoding == "listpack"
    hinted = make((b"a", 1.0), limits=limits)
    hinted.maybe_convert(4, limits)
    assert hinted.encoding == "skiplist"
    assert ZSet.from_pairs([(b"a", 1.0), (b"b", 2.0)], limits).encoding == "listpack"
    assert ZSet.from_pairs([(b"a", 1.0), (b"toolong", 2.0)], limits).encoding == "skiplist"


def test_a_listpack_stores_negative_zero_as_zero():
    limits = SimpleNamespace(zset_max_listpack_entries=2, zset_max_listpack_value=64)
    zset = make((b"a", -0.0), limits=limits)
    assert math.copysign(1, zset.score(b"a")) == 1
    zset.insert(b"b", 1.0, limits)
    zset.insert(b"c", -0.0, limits)                 # now a skiplist: -0 kept
    assert zset.encoding == "skiplist" and math.copysign(1, zset.score(b"c")) == -1


def test_copy_is_independent():
    zset = make((b"a", 1.0), (b"b", 2.0))
    dup = zset.copy()
    dup.insert(b"c", 3.0, LIMITS)
    dup.remove(b"a")
    assert members(zset) == [b"a", b"b"] and members(dup) == [b"b", b"c"]
    assert dup.encoding == zset.encoding


def test_random_picks():
    zset = make(*[(b"m%d" % i, float(i)) for i in range(50)])
    picks = zset.random_pairs(500)
    assert len(picks) == 500 and all(zset.score(m) == s for m, s in picks)
    assert len({m for m, _ in picks}) > 25
    distinct = zset.random_distinct(20)
    assert len({m for m, _ in distinct}) == 20
    assert distinct == sorted(distinct, key=lambda p: (p[1], p[0]))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"a", b"b", b"c", b"d", b"", b"ab", b"\x00"]),
                          st.sampled_from([0.0, 1.0, 1.5, -2.0, math.inf, -math.inf])),
                max_size=30))
def test_against_a_sorted_dict_model(operations):
    """Random inserts/updates/removes keep the dict and the order consistent, and match a
    model sorted with Python's own (score, member) ordering."""
    zset = ZSet()
    model = {}
    for member, score in operations:
        current = zset.score(member)
        if current is None:
            zset.insert(member, score, LIMITS)
            model[member] = score
        elif score == current:
            zset.remove(member)
            del model[member]
        else:
            zset.update(member, current, score)
            model[member] = score
    expected = sorted(model.items(), key=lambda p: (p[1], p[0]))
    assert list(zset) == expected
    for rank, (member, _) in enumerate(expected):
        assert zset.rank(member) == rank
        assert zset.rank(member, reverse=True) == len(expected) - 1 - rank


# ---- complexity ---------------------------------------------------------------------------

def _engine_with(size: int):
    engine = Engine(Config())
    client = engine.new_client()
    pairs = [(b"member:%07d" % i, float(random.randrange(1_000_000))) for i in range(size)]
    engine.dbs[0].set(b"z", ZSet.from_pairs(pairs, engine.config))
    return engine, client, [m for m, _ in pairs]


def _per_op_seconds(engine, client, names, rounds: int = 2000) -> float:
    """Best of three: seconds per (ZADD new, ZRANK, ZSCORE, ZREM) group on random members."""
    rng = random.Random(7)
    picks = [rng.choice(names) for _ in range(rounds)]
    execute = engine.execute
    best = math.inf
    for attempt in range(3):
        started = time.perf_counter()
        for i, name in enumerate(picks):
            fresh = b"new:%d:%d" % (attempt, i)
            execute(client, [b"ZADD", b"z", b"%d" % i, fresh])
            execute(client, [b"ZRANK", b"z", name])
            execute(client, [b"ZSCORE", b"z", name])
            execute(client, [b"ZREM", b"z", fresh])
        best = min(best, time.perf_counter() - started)
    return best / rounds


def test_zadd_zrem_zrank_zscore_are_logarithmic_on_a_million_members():
    random.seed(1)
    small = _per_op_seconds(*_engine_with(10_000))
    big = _per_op_seconds(*_engine_with(1_000_000))
    # log2(1e6)/log2(1e4) = 1.5; a linear cost would be 100x. Caches and a busy
    # machine get a wide margin.
    assert big / small < 8, (small, big)


# ---- the commands' bookkeeping, through an Engine --------------------------------------------

class Recorder:
    """An engine with a propagation and keyspace-event recorder."""

    def __init__(self):
        self.engine = Engine(Config())
        self.client = self.engine.new_client()
        self.propagated = []
        self.events = []
        self.engine.propagators.append(lambda db, argv: self.propagated.append(argv))
        self.engine.keyspace_listeners.append(
            lambda db, key, event: self.events.append((event, key)))

    def run(self, *args, client=None):
        return self.engine.execute(client or self.client, [a.encode() for a in args])


def test_writes_propagate_as_redis_replicates_them_and_send_events():
    rec = Recorder()
    rec.run("ZADD", "k", "1", "a", "2", "b", "3", "c")
    rec.run("ZADD", "k", "NX", "5", "a")                # no change: not propagated
    assert rec.run("ZMPOP", "1", "k", "MAX", "COUNT", "10") == [
        b"k", [[b"c", 3.0], [b"b", 2.0], [b"a", 1.0]]]
    rec.run("ZADD", "k", "1", "a")
    assert rec.run("BZPOPMIN", "nokey", "k", "0") == [b"k", b"a", 1.0]
    rec.run("ZADD", "k", "1", "a", "2", "b")
    rec.run("BZMPOP", "0", "1", "k", "MIN", "COUNT", "5")
    assert rec.propagated == [
        [b"ZADD", b"k", b"1", b"a", b"2", b"b", b"3", b"c"], [b"ZPOPMAX", b"k", b"3"],
        [b"ZADD", b"k", b"1", b"a"], [b"ZPOPMIN", b"k"],
        [b"ZADD", b"k", b"1", b"a", b"2", b"b"], [b"ZPOPMIN", b"k", b"2"]]
    assert rec.events[:4] == [("zadd", b"k"), ("zpopmax", b"k"), ("del", b"k"), ("zadd", b"k")]
    rec.events.clear()
    rec.run("ZADD", "k", "1", "a", "2", "b")
    rec.run("ZINCRBY", "k", "1", "a")
    rec.run("ZREM", "k", "a", "b")
    rec.run("ZADD", "d", "1", "x")
    rec.run("ZUNIONSTORE", "d", "1", "nokey")
    assert rec.events == [("zadd", b"k"), ("zincr", b"k"), ("zrem", b"k"), ("del", b"k"),
                          ("zadd", b"d"), ("del", b"d")]


def test_blocking_pops_wait_then_serve_first_come_first_served():
    rec = Recorder()
    first, second = rec.engine.new_client(), rec.engine.new_client()
    assert rec.run("BZPOPMIN", "k", "0", client=first) is BLOCKED
    assert rec.run("BZMPOP", "0", "1", "k", "MAX", "COUNT", "2", client=second) is BLOCKED
    waiters = [first.blocked, second.blocked]
    rec.run("SET", "k", "string")                 # the wrong type serves nobody
    rec.run("DEL", "k")
    assert first.blocked is waiters[0] and second.blocked is waiters[1]
    rec.run("ZADD", "k", "1", "a", "2", "b", "3", "c")
    assert first.blocked is None and second.blocked is None
    assert waiters[0].reply == [b"k", b"a", 1.0]
    assert waiters[1].reply == [b"k", [[b"c", 3.0], [b"b", 2.0]]]
    assert rec.run("ZCARD", "k") == 0
    assert rec.propagated[-2:] == [[b"ZPOPMIN", b"k"], [b"ZPOPMAX", b"k", b"2"]]


def test_a_client_that_may_not_block_gets_nil_at_once():
    rec = Recorder()
    rec.client.flags.add("deny_blocking")
    assert rec.run("BZPOPMAX", "k", "0") is NULL_ARRAY
    assert rec.run("BZMPOP", "0", "1", "k", "MIN") is NULL_ARRAY

"""HyperLogLog: the storage format (ember.storage.hyperloglog) and the commands through
an Engine (propagation, events, dirty counter, in-place updates)."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.errors import ReplyError
from ember.storage import hyperloglog as hll
from tests.unit.harness import Harness

REGISTER = st.integers(0, 63)
# Whole register arrays, drawn from a seed (a 16 KB example is too big to shrink).
RAW = st.tuples(st.integers(0, 2 ** 32), st.sampled_from([1, 3, 63])).map(
    lambda seed_top: bytes(random.Random(seed_top[0]).choices(
        range(seed_top[1] + 1), k=hll.HLL_REGISTERS)))


def _dense(raw) -> bytearray:
    buf = bytearray(hll.new_sparse()[:hll.HDR_SIZE])
    buf[4] = hll.DENSE
    return buf + hll.raw_to_dense_body(raw)


# ---- hashing and the register pattern --------------------------------------------------

def test_murmurhash64a_reference_values():
    """Values printed by Redis's C MurmurHash64A (seed 0xadc83b19): empty key, tail
    only, exactly one 8-byte word plus a tail, and bytes >= 0x80 in a whole word."""
    assert hll.murmurhash64a(b"") == 0xD8DFEA6585BC9732
    assert hll.murmurhash64a(b"a") == 0x53D2470A9B43B1A7
    assert hll.murmurhash64a(b"hello") == 0x0F656F01EECFE400
    assert hll.murmurhash64a(b"0123456789abcdefg") == 0xF6C82F549ACEB6E9
    assert hll.murmurhash64a(b"\xff\xfe\x00\x01zzzz") == 0x1AFC0983CFE0106B


def test_pattern_bounds():
    for i in range(2000):
        index, count = hll.pattern(b"%d" % i)
        assert 0 <= index < hll.HLL_REGISTERS
        assert 1 <= count <= hll.HLL_Q + 1


def test_pattern_is_trailing_zeros_plus_one():
    for i in range(500):
        element = b"x%d" % i
        h = hll.murmurhash64a(element)
        rest = h >> hll.HLL_P
        expected = 1
        while expected <= hll.HLL_Q and not rest & 1:
            rest >>= 1
            expected += 1
        assert hll.pattern(element) == (h & hll.HLL_P_MASK, expected)


# ---- dense packing ---------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(RAW)
def test_dense_raw_round_trip(raw):
    buf = _dense(raw)
    assert len(buf) == hll.DENSE_SIZE
    assert bytes(hll.dense_to_raw(buf)) == raw
    for index in (0, 1, 2, 3, 4, 5, 1000, 16381, 16382, 16383):
        assert hll.dense_get(buf, index) == raw[index]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, hll.HLL_REGISTERS - 1), REGISTER), max_size=60))
def test_dense_set_touches_only_its_register(writes):
    buf = _dense(bytes(hll.HLL_REGISTERS))
    model = [0] * hll.HLL_REGISTERS
    for index, value in writes:
        hll.dense_set(buf, index, value)
        model[index] = value
    assert list(hll.dense_to_raw(buf)) == model
    assert buf[:hll.HDR_SIZE] == _dense(bytes(hll.HLL_REGISTERS))[:hll.HDR_SIZE]


@settings(max_examples=20, deadline=None)
@given(RAW, RAW)
def test_raw_max(a, b):
    assert hll.raw_max(a, b) == bytes(max(x, y) for x, y in zip(a, b))


# ---- sparse ----------------------------------------------------------------------------

def test_new_sparse_is_one_xzero():
    buf = hll.new_sparse()
    assert bytes(buf) == b"HYLL\x01" + bytes(11) + b"\x7f\xff"
    assert hll.decode(buf) == "Z:16384"
    assert hll.count(buf) == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, hll.HLL_REGISTERS - 1), st.integers(1, 40)),
                max_size=200))
def test_sparse_set_matches_a_register_model(writes):
    buf = hll.new_sparse()
    model = [0] * hll.HLL_REGISTERS
    for index, count in writes:
        changed = hll.sparse_set(buf, index, count, 3000) if buf[4] == hll.SPARSE \
            else hll.dense_set_max(buf, index, count)
        assert changed == (1 if count > model[index] else 0)
        model[index] = max(model[index], count)
    assert list(hll.registers(buf)) == model
    if buf[4] == hll.SPARSE:
        assert all(v <= 32 for v in model) and len(buf) <= 3000
        histo, ok = hll.sparse_histogram(buf)
        assert ok and histo[0] == model.count(0)
    else:
        assert any(v > 32 for v in model) or len(buf) == hll.DENSE_SIZE


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, hll.HLL_REGISTERS - 1), st.integers(1, 32)),
                max_size=400, unique_by=lambda w: w[0]))
def test_sparse_set_hint_gives_the_same_bytes(writes):
    """PFMERGE's resumed scans (ascending indexes) build exactly the same string."""
    writes.sort()
    plain, hinted = hll.new_sparse(), hll.new_sparse()
    hint = [None, 0, None]
    for index, count in writes:
        hll.sparse_set(plain, index, count, 100000)
        hll.sparse_set(hinted, index, count, 100000, hint)
    assert plain == hinted


def test_promotion_past_sparse_max_bytes():
    buf = hll.new_sparse()
    rng = random.Random(1)
    while buf[4] == hll.SPARSE:
        assert len(buf) <= 300
        hll.add(buf, b"%d" % rng.getrandbits(64), 300)
    assert len(buf) == hll.DENSE_SIZE and buf[:4] == b"HYLL"


def test_value_over_32_promotes():
    buf = hll.new_sparse()
    assert hll.sparse_set(buf, 5, 33, 3000) == 1
    assert buf[4] == hll.DENSE and hll.dense_get(buf, 5) == 33


def test_corrupted_sparse_detected():
    header = bytes(hll.new_sparse()[:hll.HDR_SIZE])
    for body in (b"\x7f\xfe", b"\x7f\xff\x00", b"\x7f\xff\x80", b""):
        buf = bytearray(header + body)
        with pytest.raises(hll.CorruptedHLL):
            hll.count(buf)
        with pytest.raises(hll.CorruptedHLL):
            hll.registers(buf)
    assert hll.sparse_set(bytearray(header + b"\x7f\xfe"), 16383, 1, 3000) == -1


def test_is_valid():
    assert hll.is_valid(hll.new_sparse())
    assert hll.is_valid(_dense(bytes(hll.HLL_REGISTERS)))
    assert not hll.is_valid(_dense(bytes(hll.HLL_REGISTERS)) + b"\x00")
    assert not hll.is_valid(b"HYLL\x02" + bytes(13))
    assert not hll.is_valid(b"HYLX\x01" + bytes(13))
    assert not hll.is_valid(b"HYLL\x01" + bytes(10))


# ---- the estimator ---------------------------------------------------------------------

def test_estimator_small_and_large():
    buf = hll.new_sparse()
    for i in range(100):
        hll.add(buf, b"%d" % i, 3000)
    assert hll.count(buf) == 100
    dense = _dense(bytes(hll.HLL_REGISTERS))
    for i in range(200000):
        index, count = hll.pattern(b"%d" % i)
        hll.dense_set_max(dense, index, count)
    assert abs(hll.count(dense) - 200000) < 200000 * 0.0081 * 3


def test_cache_bytes():
    buf = hll.new_sparse()
    assert hll.cache_valid(buf)
    hll.invalidate_cache(buf)
    assert not hll.cache_valid(buf)
    hll.set_cached_card(buf, 123456789)
    assert hll.cache_valid(buf) and hll.cached_card(buf) == 123456789


# ---- the commands through an Engine ----------------------------------------------------

def test_pfadd_updates_in_place_and_reports_events():
    h = Harness()
    assert h("PFADD", "h", "a") == 1
    buf = h.db.data[b"h"]
    assert type(buf) is bytearray
    h("PFDEBUG", "TODENSE", "h")
    assert h.db.data[b"h"] is buf and len(buf) == hll.DENSE_SIZE
    h.events.clear()
    h.propagated.clear()
    dirty = h.engine.dirty
    assert h("PFADD", "h", "b", "c") == 1
    assert h.db.data[b"h"] is buf          # no copy of the 12 KB string per PFADD
    assert h.events == [("pfadd", b"h")]
    assert h.engine.dirty == dirty + 2
    assert h.propagated == [[b"PFADD", b"h", b"b", b"c"]]
    assert h("PFADD", "h", "b") == 0
    assert h.propagated == [[b"PFADD", b"h", b"b", b"c"]]


def test_pfcount_writes_the_cache_and_propagates():
    h = Harness()
    h("PFADD", "h", "a", "b")
    h.events.clear()
    h.propagated.clear()
    dirty = h.engine.dirty
    assert h("PFCOUNT", "h") == 2
    assert hll.cache_valid(h.db.data[b"h"])
    assert h.engine.dirty == dirty + 1
    assert h.events == [(None, b"h")]       # WATCH/tracking see it; no notification
    assert h.propagated == [[b"PFCOUNT", b"h"]]
    assert h("PFCOUNT", "h") == 2           # cached: nothing changes
    assert h.engine.dirty == dirty + 1 and len(h.propagated) == 1
    assert h("PFCOUNT", "h", "missing") == 2
    assert h.engine.dirty == dirty + 1


def test_pfcount_of_a_set_string_converts_it_once():
    h = Harness()
    h("PFADD", "h", "a")
    value = bytes(h("GET", "h"))
    h("SET", "copy", value)
    assert type(h.db.data[b"copy"]) is bytes
    assert h("PFCOUNT", "copy") == 1
    assert type(h.db.data[b"copy"]) is bytearray


def test_pfcount_does_not_touch_a_ttl():
    h = Harness()
    h("PFADD", "h", "a")
    h("PEXPIRE", "h", 5000)
    h("PFCOUNT", "h")
    h("PFADD", "h", "b")
    assert h.ttl_ms(b"h") == 5000


def test_errors():
    h = Harness()
    h("SET", "s", "text")
    h("RPUSH", "l", "x")
    for command in (("PFADD", "s", "a"), ("PFCOUNT", "s"), ("PFMERGE", "d", "s")):
        with pytest.raises(ReplyError, match="^WRONGTYPE Key is not a valid HyperLogLog"):
            h(*command)
    with pytest.raises(ReplyError, match="^WRONGTYPE Operation against a key"):
        h("PFADD", "l", "a")
    h("SET", "bad", b"HYLL\x01" + bytes(10) + b"\x80\x7f\xfe")
    with pytest.raises(ReplyError, match="^INVALIDOBJ Corrupted HLL object detected$"):
        h("PFCOUNT", "bad")
    with pytest.raises(ReplyError, match="^ERR The specified key does not exist$"):
        h("PFDEBUG", "GETREG", "nokey")


def test_pfmerge_event_and_selftest():
    h = Harness()
    h("PFADD", "a", "1", "2")
    h("PFADD", "b", "3")
    h.events.clear()
    assert h("PFMERGE", "d", "a", "b") == "OK"
    assert ("pfadd", b"d") in h.events
    assert h("PFCOUNT", "d") == 3
    assert h("PFSELFTEST") == "OK"


def test_copy_is_independent():
    """COPY of an HLL (a bytearray) must not share the registers with the original."""
    h = Harness()
    h("PFADD", "h", "a")
    h("COPY", "h", "c")
    h("PFADD", "c", *[b"x%d" % i for i in range(100)])
    assert h("PFCOUNT", "h") == 1
    assert 95 <= h("PFCOUNT", "c") <= 105

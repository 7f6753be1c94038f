"""String and bitmap commands driven through the Engine without sockets.

What a byte comparison with redis-server cannot show: WRONGTYPE paths (ember has no
other types yet, so a foreign object is stored directly), TTLs under an injected clock,
what is propagated to replicas/AOF, keyspace events, in-place growth of raw strings,
and the long double emulation itself.
"""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ember.errors import WRONGTYPE, ReplyError
from ember.storage import longdouble
from ember.storage.keyspace import Database
from ember.storage.types import bitfield
from tests.unit.harness import START_MS


class Foreign:
    """Stands for a value of another type (a list, a hash ...)."""




# ---- WRONGTYPE ------------------------------------------------------------------------

WRONGTYPE_COMMANDS = [
    ("GET", "x"), ("SET", "x", "v", "GET"), ("GETSET", "x", "v"), ("GETDEL", "x"),
    ("GETEX", "x"), ("GETEX", "x", "EX", "10"), ("APPEND", "x", "v"), ("STRLEN", "x"),
    ("GETRANGE", "x", "0", "-1"), ("SUBSTR", "x", "0", "-1"), ("SETRANGE", "x", "0", "v"),
    ("SETRANGE", "x", "0", ""), ("INCR", "x"), ("DECR", "x"), ("INCRBY", "x", "2"),
    ("DECRBY", "x", "2"), ("INCRBYFLOAT", "x", "1.5"), ("SETBIT", "x", "0", "1"),
    ("GETBIT", "x", "0"), ("BITCOUNT", "x"), ("BITPOS", "x", "1"),
    ("BITOP", "AND", "dest", "x"), ("BITFIELD", "x", "GET", "u8", "0"),
    ("BITFIELD", "x", "SET", "u8", "0", "1"), ("BITFIELD_RO", "x", "GET", "u8", "0"),
]


@pytest.mark.parametrize("command", WRONGTYPE_COMMANDS, ids=lambda c: " ".join(c))
def test_wrongtype(h, command):
    foreign = Foreign()
    h.db.data[b"x"] = foreign
    with pytest.raises(ReplyError) as err:
        h(*command)
    assert err.value.message == WRONGTYPE
    assert h.db.data[b"x"] is foreign
    assert h.propagated == []


def test_wrongtype_lcs_and_mget(h):
    h.db.data[b"x"] = Foreign()
    h("SET", "s", "abc")
    with pytest.raises(ReplyError, match="ERR The specified keys must contain string values"):
        h("LCS", "s", "x")
    assert h("MGET", "s", "x", "nope") == [b"abc", None, None]


def test_set_overwrites_other_types_and_errors_stay_ordered(h):
    h.db.data[b"x"] = Foreign()
    assert h("SET", "x", "v") == "OK"
    h.db.data[b"x"] = Foreign()
    assert h("MSETNX", "x", "1") == 0
    with pytest.raises(ReplyError, match="not an integer"):     # argument checked first
        h("GETRANGE", "x", "a", "0")
    with pytest.raises(ReplyError, match="bit offset"):
        h("SETBIT", "x", "-1", "1")


# ---- TTLs ------------------------------------------------------------------------------

def test_set_expiry_forms(h):
    h("SET", "k", "v", "EX", "10")
    assert h.ttl_ms(b"k") == 10_000
    h("SET", "k", "v", "PX", "1500")
    assert h.ttl_ms(b"k") == 1500
    h("SET", "k", "v", "EXAT", str(START_MS // 1000 + 20))
    assert h.ttl_ms(b"k") == 20_000
    h("SET", "k", "v", "PXAT", str(START_MS + 42))
    assert h.ttl_ms(b"k") == 42
    h("SET", "k", "v2", "KEEPTTL")
    assert h.ttl_ms(b"k") == 42
    h("SET", "k", "v3")
    assert h.ttl_ms(b"k") is None
    h("SET", "k", "v", "EX", "10", "EX", "20")
    assert h.ttl_ms(b"k") == 20_000


def test_expired_key_disappears(h):
    h("SETEX", "k", "1", "v")
    h.advance(999)
    assert h("GET", "k") == b"v"
    h.advance(1)
    assert h("GET", "k") == b"v"                      # alive at the deadline itself
    h.advance(1)
    assert h("GET", "k") is None
    h("PSETEX", "p", "5", "v")
    h.advance(5)
    assert h("SETNX", "p", "w") == 0                  # not yet expired at the deadline
    h.advance(1)
    assert h("SETNX", "p", "w") == 1 and h("GET", "p") == b"w"


def test_writes_that_keep_or_clear_the_ttl(h):
    def with_ttl(key, value=b"10"):
        h("SET", key, value, "EX", "100")

    keeps = [("INCR", "a"), ("INCRBYFLOAT", "a", "1.5"), ("APPEND", "a", "x"),
             ("SETRANGE", "a", "0", "9"), ("SETBIT", "a", "100", "1"),
             ("BITFIELD", "a", "SET", "u8", "0", "1"), ("DECRBY", "a", "3")]
    for command in keeps:
        with_ttl(b"a")
        h(*command)
        assert h.ttl_ms(b"a") == 100_000, command
    clears = [("SET", "a", "v"), ("GETSET", "a", "v"), ("MSET", "a", "v"),
              ("BITOP", "NOT", "a", "a")]
    for command in clears:
        with_ttl(b"a")
        h(*command)
        assert h.ttl_ms(b"a") is None, command


def test_getex_changes_the_ttl(h):
    h("SET", "k", "v")
    assert h("GETEX", "k", "EX", "5") == b"v"
    assert h.ttl_ms(b"k") == 5000
    assert h("GETEX", "k", "PX", "70") == b"v"
    assert h.ttl_ms(b"k") == 70
    assert h("GETEX", "k") == b"v"
    assert h.ttl_ms(b"k") == 70
    assert h("GETEX", "k", "PERSIST") == b"v"
    assert h.ttl_ms(b"k") is None
    assert h("GETEX", "k", "PXAT", str(START_MS)) == b"v"     # already past: deleted
    assert h.db.data.get(b"k") is None


# ---- propagation and events ------------------------------------------------------------

def test_relative_times_propagate_as_absolute(h):
    h("SET", "k", "v", "EX", "10")
    h("SETEX", "k", "2", "v")
    h("PSETEX", "k", "300", "v")
    h("SET", "k", "v", "PXAT", str(START_MS + 5))
    h("SET", "k", "v", "EXAT", str(START_MS // 1000 + 9), "GET")
    assert h.propagated == [
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (START_MS + 10_000)],
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (START_MS + 2000)],
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (START_MS + 300)],
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (START_MS + 5)],
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (START_MS // 1000 * 1000 + 9000)],
    ]


def test_rewritten_propagation(h):
    h("SET", "k", "v", "GET", "get")
    h("GETSET", "k", "w")
    h("INCRBYFLOAT", "f", "0.1")
    h("GETEX", "k", "EX", "10")
    h("GETEX", "k", "PERSIST")
    h("GETEX", "k", "PERSIST")                   # nothing changed: not propagated
    h("GETEX", "k", "PXAT", str(START_MS + 99))  # kept as sent, as Redis does
    h("GETEX", "k", "EXAT", "1")
    h("SET", "k", "v")
    h("GETDEL", "k")
    h("GETDEL", "k")
    assert h.propagated == [
        [b"SET", b"k", b"v"],
        [b"SET", b"k", b"w"],
        [b"SET", b"f", b"0.1", b"KEEPTTL"],
        [b"PEXPIREAT", b"k", b"%d" % (START_MS + 10_000)],
        [b"PERSIST", b"k"],
        [b"GETEX", b"k", b"PXAT", b"%d" % (START_MS + 99)],
        [b"DEL", b"k"],
        [b"SET", b"k", b"v"],
        [b"DEL", b"k"],
    ]


def test_no_op_writes_are_not_propagated(h):
    h("SET", "k", "v")
    h.propagated.clear()
    h("SET", "k", "w", "NX")
    h("SET", "nope", "w", "XX")
    h("SETNX", "k", "x")
    h("MSETNX", "k", "1", "other", "2")
    h("SETRANGE", "k", "3", "")
    h("SETBIT", "b", "3", "1")
    h("SETBIT", "b", "3", "1")                   # same bit, same length
    h("BITOP", "AND", "none", "missing")
    assert h.propagated == [[b"SETBIT", b"b", b"3", b"1"]]


def test_keyspace_events(h):
    h("SET", "k", "v", "EX", "10")
    h("APPEND", "k", "x")
    h("SETRANGE", "k", "0", "y")
    h("INCRBY", "n", "1")
    h("INCRBYFLOAT", "n", "1")
    h("SETBIT", "b", "1", "1")
    h("BITFIELD", "b", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "1")
    h("BITOP", "OR", "d", "b")
    h("BITOP", "OR", "d", "missing")
    h("GETEX", "k", "PERSIST")
    h("GETEX", "k", "EX", "5")
    h("GETDEL", "k")
    assert h.events == [
        ("set", b"k"), ("expire", b"k"), ("append", b"k"), ("setrange", b"k"),
        ("incrby", b"n"), ("incrbyfloat", b"n"), ("setbit", b"b"), ("setbit", b"b"),
        ("set", b"d"), ("del", b"d"), ("persist", b"k"), ("expire", b"k"), ("del", b"k"),
    ]


def test_dirty_counts_changes(h):
    before = h.engine.dirty
    h("BITFIELD", "b", "SET", "u8", "0", "1", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "999")
    assert h.engine.dirty - before == 2            # every write op counts, failed ones too
    before = h.engine.dirty
    h("MSET", "a", "1", "b", "2", "c", "3")
    assert h.engine.dirty - before == 3


# ---- storage shape ---------------------------------------------------------------------

def test_append_grows_one_bytearray_in_place(h):
    h("SET", "k", "start")
    assert type(h.db.data[b"k"]) is bytes
    h("APPEND", "k", "-1")
    stored = h.db.data[b"k"]
    assert type(stored) is bytearray
    for i in range(1000):
        h("APPEND", "k", "-%d" % i)
    assert h.db.data[b"k"] is stored
    reply = h("GET", "k")
    assert type(reply) is bytes and reply == bytes(stored)
    h("APPEND", "k", "more")
    assert reply != bytes(stored)                 # the reply did not change with the value
    h("APPEND", "fresh", "12")
    assert type(h.db.data[b"fresh"]) is bytes     # a new key stores the argument as is


def test_replies_never_alias_stored_bytearrays(h):
    h("SETRANGE", "k", "0", "abc")
    stored = h.db.data[b"k"]
    assert type(stored) is bytearray
    replies = [h("GET", "k"), h("MGET", "k")[0], h("GETRANGE", "k", "0", "-1"),
               h("SET", "k", "zzz", "GET"), h("GETEX", "k")]
    for reply in replies:
        assert type(reply) is bytes


def test_bit_writes_store_raw_strings(h):
    h("SET", "k", "a")
    h("SETBIT", "k", "0", "0")                    # unchanged bit, but the value is unshared
    assert type(h.db.data[b"k"]) is bytearray
    h("BITOP", "OR", "d", "k")
    assert type(h.db.data[b"d"]) is bytearray
    h("INCR", "n")
    assert h.db.data[b"n"] == b"1"


def test_limits_are_checked_before_allocating(h):
    h.engine.config.proto_max_bulk_len = 1024 * 1024
    with pytest.raises(ReplyError, match="proto-max-bulk-len"):
        h("SETRANGE", "k", str(2 ** 62), "x")
    with pytest.raises(ReplyError, match="bit offset is not an integer or out of range"):
        h("SETBIT", "k", str(8 * 1024 * 1024), "1")
    with pytest.raises(ReplyError, match="bit offset is not an integer or out of range"):
        h("BITFIELD", "k", "SET", "u8", "#1048576", "1")
    assert b"k" not in h.db.data
    assert h("SETBIT", "k", str(8 * 1024 * 1024 - 1), "1") == 0
    assert len(h.db.data[b"k"]) == 1024 * 1024


# ---- long double emulation ---------------------------------------------------------------

def _ld(text: str):
    return longdouble.parse_long_double(text.encode())


def test_long_double_known_values():
    # Results of the same additions on x87 (redis-server INCRBYFLOAT).
    assert longdouble.format_human(longdouble.add(_ld("0.1"), _ld("0.2"))) == b"0.3"
    assert longdouble.format_human(_ld("0.000011444091796875")) == b"0.00001144409179688"
    assert longdouble.format_human(_ld("0.000003814697265625")) == b"0.00000381469726562"
    assert longdouble.format_human(_ld("-1e-18")) == b"0"
    assert longdouble.format_human(_ld("1.5e300")).startswith(b"150000000000000000004980010986")
    assert longdouble.format_human(_ld("0x1.8p1")) == b"3"
    assert _ld("4e-4951") > 0 and _ld("1e-4951") is None
    assert _ld("1e4932") is not None and _ld("1.2e4932") is None
    assert _ld("inf") == float("inf") and _ld("nan") is None
    assert longdouble.add(_ld("inf"), _ld("1")) is None
    assert longdouble.add(_ld("1.1e4932"), _ld("1.1e4932")) is None
    for bad in ["", " 1", "1 ", "1e", ".", "0x", "1_0", "1\x002", "--1", "e5"]:
        assert _ld(bad) is None, bad


@given(st.integers(-(2 ** 70), 2 ** 70), st.integers(-20000, 20000))
def test_round_extended_keeps_64_significant_bits(mantissa, exponent):
    value = longdouble.round_extended(Fraction(mantissa) * Fraction(2) ** exponent)
    exact = Fraction(mantissa) * Fraction(2) ** exponent
    if isinstance(value, float):                              # overflow to infinity
        assert abs(exact) >= 2 ** 16384 - 2 ** (16384 - 65)
        return
    assert longdouble.round_extended(value) == value          # idempotent
    if value:
        num = abs(value.numerator) // (value.numerator & -value.numerator)
        assert num.bit_length() <= 64
    # At most half a unit in the last place: of 64 bits, or of the denormal grid.
    assert abs(value - exact) <= max(abs(exact) / 2 ** 64, Fraction(1, 2 ** 16446))


@given(st.integers(0, 2 ** 64 - 1))
def test_integers_up_to_64_bits_are_exact(n):
    assert longdouble.round_extended(Fraction(n)) == n
    assert longdouble.format_human(Fraction(n)) == str(n).encode()


# ---- bitfield helpers -----------------------------------------------------------------

@given(st.binary(max_size=12), st.integers(1, 64), st.integers(0, 100), st.integers())
def test_set_field_changes_only_its_bits(data, bits, offset, value):
    size = max(len(data), (offset + bits + 7) // 8)
    buf = bytearray(data) + bytearray(size - len(data))
    before = int.from_bytes(buf, "big")
    bitfield.set_field(buf, offset, bits, value)
    assert bitfield.get_unsigned(buf, offset, bits) == value & ((1 << bits) - 1)
    shift = size * 8 - offset - bits
    outside = ~(((1 << bits) - 1) << shift)
    assert int.from_bytes(buf, "big") & outside == before & outside


@given(st.integers(-(2 ** 63), 2 ** 63 - 1), st.integers(-(2 ** 63), 2 ** 63 - 1),
       st.integers(1, 64))
def test_signed_overflow_modes(value, incr, bits):
    high, low = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    value = max(low, min(high, value))
    total = value + incr
    overflow, wrapped = bitfield.signed_overflow(value, incr, bits, bitfield.WRAP)
    assert overflow == (not low <= total <= high)
    assert low <= wrapped <= high and (wrapped - total) % (1 << bits) == 0
    assert bitfield.signed_overflow(value, incr, bits, bitfield.SAT)[1] == \
        max(low, min(high, total))
    assert bitfield.signed_overflow(value, incr, bits, bitfield.FAIL)[1] == \
        (None if overflow else total)


def test_signed_overflow_wraps_its_limits_as_redis_does():
    """A SET far below an i31 field's range: Redis's max - value wraps to INT64_MIN in
    int64, so the value counts as an overflow upwards (SAT stores the maximum)."""
    value = -9223372035781033985
    assert bitfield.signed_overflow(value, 0, 31, bitfield.SAT) == (True, (1 << 30) - 1)
    assert bitfield.signed_overflow(-5000, 0, 31, bitfield.SAT) == (False, -5000)
    assert bitfield.signed_overflow(-(1 << 40), 0, 31, bitfield.SAT) == (True, -(1 << 30))


# ---- INCR's one-step path (Database.incr_counter) ----------------------------------------

@pytest.mark.parametrize("stored, delta, result", [
    (b"0", 1, 1), (b"9", 1, 10), (b"41", -50, -9), (b"99999999999999999", 1, 10 ** 17),
    (b"5", (1 << 63) - 6, (1 << 63) - 1),
])
def test_incr_counter_takes_canonical_counters(stored, delta, result):
    db = Database(0, lambda: 1_000)
    db.set(b"c", stored)
    db.set_expire(b"c", 5_000)
    assert db.incr_counter(b"c", delta) == result
    assert db.data[b"c"] == b"%d" % result
    assert db.expires[b"c"] == 5_000        # the TTL stays


@pytest.mark.parametrize("stored", [
    None, b"", b"05", b"-5", b"+5", b" 5", b"5 ", b"1.0", b"999999999999999999",
    bytearray(b"5"), b"\xd9\xa1",
])
def test_incr_counter_leaves_the_rest_to_the_general_path(stored):
    db = Database(0, lambda: 1_000)
    if stored is not None:
        db.set(b"c", stored)
    assert db.incr_counter(b"c", 1) is None
    assert db.data.get(b"c") == stored


def test_incr_counter_leaves_overflow_and_expired_keys():
    db = Database(0, lambda: 1_000)
    db.set(b"c", b"5")
    assert db.incr_counter(b"c", (1 << 63) - 5) is None
    db.set_expire(b"c", 999)
    assert db.incr_counter(b"c", 1) is None
    assert db.data[b"c"] == b"5"

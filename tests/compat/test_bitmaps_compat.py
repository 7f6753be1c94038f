"""Bitmap commands compared byte for byte with a real redis-server."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LLONG_MAX = str(2 ** 63 - 1)
LLONG_MIN = str(-(2 ** 63))
MAX_BIT = str(512 * 1024 * 1024 * 8)     # first bit offset past proto-max-bulk-len

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_setbit_getbit(compat):
    compat.script([
        ("GETBIT", "b", "0"), ("GETBIT", "b", "100"), ("SETBIT", "b", "7", "1"), ("GET", "b"),
        ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "0"), ("SETBIT", "b", "0", "1"),
        ("GET", "b"), ("SETBIT", "b", "100", "1"), ("GET", "b"), ("STRLEN", "b"),
        ("GETBIT", "b", "100"), ("GETBIT", "b", "99"), ("GETBIT", "b", "1000"),
        ("SETBIT", "b", "-1", "1"), ("SETBIT", "b", "x", "1"), ("SETBIT", "b", "1", "2"),
        ("SETBIT", "b", "1", "-1"), ("SETBIT", "b", "1", "x"), ("SETBIT", "b", "1", ""),
        ("SETBIT", "b", MAX_BIT, "1"), ("SETBIT", "b", LLONG_MAX, "1"),
        ("SETBIT", "b", "#8", "1"), ("GETBIT", "b", "-1"), ("GETBIT", "b", "x"),
        ("GETBIT", "b", MAX_BIT), ("GETBIT", "b", str(int(MAX_BIT) - 1)),
        ("GETBIT", "missing", MAX_BIT), ("SETBIT", "missing", MAX_BIT, "x"),
        ("SET", "s", "12"), ("GETBIT", "s", "2"), ("GETBIT", "s", "3"), ("SETBIT", "s", "7", "1"),
        ("GET", "s"), ("SETBIT", "s", "6", "1"), ("GET", "s"),
    ])


def test_bitcount(compat):
    compat.script([
        ("BITCOUNT", "missing"), ("BITCOUNT", "missing", "0"), ("BITCOUNT", "missing", "a", "b"),
        ("BITCOUNT", "missing", "0", "1", "bogus"), ("SET", "s", "foobar"), ("BITCOUNT", "s"),
        ("BITCOUNT", "s", "0"), ("BITCOUNT", "s", "0", "1", "2", "3"),
        ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "1", "b"),
        ("BITCOUNT", "s", "0", "1", "bogus"), ("BITCOUNT", "s", "-1", "-5", "bogus"),
        ("BITCOUNT", "s", "1", "1", "BYTE"), ("BITCOUNT", "s", "5", "30", "BIT"),
        ("BITCOUNT", "s", "5", "30", "bit"), ("SET", "e", ""), ("BITCOUNT", "e"),
        ("BITCOUNT", "e", "0", "-1"), ("BITCOUNT", "e", "0", "-1", "BIT"),
    ])
    ranges = [(0, -1), (0, 0), (1, 1), (-2, -1), (-1, -2), (-100, 100), (3, 2), (0, 100),
              (100, 200), (-100, -50), (LLONG_MIN, LLONG_MAX), (5, 5), (7, 8), (9, 47),
              (-9, -3), (47, 47), (48, 48)]
    for start, end in ranges:
        compat.check("BITCOUNT", "s", str(start), str(end))
        compat.check("BITCOUNT", "s", str(start), str(end), "BIT")
        compat.check("BITCOUNT", "s", str(start), str(end), "BYTE")


def test_bitpos(compat):
    compat.script([
        ("BITPOS", "missing", "1"), ("BITPOS", "missing", "0"), ("BITPOS", "missing", "2"),
        ("BITPOS", "missing", "x"), ("BITPOS", "missing", "1", "x"),
        ("BITPOS", "missing", "0", "1", "2", "bogus"),
        ("SET", "s", "\xff\xf0\x00"), ("BITPOS", "s", "0"), ("BITPOS", "s", "1"),
        ("BITPOS", "s", "1", "2"), ("BITPOS", "s", "0", "0", "0"), ("BITPOS", "s", "2"),
        ("BITPOS", "s", "1", "x"), ("BITPOS", "s", "1", "0", "x"),
        ("BITPOS", "s", "1", "0", "1", "bogus"), ("BITPOS", "s", "1", "0", "x", "bogus"),
        ("BITPOS", "s", "1", "0", "1", "BIT", "extra"), ("SET", "f", "\xff\xff"),
        ("BITPOS", "f", "0"), ("BITPOS", "f", "0", "0"), ("BITPOS", "f", "0", "0", "-1"),
        ("BITPOS", "f", "0", "0", "-1", "BIT"), ("BITPOS", "f", "0", "3", "BIT"),
        ("BITPOS", "f", "0", "3"), ("SET", "z", "\x00\x00"), ("BITPOS", "z", "1"),
        ("BITPOS", "z", "0"), ("BITPOS", "z", "1", "0", "-1", "BIT"), ("SET", "e", ""),
        ("BITPOS", "e", "0"), ("BITPOS", "e", "1"), ("BITPOS", "e", "0", "0"),
        ("BITPOS", "e", "0", "0", "-1", "BIT"),
    ])


def test_bitpos_and_bitcount_random_ranges(compat):
    rng = random.Random(5)
    for _ in range(40):
        data = bytes(rng.choice([0, 0xFF, rng.randrange(256)]) for _ in range(rng.randint(1, 7)))
        compat.check("SET", "s", data)
        for _ in range(10):
            start, end = rng.randint(-70, 70), rng.randint(-70, 70)
            unit = rng.choice(["BIT", "BYTE"])
            bit = rng.choice(["0", "1"])
            compat.check("BITCOUNT", "s", str(start), str(end), unit)
            compat.check("BITPOS", "s", bit, str(start), str(end), unit)
            compat.check("BITPOS", "s", bit, str(start))
            compat.check("BITPOS", "s", bit, str(start), str(end))


def test_bitop(compat):
    compat.script([
        ("SET", "a", "\x0f\xf0ab"), ("SET", "b", "\xff\x00"), ("BITOP", "AND", "d", "a", "b"),
        ("GET", "d"), ("BITOP", "or", "d", "a", "b"), ("GET", "d"), ("BITOP", "XOR", "d", "a", "b"),
        ("GET", "d"), ("BITOP", "NOT", "d", "a"), ("GET", "d"), ("BITOP", "NOT", "d", "a", "b"),
        ("BITOP", "NOPE", "d", "a"), ("BITOP", "AND", "d", "a", "missing"), ("GET", "d"),
        ("BITOP", "OR", "d", "missing", "missing2"), ("GET", "d"),
        ("SET", "d", "old"), ("BITOP", "AND", "d", "missing"), ("GET", "d"),
        ("BITOP", "NOT", "d", "missing"), ("SET", "e", ""), ("BITOP", "NOT", "d", "e"),
        ("BITOP", "AND", "d", "a"), ("GET", "d"), ("BITOP", "XOR", "a", "a", "b"), ("GET", "a"),
        ("BITOP", "AND", "d"),
    ])


def test_bitfield_basics_and_errors(compat):
    compat.script([
        ("BITFIELD", "bf"), ("BITFIELD", "bf", "GET", "u8", "0"), ("GET", "bf"),
        ("BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u8", "0", "GET", "i8", "0"),
        ("BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT",
         "INCRBY", "u2", "102", "5"),
        ("GET", "bf"), ("BITFIELD", "bf", "set", "u8", "#1", "255", "get", "u8", "#1"),
        ("BITFIELD", "bf", "GET", "i64", "0", "GET", "i63", "1", "GET", "u63", "0"),
        ("BITFIELD", "bf", "GET", "u64", "0"), ("BITFIELD", "bf", "GET", "i65", "0"),
        ("BITFIELD", "bf", "GET", "i0", "0"), ("BITFIELD", "bf", "GET", "I8", "0"),
        ("BITFIELD", "bf", "GET", "x8", "0"), ("BITFIELD", "bf", "GET", "u", "0"),
        ("BITFIELD", "bf", "GET", "i08", "0"), ("BITFIELD", "bf", "GET", "i-8", "0"),
        ("BITFIELD", "bf", "GET", "u8", "-1"), ("BITFIELD", "bf", "GET", "u8", "x"),
        ("BITFIELD", "bf", "GET", "u8", "#x"), ("BITFIELD", "bf", "GET", "u8", "#-1"),
        ("BITFIELD", "bf", "GET", "u8", "#"), ("BITFIELD", "bf", "GET", "u8", MAX_BIT),
        ("BITFIELD", "bf", "GET", "u8", "#" + str(2 ** 61)),
        ("BITFIELD", "bf", "GET", "u8", "#" + LLONG_MAX),
        ("BITFIELD", "bf", "GET", "u8", "#536870912"),
        ("BITFIELD", "bf", "GET", "u8", "#536870911"),
        ("BITFIELD", "bf", "GET", "u8"), ("BITFIELD", "bf", "SET", "u8", "0"),
        ("BITFIELD", "bf", "INCRBY", "u8", "0"), ("BITFIELD", "bf", "OVERFLOW"),
        ("BITFIELD", "bf", "OVERFLOW", "bogus", "GET", "u8", "0"),
        ("BITFIELD", "bf", "OVERFLOW", "wrap"), ("BITFIELD", "bf", "BOGUS", "u8", "0"),
        ("BITFIELD", "bf", "SET", "u8", "0", "x"), ("BITFIELD", "bf", "SET", "u8", "0", "1.5"),
        ("BITFIELD", "bf", "INCRBY", "i64", "0", LLONG_MIN), ("BITFIELD", "bf", "SET", "u8", "0"),
        ("BITFIELD", "bf", "GET", "u8", "0", "SET", "u8", "x", "1"),
        ("BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i4", "#3"), ("BITFIELD_RO", "bf"),
        ("BITFIELD_RO", "bf", "SET", "u8", "0", "1"),
        ("BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"),
        ("BITFIELD_RO", "bf", "OVERFLOW", "FAIL", "GET", "u8", "0"),
        ("BITFIELD_RO", "missing", "GET", "u8", "0"), ("BITFIELD_RO", "bf", "GET", "u8", "x"),
        ("BITFIELD", "fail", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"), ("GET", "fail"),
        ("BITFIELD", "sat", "OVERFLOW", "SAT", "SET", "u8", "0", "-5", "SET", "i8", "8", "-500",
         "SET", "i8", "16", "500", "SET", "u8", "24", "300"), ("GET", "sat"),
        ("BITFIELD", "wrap", "SET", "u8", "0", "-5", "SET", "i8", "8", "-500", "SET", "i8", "16",
         "500", "SET", "u8", "24", "300", "SET", "i64", "32", LLONG_MIN), ("GET", "wrap"),
        ("BITFIELD", "wrap", "INCRBY", "i64", "32", "-1", "OVERFLOW", "SAT", "INCRBY", "i64",
         "32", LLONG_MIN, "OVERFLOW", "FAIL", "INCRBY", "i64", "32", "-1"),
        ("BITFIELD", "far", "OVERFLOW", "SAT", "SET", "i31", "0", "-9223372035781033985",
         "SET", "i31", "32", "-9223372036854775808", "SET", "i7", "64", "-9223372036854775745"),
        ("GET", "far"),
        ("BITFIELD", "wrap", "SET", "i64", "32", LLONG_MAX, "INCRBY", "i64", "32", "1",
         "OVERFLOW", "SAT", "INCRBY", "i64", "32", "1", "INCRBY", "u63", "32", LLONG_MAX),
        ("SET", "n", "123"), ("BITFIELD", "n", "GET", "u8", "0", "INCRBY", "u8", "0", "1"),
        ("GET", "n"),
    ])


_TYPES = st.one_of(st.integers(1, 64).map(lambda b: "i%d" % b),
                   st.integers(1, 63).map(lambda b: "u%d" % b))
_OFFSETS = st.one_of(st.integers(0, 80).map(str), st.integers(0, 8).map(lambda n: "#%d" % n))
_VALUES = st.one_of(st.integers(-300, 300), st.integers(-(2 ** 63), 2 ** 63 - 1)).map(str)
_OPS = st.one_of(
    st.tuples(st.just("GET"), _TYPES, _OFFSETS),
    st.tuples(st.just("SET"), _TYPES, _OFFSETS, _VALUES),
    st.tuples(st.just("INCRBY"), _TYPES, _OFFSETS, _VALUES),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
)


@FAST
@given(st.lists(st.lists(_OPS, min_size=1, max_size=6), min_size=1, max_size=4))
def test_bitfield_random_ops_match_redis(compat, calls):
    compat.check("DEL", "bf")
    for call in calls:
        args = [arg for op in call for arg in op]
        compat.check("BITFIELD", "bf", *args)
        compat.check("GET", "bf")

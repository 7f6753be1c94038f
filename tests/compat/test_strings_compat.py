"""String commands compared byte for byte with a real redis-server.

Every reply (values, integers, nils and error texts) must be identical. Keys holding
other types cannot be made on ember yet, so WRONGTYPE paths are covered by
tests/unit/test_strings_unit.py.
"""

import random
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Compat
from tests.servers import start_ember, start_redis

LLONG_MAX = str(2 ** 63 - 1)
LLONG_MIN = str(-(2 ** 63))

SMALL_LIMIT = ("--proto-max-bulk-len", "1mb")

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def small_compat(redis_reference):
    """ember and redis-server both started with proto-max-bulk-len 1mb."""
    ember = start_ember(*SMALL_LIMIT)
    reference = start_redis(*SMALL_LIMIT)
    pair = Compat(ember.port, reference.port)
    yield pair
    pair.close()
    ember.stop()
    reference.stop()


def test_get_set_basics(compat):
    compat.script([
        ("GET", "k"), ("SET", "k", ""), ("GET", "k"), ("STRLEN", "k"),
        ("SET", "k", "v"), ("GET", "k"), ("SET", "k", "x" * 100), ("GET", "k"),
        ("SET", "k", "\x00\xff\r\n"), ("GET", "k"), ("STRLEN", "k"),
        ("SET", "k", "12345"), ("GET", "k"), ("STRLEN", "missing"),
    ])


def test_set_options_and_conflicts(compat):
    compat.script([
        ("SET", "k", "v", "NX"), ("SET", "k", "v2", "NX"), ("GET", "k"),
        ("SET", "k", "v3", "XX"), ("SET", "nokey", "v", "XX"), ("GET", "nokey"),
        ("SET", "k", "v", "NX", "NX"), ("SET", "k", "v", "XX", "XX"),
        ("SET", "k", "v", "NX", "XX"), ("SET", "k", "v", "XX", "NX"),
        ("SET", "k", "v4", "GET"), ("SET", "k", "v5", "GET", "GET"),
        ("SET", "new", "v", "GET"), ("SET", "new2", "v", "NX", "GET"),
        ("SET", "new2", "w", "NX", "GET"), ("SET", "absent", "w", "XX", "GET"),
        ("GET", "absent"), ("SET", "k", "v", "KEEPTTL"), ("SET", "k", "v", "KEEPTTL", "KEEPTTL"),
        ("SET", "k", "v", "EX", "10", "EX", "20"), ("SET", "k", "v", "PX", "100", "PX", "200"),
        ("SET", "k", "v", "EX", "10", "PX", "100"), ("SET", "k", "v", "EX", "10", "KEEPTTL"),
        ("SET", "k", "v", "KEEPTTL", "EX", "10"), ("SET", "k", "v", "EXAT", "1", "PXAT", "1"),
        ("SET", "k", "v", "EX"), ("SET", "k", "v", "PX"), ("SET", "k", "v", "EXAT"),
        ("SET", "k", "v", "PERSIST"), ("SET", "k", "v", "bogus"), ("SET", "k", "v", "ex", "5"),
        ("SET", "k", "v", "nx", "get", "ex", "5"), ("GET", "k"),
    ])


def test_set_invalid_expire_times(compat):
    compat.script([
        ("SET", "k", "v", "EX", "0"), ("SET", "k", "v", "EX", "-1"), ("SET", "k", "v", "PX", "0"),
        ("SET", "k", "v", "EXAT", "0"), ("SET", "k", "v", "PXAT", "-5"),
        ("SET", "k", "v", "EX", "abc"), ("SET", "k", "v", "EX", "1.5"),
        ("SET", "k", "v", "EX", " 1"), ("SET", "k", "v", "EX", "01"),
        ("SET", "k", "v", "EX", LLONG_MAX), ("SET", "k", "v", "PX", LLONG_MAX),
        ("SET", "k", "v", "EXAT", LLONG_MAX), ("SET", "k", "v", "PXAT", LLONG_MAX),
        ("SET", "k", "v", "EX", str(2 ** 63 // 1000)),
        ("SET", "k", "v", "EX", "99999999999999999999"),
        ("GET", "k"),
        # The expire argument is validated before NX is considered.
        ("SET", "k", "v"), ("SET", "k", "v", "NX", "EX", "0"), ("SET", "k", "v", "NX", "EX", "x"),
        ("SET", "k", "v", "EXAT", "1"), ("GET", "k"), ("SET", "k", "v", "PXAT", "1", "GET"),
        ("GET", "k"), ("SET", "k", "v", "EX", "100"), ("GET", "k"),
    ])


def test_setnx_setex_psetex(compat):
    compat.script([
        ("SETNX", "k", "a"), ("SETNX", "k", "b"), ("GET", "k"),
        ("SETEX", "k", "100", "c"), ("GET", "k"), ("SETEX", "k", "0", "c"),
        ("SETEX", "k", "-1", "c"), ("SETEX", "k", "x", "c"), ("SETEX", "k", LLONG_MAX, "c"),
        ("PSETEX", "k", "100000", "d"), ("GET", "k"), ("PSETEX", "k", "0", "d"),
        ("PSETEX", "k", "x", "d"), ("PSETEX", "k", LLONG_MAX, "d"),
        ("SETEX", "k", "10"), ("SETNX", "k"),
    ])


def test_getset_getdel_getex(compat):
    compat.script([
        ("GETSET", "k", "a"), ("GETSET", "k", "b"), ("GET", "k"),
        ("GETDEL", "k"), ("GETDEL", "k"), ("GET", "k"),
        ("GETEX", "k"), ("SET", "k", "v"), ("GETEX", "k"), ("GETEX", "k", "EX", "100"),
        ("GETEX", "k", "PX", "100000"), ("GETEX", "k", "EXAT", "99999999999"),
        ("GETEX", "k", "PXAT", "99999999999999"), ("GETEX", "k", "PERSIST"),
        ("GETEX", "k", "PERSIST", "PERSIST"), ("GETEX", "k", "EX", "10", "EX", "20"),
        ("GETEX", "k", "EX", "10", "PERSIST"), ("GETEX", "k", "PERSIST", "EX", "10"),
        ("GETEX", "k", "EX", "10", "PX", "10"), ("GETEX", "k", "KEEPTTL"), ("GETEX", "k", "NX"),
        ("GETEX", "k", "GET"), ("GETEX", "k", "EX"), ("GETEX", "k", "bogus"),
        ("GETEX", "k", "EX", "0"), ("GETEX", "k", "EX", "-3"), ("GETEX", "k", "EX", "x"),
        ("GETEX", "k", "PX", LLONG_MAX), ("GETEX", "k", "EX", LLONG_MAX),
        ("GETEX", "missing", "EX", "abc"), ("GETEX", "missing", "EX", "0"),
        ("GETEX", "missing", "bogus"),
        ("GETEX", "k", "EXAT", "1"), ("GET", "k"), ("GETEX", "k"),
        ("SET", "k", "v"), ("GETEX", "k", "PXAT", "1"), ("GET", "k"),
    ])


def test_mget_mset_msetnx(compat):
    compat.script([
        ("MGET", "a", "b"), ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c", "a"),
        ("MSET", "a", "1", "b"), ("MSET", "a"), ("MSETNX", "a", "1", "b"),
        ("MSETNX", "c", "3", "a", "9"), ("MGET", "a", "c"), ("MSETNX", "c", "3", "d", "4"),
        ("MGET", "a", "b", "c", "d"), ("MSETNX", "x", "1", "x", "2"), ("GET", "x"),
        ("MSET", "x", "1", "x", "2"), ("GET", "x"),
    ])


def test_append_strlen(compat):
    compat.script([
        ("APPEND", "k", "hello"), ("APPEND", "k", " world"), ("GET", "k"), ("STRLEN", "k"),
        ("APPEND", "k", ""), ("APPEND", "empty", ""), ("STRLEN", "empty"), ("GET", "empty"),
        ("SET", "n", "12"), ("APPEND", "n", "34"), ("INCR", "n"), ("GET", "n"),
        ("APPEND", "n", "x"), ("INCR", "n"),
    ])
    for i in range(200):
        compat.check("APPEND", "big", "chunk%d" % i)
    compat.check("GET", "big")
    compat.check("STRLEN", "big")


def test_getrange_substr(compat):
    compat.check("GETRANGE", "missing", "0", "-1")
    compat.check("SET", "k", "Hello World")
    ranges = [(0, -1), (0, 0), (0, 4), (-5, -1), (-1, -5), (5, 3), (-100, -50), (-100, 100),
              (0, 100), (100, 200), (-1, -1), (3, -3), (-3, 3), (10, 10), (11, 11),
              (-11, -11), (-12, 0), (LLONG_MIN, LLONG_MAX), (LLONG_MAX, LLONG_MAX),
              (LLONG_MIN, LLONG_MIN), (0, LLONG_MIN)]
    for start, end in ranges:
        compat.check("GETRANGE", "k", str(start), str(end))
        compat.check("SUBSTR", "k", str(start), str(end))
    compat.script([
        ("GETRANGE", "k", "a", "1"), ("GETRANGE", "k", "0", "b"), ("GETRANGE", "k", "0"),
        ("GETRANGE", "missing", "a", "b"), ("SET", "e", ""), ("GETRANGE", "e", "0", "-1"),
        ("GETRANGE", "e", "-1", "0"), ("SET", "i", "1234"), ("GETRANGE", "i", "1", "2"),
    ])


def test_setrange(compat):
    compat.script([
        ("SETRANGE", "k", "0", ""), ("STRLEN", "k"), ("SETRANGE", "k", "5", ""), ("STRLEN", "k"),
        ("SETRANGE", "k", "5", "hi"), ("GET", "k"), ("SETRANGE", "k", "0", "HELLO WORLD"),
        ("GET", "k"), ("SETRANGE", "k", "3", ""), ("SETRANGE", "k", "-1", "x"),
        ("SETRANGE", "k", "x", "x"), ("SETRANGE", "k", "100", ""), ("STRLEN", "k"),
        ("SETRANGE", "k", LLONG_MAX, "x"), ("SETRANGE", "k", str(512 * 1024 * 1024), "x"),
        ("SETRANGE", "k", str(512 * 1024 * 1024 - 1), "xy"),
        ("SETRANGE", "new", LLONG_MAX, "x"), ("SETRANGE", "new", str(2 ** 62), "x"),
        ("STRLEN", "new"), ("SETRANGE", "k", "-1", ""), ("SET", "n", "1234"),
        ("SETRANGE", "n", "1", "x"), ("GET", "n"), ("SETRANGE", "n", "6", "y"), ("GET", "n"),
    ])


def test_incr_family(compat):
    compat.script([
        ("INCR", "n"), ("INCRBY", "n", "10"), ("DECR", "n"), ("DECRBY", "n", "20"), ("GET", "n"),
        ("INCRBY", "n", "x"), ("INCRBY", "n", "1.5"), ("INCRBY", "n", " 1"), ("INCRBY", "n", "+1"),
        ("INCRBY", "n", "01"), ("INCRBY", "n", "-0"), ("INCRBY", "n", ""),
        ("SET", "n", LLONG_MAX), ("INCR", "n"), ("INCRBY", "n", "0"), ("DECR", "n"),
        ("SET", "n", LLONG_MIN), ("DECR", "n"), ("INCR", "n"), ("DECRBY", "n", LLONG_MIN),
        ("SET", "m", "0"), ("DECRBY", "m", LLONG_MIN), ("INCRBY", "m", LLONG_MIN),
        ("INCRBY", "m", LLONG_MIN), ("INCRBY", "m", str(2 ** 63)), ("DECRBY", "m", LLONG_MAX),
        ("SET", "s", "abc"), ("INCR", "s"), ("SET", "s", " 1"), ("INCR", "s"),
        ("SET", "s", "1 "), ("INCR", "s"), ("SET", "s", "007"), ("INCR", "s"),
        ("SET", "s", ""), ("INCR", "s"), ("SET", "s", "-0"), ("INCR", "s"),
        ("SET", "s", "99999999999999999999"), ("INCR", "s"), ("SET", "s", "1.0"), ("INCR", "s"),
        ("SET", "s", "-5"), ("INCR", "s"), ("GET", "s"),
    ])


def test_incrbyfloat_edges(compat):
    compat.script([
        ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "0.2"), ("INCRBYFLOAT", "f", "-0.3"),
        ("INCRBYFLOAT", "f", "1e3"), ("INCRBYFLOAT", "f", "1E-3"), ("INCRBYFLOAT", "f", ".5"),
        ("INCRBYFLOAT", "f", "5."), ("INCRBYFLOAT", "f", "+2"), ("INCRBYFLOAT", "f", "0x10"),
        ("INCRBYFLOAT", "f", "0x1.8p1"), ("INCRBYFLOAT", "f", "-0x.1P-2"),
        ("INCRBYFLOAT", "f", "abc"), ("INCRBYFLOAT", "f", ""), ("INCRBYFLOAT", "f", " 1"),
        ("INCRBYFLOAT", "f", "1 "), ("INCRBYFLOAT", "f", "1e"), ("INCRBYFLOAT", "f", "."),
        ("INCRBYFLOAT", "f", "nan"), ("INCRBYFLOAT", "f", "-nan"), ("INCRBYFLOAT", "f", "inf"),
        ("INCRBYFLOAT", "f", "-Infinity"), ("INCRBYFLOAT", "f", "1_0"), ("INCRBYFLOAT", "f", "0x"),
        ("INCRBYFLOAT", "f", "1e5000"), ("INCRBYFLOAT", "f", "1e-5000"),
        ("INCRBYFLOAT", "f", "0e-5000"),
        ("INCRBYFLOAT", "f", "4e-4951"), ("INCRBYFLOAT", "f", "1" * 6000),
        ("GET", "f"), ("SET", "f", "1e4932"), ("INCRBYFLOAT", "f", "1e4932"),
        ("INCRBYFLOAT", "f", "1.1e4932"), ("INCRBYFLOAT", "f", "-1e4932"), ("GET", "f"),
        ("SET", "f", "inf"), ("INCRBYFLOAT", "f", "1"), ("SET", "f", "abc"),
        ("INCRBYFLOAT", "f", "1"), ("SET", "f", ""), ("INCRBYFLOAT", "f", "1"),
        ("SET", "f", "10"), ("INCRBYFLOAT", "f", "1.5"), ("SET", "f", LLONG_MAX),
        ("INCRBYFLOAT", "f", "1"), ("INCRBYFLOAT", "f", "0.000001"),
        ("SET", "f", "1.5e300"), ("INCRBYFLOAT", "f", "0"), ("SET", "f", "-0.0"),
        ("INCRBYFLOAT", "f", "0"), ("INCRBYFLOAT", "g", "-0.000000000000000001"),
        ("INCRBYFLOAT", "g", "0.000003814697265625"), ("INCRBYFLOAT", "h", "0.000011444091796875"),
        ("INCRBYFLOAT", "h", "3.0e3"), ("INCRBYFLOAT", "h", "1.23456789012345678901234567890"),
    ])


_DECIMALS = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{'.' + frac if frac else ''}{exp}",
    st.sampled_from(["", "-", "+"]), st.integers(0, 10 ** 6).map(str),
    st.text("0123456789", max_size=12),
    st.sampled_from(["", "", "", "e3", "e-5", "E+2", "e-20", "e17", "e300", "e-300", "e4000"]))


@FAST
@given(st.lists(_DECIMALS, min_size=1, max_size=12))
def test_incrbyfloat_digits_match_redis(compat, increments):
    compat.check("DEL", "f")
    for increment in increments:
        compat.check("INCRBYFLOAT", "f", increment)


def test_incrbyfloat_many_small_steps(compat):
    rng = random.Random(7)
    for _ in range(300):
        step = "%s0.%0*d" % (rng.choice(["", "-"]), rng.randint(1, 6), rng.randint(1, 99999))
        compat.check("INCRBYFLOAT", "acc", step)


def _random_text(rng, alphabet, size):
    return "".join(rng.choice(alphabet) for _ in range(size))


def test_lcs_options_and_errors(compat):
    compat.script([
        ("MSET", "key1", "ohmytext", "key2", "mynewtext"),
        ("LCS", "key1", "key2"), ("LCS", "key1", "key2", "LEN"), ("LCS", "key1", "key2", "IDX"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"),
        ("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"), ("LCS", "key1", "key2", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "MINMATCHLEN", "-5", "IDX"), ("LCS", "key1", "key2", "LEN", "IDX"),
        ("LCS", "key1", "key2", "MINMATCHLEN"), ("LCS", "key1", "key2", "MINMATCHLEN", "x"),
        ("LCS", "key1", "key2", "bogus"), ("LCS", "key1", "missing"),
        ("LCS", "missing", "key1", "IDX"),
        ("LCS", "missing", "other", "LEN"), ("LCS", "key1"), ("LCS", "key1", "key1", "IDX"),
        ("SET", "e", ""), ("LCS", "e", "key1", "IDX", "WITHMATCHLEN"),
        ("LCS", "key1", "key2", "len", "minmatchlen", "2"),
    ])


def test_lcs_random_strings_match_redis(compat):
    rng = random.Random(11)
    for _ in range(60):
        alphabet = rng.choice(["ab", "abc", "ACGT", string.ascii_lowercase])
        a = _random_text(rng, alphabet, rng.randint(0, 40))
        b = _random_text(rng, alphabet, rng.randint(0, 40))
        compat.check("MSET", "a", a, "b", b)
        compat.check("LCS", "a", "b")
        compat.check("LCS", "a", "b", "LEN")
        compat.check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
        compat.check("LCS", "a", "b", "IDX", "MINMATCHLEN", str(rng.randint(0, 4)))


def test_lcs_transient_memory_limit(small_compat):
    small_compat.script([
        ("MSET", "a", "x" * 600, "b", "y" * 600), ("LCS", "a", "b", "LEN"),
        ("MSET", "a", "x" * 400, "b", "y" * 400), ("LCS", "a", "b", "LEN"),
    ])


def test_string_size_limit(small_compat):
    small_compat.script([
        ("SETRANGE", "k", str(1024 * 1024 - 1), "x"), ("STRLEN", "k"),
        ("SETRANGE", "k", str(1024 * 1024), "x"), ("SETRANGE", "k", str(1024 * 1024 - 1), "xy"),
        ("SETRANGE", "k", str(1024 * 1024), ""), ("SETRANGE", "new", str(1024 * 1024), "x"),
        ("GET", "new"), ("APPEND", "k", "y"), ("STRLEN", "k"), ("SET", "j", "x" * 1000),
        ("APPEND", "j", "y" * (1024 * 1024 - 1000)), ("APPEND", "j", ""),
        ("APPEND", "j", "z"), ("STRLEN", "j"),
    ])

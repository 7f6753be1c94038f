"""ListValue without sockets: the operations against a plain Python list (Hypothesis),
listpack sizes of elements, and Redis 7.2's listpack/quicklist conversions for size- and
count-limited nodes, including the size bookkeeping that stops for long lists and
resumes when they get short."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.storage.types.list import ListValue, _sizes, entry_size, exceeds, node_limits


def test_entry_sizes_follow_the_listpack_encodings():
    # Integers (canonical int64 spellings only): 1, 2, 3, 4, 5 or 9 bytes, + 1 back-length.
    for text, size in ((b"0", 2), (b"127", 2), (b"128", 3), (b"-1", 3), (b"-4096", 3),
                       (b"4095", 3), (b"4096", 4), (b"-32768", 4), (b"32768", 5),
                       (b"8388607", 5), (b"8388608", 6), (b"2147483647", 6),
                       (b"-2147483649", 10), (b"9223372036854775807", 10)):
        assert entry_size(text) == size, text
    # Not integers to a listpack: stored as strings.
    for text in (b"01", b"-0", b"+1", b" 1", b"9223372036854775808", b"1.0"):
        assert entry_size(text) == 1 + len(text) + 1, text
    assert entry_size(b"") == 2
    assert entry_size(b"x" * 63) == 1 + 63 + 1
    assert entry_size(b"x" * 64) == 2 + 64 + 1            # 12-bit length header
    assert entry_size(b"x" * 126) == 2 + 126 + 2          # back-length needs 2 bytes
    assert entry_size(b"x" * 4095) == 2 + 4095 + 2
    assert entry_size(b"x" * 4096) == 5 + 4096 + 2        # 32-bit length header
    assert entry_size(b"x" * 20000) == 5 + 20000 + 3


def test_node_limits():
    assert node_limits(-1) == (4096, None) and node_limits(-2) == (8192, None)
    assert node_limits(-5) == (65536, None) and node_limits(-100) == (65536, None)
    assert node_limits(0) == (None, 1) and node_limits(128) == (None, 128)
    assert not exceeds(-2, 8192, 10**6) and exceeds(-2, 8193, 1)
    assert exceeds(10, 8193, 1) and exceeds(10, 100, 11) and not exceeds(10, 8192, 10)


def test_ends_ranges_and_indexes():
    value = ListValue()
    assert value.push([b"b", b"a"], True) == 2            # LPUSH b a -> a b
    assert value.push([b"c", b"d"], False) == 4
    assert list(value) == [b"a", b"b", b"c", b"d"] and len(value) == 4
    assert value.range(0, -1) == [b"a", b"b", b"c", b"d"]
    assert value.range(-2, 100) == [b"c", b"d"] and value.range(3, 1) == []
    assert value.range(-100, 0) == [b"a"] and value.range(4, 10) == []
    assert value.index(0) == b"a" and value.index(-1) == b"d" and value.index(4) is None
    assert value.index(-5) is None
    assert value.pop(True) == b"a" and value.pop(False) == b"d"
    assert value.pop_many(5, False) == [b"c", b"b"] and len(value) == 0


def test_long_ranges_read_from_the_nearer_end():
    value = ListValue([b"%d" % i for i in range(100_000)])
    assert value.range(-3, -1) == [b"99997", b"99998", b"99999"]
    assert value.range(99_990, 99_991) == [b"99990", b"99991"]
    assert value.range(5, 6) == [b"5", b"6"]
    assert value.range(49_999, 50_001) == [b"49999", b"50000", b"50001"]


def test_set_insert_remove_trim_positions():
    value = ListValue([b"a", b"b", b"a", b"c", b"a"])
    assert value.set(1, b"B") and value.set(-1, b"A") and not value.set(5, b"x")
    assert list(value) == [b"a", b"B", b"a", b"c", b"A"]
    assert value.insert(b"a", b"<", True) == 6 and value.insert(b"c", b">", False) == 7
    assert value.insert(b"nope", b"x", True) == -1
    assert list(value) == [b"<", b"a", b"B", b"a", b"c", b">", b"A"]
    assert value.positions(b"a", 1, None, 0) == [1]
    assert value.positions(b"a", -1, 0, 0) == [3, 1]
    assert value.positions(b"a", 2, 0, 0) == [3]
    assert value.positions(b"a", 1, 0, 2) == [1] and value.positions(b"a", 1, 0, 1) == []
    assert value.remove(-1, b"a") == 1 and list(value) == [b"<", b"a", b"B", b"c", b">", b"A"]
    assert value.remove(0, b"zz") == 0
    assert value.trim(1, -2) == 2 and list(value) == [b"a", b"B", b"c", b">"]
    assert value.trim(3, 1) == 4 and len(value) == 0


def test_copy_is_independent():
    value = ListValue([b"a"])
    dup = value.copy()
    dup.push([b"b"], False)
    assert list(value) == [b"a"] and list(dup) == [b"a", b"b"]
    assert dup.encoding == value.encoding == "listpack" and dup.type_name == "list"


def test_size_limited_conversions():
    value = ListValue()
    value.push([b"x" * 8185], False)              # 7 + 8185 = 8192: still one listpack
    assert value.encoding == "listpack"
    value.push([b""], False)                      # one more byte: too big
    assert value.encoding == "quicklist"
    value.pop(False)
    value.try_shrink(-2)
    assert value.encoding == "quicklist"          # 8196 bytes: not half a node
    value.set(0, b"y" * 100)
    value.try_shrink(-2)
    assert value.encoding == "listpack"
    assert ListValue([b"x" * 9000]).encoding == "quicklist"
    assert ListValue([b"x" * 9000], fill=-3).encoding == "listpack"    # 16 KB nodes


def test_the_growth_check_counts_raw_lengths_even_when_nothing_is_added():
    value = ListValue([b"a"])
    assert value.insert(b"missing", b"x" * 9000, True) == -1
    assert value.encoding == "quicklist" and list(value) == [b"a"]
    other = ListValue([b"a"])
    assert not other.set(5, b"x" * 9000)
    assert other.encoding == "quicklist"


def test_count_limited_conversions():
    value = ListValue()
    value.push([b"1", b"2", b"3", b"4"], False, fill=4)
    assert value.encoding == "listpack"
    value.push([b"5"], True, fill=4)
    assert value.encoding == "quicklist"
    value.pop_many(2, False)
    value.try_shrink(4)
    assert value.encoding == "quicklist"          # 3 > 4 // 2
    value.pop(False)
    value.try_shrink(4)
    assert value.encoding == "listpack"
    assert ListValue([b"1"], fill=0).encoding == "listpack"
    assert ListValue([b"1", b"2"], fill=0).encoding == "quicklist"
    assert ListValue([b"x" * 9000], fill=100).encoding == "quicklist"   # size safety limit


def test_size_is_dropped_for_long_quicklists_and_recomputed_when_short():
    value = ListValue()
    value.push([b"v%d" % i for i in range(10_000)], False)
    assert value.encoding == "quicklist" and value.size is None
    value.pop_many(9_990, True)
    value.try_shrink(-2)
    assert value.encoding == "listpack" and value.size == _sizes(value.items)


OPS = st.lists(st.tuples(
    st.sampled_from(["lpush", "rpush", "lpop", "rpop", "popn", "set", "insert", "remove",
                     "trim", "shrink"]),
    st.integers(-8, 8), st.sampled_from([b"a", b"b", b"1", b"-7", b"x" * 70, b"y" * 3000])),
    max_size=60)


@settings(max_examples=200, deadline=None)
@given(ops=OPS, fill=st.sampled_from([-2, -1, 3, 0]))
def test_operations_match_a_python_list_and_sizes_stay_exact(ops, fill):
    value, model = ListValue(fill=fill), []
    for op, n, element in ops:
        if op in ("lpush", "rpush"):
            value.push([element] * (abs(n) % 3 + 1), op == "lpush", fill)
            for _ in range(abs(n) % 3 + 1):
                if op == "lpush":
                    model.insert(0, element)
                else:
                    model.append(element)
        elif not model:
            continue
        elif op == "lpop":
            assert value.pop(True) == model.pop(0)
        elif op == "rpop":
            assert value.pop(False) == model.pop()
        elif op == "popn":
            k = abs(n)
            expected = model[:k] if n >= 0 else model[::-1][:k]
            model = model[k:] if n >= 0 else model[:max(len(model) - k, 0)]
            assert value.pop_many(k, n >= 0) == expected
        elif op == "set":
            ok = -len(model) <= n < len(model)
            assert value.set(n, element, fill) == ok
            if ok:
                model[n] = element
        elif op == "insert":
            if element in model:
                at = model.index(element)
                model.insert(at if n >= 0 else at + 1, b"new")
                assert value.insert(element, b"new", n >= 0, fill) == len(model)
            else:
                assert value.insert(element, b"new", n >= 0, fill) == -1
        elif op == "remove":
            limit = abs(n) or len(model)
            indexes = [i for i, e in enumerate(model) if e == element]
            doomed = set(indexes[:limit] if n >= 0 else indexes[::-1][:limit])
            model = [e for i, e in enumerate(model) if i not in doomed]
            assert value.remove(n, element) == len(doomed)
        elif op == "trim":
            start, end = n, n // 2 - 1
            expected = value.range(start, end)
            value.trim(start, end)
            model = expected
        else:
            value.try_shrink(fill)
        assert list(value) == model
        if not value.quick or value.size is not None:
            assert value.size == _sizes(value.items)
        if not value.quick:
            assert value.size is not None

"""Stream commands compared with a real redis-server, byte for byte.

Entries use explicit IDs so that both servers hold the same data; ``*`` IDs (from each
server's clock) are compared through what does not depend on the clock. Approximate
trimming depends on Redis's listpack nodes (stream-node-max-entries), which ember
models, so ``~`` results are compared exactly too. Cases where Redis 7.2 (or 7.4, for
XREAD's ``+``) differs from the 7.0 reference assert ember's answer explicitly.
"""

LLONG_MAX = "9223372036854775807"
U64_MAX = "18446744073709551615"


def redis_version(compat) -> tuple:
    info = compat.redis.call("INFO", "server").decode()
    line = next(x for x in info.splitlines() if x.startswith("redis_version:"))
    return tuple(int(p) for p in line.split(":", 1)[1].split("."))


def fill(compat, key: str, n: int, start: int = 1) -> None:
    for i in range(start, start + n):
        compat.check("XADD", key, f"{i}-1", "f", str(i))


# ---- XADD ---------------------------------------------------------------------------------

def test_xadd_ids_and_errors(compat):
    compat.script([
        ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "1-1", "a", "1"),
        ("XADD", "s", "1", "a", "1"), ("XADD", "s", "1-2", "a", "1", "b", "2"),
        ("XADD", "s", "1-*", "c", "3"), ("XADD", "s", "5-*", "c", "3"),
        ("XADD", "s", "4-*", "c", "3"), ("XADD", "s", "7", "x", "y"),
        ("XADD", "t", "0-0", "a", "1"), ("XADD", "t", "0", "a", "1"),
        ("XADD", "t", "0-*", "a", "1"), ("XADD", "t", "0-*", "a", "1"),
        ("XADD", "t", "-", "a", "1"), ("XADD", "t", "+", "a", "1"),
        ("XADD", "t", "x", "a", "1"), ("XADD", "t", "1-x", "a", "1"),
        ("XADD", "t", "1-2-3", "a", "1"), ("XADD", "t", "-1", "a", "1"),
        ("XADD", "t", "1-", "a", "1"), ("XADD", "t", "", "a", "1"),
        ("XADD", "t", U64_MAX + "0", "a", "1"), ("XADD", "t", "*-1", "a", "1"),
        ("XADD", "t", "01-01", "a", "1"), ("XADD", "t", "+2-0", "a", "1"),
        ("XADD", "t", " 3-0", "a", "1"), ("XADD", "t", "a" * 130, "a", "1"),
        ("XADD", "s", "9-1", "a"), ("XADD", "s", "9-1", "a", "1", "b"),
        ("XADD", "s", "9-1"), ("XADD", "s", "*", "a"),
        ("XADD", "s", "nomkstream", "9-1", "a"),
        ("XRANGE", "s", "-", "+"), ("XRANGE", "t", "-", "+"),
        ("XLEN", "s"), ("XLEN", "t"), ("XLEN", "nokey"),
        ("SET", "str", "v"), ("XADD", "str", "1-1", "a", "1"), ("XLEN", "str"),
        ("XADD", "n", "NOMKSTREAM", "1-1", "a", "1"), ("EXISTS", "n"),
        ("XADD", "s", "NOMKSTREAM", "10-1", "a", "1"),
        ("XADD", "u", U64_MAX + "-" + U64_MAX, "a", "1"),
        ("XADD", "u", "*", "a", "1"), ("XADD", "u", U64_MAX + "-*", "a", "1"),
        ("XADD", "v", U64_MAX + "-*", "a", "1"), ("XADD", "v", U64_MAX + "-*", "a", "1"),
        ("XADD", "w", "5-" + U64_MAX, "a", "1"), ("XADD", "w", "5-1", "a", "1"),
        ("TYPE", "s"), ("OBJECT", "ENCODING", "s"),
    ])
    # ms-* when the top item's sequence is exhausted: Redis 7.2 sets errno to EDOM (the
    # "equal or smaller" error); 7.0 left it unset and said "Elements are too large".
    compat.check("XADD", "x", "5-" + U64_MAX, "a", "1")
    args = ("XADD", "x", "5-*", "a", "1")
    if redis_version(compat) >= (7, 2):
        compat.check(*args)
    else:
        assert compat.ember.call_raw(*args) == (
            b"-ERR The ID specified in XADD is equal or smaller than the target stream "
            b"top item\r\n")


def test_xadd_star_uses_the_clock(compat):
    ours = compat.ember.call("XADD", "s", "*", "a", "1")
    theirs = compat.redis.call("XADD", "s", "*", "a", "1")
    assert ours.endswith(b"-0") and theirs.endswith(b"-0")
    ms = int(ours.split(b"-")[0])
    assert abs(ms - int(theirs.split(b"-")[0])) < 60_000
    compat.check("XADD", "s", "1-1", "a", "1")       # smaller than the top item
    compat.check("XLEN", "s")
    # A far-future top item: * increments its sequence.
    compat.script([("XADD", "f", "99999999999999-5", "a", "1"), ("XADD", "f", "*", "b", "2"),
                   ("XRANGE", "f", "-", "+")])


def test_xadd_trimming_options(compat):
    compat.script([
        ("XADD", "s", "MAXLEN", "2", "1-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "2", "2-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "=", "2", "3-1", "a", "1"), ("XRANGE", "s", "-", "+"),
        ("XADD", "s", "MINID", "3", "4-1", "a", "1"), ("XRANGE", "s", "-", "+"),
        ("XADD", "s", "minid", "=", "5", "5-1", "a", "1"), ("XRANGE", "s", "-", "+"),
        ("XADD", "s", "MAXLEN", "-1", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "x", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", LLONG_MAX + "0", "6-1", "a", "1"),
        ("XADD", "s", "MINID", "-", "6-1", "a", "1"),
        ("XADD", "s", "MINID", "+", "6-1", "a", "1"),
        ("XADD", "s", "MINID", "x", "6-1", "a", "1"),
        ("XADD", "s", "LIMIT", "10", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "1", "LIMIT", "10", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "x", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "10", "6-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "0", "7-1", "a", "1"), ("XLEN", "s"),
        ("XADD", "s", "MAXLEN", "0", "8-1", "a", "1"), ("XLEN", "s"),
        ("XADD", "s", "MAXLEN"), ("XADD", "s", "MAXLEN", "1"),
        ("XADD", "s", "MAXLEN", "~"), ("XADD", "s", "MAXLEN", "~", "1"),
        ("XADD", "s", "MAXLEN", "1", "MINID", "0", "9-1", "a", "1"), ("XLEN", "s"),
        ("XADD", "s", "MINID", "20", "MAXLEN", "5", "10-1", "a", "1"), ("XLEN", "s"),
        ("XADD", "s", "NOMKSTREAM", "MAXLEN", "0", "11-1", "a", "1"), ("XLEN", "s"),
        ("XINFO", "HELP") if False else ("XLEN", "s"),
    ])


def test_approximate_trimming_drops_whole_nodes(compat):
    fill(compat, "s", 350)
    compat.script([
        ("XADD", "s", "MAXLEN", "~", "120", "400-1", "a", "1"), ("XLEN", "s"),
        ("XRANGE", "s", "-", "+", "COUNT", "2"),
        ("XTRIM", "s", "MAXLEN", "~", "100"), ("XLEN", "s"),
        ("XTRIM", "s", "MINID", "~", "330"), ("XLEN", "s"),
        ("XTRIM", "s", "MINID", "~", "360"), ("XLEN", "s"),
        ("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "1"), ("XLEN", "s"),
        ("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "100"), ("XLEN", "s"),
        ("XRANGE", "s", "-", "+", "COUNT", "1"),
    ])
    # Smaller nodes, and tombstones left by XDEL inside them.
    for client in (compat.ember, compat.redis):
        client.call("CONFIG", "SET", "stream-node-max-entries", "5")
    try:
        fill(compat, "n", 40)
        compat.script([
            ("XDEL", "n", "1-1", "2-1", "3-1", "4-1", "5-1", "7-1"),
            ("XTRIM", "n", "MAXLEN", "~", "30"), ("XLEN", "n"),
            ("XTRIM", "n", "MINID", "~", "14-1"), ("XRANGE", "n", "-", "(14-1"),
            ("XTRIM", "n", "MINID", "~", "17"), ("XLEN", "n"),
            ("XTRIM", "n", "MAXLEN", "=", "20"), ("XLEN", "n"),
            ("XTRIM", "n", "MAXLEN", "~", "13"), ("XLEN", "n"),
            ("XTRIM", "n", "MINID", "30-1"), ("XLEN", "n"),
            ("XTRIM", "n", "MAXLEN", "~", "2", "LIMIT", "6"), ("XLEN", "n"),
            ("XTRIM", "n", "MAXLEN", "~", "2", "LIMIT", "5"), ("XLEN", "n"),
            ("XTRIM", "n", "MAXLEN", "~", "2", "LIMIT", "0"), ("XLEN", "n"),
            ("XRANGE", "n", "-", "+"),
        ])
    finally:
        for client in (compat.ember, compat.redis):
            client.call("CONFIG", "SET", "stream-node-max-entries", "100")


def test_xtrim(compat):
    fill(compat, "s", 10)
    compat.script([
        ("XTRIM", "s", "MAXLEN", "8"), ("XLEN", "s"), ("XTRIM", "s", "MAXLEN", "8"),
        ("XTRIM", "s", "MINID", "4"), ("XRANGE", "s", "-", "+", "COUNT", "1"),
        ("XTRIM", "s", "MINID", "4-2"), ("XTRIM", "s", "MAXLEN", "=", "3"),
        ("XTRIM", "s", "minid", "=", "0"), ("XRANGE", "s", "-", "+"),
        ("XTRIM", "nokey", "MAXLEN", "1"), ("XTRIM", "nokey", "garbage", "x"),
        ("XTRIM", "s", "garbage", "x"), ("XTRIM", "s", "MAXLEN"),
        ("XTRIM", "s", "MAXLEN", "-1"), ("XTRIM", "s", "MAXLEN", "x"),
        ("XTRIM", "s", "LIMIT", "1", "x"), ("XTRIM", "s", "LIMIT", "1", "MAXLEN", "1"),
        ("XTRIM", "s", "MAXLEN", "1", "LIMIT", "1"),
        ("XTRIM", "s", "MAXLEN", "1", "NOMKSTREAM"), ("XTRIM", "s", "MAXLEN", "1", "*"),
        ("XTRIM", "s", "MINID", "-"), ("XTRIM", "s", "MINID", "1-x"),
        ("XTRIM", "s", "MAXLEN", "0"), ("XLEN", "s"), ("EXISTS", "s"),
        ("SET", "str", "v"), ("XTRIM", "str", "MAXLEN", "1"),
    ])


# ---- XRANGE / XREVRANGE -------------------------------------------------------------------

def test_xrange_and_xrevrange(compat):
    for i in range(1, 6):
        for seq in range(3):
            compat.check("XADD", "s", f"{i}-{seq}", "f", f"{i}.{seq}", "g", "x")
    cases = [
        ("-", "+"), ("2", "3"), ("2-1", "3-1"), ("(2-1", "(3-1"), ("(2", "+"),
        ("-", "(3"), ("3", "2"), ("5-2", "+"), ("(5-2", "+"), ("-", "(1-0"),
        ("(0", "+"), ("0", "0"), ("1", "1"), ("(" + U64_MAX + "-" + U64_MAX, "+"),
        ("-", "(0-0"), ("(-", "+"), ("-", "(+"), ("(", "+"), ("x", "+"), ("-", "y"),
        ("+", "-"), (U64_MAX, "+"), ("(1-" + U64_MAX, "+"),
    ]
    for start, end in cases:
        compat.check("XRANGE", "s", start, end)
        compat.check("XREVRANGE", "s", end, start)
    compat.script([
        ("XRANGE", "s", "-", "+", "COUNT", "2"), ("XREVRANGE", "s", "+", "-", "COUNT", "2"),
        ("XRANGE", "s", "-", "+", "COUNT", "0"), ("XRANGE", "s", "-", "+", "COUNT", "-5"),
        ("XRANGE", "s", "-", "+", "count", LLONG_MAX),
        ("XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "3"),
        ("XRANGE", "s", "-", "+", "COUNT"), ("XRANGE", "s", "-", "+", "COUNT", "x"),
        ("XRANGE", "s", "-", "+", "LIMIT", "1"), ("XRANGE", "s", "-", "+", "COUNT", "1", "x"),
        ("XRANGE", "nokey", "-", "+"), ("XRANGE", "nokey", "-", "+", "COUNT", "0"),
        ("XRANGE", "nokey", "x", "+"), ("XREVRANGE", "nokey", "+", "-"),
        ("SET", "str", "v"), ("XRANGE", "str", "-", "+"), ("XRANGE", "str", "x", "+"),
        ("XREVRANGE", "str", "+", "-"),
    ])


# ---- XDEL / XSETID ------------------------------------------------------------------------

def test_xdel(compat):
    fill(compat, "s", 5)
    compat.script([
        ("XDEL", "s", "2-1", "2-1", "9-1"), ("XLEN", "s"), ("XRANGE", "s", "-", "+"),
        ("XDEL", "s", "3-1", "x"), ("XLEN", "s"), ("XDEL", "s", "-"), ("XDEL", "s", "+"),
        ("XDEL", "s", "3"), ("XDEL", "s", "1-1"), ("XRANGE", "s", "-", "+", "COUNT", "1"),
        ("XDEL", "nokey", "x"), ("XDEL", "s", "4-1", "5-1"), ("XLEN", "s"),
        ("EXISTS", "s"), ("XRANGE", "s", "-", "+"),
        ("XADD", "s", "5-1", "a", "1"), ("XADD", "s", "6-1", "a", "1"),
        ("SET", "str", "v"), ("XDEL", "str", "1-1"),
    ])


def test_xsetid(compat):
    fill(compat, "s", 3)
    compat.script([
        ("XSETID", "s", "2-1"), ("XSETID", "s", "3-1"), ("XADD", "s", "3-1", "a", "1"),
        ("XSETID", "s", "10-0"), ("XADD", "s", "10-0", "a", "1"),
        ("XADD", "s", "10-*", "a", "1"), ("XDEL", "s", "10-1"),
        ("XSETID", "s", "10-0"), ("XSETID", "s", "10-1"),
        ("XSETID", "s", "20-0", "ENTRIESADDED", "2"),
        ("XSETID", "s", "20-0", "ENTRIESADDED", "-1"),
        ("XSETID", "s", "20-0", "ENTRIESADDED", "x"),
        ("XSETID", "s", "20-0", "ENTRIESADDED", "100", "MAXDELETEDID", "15-0"),
        ("XSETID", "s", "20-0", "MAXDELETEDID", "21-0"),
        ("XSETID", "s", "20-0", "MAXDELETEDID", "x"),
        ("XSETID", "s", "20-0", "MAXDELETEDID"), ("XSETID", "s", "20-0", "FOO", "1"),
        ("XSETID", "s", "x"), ("XSETID", "s", "-"), ("XSETID", "s", "+"),
        ("XSETID", "nokey", "1-1"), ("XSETID", "nokey", "x"),
        ("XADD", "s", "20-0", "a", "1"), ("XADD", "s", "20-*", "a", "1"),
        ("SET", "str", "v"), ("XSETID", "str", "1-1"),
        ("XADD", "e", "5-0", "a", "1"), ("XDEL", "e", "5-0"), ("XSETID", "e", "1-0"),
        ("XSETID", "e", "5-0", "ENTRIESADDED", "0"), ("XADD", "e", "5-*", "a", "1"),
    ])


# ---- XREAD (non-blocking) -----------------------------------------------------------------

def test_xread(compat):
    fill(compat, "a", 4)
    fill(compat, "b", 2, start=3)
    compat.script([
        ("XREAD", "STREAMS", "a", "0"), ("XREAD", "STREAMS", "a", "b", "2", "2-1"),
        ("XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"),
        ("XREAD", "COUNT", "0", "STREAMS", "a", "0"),
        ("XREAD", "COUNT", "-1", "STREAMS", "a", "0"),
        ("XREAD", "STREAMS", "a", "$"), ("XREAD", "STREAMS", "a", "4-1"),
        ("XREAD", "STREAMS", "nokey", "a", "0", "3"), ("XREAD", "STREAMS", "nokey", "0"),
        ("XREAD", "STREAMS", "a", "x"), ("XREAD", "STREAMS", "a", "-"),
        ("XREAD", "STREAMS", "a", ">"),
        ("XREAD", "COUNT", "x", "STREAMS", "a", "0"), ("XREAD", "FOO", "STREAMS", "a", "0"),
        ("XREAD", "COUNT", "1", "a", "0"), ("XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"),
        ("XREAD", "NOACK", "STREAMS", "a", "0"), ("XREAD", "BLOCK", "x", "STREAMS", "a", "0"),
        ("XREAD", "BLOCK", "-1", "STREAMS", "a", "0"),
        ("XREAD", "BLOCK", "10", "STREAMS", "a", "0"),
        ("XREAD", "streams", "a", "streams", "0", "0"),
        ("SET", "str", "v"), ("XREAD", "STREAMS", "str", "0"),
        ("XREAD", "STREAMS", "a", "str", "0", "0"),
        ("MULTI",), ("XREAD", "BLOCK", "0", "STREAMS", "a", "$"), ("EXEC",),
    ])


def test_xread_unbalanced_and_plus(compat):
    fill(compat, "a", 3)
    args = ("XREAD", "STREAMS", "a", "b", "0")
    if redis_version(compat) >= (7, 2):
        compat.check(*args)
    else:   # 7.2 names the command and the special ID in the error
        assert compat.ember.call_raw(*args) == (
            b"-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' "
            b"must be specified.\r\n")
    if redis_version(compat) >= (7, 4):
        compat.check("XREAD", "STREAMS", "a", "nokey", "+", "+")
    else:   # "+" (the last entry) is new in Redis 7.4
        assert compat.ember.call("XREAD", "STREAMS", "a", "nokey", "+", "+") == [
            [b"a", [[b"3-1", [b"f", b"3"]]]]]


def test_resp3_xread_is_a_map(compat):
    fill(compat, "a", 2)
    fill(compat, "b", 1)
    for client in (compat.ember, compat.redis):
        client.call("HELLO", "3")
    compat.script([("XREAD", "STREAMS", "a", "b", "0", "0"), ("XREAD", "STREAMS", "a", "$"),
                   ("XRANGE", "a", "-", "+"), ("XRANGE", "a", "-", "+", "COUNT", "0")])


def test_copy_and_rename_keep_the_stream(compat):
    fill(compat, "s", 3)
    compat.script([
        ("XDEL", "s", "2-1"), ("COPY", "s", "c"), ("XADD", "c", "9-1", "x", "y"),
        ("XRANGE", "s", "-", "+"), ("XRANGE", "c", "-", "+"), ("RENAME", "c", "d"),
        ("XADD", "d", "9-1", "x", "y"), ("XLEN", "d"), ("TYPE", "d"),
        ("XADD", "s", "2-5", "a", "b"),
    ])

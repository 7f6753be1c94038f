"""Sorted-set commands compared byte for byte with a real redis-server.

Scores are chosen to print the same in Redis 7.0 and 7.2 (integers, halves, quarters,
inf); the cases where 7.2 differs from an older reference (shortest double formatting,
ZRANK WITHSCORE, ZADD's size hint choosing the encoding) assert ember's 7.2 reply
explicitly when the reference is older. Random replies (ZRANDMEMBER) are compared on
their shape and membership; ZSCAN of a big set on the set of members a full iteration
returns.
"""

from tests.rawclient import encode_command

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"


def redis_version(compat) -> tuple:
    info = compat.redis.call("INFO", "server").decode()
    line = next(x for x in info.splitlines() if x.startswith("redis_version:"))
    return tuple(int(p) for p in line.split(":", 1)[1].split("."))


def seven_two(compat, command, expected: bytes) -> None:
    """A command whose reply changed in Redis 7.2: compare with the reference when it is
    7.2 or newer, else check ember's reply against 7.2's bytes."""
    if redis_version(compat) >= (7, 2):
        compat.check(*command)
    else:
        assert compat.ember.call_raw(*command) == expected, command


def both(compat, *command):
    """Run a command on both servers without comparing (setup whose reply differs)."""
    compat.ember.call_raw(*command)
    compat.redis.call_raw(*command)


def test_zadd_options_and_errors(compat):
    compat.script([
        ("ZADD", "z", "1", "a"), ("ZADD", "z", "2", "b", "3", "c", "1", "a"),
        ("ZADD", "z", "NX", "10", "a", "4", "d"), ("ZADD", "z", "XX", "10", "a", "5", "e"),
        ("ZADD", "z", "XX", "CH", "11", "a", "3", "c"), ("ZADD", "z", "CH", "11", "a"),
        ("ZADD", "z", "GT", "CH", "1", "a", "20", "b"), ("ZADD", "z", "LT", "CH", "1", "a"),
        ("ZADD", "z", "GT", "XX", "CH", "100", "c", "7", "new"),
        ("ZADD", "z", "LT", "30", "zz"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZADD", "z", "nx", "xx", "1", "a"), ("ZADD", "z", "GT", "LT", "1", "a"),
        ("ZADD", "z", "GT", "NX", "1", "a"), ("ZADD", "z", "LT", "NX", "1", "a"),
        ("ZADD", "z", "INCR", "1", "a", "2", "b"), ("ZADD", "z", "1"), ("ZADD", "z", "1", "a", "2"),
        ("ZADD", "z", "NX"), ("ZADD", "z", "NX", "XX"), ("ZADD", "z", "x", "a"),
        ("ZADD", "z", "1", "a", "nan", "b"), ("ZADD", "z", "", "a"), ("ZADD", "z", " 1", "a"),
        ("ZADD", "z", "1 ", "a"), ("ZADD", "z", "1e400", "a"), ("ZADD", "z", "1_0", "a"),
        ("ZADD", "z", "1e-400", "a"), ("ZADD", "z", "0x10", "hex"), ("ZSCORE", "z", "hex"),
        ("ZADD", "z", "+inf", "pinf", "-inf", "ninf", "Infinity", "big"),
        ("ZADD", "z", "0", "a", "-0", "negzero", "1e3", "exp", ".5", "half", "-.25", "q"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZCARD", "z"),
        ("ZADD", "z"), ("ZADD", "z", "1"), ("ZADD",),
        ("SET", "s", "x"), ("ZADD", "s", "1", "a"), ("ZADD", "s", "x", "a"),
        ("ZADD", "s", "XX", "NX", "1", "a"),
        ("ZADD", "new", "XX", "1", "a"), ("EXISTS", "new"), ("ZADD", "new", "XX", "INCR", "1", "a"),
        ("EXISTS", "new"), ("ZADD", "new", "GT", "CH", "5", "a"), ("ZSCORE", "new", "a"),
    ])


def test_zadd_incr_and_zincrby(compat):
    compat.script([
        ("ZADD", "z", "INCR", "5", "a"), ("ZADD", "z", "INCR", "-2.5", "a"),
        ("ZADD", "z", "NX", "INCR", "1", "a"), ("ZADD", "z", "XX", "INCR", "1", "b"),
        ("ZADD", "z", "GT", "INCR", "-1", "a"), ("ZADD", "z", "LT", "INCR", "-1", "a"),
        ("ZADD", "z", "GT", "INCR", "0", "a"), ("ZADD", "z", "CH", "INCR", "0.25", "a"),
        ("ZINCRBY", "z", "1", "a"), ("ZINCRBY", "z", "-10", "b"), ("ZINCRBY", "z", "x", "a"),
        ("ZINCRBY", "z", "nan", "a"), ("ZINCRBY", "z", "nx", "a"), ("ZINCRBY", "z", "1", "a", "b"),
        ("ZINCRBY", "z", "+inf", "inf"), ("ZINCRBY", "z", "-inf", "inf"),
        ("ZADD", "z", "INCR", "-inf", "inf"), ("ZSCORE", "z", "inf"),
        ("ZINCRBY", "z", "inf", "inf"), ("ZINCRBY", "z", "-5", "inf"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("SET", "s", "x"), ("ZINCRBY", "s", "1", "a"), ("ZINCRBY", "s", "x", "a"),
    ])


def test_zrem_zcard_zscore_zmscore(compat):
    compat.script([
        ("ZREM", "z", "a"), ("ZCARD", "z"), ("ZSCORE", "z", "a"), ("ZMSCORE", "z", "a", "b"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZREM", "z", "a", "a", "x"),
        ("ZCARD", "z"), ("ZSCORE", "z", "b"), ("ZSCORE", "z", "a"),
        ("ZMSCORE", "z", "a", "b", "c", "b"), ("ZREM", "z", "b", "c", "d"), ("EXISTS", "z"),
        ("ZREM", "z"), ("ZMSCORE", "z"), ("ZSCORE", "z"), ("ZCARD", "z", "x"),
        ("SET", "s", "x"), ("ZREM", "s", "a"), ("ZCARD", "s"), ("ZSCORE", "s", "a"),
        ("ZMSCORE", "s", "a"),
    ])


def test_zrank_and_zrevrank(compat):
    compat.script([
        ("ZRANK", "z", "a"), ("ZREVRANK", "z", "a"),
        ("ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-inf", "m", "inf", "p"),
        ("ZRANK", "z", "a"), ("ZRANK", "z", "c"), ("ZREVRANK", "z", "c"), ("ZRANK", "z", "p"),
        ("ZRANK", "z", "m"), ("ZREVRANK", "z", "m"), ("ZRANK", "z", "x"),
        ("ZRANK", "z", "a", "b", "c"), ("SET", "s", "x"), ("ZRANK", "s", "a"),
    ])
    seven_two(compat, ("ZRANK", "z", "b", "WITHSCORE"), b"*2\r\n:2\r\n$1\r\n2\r\n")
    seven_two(compat, ("ZREVRANK", "z", "p", "withscore"), b"*2\r\n:0\r\n$3\r\ninf\r\n")
    seven_two(compat, ("ZRANK", "z", "x", "WITHSCORE"), b"*-1\r\n")
    seven_two(compat, ("ZRANK", "nokey", "x", "WITHSCORE"), b"*-1\r\n")
    seven_two(compat, ("ZRANK", "z", "a", "WITHSCORES"), b"-ERR syntax error\r\n")


def test_zrange_by_rank(compat):
    compat.script([("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")])
    cases = [("0", "-1"), ("1", "3"), ("-2", "-1"), ("-100", "100"), ("3", "1"),
             ("5", "10"), ("-1", "-5"), ("0", "0"), (LLONG_MIN, LLONG_MAX),
             (LLONG_MAX, LLONG_MIN), ("-6", "-6"), ("x", "1"), ("1", "1.5")]
    for start, stop in cases:
        compat.script([
            ("ZRANGE", "z", start, stop), ("ZRANGE", "z", start, stop, "WITHSCORES"),
            ("ZRANGE", "z", start, stop, "REV"), ("ZREVRANGE", "z", start, stop),
            ("ZREVRANGE", "z", start, stop, "WITHSCORES"),
        ])
    compat.script([
        ("ZRANGE", "nokey", "0", "-1"), ("ZREVRANGE", "nokey", "0", "-1", "WITHSCORES"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "0"), ("ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"),
        ("ZRANGE", "z", "0", "-1", "REV", "REV"), ("ZRANGE", "z", "0", "-1", "foo"),
        ("ZREVRANGE", "z", "0", "-1", "REV"), ("ZREVRANGE", "z", "0", "-1", "BYSCORE"),
        ("ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"), ("ZRANGE", "z", "0"),
        ("ZRANGE", "z", "0", "-1", "withscores", "WITHSCORES"),
        ("SET", "s", "x"), ("ZRANGE", "s", "0", "-1"), ("ZRANGE", "s", "x", "-1"),
        ("ZREVRANGE", "s", "0", "-1"),
    ])


def test_zrange_by_score(compat):
    compat.script([("ZADD", "z", "-inf", "m", "1", "a", "2", "b", "2", "bb", "2.5", "c",
                    "3", "d", "inf", "p")])
    ranges = [("-inf", "+inf"), ("(1", "3"), ("1", "(3"), ("(1", "(2"), ("2", "2"),
              ("(2", "2"), ("3", "1"), ("-inf", "-inf"), ("(-inf", "(inf"), ("inf", "inf"),
              ("(inf", "inf"), ("", "2"), ("(", "(3"), (" 2", "2.5"), ("-INF", "+Inf"),
              ("2.5", "1e400"), ("1e-400", "2"), ("0x2", "3"), ("nan", "1"), ("1", "x"),
              ("((1", "2"), ("1 ", "2"), ("[1", "2"), ("1", "inf)")]
    for low, high in ranges:
        compat.script([
            ("ZRANGEBYSCORE", "z", low, high), ("ZRANGEBYSCORE", "z", low, high, "WITHSCORES"),
            ("ZREVRANGEBYSCORE", "z", high, low), ("ZRANGE", "z", low, high, "BYSCORE"),
            ("ZRANGE", "z", high, low, "BYSCORE", "REV", "WITHSCORES"), ("ZCOUNT", "z", low, high),
        ])
    limits = [("0", "2"), ("1", "2"), ("2", "-1"), ("0", "0"), ("-1", "2"), ("6", "1"),
              ("7", "1"), ("100", "1"), ("1", LLONG_MAX), (LLONG_MAX, "1"), ("0", LLONG_MIN),
              ("x", "1"), ("1", "y")]
    for offset, count in limits:
        compat.script([
            ("ZRANGEBYSCORE", "z", "-inf", "inf", "LIMIT", offset, count),
            ("ZRANGEBYSCORE", "z", "(1", "3", "WITHSCORES", "LIMIT", offset, count),
            ("ZREVRANGEBYSCORE", "z", "3", "(1", "LIMIT", offset, count, "WITHSCORES"),
            ("ZRANGE", "z", "(1", "inf", "BYSCORE", "LIMIT", offset, count),
            ("ZRANGE", "z", "inf", "(1", "REV", "BYSCORE", "LIMIT", offset, count),
        ])
    compat.script([
        ("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "1"), ("ZRANGEBYSCORE", "z", "0", "1", "REV"),
        ("ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"), ("ZRANGEBYSCORE", "z", "0"),
        ("ZRANGEBYSCORE", "nokey", "0", "1"), ("ZCOUNT", "nokey", "0", "1"),
        ("ZCOUNT", "nokey", "x", "1"), ("SET", "s", "x"), ("ZRANGEBYSCORE", "s", "0", "1"),
        ("ZRANGEBYSCORE", "s", "x", "1"), ("ZCOUNT", "s", "0", "1"), ("ZCOUNT", "s", "x", "1"),
    ])


def test_zrange_by_lex(compat):
    compat.script([("ZADD", "z", "0", "a", "0", "b", "0", "bb", "0", "c", "0", "d", "0", "",
                    "0", "\xff", "0", "B")])
    ranges = [("-", "+"), ("[b", "[c"), ("(b", "(c"), ("[b", "(bb"), ("(", "+"),
              ("[", "[b"), ("+", "-"), ("-", "-"), ("+", "+"), ("[c", "[b"), ("[b", "[b"),
              ("(b", "[b"), ("[\xff", "+"), ("b", "c"), ("[b", "c"), ("-a", "+"), ("", "+"),
              ("(a", "+b"), ("[B", "[a")]
    for low, high in ranges:
        compat.script([
            ("ZRANGEBYLEX", "z", low, high), ("ZREVRANGEBYLEX", "z", high, low),
            ("ZRANGE", "z", low, high, "BYLEX"), ("ZRANGE", "z", high, low, "BYLEX", "REV"),
            ("ZLEXCOUNT", "z", low, high),
        ])
    for offset, count in [("0", "2"), ("2", "3"), ("1", "-1"), ("-1", "1"), ("7", "5"),
                          ("8", "1"), ("0", "0"), (LLONG_MAX, "1")]:
        compat.script([
            ("ZRANGEBYLEX", "z", "-", "+", "LIMIT", offset, count),
            ("ZRANGEBYLEX", "z", "(a", "[d", "LIMIT", offset, count),
            ("ZREVRANGEBYLEX", "z", "[d", "(a", "LIMIT", offset, count),
            ("ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", offset, count),
        ])
    compat.script([
        ("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"),
        ("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
        ("ZRANGEBYLEX", "nokey", "-", "+"), ("ZLEXCOUNT", "nokey", "-", "+"),
        ("ZLEXCOUNT", "nokey", "x", "+"), ("SET", "s", "x"), ("ZRANGEBYLEX", "s", "-", "+"),
        ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGEBYLEX", "s", "a", "+"),
    ])


def test_lex_ranges_with_unequal_scores_follow_the_listpack_walk(compat):
    compat.script([
        ("ZADD", "z", "1", "b", "2", "a", "3", "d", "4", "c", "5", "e"),
        ("ZRANGEBYLEX", "z", "-", "+"), ("ZRANGEBYLEX", "z", "[b", "+"),
        ("ZRANGEBYLEX", "z", "(a", "[c"), ("ZRANGEBYLEX", "z", "-", "[b", "LIMIT", "2", "5"),
        ("ZREVRANGEBYLEX", "z", "+", "[c"), ("ZREVRANGEBYLEX", "z", "[d", "-"),
        ("ZREVRANGEBYLEX", "z", "(e", "(a", "LIMIT", "1", "2"), ("ZLEXCOUNT", "z", "[b", "[d"),
        ("ZLEXCOUNT", "z", "[a", "[b"), ("ZREMRANGEBYLEX", "z", "[a", "[b"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ])


def test_zrangestore(compat):
    compat.script([
        ("ZADD", "src", "1", "a", "2", "b", "3", "c", "4", "d"),
        ("ZRANGESTORE", "dst", "src", "0", "-1"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "src", "1", "2", "REV"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "src", "(1", "inf", "BYSCORE", "LIMIT", "1", "1"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "src", "[d", "-", "BYLEX", "REV"), ("ZRANGE", "dst", "0", "-1"),
        ("SET", "str", "x"), ("EXPIRE", "dst", "1000"),
        ("ZRANGESTORE", "dst", "src", "0", "0"), ("TTL", "dst"), ("TYPE", "dst"),
        ("ZRANGESTORE", "dst", "src", "5", "10"), ("EXISTS", "dst"),
        ("ZRANGESTORE", "str", "src", "0", "1"), ("TYPE", "str"),
        ("ZRANGESTORE", "dst", "nokey", "0", "-1"), ("ZRANGESTORE", "str", "nokey", "0", "-1"),
        ("EXISTS", "str"), ("SET", "str", "x"), ("ZRANGESTORE", "dst", "str", "0", "-1"),
        ("ZRANGESTORE", "dst", "src", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "dst", "src", "0", "-1", "LIMIT", "0", "1"),
        ("ZRANGESTORE", "dst", "src", "0"), ("ZRANGESTORE", "src", "src", "1", "2"),
        ("ZRANGE", "src", "0", "-1", "WITHSCORES"),
    ])


def test_zremrange_family(compat):
    members = ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    for command in [("ZREMRANGEBYRANK", "z", "0", "1"), ("ZREMRANGEBYRANK", "z", "-2", "-1"),
                    ("ZREMRANGEBYRANK", "z", "3", "1"), ("ZREMRANGEBYRANK", "z", "0", "-1"),
                    ("ZREMRANGEBYRANK", "z", LLONG_MIN, LLONG_MAX),
                    ("ZREMRANGEBYRANK", "z", "10", "20"), ("ZREMRANGEBYRANK", "z", "x", "1"),
                    ("ZREMRANGEBYSCORE", "z", "(1", "3"), ("ZREMRANGEBYSCORE", "z", "-inf", "inf"),
                    ("ZREMRANGEBYSCORE", "z", "4", "2"), ("ZREMRANGEBYSCORE", "z", "x", "2"),
                    ("ZREMRANGEBYLEX", "z", "-", "+"), ("ZREMRANGEBYLEX", "z", "x", "+")]:
        compat.script([members, command, ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
                       ("EXISTS", "z"), ("DEL", "z")])
    compat.script([
        ("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"),
        ("ZREMRANGEBYLEX", "l", "(a", "[c"), ("ZRANGE", "l", "0", "-1"),
        ("ZREMRANGEBYLEX", "l", "-", "+"), ("EXISTS", "l"),
        ("ZREMRANGEBYRANK", "nokey", "0", "-1"), ("ZREMRANGEBYSCORE", "nokey", "0", "1"),
        ("ZREMRANGEBYLEX", "nokey", "-", "+"), ("ZREMRANGEBYRANK", "nokey", "x", "1"),
        ("SET", "s", "x"), ("ZREMRANGEBYRANK", "s", "0", "1"),
        ("ZREMRANGEBYSCORE", "s", "0", "1"), ("ZREMRANGEBYLEX", "s", "-", "+"),
        ("ZREMRANGEBYRANK", "s", "x", "1"),
    ])


def test_zpopmin_zpopmax(compat):
    compat.script([
        ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "2"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("ZPOPMIN", "z"), ("ZPOPMAX", "z"), ("ZPOPMIN", "z", "0"), ("ZPOPMIN", "z", "2"),
        ("ZPOPMAX", "z", LLONG_MAX), ("EXISTS", "z"),
        ("ZADD", "z", "1", "a"), ("ZPOPMIN", "z", "-1"), ("ZPOPMIN", "z", "x"),
        ("ZPOPMIN", "z", LLONG_MIN), ("ZPOPMIN", "z", "1", "2"), ("ZPOPMIN", "z", "1.5"),
        ("SET", "s", "x"), ("ZPOPMIN", "s"), ("ZPOPMAX", "s", "0"), ("ZPOPMIN", "s", "x"),
    ])


def test_zmpop(compat):
    compat.script([
        ("ZMPOP", "2", "a", "b", "MIN"), ("ZADD", "b", "1", "x", "2", "y", "3", "z"),
        ("ZMPOP", "2", "a", "b", "MIN"), ("ZMPOP", "2", "a", "b", "max", "COUNT", "10"),
        ("EXISTS", "b"), ("ZADD", "a", "1", "x"), ("ZADD", "b", "1", "y"),
        ("ZMPOP", "2", "a", "b", "MAX", "COUNT", "1"), ("ZMPOP", "2", "a", "b", "min"),
        ("ZMPOP", "0", "a", "MIN"), ("ZMPOP", "-1", "a", "MIN"), ("ZMPOP", "x", "a", "MIN"),
        ("ZMPOP", "3", "a", "b", "MIN"), ("ZMPOP", "1", "a", "MID"),
        ("ZMPOP", "1", "a", "MIN", "COUNT"), ("ZMPOP", "1", "a", "MIN", "COUNT", "0"),
        ("ZMPOP", "1", "a", "MIN", "COUNT", "-1"), ("ZMPOP", "1", "a", "MIN", "COUNT", "x"),
        ("ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "1"),
        ("ZMPOP", "1", "a", "MIN", "foo"), ("ZMPOP", "1", "a"),
        ("ZMPOP", "1", "a", "MIN", "COUNT", LLONG_MAX),
        ("ZMPOP", "1", "a", "MIN", "COUNT", LLONG_MIN),
        ("SET", "s", "x"), ("ZMPOP", "2", "s", "b", "MIN"), ("ZMPOP", "2", "nokey", "s", "MIN"),
        ("ZADD", "b", "1", "q"), ("ZMPOP", "2", "b", "s", "MIN"),
    ])


def test_zrandmember(compat):
    compat.script([
        ("ZRANDMEMBER", "z"), ("ZRANDMEMBER", "z", "5"), ("ZRANDMEMBER", "z", "-5"),
        ("ZRANDMEMBER", "z", "5", "WITHSCORES"), ("ZRANDMEMBER", "z", "x"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
        ("ZRANDMEMBER", "z", "0"), ("ZRANDMEMBER", "z", "3"), ("ZRANDMEMBER", "z", "10"),
        ("ZRANDMEMBER", "z", LLONG_MAX), ("ZRANDMEMBER", "z", "10", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "0", "WITHSCORES"), ("ZRANDMEMBER", "z", LLONG_MIN),
        ("ZRANDMEMBER", "z", LLONG_MAX, "WITHSCORES"),
        ("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "1", "WITHSCORE"), ("ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "z", "x"), ("ZRANDMEMBER", "z", "1.5"),
        ("SET", "s", "x"), ("ZRANDMEMBER", "s"), ("ZRANDMEMBER", "s", "1"),
    ])
    members = {b"a": b"1", b"b": b"2", b"c": b"3"}
    for client in (compat.ember, compat.redis):
        assert client.call("ZRANDMEMBER", "z") in members
        assert set(client.call("ZRANDMEMBER", "z", "2")) < set(members)
        assert len(set(client.call("ZRANDMEMBER", "z", "2"))) == 2
        repeated = client.call("ZRANDMEMBER", "z", "-20")
        assert len(repeated) == 20 and set(repeated) <= set(members)
        flat = client.call("ZRANDMEMBER", "z", "-6", "WITHSCORES")
        assert len(flat) == 12
        assert all(members[m] == s for m, s in zip(flat[::2], flat[1::2]))
        assert len(client.call("ZRANDMEMBER", "z", "-1")) == 1


def test_zunion_zinter_zdiff(compat):
    compat.script([
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZADD", "b", "4", "y", "5", "z", "6", "w"),
        ("SADD", "s", "x", "w", "v"), ("ZADD", "i", "inf", "x", "-inf", "y", "1", "z"),
    ])
    for op in ("ZUNION", "ZINTER"):
        compat.script([
            (op, "2", "a", "b"), (op, "2", "a", "b", "WITHSCORES"),
            (op, "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"),
            (op, "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"),
            (op, "2", "a", "b", "aggregate", "max", "withscores", "weights", "-1", "1"),
            (op, "3", "a", "b", "s", "WITHSCORES"), (op, "2", "a", "nokey", "WITHSCORES"),
            (op, "2", "a", "i", "WITHSCORES"),
            (op, "2", "i", "i", "WEIGHTS", "1", "-1", "WITHSCORES"),
            (op, "2", "i", "a", "WEIGHTS", "0", "1", "WITHSCORES"),
            (op, "2", "i", "i", "WEIGHTS", "0", "0", "AGGREGATE", "MAX", "WITHSCORES"),
            (op, "2", "i", "i", "WEIGHTS", "inf", "-inf", "AGGREGATE", "MIN", "WITHSCORES"),
            (op, "1", "s", "WITHSCORES"), (op, "2", "a", "a", "WITHSCORES"),
            (op, "0", "a"), (op, "-1", "a"), (op, "x", "a"), (op, "3", "a", "b"),
            (op, "2", "a", "b", "WEIGHTS", "1"), (op, "2", "a", "b", "WEIGHTS", "1", "x"),
            (op, "2", "a", "b", "WEIGHTS", "1", "nan"), (op, "2", "a", "b", "AGGREGATE"),
            (op, "2", "a", "b", "AGGREGATE", "avg"), (op, "2", "a", "b", "LIMIT", "1"),
            (op, "2", "a", "b", "WITHSCORES", "WITHSCORES"), (op, "2", "a", "b", "foo"),
            ("SET", "str", "x"), (op, "2", "a", "str"), (op, "2", "str", "x", "WEIGHTS"),
            (op, "1", "nokey"),
        ])
    compat.script([
        ("ZDIFF", "2", "a", "b"), ("ZDIFF", "2", "a", "b", "WITHSCORES"),
        ("ZDIFF", "2", "b", "a", "WITHSCORES"), ("ZDIFF", "3", "b", "a", "s", "WITHSCORES"),
        ("ZDIFF", "2", "a", "a"), ("ZDIFF", "1", "a", "WITHSCORES"), ("ZDIFF", "2", "nokey", "a"),
        ("ZDIFF", "2", "a", "nokey", "WITHSCORES"), ("ZDIFF", "2", "s", "a", "WITHSCORES"),
        ("ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2"), ("ZDIFF", "2", "a", "b", "AGGREGATE", "MIN"),
        ("ZDIFF", "0", "a"), ("ZDIFF", "3", "a", "b"), ("ZDIFF", "2", "a", "str"),
    ])


def test_store_forms(compat):
    compat.script([
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZADD", "b", "4", "y", "5", "z", "6", "w"),
        ("SADD", "s", "x", "w"), ("SET", "str", "v"),
        ("ZUNIONSTORE", "d", "2", "a", "b"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "d", "3", "a", "b", "s"), ("EXISTS", "d"),
        ("ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"),
        ("ZRANGE", "d", "0", "-1", "WITHSCORES"), ("EXPIRE", "d", "100"),
        ("ZDIFFSTORE", "d", "2", "b", "a"), ("TTL", "d"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "str", "2", "s", "a"),
        ("TYPE", "str"), ("ZRANGE", "str", "0", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "a", "2", "a", "b"), ("ZRANGE", "a", "0", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "d", "1", "nokey"), ("EXISTS", "d"),
        ("ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"), ("ZUNIONSTORE", "d", "0", "a"),
        ("ZDIFFSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "1"), ("ZINTERSTORE", "d", "x", "a"),
        ("ZINTERSTORE", "d", "2", "a"), ("SET", "str2", "v"), ("ZINTERSTORE", "d", "1", "str2"),
        ("ZINTERSTORE", "str2", "1", "nokey"), ("EXISTS", "str2"),
    ])


def test_zintercard(compat):
    compat.script([
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZADD", "b", "4", "y", "5", "z", "6", "w"),
        ("SADD", "s", "y", "z", "q"), ("SET", "str", "v"),
        ("ZINTERCARD", "2", "a", "b"), ("ZINTERCARD", "3", "a", "b", "s"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", "1"), ("ZINTERCARD", "2", "a", "b", "LIMIT", "0"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", "5"), ("ZINTERCARD", "2", "a", "nokey"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", "-1"), ("ZINTERCARD", "2", "a", "b", "LIMIT", "x"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT"), ("ZINTERCARD", "2", "a", "b", "WITHSCORES"),
        ("ZINTERCARD", "2", "a", "b", "WEIGHTS", "1", "2"), ("ZINTERCARD", "0", "a"),
        ("ZINTERCARD", "3", "a", "b"), ("ZINTERCARD", "2", "a", "str"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", LLONG_MAX),
    ])


def test_zscan(compat):
    compat.script([
        ("ZSCAN", "z", "0"), ("ZSCAN", "z", "x"), ("ZSCAN", "z", "0", "COUNT", "0"),
        ("ZADD", "z", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "-0", "e", "100", "f"),
        ("ZSCAN", "z", "0"),
        ("ZSCAN", "z", "0", "MATCH", "[a-c]"), ("ZSCAN", "z", "0", "COUNT", "1"),
        ("ZSCAN", "z", "0", "COUNT", "0"), ("ZSCAN", "z", "0", "COUNT", "x"),
        ("ZSCAN", "z", "0", "MATCH"), ("ZSCAN", "z", "0", "TYPE", "zset"), ("ZSCAN", "z", "-1"),
        ("ZSCAN", "z", "abc"), ("SET", "s", "x"), ("ZSCAN", "s", "0"), ("ZSCAN", "s", "x"),
        ("ZSCAN", "s", "0", "COUNT", "0"),
    ])


def full_zscan(client, key, *options):
    cursor = b"0"
    found = []
    while True:
        cursor, items = client.call("ZSCAN", key, cursor, *options)
        found.extend(zip(items[::2], items[1::2]))
        if cursor == b"0":
            return sorted(set(found))


def test_zscan_of_a_skiplist(compat):
    args = []
    for i in range(300):
        args += [str(i if i % 7 else -i / 4), "m%d" % i]
    compat.script([("ZADD", "big", *args), ("OBJECT", "ENCODING", "big")])
    for options in [(), ("COUNT", "7"), ("MATCH", "m1*"), ("MATCH", "m1*", "COUNT", "1000")]:
        assert full_zscan(compat.ember, "big", *options) == full_zscan(compat.redis, "big",
                                                                        *options)


def test_encodings(compat):
    long_member = "x" * 65
    compat.script([
        ("CONFIG", "SET", "zset-max-listpack-entries", "4"),
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"), ("OBJECT", "ENCODING", "z"),
        ("ZADD", "z", "5", "e"), ("OBJECT", "ENCODING", "z"), ("ZREM", "z", "e", "d"),
        ("OBJECT", "ENCODING", "z"), ("ZADD", "y", "1", long_member), ("OBJECT", "ENCODING", "y"),
        ("ZADD", "w", "1", "a"), ("ZADD", "w", "1", long_member), ("OBJECT", "ENCODING", "w"),
        ("ZUNIONSTORE", "u", "1", "z"), ("OBJECT", "ENCODING", "u"),
        ("ZRANGESTORE", "r", "z", "0", "1"), ("OBJECT", "ENCODING", "r"),
        ("ZUNIONSTORE", "u", "1", "y"), ("OBJECT", "ENCODING", "u"),
        ("ZADD", "v", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"),
        ("ZINTERSTORE", "u", "1", "v"), ("OBJECT", "ENCODING", "u"),
        ("COPY", "z", "zc"), ("OBJECT", "ENCODING", "zc"), ("ZRANGE", "zc", "0", "-1"),
        ("TYPE", "z"), ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
    ])
    # 7.2 sizes a new set from the number of pairs in the ZADD (zsetTypeCreate).
    args = []
    for _ in range(5):
        args += ["1", "same"]
    both(compat, "CONFIG", "SET", "zset-max-listpack-entries", "4")
    both(compat, "ZADD", "hint", *args)
    seven_two(compat, ("OBJECT", "ENCODING", "hint"), b"$8\r\nskiplist\r\n")
    both(compat, "CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_doubles_as_redis_7_2_prints_them(compat):
    both(compat, "ZADD", "z", "1.1", "a", "0.1", "b", "1e17", "c", "1.5e-5", "d",
         "-0", "e", "1e-7", "f", "3.0e20", "g")
    seven_two(compat, ("ZSCORE", "z", "a"), b"$3\r\n1.1\r\n")
    seven_two(compat, ("ZSCORE", "z", "b"), b"$3\r\n0.1\r\n")
    seven_two(compat, ("ZSCORE", "z", "c"), b"$18\r\n100000000000000000\r\n")
    seven_two(compat, ("ZSCORE", "z", "d"), b"$8\r\n0.000015\r\n")
    compat.check("ZSCORE", "z", "e")            # a listpack keeps -0 as the integer 0
    compat.script([("ZADD", "sk", "1", "x" * 70, "-0", "e"), ("ZSCORE", "sk", "e"),
                   ("ZRANGE", "sk", "0", "-1", "WITHSCORES"), ("ZADD", "sk", "0", "e"),
                   ("ZSCORE", "sk", "e")])
    seven_two(compat, ("ZSCORE", "z", "f"), b"$4\r\n1e-7\r\n")
    seven_two(compat, ("ZSCORE", "z", "g"), b"$5\r\n3e+20\r\n")
    seven_two(compat, ("ZINCRBY", "z", "0.2", "b"), b"$19\r\n0.30000000000000004\r\n")


def test_resp3_shapes(compat):
    for client in (compat.ember, compat.redis):
        client.call("HELLO", "3")
    compat.script([
        ("ZADD", "z", "1", "a", "2.5", "b", "inf", "c"), ("ZSCORE", "z", "b"), ("ZSCORE", "z", "x"),
        ("ZMSCORE", "z", "a", "x"), ("ZINCRBY", "z", "1", "a"), ("ZADD", "z", "INCR", "1", "a"),
        ("ZADD", "z", "XX", "INCR", "1", "nope"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZRANGE", "z", "0", "-1"),
        ("ZREVRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZRANGEBYSCORE", "z", "-inf", "inf", "WITHSCORES"),
        ("ZREVRANGEBYSCORE", "z", "inf", "-inf", "WITHSCORES", "LIMIT", "0", "2"),
        ("ZUNION", "1", "z", "WITHSCORES"), ("ZINTER", "1", "z", "WITHSCORES"),
        ("ZDIFF", "1", "z", "WITHSCORES"), ("ZUNION", "1", "z"),
        ("ZRANDMEMBER", "z", "5", "WITHSCORES"), ("ZRANDMEMBER", "nokey"),
        ("ZRANDMEMBER", "nokey", "5"), ("ZRANK", "z", "x"), ("ZSCAN", "z", "0"),
        ("ZPOPMIN", "z"), ("ZPOPMIN", "z", "1"), ("ZPOPMAX", "nokey"), ("ZPOPMAX", "nokey", "2"),
        ("ZADD", "z", "1", "a", "2", "b"), ("ZPOPMAX", "z", "5"),
        ("ZMPOP", "1", "nokey", "MIN"), ("ZADD", "z", "1", "a", "2", "b"),
        ("ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "5"),
    ])
    seven_two(compat, ("ZRANK", "nokey", "x", "WITHSCORE"), b"_\r\n")
    seven_two(compat, ("ZREVRANK", "nokey", "x", "WITHSCORE"), b"_\r\n")
    both(compat, "ZADD", "r", "1.5", "a")
    seven_two(compat, ("ZRANK", "r", "a", "WITHSCORE"), b"*2\r\n:0\r\n,1.5\r\n")


def test_pipelined_zadd_matches(compat):
    """A burst of ZADD/ZINCRBY/ZREM sent in one write, replies compared together."""
    commands = []
    for i in range(200):
        commands.append(("ZADD", "p", str(i % 13), "m%d" % (i % 37)))
        commands.append(("ZINCRBY", "p", "0.5", "m%d" % (i % 11)))
        if i % 5 == 0:
            commands.append(("ZREM", "p", "m%d" % (i % 17)))
    commands.append(("ZRANGE", "p", "0", "-1", "WITHSCORES"))
    payload = b"".join(encode_command(*c) for c in commands)
    replies = []
    for client in (compat.ember, compat.redis):
        client.send(payload)
        replies.append([client.read_raw() for _ in commands])
    assert replies[0] == replies[1]


def test_command_getkeys_for_movable_commands(compat):
    compat.script([
        ("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b"),
        ("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("COMMAND", "GETKEYS", "ZINTERSTORE", "d", "abc", "a", "b"),
        ("COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "3", "a", "b"),
        ("COMMAND", "GETKEYS", "ZUNION", "2", "a", "b", "WITHSCORES"),
        ("COMMAND", "GETKEYS", "ZINTERCARD", "1", "a", "LIMIT", "1"),
        ("COMMAND", "GETKEYS", "ZDIFF", "0", "a"),
        ("COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"),
        ("COMMAND", "GETKEYS", "ZMPOP", "5", "a", "b", "MIN"),
        ("COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "1"),
        ("COMMAND", "GETKEYSANDFLAGS", "ZUNIONSTORE", "d", "2", "a", "b"),
        ("COMMAND", "GETKEYSANDFLAGS", "ZPOPMIN", "k"),
        ("COMMAND", "GETKEYSANDFLAGS", "ZINCRBY", "k", "1", "m"),
        ("COMMAND", "GETKEYSANDFLAGS", "ZCARD", "k"),
        ("COMMAND", "INFO", "zadd", "zunionstore", "zmpop", "zrangestore", "zcard"),
    ])


def test_blocking_pops_without_blocking(compat):
    compat.script([
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("SET", "str", "v"),
        ("BZPOPMIN", "nokey", "a", "0"), ("BZPOPMAX", "a", "0.5"), ("BZPOPMIN", "a", "a", "1"),
        ("EXISTS", "a"), ("ZADD", "a", "1", "x", "2", "y", "3", "z"),
        ("BZMPOP", "0", "2", "nokey", "a", "MAX", "COUNT", "2"), ("BZMPOP", "1", "1", "a", "MIN"),
        ("BZPOPMIN", "str", "0"), ("BZPOPMIN", "nokey", "str", "0"),
        ("BZMPOP", "0", "1", "str", "MIN"),
        ("BZPOPMIN", "a", "x"), ("BZPOPMIN", "a", "-1"),
        ("BZPOPMIN", "a", "nan"), ("BZMPOP", "x", "1", "a", "MIN"),
        ("BZMPOP", "0", "0", "a", "MIN"), ("BZMPOP", "0", "1", "a", "MID"),
        ("BZMPOP", "-1", "1", "a", "MIN", "COUNT", "0"), ("BZMPOP", "-1", "1", "a", "MIN"),
        ("BZMPOP", "0", "1", "a"), ("BZPOPMIN", "a"),
        ("BZPOPMIN", "nokey", "0.01"), ("BZPOPMAX", "nokey", "nokey2", "0.001"),
        ("BZMPOP", "0.01", "1", "nokey", "MIN"),
    ])
    compat.script([                 # inside MULTI a blocking pop answers nil at once
        ("MULTI",), ("BZPOPMIN", "nokey", "0"), ("BZMPOP", "0", "1", "nokey", "MAX"),
        ("ZADD", "m", "1", "a"), ("BZPOPMAX", "m", "0"), ("EXEC",),
    ])
    # 7.2 refuses an infinite timeout as out of range (7.0 wrapped it to negative).
    for timeout in ("inf", "1e400"):
        seven_two(compat, ("BZPOPMIN", "a", timeout), b"-ERR timeout is out of range\r\n")
    for client in (compat.ember, compat.redis):
        client.call("HELLO", "3")
    compat.script([
        ("BZPOPMIN", "nokey", "0.01"), ("BZMPOP", "0.01", "1", "nokey", "MIN"),
        ("ZADD", "a", "1", "x", "2", "y"), ("BZPOPMIN", "a", "0"),
        ("BZMPOP", "0", "1", "a", "MIN", "COUNT", "3"),
    ])

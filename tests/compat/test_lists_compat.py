"""List commands compared byte for byte with a real redis-server: every command with its
errors and edge cases (missing keys, wrong types, negative indexes, huge and LLONG_MIN /
LLONG_MAX counts), in RESP2 and RESP3, the dirty counter each write adds (what decides
propagation), and the blocking commands on the paths that do not wait or wait briefly.

Where Redis 7.2 differs from an older reference server (OBJECT ENCODING of small lists,
LPOS RANK LLONG_MIN, timeouts too large for the clock), ember's 7.2 reply is asserted
explicitly instead of being compared.
"""

import pytest

LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"


def redis_version(compat) -> tuple:
    info = compat.redis.call("INFO", "server").decode()
    line = next(x for x in info.splitlines() if x.startswith("redis_version:"))
    return tuple(int(p) for p in line.split(":", 1)[1].split("."))


def dirty(client) -> int:
    info = client.call("INFO", "persistence").decode()
    line = next(x for x in info.splitlines() if x.startswith("rdb_changes_since_last_save"))
    return int(line.split(":")[1])


def check_dirty(compat, commands) -> None:
    """Each command's reply and the dirty count it adds are Redis's."""
    for command in commands:
        before = dirty(compat.ember), dirty(compat.redis)
        compat.check(*command)
        added = dirty(compat.ember) - before[0], dirty(compat.redis) - before[1]
        assert added[0] == added[1], (command, added)


def both_resp3(compat) -> None:
    compat.ember.call("HELLO", "3")
    compat.redis.call("HELLO", "3")


def test_push_family(compat):
    check_dirty(compat, [
        ("LPUSH", "l", "a"), ("LPUSH", "l", "b", "c", "d"), ("RPUSH", "l", "e", "", "f"),
        ("LRANGE", "l", "0", "-1"), ("LLEN", "l"),
        ("LPUSHX", "nokey", "a"), ("RPUSHX", "nokey", "a", "b"), ("EXISTS", "nokey"),
        ("LPUSHX", "l", "x", "y"), ("RPUSHX", "l", "z"), ("LRANGE", "l", "0", "-1"),
        ("SET", "s", "v"), ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"),
        ("RPUSHX", "s", "a"), ("LLEN", "s"),
        ("LPUSH", "l"), ("RPUSH",), ("LPUSHX", "l"), ("RPUSHX", "l"),
        ("RPUSH", "bin", "\x00\xff", "1", "-1", "01", "9223372036854775808", "x" * 5000),
        ("LRANGE", "bin", "0", "-1"), ("TYPE", "l"), ("TYPE", "bin"),
    ])


def test_pops_with_and_without_count(compat):
    check_dirty(compat, [
        ("LPOP", "nokey"), ("RPOP", "nokey"), ("LPOP", "nokey", "0"), ("RPOP", "nokey", "1"),
        ("LPOP", "nokey", "-1"), ("LPOP", "nokey", "x"), ("LPOP", "nokey", "1", "2"),
        ("RPUSH", "l", "1", "2", "3", "4", "5", "6"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "0"), ("RPOP", "l", "0"),
        ("LPOP", "l", "2"), ("RPOP", "l", "1"), ("LPOP", "l", "-1"), ("RPOP", "l", LLONG_MIN),
        ("LPOP", "l", "1.5"), ("RPOP", "l", "a", "b"), ("LRANGE", "l", "0", "-1"),
        ("RPUSH", "l", "a", "b", "c"), ("RPOP", "l", LLONG_MAX), ("EXISTS", "l"),
        ("RPUSH", "l", "a"), ("LPOP", "l", "9223372036854775808"), ("LPOP", "l", "5"),
        ("EXISTS", "l"), ("RPUSH", "l", "a"), ("RPOP", "l"), ("EXISTS", "l"),
        ("SET", "s", "v"), ("LPOP", "s"), ("RPOP", "s", "0"), ("LPOP", "s", "-1"),
        ("LPOP",), ("RPOP",),
    ])


def test_pops_in_resp3(compat):
    both_resp3(compat)
    compat.script([
        ("LPOP", "nokey"), ("LPOP", "nokey", "1"), ("RPOP", "nokey", "0"),
        ("RPUSH", "l", "a", "b"), ("LPOP", "l", "0"), ("RPOP", "l", "5"),
        ("LINDEX", "nokey", "0"), ("LPOS", "nokey", "a"), ("LPOS", "nokey", "a", "COUNT", "0"),
        ("LMPOP", "1", "nokey", "LEFT"), ("LMOVE", "nokey", "d", "LEFT", "LEFT"),
        ("BLPOP", "nokey", "0.01"), ("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01"),
    ])


def test_llen_lrange_lindex(compat):
    compat.check("RPUSH", "l", *[str(i) for i in range(10)])
    check_dirty(compat, [
        ("LLEN", "l"), ("LLEN", "nokey"), ("LLEN", "l", "x"),
        ("LRANGE", "l", "0", "-1"), ("LRANGE", "l", "2", "4"), ("LRANGE", "l", "-3", "-1"),
        ("LRANGE", "l", "-100", "2"), ("LRANGE", "l", "5", "100"), ("LRANGE", "l", "5", "4"),
        ("LRANGE", "l", "-1", "-2"), ("LRANGE", "l", "10", "20"), ("LRANGE", "l", "0", "0"),
        ("LRANGE", "l", LLONG_MIN, LLONG_MAX), ("LRANGE", "l", LLONG_MAX, LLONG_MIN),
        ("LRANGE", "l", "x", "1"), ("LRANGE", "l", "1", "y"), ("LRANGE", "nokey", "x", "1"),
        ("LRANGE", "nokey", "0", "-1"), ("LRANGE", "l", "0"),
        ("LINDEX", "l", "0"), ("LINDEX", "l", "9"), ("LINDEX", "l", "10"),
        ("LINDEX", "l", "-1"), ("LINDEX", "l", "-10"), ("LINDEX", "l", "-11"),
        ("LINDEX", "l", LLONG_MIN), ("LINDEX", "l", LLONG_MAX), ("LINDEX", "l", "x"),
        ("LINDEX", "nokey", "x"), ("LINDEX", "nokey", "0"), ("LINDEX", "l"),
        ("SET", "s", "v"), ("LLEN", "s"), ("LRANGE", "s", "0", "1"), ("LRANGE", "s", "x", "1"),
        ("LINDEX", "s", "0"), ("LINDEX", "s", "x"),
    ])


def test_lset(compat):
    check_dirty(compat, [
        ("LSET", "nokey", "0", "v"), ("LSET", "nokey", "x", "v"),
        ("RPUSH", "l", "a", "b", "c"), ("LSET", "l", "0", "A"), ("LSET", "l", "-1", "C"),
        ("LSET", "l", "3", "D"), ("LSET", "l", "-4", "D"), ("LSET", "l", LLONG_MIN, "v"),
        ("LSET", "l", LLONG_MAX, "v"), ("LSET", "l", "x", "v"), ("LSET", "l", "1", "x" * 9000),
        ("LRANGE", "l", "0", "-1"), ("LSET", "l", "1", "b"), ("LRANGE", "l", "0", "-1"),
        ("SET", "s", "v"), ("LSET", "s", "0", "v"), ("LSET", "s", "x", "v"),
        ("LSET", "l", "0"),
    ])


def test_linsert(compat):
    check_dirty(compat, [
        ("LINSERT", "nokey", "BEFORE", "a", "b"), ("LINSERT", "nokey", "middle", "a", "b"),
        ("RPUSH", "l", "a", "b", "a"), ("LINSERT", "l", "BEFORE", "a", "x"),
        ("LINSERT", "l", "after", "a", "y"), ("LINSERT", "l", "AFTER", "b", "z"),
        ("LINSERT", "l", "before", "nope", "z"), ("LINSERT", "l", "up", "a", "z"),
        ("LRANGE", "l", "0", "-1"), ("LINSERT", "l", "AFTER", "a", "x" * 9000),
        ("LLEN", "l"), ("SET", "s", "v"), ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LINSERT", "s", "up", "a", "b"), ("LINSERT", "l", "BEFORE", "a"),
    ])


def test_lrem(compat):
    check_dirty(compat, [
        ("LREM", "nokey", "0", "a"), ("LREM", "nokey", "x", "a"),
        ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"),
        ("LREM", "l", "1", "a"), ("LRANGE", "l", "0", "-1"), ("LREM", "l", "-2", "a"),
        ("LRANGE", "l", "0", "-1"), ("LREM", "l", "0", "b"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", "5", "nope"), ("LREM", "l", "x", "a"), ("LREM", "l", "1.0", "a"),
        ("RPUSH", "l", "a", "a"), ("LREM", "l", LLONG_MIN, "a"), ("LRANGE", "l", "0", "-1"),
        ("LREM", "l", LLONG_MAX, "c"), ("EXISTS", "l"),
        ("SET", "s", "v"), ("LREM", "s", "0", "v"), ("LREM", "s", "x", "v"),
        ("LREM", "l", "0"),
    ])


def test_ltrim(compat):
    commands = [("LTRIM", "nokey", "0", "1"), ("LTRIM", "nokey", "x", "1")]
    for start, end in (("1", "-2"), ("0", "-1"), ("-100", "100"), ("2", "1"), ("-1", "-1"),
                       ("5", "10"), ("-3", "-2"), ("0", "0"), (LLONG_MIN, LLONG_MAX),
                       ("x", "1"), ("1", "y")):
        commands += [("DEL", "l"), ("RPUSH", "l", "a", "b", "c", "d", "e"),
                     ("LTRIM", "l", start, end), ("LRANGE", "l", "0", "-1"), ("EXISTS", "l")]
    commands += [("SET", "s", "v"), ("LTRIM", "s", "0", "1"), ("LTRIM", "s", "x", "1"),
                 ("LTRIM", "l", "0")]
    check_dirty(compat, commands)


def test_lpos(compat):
    compat.check("RPUSH", "l", "a", "b", "c", "a", "b", "a", "d", "a")
    compat.script([
        ("LPOS", "l", "a"), ("LPOS", "l", "d"), ("LPOS", "l", "nope"),
        ("LPOS", "l", "a", "RANK", "2"), ("LPOS", "l", "a", "RANK", "-1"),
        ("LPOS", "l", "a", "RANK", "-3"), ("LPOS", "l", "a", "RANK", "9"),
        ("LPOS", "l", "a", "RANK", "-9"), ("LPOS", "l", "a", "COUNT", "0"),
        ("LPOS", "l", "a", "COUNT", "2"), ("LPOS", "l", "a", "COUNT", "2", "RANK", "2"),
        ("LPOS", "l", "a", "RANK", "-2", "COUNT", "0"), ("LPOS", "l", "a", "MAXLEN", "4"),
        ("LPOS", "l", "a", "MAXLEN", "4", "COUNT", "0"),
        ("LPOS", "l", "a", "MAXLEN", "1", "RANK", "2"),
        ("LPOS", "l", "a", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"),
        ("LPOS", "l", "a", "RANK", "1", "RANK", "2"), ("LPOS", "l", "nope", "COUNT", "3"),
        ("LPOS", "l", "a", "COUNT", LLONG_MAX), ("LPOS", "l", "a", "RANK", LLONG_MAX),
        ("LPOS", "l", "a", "RANK", "-9223372036854775807"),
        ("LPOS", "l", "a", "RANK", "0"), ("LPOS", "l", "a", "RANK", "x"),
        ("LPOS", "l", "a", "COUNT", "-1"), ("LPOS", "l", "a", "COUNT", "x"),
        ("LPOS", "l", "a", "MAXLEN", "-1"), ("LPOS", "l", "a", "MAXLEN", "x"),
        ("LPOS", "l", "a", "RANK"), ("LPOS", "l", "a", "FOO", "1"), ("LPOS", "l", "a", "COUNT"),
        ("LPOS", "nokey", "a"), ("LPOS", "nokey", "a", "COUNT", "1"),
        ("LPOS", "nokey", "a", "RANK", "0"), ("SET", "s", "v"), ("LPOS", "s", "a"),
        ("LPOS", "s", "a", "RANK", "0"), ("LPOS", "l"),
    ])


def test_lpos_rank_llong_min(compat):
    """Redis 7.2 refuses RANK LLONG_MIN (its negation would overflow); 7.0 did not check."""
    compat.check("RPUSH", "l", "a")
    reply = compat.ember.call_raw("LPOS", "l", "a", "RANK", LLONG_MIN)
    expected = (b"-ERR value is out of range, value must between -9223372036854775807 and "
                b"9223372036854775807\r\n")
    assert reply == expected
    if redis_version(compat) >= (7, 2):
        assert compat.redis.call_raw("LPOS", "l", "a", "RANK", LLONG_MIN) == expected


def test_lmove_and_rpoplpush(compat):
    commands = [("LMOVE", "nokey", "d", "LEFT", "RIGHT"), ("RPOPLPUSH", "nokey", "d"),
                ("EXISTS", "d"), ("LMOVE", "nokey", "d", "up", "RIGHT")]
    for wherefrom in ("LEFT", "RIGHT"):
        for whereto in ("left", "right"):
            commands += [("DEL", "s", "d"), ("RPUSH", "s", "1", "2", "3"), ("RPUSH", "d", "x"),
                         ("LMOVE", "s", "d", wherefrom, whereto), ("LRANGE", "s", "0", "-1"),
                         ("LRANGE", "d", "0", "-1")]
    commands += [
        ("DEL", "s", "d"), ("RPUSH", "s", "1", "2", "3"), ("LMOVE", "s", "s", "LEFT", "RIGHT"),
        ("LRANGE", "s", "0", "-1"), ("RPOPLPUSH", "s", "s"), ("LRANGE", "s", "0", "-1"),
        ("RPOPLPUSH", "s", "d"), ("RPOPLPUSH", "s", "d"), ("RPOPLPUSH", "s", "d"),
        ("EXISTS", "s"), ("LRANGE", "d", "0", "-1"),
        ("RPUSH", "one", "x"), ("LMOVE", "one", "one", "RIGHT", "LEFT"), ("LLEN", "one"),
        ("SET", "str", "v"), ("LMOVE", "d", "str", "LEFT", "LEFT"), ("LRANGE", "d", "0", "-1"),
        ("RPOPLPUSH", "str", "d"), ("RPOPLPUSH", "nokey", "str"),
        ("LMOVE", "str", "d", "LEFT", "LEFT"), ("LMOVE", "d", "str", "middle", "LEFT"),
        ("LMOVE", "d", "e", "LEFT", "middle"), ("LMOVE", "d", "e", "LEFT"),
        ("RPOPLPUSH", "d"), ("PEXPIREAT", "d", "99999999999999"),
        ("RPOPLPUSH", "d", "d"), ("PEXPIRETIME", "d"), ("RPOPLPUSH", "d", "new"),
        ("PEXPIRETIME", "new"),
    ]
    check_dirty(compat, commands)


def test_lmpop(compat):
    check_dirty(compat, [
        ("LMPOP", "1", "nokey", "LEFT"), ("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"),
        ("RPUSH", "b", "1", "2", "3", "4"), ("RPUSH", "c", "x"),
        ("LMPOP", "3", "a", "b", "c", "LEFT"), ("LMPOP", "3", "a", "b", "c", "RIGHT", "COUNT", "2"),
        ("LMPOP", "2", "b", "c", "left", "count", "10"), ("LMPOP", "2", "b", "c", "RIGHT"),
        ("LMPOP", "1", "c", "LEFT"), ("EXISTS", "b", "c"),
        ("LMPOP", "0", "a", "LEFT"), ("LMPOP", "-1", "a", "LEFT"), ("LMPOP", "x", "a", "LEFT"),
        ("LMPOP", "2", "a", "LEFT"), ("LMPOP", "1", "a", "MIDDLE"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "0"), ("LMPOP", "1", "a", "LEFT", "COUNT", "-1"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "x"), ("LMPOP", "1", "a", "LEFT", "COUNT"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"),
        ("LMPOP", "1", "a", "LEFT", "foo"), ("LMPOP", "1", "a"), ("LMPOP", LLONG_MAX, "a", "LEFT"),
        ("RPUSH", "a", "1"), ("LMPOP", "1", "a", "LEFT", "COUNT", LLONG_MAX), ("EXISTS", "a"),
        ("SET", "s", "v"), ("LMPOP", "2", "nokey", "s", "LEFT"), ("RPUSH", "l", "v"),
        ("LMPOP", "2", "l", "s", "LEFT"), ("LMPOP", "2", "s", "l", "LEFT"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"),
        ("COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "3"),
        ("COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"),
        ("COMMAND", "GETKEYS", "LMOVE", "a", "b", "LEFT", "LEFT"),
    ])


def test_blocking_commands_that_need_not_wait(compat):
    check_dirty(compat, [
        ("RPUSH", "b", "1", "2", "3"), ("RPUSH", "c", "x", "y"),
        ("BLPOP", "a", "b", "c", "0"), ("BRPOP", "a", "b", "c", "0"), ("BLPOP", "b", "0"),
        ("BRPOP", "a", "b", "c", "1.5"), ("BLMOVE", "c", "d", "LEFT", "RIGHT", "0"),
        ("BRPOPLPUSH", "d", "c", "0"), ("BLMPOP", "0", "2", "a", "c", "RIGHT", "COUNT", "5"),
        ("RPUSH", "e", "1", "2", "3"), ("BLMPOP", "0", "1", "e", "LEFT"),
        ("BRPOPLPUSH", "e", "e", "0"), ("LRANGE", "e", "0", "-1"), ("DBSIZE",),
    ])


def test_blocking_command_errors(compat):
    check_dirty(compat, [
        ("SET", "s", "v"), ("RPUSH", "l", "x", "y", "z"),
        ("BLPOP", "s", "0"), ("BLPOP", "nokey", "s", "0"), ("BRPOP", "s", "l", "0"),
        ("BLPOP", "l", "s", "0"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"),
        ("BLMOVE", "l", "s", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "l", "s", "0"),
        ("BLMPOP", "0", "2", "nokey", "s", "LEFT"), ("LRANGE", "l", "0", "-1"),
        ("BLPOP", "l", "-1"), ("BLPOP", "l", "x"), ("BLPOP", "l", ""), ("BLPOP", "l", " 1"),
        ("BLPOP", "l", "nan"), ("BLPOP", "l", "-inf"), ("BLPOP", "l", "-1e30"),
        ("BLPOP", "l", "1e5000"), ("BRPOP", "l", "-0.5"), ("BLMOVE", "l", "d", "up", "LEFT", "0"),
        ("BLMOVE", "l", "d", "LEFT", "LEFT", "x"), ("BLMOVE", "l", "d", "LEFT", "up", "x"),
        ("BRPOPLPUSH", "l", "d", "x"), ("BLMPOP", "x", "1", "l", "LEFT"),
        ("BLMPOP", "0", "x", "l", "LEFT"), ("BLMPOP", "x", "0", "l", "LEFT"),
        ("BLMPOP", "0", "1", "l", "middle"), ("BLMPOP", "x", "1", "l", "middle"),
        ("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"), ("BLMPOP", "-1", "1", "l", "LEFT"),
        ("BLMPOP", "0", "2", "l", "LEFT"), ("BLMPOP", "0", "1", "l", "LEFT", "x"),
        ("BLPOP", "l"), ("BLMOVE", "l", "d", "LEFT", "LEFT"), ("BRPOPLPUSH", "l", "d"),
        ("BLMPOP", "0", "1", "l"), ("LRANGE", "l", "0", "-1"),
    ])


def test_blocking_commands_inside_multi_answer_at_once(compat):
    before = dirty(compat.ember), dirty(compat.redis)
    compat.script([
        ("RPUSH", "l", "x"), ("MULTI",), ("BLPOP", "e", "0"), ("BRPOP", "e", "l", "0"),
        ("BLMOVE", "e", "d", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "e", "d", "0"),
        ("BLMPOP", "0", "1", "e", "LEFT"), ("RPUSH", "e", "y"),
        ("BLMOVE", "e", "d", "LEFT", "LEFT", "0"), ("BLPOP", "e", "-1"), ("EXEC",),
        ("LRANGE", "d", "0", "-1"),
    ])
    assert dirty(compat.ember) - before[0] == dirty(compat.redis) - before[1]
    both_resp3(compat)
    compat.script([("MULTI",), ("BLPOP", "e", "0"), ("BLMOVE", "e", "d", "LEFT", "LEFT", "0"),
                   ("EXEC",)])


def test_blocking_commands_time_out_as_redis(compat):
    check_dirty(compat, [
        ("BLPOP", "a", "0.01"), ("BRPOP", "a", "b", "0.001"), ("BLPOP", "a", "0.0001"),
        ("BLPOP", "a", "0x1p-10"), ("BLMOVE", "a", "b", "LEFT", "RIGHT", "0.01"),
        ("BRPOPLPUSH", "a", "b", "0.01"), ("BLMPOP", "0.01", "2", "a", "b", "RIGHT"),
        ("SET", "s", "v"), ("BLMOVE", "a", "s", "LEFT", "RIGHT", "0.01"), ("DBSIZE",),
    ])


@pytest.mark.parametrize("timeout", ["inf", "1e30", "9223372036854775"])
def test_timeouts_beyond_the_clock_are_out_of_range(compat, timeout):
    """Redis 7.2 checks that now + timeout fits in 64 bits; 7.0 read inf and 1e30 as
    negative and blocked forever on the last one, so the reference is asked only if 7.2."""
    expected = b"-ERR timeout is out of range\r\n"
    for command in (("BLPOP", "a", timeout), ("BLMOVE", "a", "b", "LEFT", "LEFT", timeout),
                    ("BLMPOP", timeout, "1", "a", "LEFT")):
        assert compat.ember.call_raw(*command) == expected
        if redis_version(compat) >= (7, 2):
            assert compat.redis.call_raw(*command) == expected


def test_emptied_lists_are_deleted_and_keep_no_ttl(compat):
    check_dirty(compat, [
        ("RPUSH", "l", "a", "b"), ("EXPIRE", "l", "1000"), ("RPUSH", "l", "c"), ("TTL", "l"),
        ("LPOP", "l", "3"), ("EXISTS", "l"), ("RPUSH", "l", "a"), ("TTL", "l"),
        ("EXPIRE", "l", "1000"), ("LREM", "l", "0", "a"), ("EXISTS", "l"),
        ("RPUSH", "l", "a"), ("LTRIM", "l", "1", "0"), ("EXISTS", "l"),
        ("RPUSH", "l", "a"), ("LMOVE", "l", "m", "LEFT", "LEFT"), ("EXISTS", "l"),
        ("TYPE", "m"), ("TYPE", "l"),
    ])


def test_generic_commands_on_lists(compat):
    compat.script([
        ("RPUSH", "l", "a", "b", "c"), ("TYPE", "l"), ("COPY", "l", "c"),
        ("RPUSH", "c", "d"), ("LRANGE", "l", "0", "-1"), ("LRANGE", "c", "0", "-1"),
        ("RENAME", "c", "r"), ("LRANGE", "r", "0", "-1"), ("MOVE", "r", "1"), ("SELECT", "1"),
        ("LRANGE", "r", "0", "-1"), ("SELECT", "0"), ("SCAN", "0", "TYPE", "list"),
        ("SET", "s", "v"), ("SCAN", "0", "TYPE", "string"), ("GET", "l"), ("INCR", "l"),
        ("APPEND", "l", "x"), ("STRLEN", "l"), ("DEL", "l"), ("EXISTS", "l"),
    ])


def test_big_lists(compat):
    values = [str(i % 97) for i in range(3000)]
    for start in range(0, 3000, 500):
        compat.check("RPUSH", "big", *values[start:start + 500])
    check_dirty(compat, [
        ("LLEN", "big"), ("LINDEX", "big", "1500"), ("LINDEX", "big", "-1500"),
        ("LRANGE", "big", "2990", "-1"), ("LRANGE", "big", "-3000", "5"),
        ("LRANGE", "big", "1000", "1010"), ("LSET", "big", "2000", "changed"),
        ("LINSERT", "big", "AFTER", "changed", "after"), ("LPOS", "big", "5", "RANK", "-3"),
        ("LPOS", "big", "5", "COUNT", "0", "MAXLEN", "1000"), ("LREM", "big", "-5", "7"),
        ("LTRIM", "big", "100", "-100"), ("LLEN", "big"), ("LRANGE", "big", "0", "4"),
        ("LPOP", "big", "1000"), ("RPOP", "big", "700"), ("LRANGE", "big", "0", "-1"),
    ])


def test_object_encoding_follows_redis_7_2(compat):
    """Redis 7.2 keeps small lists in one listpack and converts back at half the limit;
    a 7.0 reference always says quicklist, so ember is checked against 7.2's rules."""
    old = redis_version(compat) < (7, 2)

    def encoding(key: str, expected: bytes) -> None:
        assert compat.ember.call("OBJECT", "ENCODING", key) == expected, key
        theirs = compat.redis.call("OBJECT", "ENCODING", key)
        assert theirs == (b"quicklist" if old else expected), key

    compat.check("RPUSH", "small", "a", "b", "c")
    encoding("small", b"listpack")
    compat.check("RPUSH", "big", "x" * 8186)          # 7 + 8186 bytes > 8 KB: quicklist
    encoding("big", b"quicklist")
    compat.check("RPUSH", "edge", "x" * 8185)         # just fits
    encoding("edge", b"listpack")
    # The growth check adds the raw lengths (7 + 80 * 100 fits) although each element
    # takes 103 bytes in the listpack; 90 do not fit.
    compat.check("RPUSH", "grow", *["v" * 100] * 80)
    encoding("grow", b"listpack")
    compat.check("RPUSH", "grow2", *["v" * 100] * 90)
    encoding("grow2", b"quicklist")
    compat.check("LTRIM", "grow2", "0", "39")         # 7 + 40 * 103 = 4127 > 4096
    encoding("grow2", b"quicklist")
    compat.check("LTRIM", "grow2", "0", "38")         # 7 + 39 * 103 = 4024: back
    encoding("grow2", b"listpack")
    compat.check("CONFIG", "SET", "list-max-listpack-size", "4")
    try:
        compat.check("RPUSH", "count", "1", "2", "3", "4")
        encoding("count", b"listpack")
        compat.check("RPUSH", "count", "5")
        encoding("count", b"quicklist")
        compat.check("RPOP", "count", "3")             # 2 <= 4 / 2
        encoding("count", b"listpack")
    finally:
        compat.check("CONFIG", "SET", "list-max-listpack-size", "-2")

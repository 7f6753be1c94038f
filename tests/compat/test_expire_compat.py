"""TTL commands compared byte for byte with a real redis-server.

Relative times make the exact TTL depend on when each server ran the command, so the
scripts use deadlines far in the future and compare TTL in seconds (which rounds), and
EXPIRETIME/PEXPIRETIME of absolute deadlines, which are deterministic.
"""

import time

LLONG_MAX = str(2 ** 63 - 1)
LLONG_MIN = str(-(2 ** 63))
FAR_MS = "99999999999999"       # year 5138
FAR_S = "99999999999"


def test_option_parsing_and_conflicts(compat):
    compat.script([
        ("SET", "k", "v"),
        ("EXPIRE", "k", "abc", "foo"), ("EXPIRE", "k", "abc", "nx", "xx"),
        ("EXPIRE", "k", "abc"), ("EXPIRE", "k", "100", "gt", "lt"),
        ("EXPIRE", "k", "100", "nx", "gt"), ("EXPIRE", "k", "100", "NX", "LT"),
        ("EXPIRE", "k", "100", "lt", "gt"), ("PEXPIRE", "k", "100", "xx", "nx"),
        ("EXPIREAT", "k", "100", "bad"), ("PEXPIREAT", "k", "100", "Nx", "Unknown"),
        ("EXPIRE", "k", "1.5"), ("EXPIRE", "k", " 1"), ("EXPIRE", "k", ""),
        ("EXPIRE", "k", "100", "xx", "gt"), ("EXPIRE", "k", "100", "lt", "xx"),
        ("EXPIRE", "nokey", "abc"), ("EXPIRE", "nokey", "10", "bad"),
        ("EXPIRE", "nokey", "10"), ("TTL", "k"), ("EXPIRE", "k"), ("TTL",),
        ("TTL", "k", "x"), ("PERSIST",), ("EXPIRETIME", "k", "k"),
    ])


def test_overflow_and_huge_values(compat):
    compat.script([
        ("SET", "k", "v"),
        ("EXPIRE", "k", LLONG_MAX), ("EXPIRE", "k", "9223372036854775"),
        ("EXPIRE", "k", "9223372036854774"), ("EXPIRE", "k", LLONG_MIN),
        ("EXPIRE", "k", "-9223372036854776"), ("PEXPIRE", "k", LLONG_MAX),
        ("EXPIREAT", "k", LLONG_MAX), ("EXPIREAT", "k", "9223372036854776"),
        ("EXPIRE", "k", "9223372036854775808"), ("TTL", "k"),
        ("PEXPIREAT", "k", LLONG_MAX), ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", "9223372036854775"), ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"),
        ("EXPIRE", "k", "-9223372036854775"), ("EXISTS", "k"),
        ("SET", "k", "v"), ("PEXPIRE", "k", LLONG_MIN), ("EXISTS", "k"),
        ("SET", "k", "v"), ("PEXPIREAT", "k", LLONG_MIN), ("EXISTS", "k"),
    ])


def test_past_deadlines_delete_at_once(compat):
    compat.script([
        ("SET", "a", "1"), ("EXPIRE", "a", "0"), ("EXISTS", "a"),
        ("SET", "a", "1"), ("EXPIRE", "a", "-10"), ("GET", "a"),
        ("SET", "a", "1"), ("PEXPIRE", "a", "0"), ("TTL", "a"),
        ("SET", "a", "1"), ("EXPIREAT", "a", "1"), ("TTL", "a"),
        ("SET", "a", "1"), ("PEXPIREAT", "a", "0"), ("DBSIZE",),
        ("EXPIRE", "a", "-1"),
    ])


def test_nx_xx_gt_lt(compat):
    compat.script([
        ("SET", "k", "v"),
        ("PEXPIREAT", "k", FAR_MS, "XX"), ("PEXPIREAT", "k", FAR_MS, "GT"),
        ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", FAR_MS, "LT"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", FAR_MS, "NX"), ("PEXPIRETIME", "k"),
        ("PEXPIREAT", "k", FAR_MS, "NX"), ("PEXPIREAT", "k", "99999999999998", "GT"),
        ("PEXPIREAT", "k", FAR_MS, "GT"), ("PEXPIREAT", "k", "100000000000000", "GT"),
        ("PEXPIRETIME", "k"), ("PEXPIREAT", "k", "100000000000001", "LT"),
        ("PEXPIREAT", "k", FAR_MS, "LT", "XX"), ("PEXPIRETIME", "k"),
        ("EXPIREAT", "k", FAR_S, "XX", "GT"), ("EXPIRETIME", "k"),
        ("EXPIREAT", "k", "99999999990", "xx", "lt"), ("EXPIRETIME", "k"),
        ("PEXPIRETIME", "k"), ("EXPIRE", "k", "100", "gt"), ("EXPIRE", "k", "100", "lt"),
        ("TTL", "k"), ("PERSIST", "k"), ("PERSIST", "k"), ("TTL", "k"),
        ("EXPIRE", "k", "100", "gt"), ("EXPIRE", "k", "100", "xx"),
        ("EXPIRE", "k", "100", "lt"), ("TTL", "k"), ("EXPIRE", "k", "200", "lt"),
        ("EXPIRE", "k", "-1", "gt"), ("EXPIRE", "k", "-1", "lt"), ("EXISTS", "k"),
        ("SET", "k", "v"), ("EXPIRE", "k", "-1", "gt"), ("EXPIRE", "k", "-1", "xx"),
        ("EXPIRE", "k", "-1", "nx", "nx"), ("EXISTS", "k"),
    ])


def test_ttl_family(compat):
    compat.script([
        ("TTL", "nokey"), ("PTTL", "nokey"), ("EXPIRETIME", "nokey"),
        ("PEXPIRETIME", "nokey"), ("SET", "k", "v"), ("TTL", "k"), ("PTTL", "k"),
        ("EXPIRETIME", "k"), ("PEXPIRETIME", "k"), ("EXPIRE", "k", "1000"), ("TTL", "k"),
        ("PEXPIREAT", "k", "99999999999499"), ("EXPIRETIME", "k"),
        ("PEXPIREAT", "k", "99999999999500"), ("EXPIRETIME", "k"),
        ("SET", "k", "v2"), ("TTL", "k"), ("PERSIST", "nokey"),
        ("SET", "k", "v", "EX", "100"), ("SET", "k", "v3", "KEEPTTL"), ("TTL", "k"),
        ("INCR", "n"), ("EXPIRE", "n", "50"), ("INCR", "n"), ("TTL", "n"),
        ("APPEND", "n", "0"), ("TTL", "n"), ("GETSET", "n", "1"), ("TTL", "n"),
    ])


def test_expired_key_is_gone_everywhere(compat):
    compat.script([
        ("SET", "k", "v", "PX", "1"), ("SET", "t", "v", "PX", "1"), ("SET", "u", "v", "PX", "1"),
        ("SET", "w", "v", "PX", "1"),
    ])
    time.sleep(0.01)
    compat.script([
        ("GET", "k"), ("TTL", "k"), ("PTTL", "k"), ("EXISTS", "t"), ("TYPE", "u"),
        ("PERSIST", "w"), ("EXPIRE", "w", "100"), ("RENAME", "w", "x"), ("DBSIZE",),
    ])

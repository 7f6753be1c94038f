"""MEMORY and maxmemory replies compared byte for byte with redis-server: help, errors,
OBJECT FREQ/IDLETIME under each kind of policy, the OOM refusal and MULTI under it.

MEMORY USAGE's numbers are not compared (jemalloc's size classes are not CPython's);
only which keys have one and the errors are.
"""

import pytest

HELP_AND_ERRORS = [
    ("MEMORY", "HELP"), ("MEMORY",), ("MEMORY", "NOSUCH"), ("MEMORY", "USAGE"),
    ("MEMORY", "USAGE", "nokey"), ("SET", "k", "v"),
    ("MEMORY", "USAGE", "k", "SAMPLES"), ("MEMORY", "USAGE", "k", "SAMPLES", "x"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "-1"), ("MEMORY", "USAGE", "k", "FOO"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "1", "BAR"), ("MEMORY", "DOCTOR", "x"),
    ("MEMORY", "STATS", "x"), ("MEMORY", "PURGE"), ("MEMORY", "PURGE", "x"),
    ("MEMORY", "MALLOC-STATS", "x"), ("MEMORY", "DOCTOR"),
    ("OBJECT", "FREQ", "k"), ("OBJECT", "FREQ", "nokey"),
]


def _restore(compat):
    for side in (compat.ember, compat.redis):
        side.call("CONFIG", "SET", "maxmemory", "0")
        side.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        side.call("CONFIG", "SET", "lfu-log-factor", "10")


def test_help_and_errors(compat):
    compat.script(HELP_AND_ERRORS)
    for args in (("MEMORY", "USAGE", "k"), ("MEMORY", "USAGE", "k", "SAMPLES", "0")):
        got, expected = compat.both(*args)
        assert got[:1] == expected[:1] == b":"      # an integer on both


def test_object_freq_and_idletime_by_policy(compat):
    try:
        compat.script([
            ("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
            ("SET", "fresh", "v"), ("OBJECT", "FREQ", "fresh"),       # LFU_INIT_VAL
            ("GET", "fresh"), ("OBJECT", "FREQ", "fresh"),            # p = 1 at 5
            ("OBJECT", "IDLETIME", "fresh"), ("OBJECT", "IDLETIME", "nokey"),
            ("CONFIG", "SET", "lfu-log-factor", "0"),
            # (not INCR: Redis would count on its shared integer objects with maxmemory 0)
            ("SET", "n", "text"), ("GET", "n"), ("GET", "n"), ("GET", "n"),
            ("OBJECT", "FREQ", "n"),
            ("CONFIG", "SET", "maxmemory-policy", "volatile-lfu"),
            ("OBJECT", "IDLETIME", "fresh"),
            ("CONFIG", "SET", "maxmemory-policy", "volatile-lru"),
            ("OBJECT", "FREQ", "fresh"), ("OBJECT", "FREQ", "nokey"),
            ("SET", "lru", "v"), ("OBJECT", "IDLETIME", "lru"),
        ])
    finally:
        _restore(compat)


def test_oom_refusal_reads_and_multi(compat):
    compat.script([("SET", "k", "v"), ("RPUSH", "l", "a")])
    try:
        compat.script([
            ("CONFIG", "SET", "maxmemory", "1"),
            ("SET", "k2", "v"), ("RPUSH", "l", "b"), ("INCR", "counter"),
            ("GET", "k"), ("LRANGE", "l", "0", "-1"), ("EXISTS", "k"),
            ("MULTI",), ("GET", "k"), ("EXEC",),
            ("MULTI",), ("DISCARD",),
            ("DEL", "k"), ("GET", "k"),
            ("CONFIG", "SET", "maxmemory-policy", "volatile-lru"),
            ("SET", "k3", "v"),                     # no key has a TTL: nothing to evict
            ("CONFIG", "SET", "maxmemory", "0"),
            ("SET", "k3", "v"), ("MULTI",), ("SET", "q", "1"),
            ("CONFIG", "SET", "maxmemory", "1"),
        ])
        # EXEC of a queued denyoom command while over the limit: refused and aborted.
        compat.check("EXEC")
        compat.check("EXISTS", "q")
    finally:
        _restore(compat)


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-random", "allkeys-lfu"])
def test_allkeys_policies_make_room(compat, policy):
    try:
        compat.script([("CONFIG", "SET", "maxmemory-policy", policy),
                       ("SET", "a", "1"), ("CONFIG", "SET", "maxmemory", "1"),
                       ("SET", "b", "2")])
        # Both servers evict every key to get under 1 byte, then still accept the write
        # (eviction runs before the command; the command may go over).
        compat.check("DBSIZE")
        compat.check("GET", "b")
    finally:
        _restore(compat)

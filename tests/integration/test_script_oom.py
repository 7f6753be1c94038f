"""Scripts over maxmemory: the cases the byte-for-byte compat tests cannot reach.

(tests/compat/test_oom_scripts_compat.py compares the common ones with redis-server.)
"""

import hashlib

import redis

from tests.rawclient import RawClient

ROLLING = b"#!lua\nreturn redis.call('get', KEYS[1])"
ALLOW_OOM_TEXT = (b"-OOM allow-oom flag is not set on the script, can not run it when used "
                  b"memory > 'maxmemory'\r\n")


def test_script_known_only_at_exec_checked_when_it_starts(ember_server, r):
    """An EVALSHA queued before its script was loaded has EVAL's flags at EXEC's gate;
    Redis 7.2's scriptPrepareForRun refuses it when it starts (pre_command_oom_state).
    Not a compat test: 7.0.15 keeps server.script_oom from the last EVAL instead."""
    r.set("k", "v")
    r.script_flush()
    sha = hashlib.sha1(ROLLING).hexdigest()
    client = RawClient(ember_server.port)
    try:
        assert client.call_raw("MULTI") == b"+OK\r\n"
        assert client.call_raw("SCRIPT", "LOAD", ROLLING) == b"+QUEUED\r\n"
        assert client.call_raw("EVALSHA", sha, "1", "k") == b"+QUEUED\r\n"
        assert client.call_raw("EVAL", "return redis.call('get', KEYS[1])", "1",
                               "k") == b"+QUEUED\r\n"
        r.config_set("maxmemory", 1)
        reply = client.call_raw("EXEC")
        assert reply == (b"*3\r\n$40\r\n" + sha.encode() + b"\r\n" + ALLOW_OOM_TEXT
                         + b"$1\r\nv\r\n")
    finally:
        r.config_set("maxmemory", 0)
        client.close()


def test_eviction_makes_room_for_a_writing_script(r):
    """Over the limit with keys to evict, the gate evicts and the script runs."""
    for i in range(200):
        r.set("fill:%d" % i, "x" * 1000)
    used = r.info("memory")["used_memory"]
    try:
        r.config_set("maxmemory-policy", "allkeys-random")
        r.config_set("maxmemory", used - 50000)
        evicted = r.info("stats")["evicted_keys"]
        assert r.eval("#!lua\nreturn redis.call('set', KEYS[1], 'w')", 1, "new") == b"OK"
        assert r.eval("return redis.call('set', KEYS[1], 'w')", 1, "new2") == b"OK"
        assert r.info("stats")["evicted_keys"] > evicted
        assert r.get("new") == b"w"
    finally:
        r.config_set("maxmemory", 0)
        r.config_set("maxmemory-policy", "noeviction")


def test_noeviction_refuses_first_write_only(r):
    """A script without a shebang that wrote (DEL) may go on writing: Redis cannot stop
    it half-way; a pcall sees the OOM error as a table."""
    r.set("k", "v")
    try:
        r.config_set("maxmemory", 1)
        assert r.eval("redis.call('del', KEYS[1]) return redis.call('set', KEYS[1], 'y')",
                      1, "k") == b"OK"
        try:
            r.eval("return redis.call('set', KEYS[1], 'z')", 1, "k")
            raise AssertionError("the write should be refused")
        except redis.exceptions.ResponseError as exc:
            assert str(exc).startswith("command not allowed when used memory")
        assert r.eval("local e = redis.pcall('set', KEYS[1], 'z') return e['err']",
                      1, "k") == b"OOM command not allowed when used memory > 'maxmemory'."
        assert r.get("k") == b"y"
    finally:
        r.config_set("maxmemory", 0)

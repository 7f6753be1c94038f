"""A Hypothesis state machine for hashes: random sequences of hash commands (and the key
commands that move hashes around) sent to ember and to a real redis-server, every reply
compared byte for byte, and after every step the hashes themselves.

A hash whose encoding is "hashtable" has no order in common between the two servers
(Redis iterates its own hash table), so its HGETALL, HKEYS and HVALS are compared as
mappings or multisets; a listpack's order is compared exactly. Random picks are checked
for shape and membership. Field expiry (Redis 7.4) is not in the reference server.
"""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

KEY_NAMES = ["k0", "k1", "s"]          # "s" often holds a string: WRONGTYPE paths
KEYS = st.sampled_from(KEY_NAMES)
FIELDS = st.sampled_from(["f0", "f1", "f2", "", "n"])
VALUES = st.sampled_from(["", "0", "1", "-3", "10", "abc", "1.5", "9223372036854775807",
                          "x" * 70])   # 70 bytes > hash-max-listpack-value: hashtable
PAIRS = st.lists(st.tuples(FIELDS, VALUES), min_size=1, max_size=3)
INCREMENTS = st.sampled_from(["1", "-1", "100", "9223372036854775807",
                              "-9223372036854775808", "x", "0"])
FLOAT_INCREMENTS = st.sampled_from(["0.5", "-1.25", "3", "1e3", "abc", "inf", "0x10"])
PATTERNS = st.sampled_from(["*", "f*", "f?", "[f]0", "", "n", "*0"])


def _as_map(reply):
    return dict(zip(reply[::2], reply[1::2])) if isinstance(reply, list) else reply


class HashMachine(RuleBasedStateMachine):
    """Both servers start empty; every rule sends the same command(s) to both."""

    pair = None           # a tests.conftest.Compat, set by the test below

    @initialize()
    def start_clean(self):
        self.pair.check("FLUSHALL")

    def same(self, *args):
        return self.pair.check(*args)

    def both(self, *args):
        return self.pair.ember.call(*args), self.pair.redis.call(*args)

    def encoding(self, key):
        return self.pair.redis.call("OBJECT", "ENCODING", key)

    @invariant()
    def same_hashes(self):
        for key in KEY_NAMES:
            kind = self.same("TYPE", key)
            self.same("OBJECT", "ENCODING", key)
            if kind != b"+hash\r\n":
                continue
            self.same("HLEN", key)
            if self.encoding(key) == b"listpack":
                self.same("HGETALL", key)
            else:
                mine, theirs = self.both("HGETALL", key)
                assert _as_map(mine) == _as_map(theirs), (key, mine, theirs)

    # ---- writes ---------------------------------------------------------------------

    @rule(key=KEYS, pairs=PAIRS, legacy=st.booleans())
    def hset(self, key, pairs, legacy):
        self.same("HMSET" if legacy else "HSET", key, *[x for p in pairs for x in p])

    @rule(key=KEYS, field=FIELDS, value=VALUES)
    def hsetnx(self, key, field, value):
        self.same("HSETNX", key, field, value)

    @rule(key=KEYS, fields=st.lists(FIELDS, min_size=1, max_size=3))
    def hdel(self, key, fields):
        self.same("HDEL", key, *fields)

    @rule(key=KEYS, field=FIELDS, amount=INCREMENTS)
    def hincrby(self, key, field, amount):
        self.same("HINCRBY", key, field, amount)

    @rule(key=KEYS, field=FIELDS, amount=FLOAT_INCREMENTS)
    def hincrbyfloat(self, key, field, amount):
        self.same("HINCRBYFLOAT", key, field, amount)

    @rule(key=KEYS, value=VALUES)
    def set_string(self, key, value):
        self.same("SET", key, value)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=2))
    def delete(self, keys):
        self.same("DEL", *keys)

    @rule(src=KEYS, dst=KEYS, copy=st.booleans())
    def rename_or_copy(self, src, dst, copy):
        if copy:
            self.same("COPY", src, dst, "REPLACE")
        else:
            self.same("RENAME", src, dst)

    # ---- reads ----------------------------------------------------------------------

    @rule(key=KEYS, field=FIELDS)
    def single_field(self, key, field):
        self.same("HGET", key, field)
        self.same("HEXISTS", key, field)
        self.same("HSTRLEN", key, field)

    @rule(key=KEYS, fields=st.lists(FIELDS, min_size=1, max_size=4))
    def hmget(self, key, fields):
        self.same("HMGET", key, *fields)

    @rule(key=KEYS)
    def keys_and_values(self, key):
        if self.encoding(key) == b"hashtable":
            self.pair.check_unordered("HKEYS", key)
            self.pair.check_unordered("HVALS", key)
        else:
            self.same("HKEYS", key)
            self.same("HVALS", key)

    @rule(key=KEYS, count=st.sampled_from(["0", "5", "100", "-1", "x", "-9223372036854775808"]),
          with_values=st.booleans())
    def hrandfield(self, key, count, with_values):
        extra = ("WITHVALUES",) if with_values else ()
        if count in ("5", "100") and self.encoding(key) == b"hashtable":
            mine, theirs = self.both("HRANDFIELD", key, count, *extra)
            assert sorted(mine) == sorted(theirs), (key, mine, theirs)
        elif count == "-1":
            mine, theirs = self.both("HRANDFIELD", key, count, *extra)
            if isinstance(theirs, list):
                assert isinstance(mine, list) and len(mine) == len(theirs), (mine, theirs)
            else:
                assert mine == theirs, (key, mine, theirs)
        else:
            self.same("HRANDFIELD", key, count, *extra)

    @rule(key=KEYS)
    def hrandfield_single(self, key):
        mine, theirs = self.both("HRANDFIELD", key)
        if isinstance(theirs, bytes):
            assert mine in self.pair.ember.call("HKEYS", key)
        else:
            assert mine == theirs, (key, mine, theirs)

    @rule(key=KEYS, count=st.integers(1, 4), pattern=st.one_of(st.none(), PATTERNS))
    def full_hscan(self, key, count, pattern):
        options = ("COUNT", str(count)) + (("MATCH", pattern) if pattern is not None else ())
        found = []
        for client in (self.pair.ember, self.pair.redis):
            cursor, pairs = b"0", {}
            while True:
                reply = client.call("HSCAN", key, cursor, *options)
                if not isinstance(reply, list):
                    pairs = reply
                    break
                cursor, page = reply
                pairs.update(_as_map(page))
                if cursor == b"0":
                    break
            found.append(pairs)
        assert found[0] == found[1], (key, options, found)


def test_random_hash_command_sequences_match_redis(compat):
    HashMachine.pair = compat
    try:
        run_state_machine_as_test(HashMachine, settings=settings(
            max_examples=60, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
    finally:
        HashMachine.pair = None

"""A Hypothesis state machine for sets: random sequences of set commands sent to ember and
to a real redis-server, replies compared, and after every step the contents of every key
(TYPE, SCARD, SMEMBERS as a set) compared too.

Order: a set's member order is unspecified, so every reply listing members is compared
as a sorted list; integer replies, errors and intset-only replies are exact anyway.

Randomness: SPOP picks different members on the two servers. To keep their states
equal, SPOP runs on ember only and the reference removes the same members with SREM
(which must remove every one of them: they were members there too); the reply's size is
checked against the reference's SCARD. SRANDMEMBER is read-only: its reply is checked
for size, distinctness (positive counts) and membership on both servers.

Encodings: compared after each step, except that a 7.0 reference has no listpack sets
(it says hashtable, or intset after its SPOP rebuilt a set) and except for keys where
only ember ran SPOP (Redis 7.2 re-encodes a set SPOP nearly emptied).
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

from tests.rawclient import encode_command

KEY_NAMES = ["s0", "s1", "s2"]
KEYS = st.sampled_from(KEY_NAMES)
ANY_KEYS = st.sampled_from(KEY_NAMES + ["str"])
MEMBERS = st.sampled_from(["1", "2", "3", "-5", "10", "a", "b", "c", "", "01", "x" * 70,
                           "9223372036854775807", "9223372036854775808"])
COUNTS = st.one_of(st.integers(-6, 8), st.sampled_from([
    9223372036854775807, -9223372036854775808, 100]))
LISTING = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP", "SRANDMEMBER"}


def _sorted(reply):
    return sorted(reply) if isinstance(reply, list) else reply


class SetMachine(RuleBasedStateMachine):
    """Both servers start empty; every rule sends commands to both."""

    pair = None           # a tests.conftest.Compat, set by the test below
    old_reference = False

    @initialize()
    def start_clean(self):
        self.pair.check("FLUSHALL")
        self.pair.check("SET", "str", "a string")
        self.popped_only_here = set()

    def same(self, *args):
        args = tuple(str(a) if isinstance(a, int) else a for a in args)
        if args[0] in LISTING:
            ember, redis = self.pair.ember.call(*args), self.pair.redis.call(*args)
            assert _sorted(ember) == _sorted(redis), (args, ember, redis)
        else:
            self.pair.check(*args)

    @invariant()
    def same_contents(self):
        commands = []
        for key in KEY_NAMES:
            commands += [("TYPE", key), ("SCARD", key), ("SMEMBERS", key),
                         ("OBJECT", "ENCODING", key)]
        views = []
        for client in (self.pair.ember, self.pair.redis):
            client.send(b"".join(encode_command(*c) for c in commands))
            views.append([client.read_value() for _ in commands])
        for command, mine, theirs in zip(commands, *views):
            if command[0] == "OBJECT":
                key = command[2]
                if key in self.popped_only_here:
                    continue
                if self.old_reference and mine == b"listpack":
                    assert theirs in (b"hashtable", b"intset"), (command, mine, theirs)
                    continue
            assert _sorted(mine) == _sorted(theirs), (command, mine, theirs)

    # ---- writes ---------------------------------------------------------------------------

    @rule(key=ANY_KEYS, members=st.lists(MEMBERS, min_size=1, max_size=6))
    def sadd(self, key, members):
        self.same("SADD", key, *members)

    @rule(key=ANY_KEYS, members=st.lists(MEMBERS, min_size=1, max_size=4))
    def srem(self, key, members):
        self.same("SREM", key, *members)

    @rule(src=ANY_KEYS, dst=ANY_KEYS, member=MEMBERS)
    def smove(self, src, dst, member):
        self.same("SMOVE", src, dst, member)

    @rule(key=ANY_KEYS, count=st.one_of(st.none(), COUNTS))
    def spop(self, key, count):
        ember, redis = self.pair.ember, self.pair.redis
        if count is not None and count < 0:
            self.same("SPOP", key, count)
            return
        size = redis.call("SCARD", key) if redis.call("TYPE", key) == "set" else None
        args = ("SPOP", key) if count is None else ("SPOP", key, str(count))
        reply = ember.call(*args)
        if size is None:
            assert reply == redis.call(*args), (args, reply)
            return
        popped = [reply] if count is None else reply
        if count is None:
            assert reply is not None
        else:
            assert len(popped) == len(set(popped)) == min(count, size), (args, reply, size)
        if popped:
            assert redis.call("SREM", key, *popped) == len(popped), (args, popped)
            self.popped_only_here.add(key)

    @rule(dst=ANY_KEYS, keys=st.lists(ANY_KEYS, min_size=1, max_size=3),
          op=st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]))
    def store(self, dst, keys, op):
        self.same(op, dst, *keys)
        self.popped_only_here.discard(dst)

    @rule(key=KEYS)
    def delete(self, key):
        self.same("DEL", key)
        self.popped_only_here.discard(key)

    # ---- reads ----------------------------------------------------------------------------

    @rule(key=ANY_KEYS, members=st.lists(MEMBERS, min_size=1, max_size=3))
    def membership(self, key, members):
        self.same("SISMEMBER", key, members[0])
        self.same("SMISMEMBER", key, *members)
        self.same("SCARD", key)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=3),
          op=st.sampled_from(["SINTER", "SUNION", "SDIFF"]))
    def algebra(self, keys, op):
        self.same(op, *keys)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=3),
          limit=st.one_of(st.none(), st.integers(-1, 3)))
    def sintercard(self, keys, limit):
        extra = () if limit is None else ("LIMIT", limit)
        self.same("SINTERCARD", len(keys), *keys, *extra)

    @rule(key=ANY_KEYS, count=st.one_of(st.none(), COUNTS))
    def srandmember(self, key, count):
        args = ("SRANDMEMBER", key) if count is None else ("SRANDMEMBER", key, str(count))
        if count is not None and count < -1000:
            return          # Redis would stream 2**63 replies (ember refuses: see compat)
        ember, redis = self.pair.ember.call(*args), self.pair.redis.call(*args)
        if not isinstance(redis, (list, bytes)) or count is None and redis is None:
            assert ember == redis, (args, ember, redis)
            return
        members = set(self.pair.redis.call("SMEMBERS", key))
        if not members:                     # missing key: nil or an empty array
            assert ember == redis, (args, ember, redis)
            return
        for reply in (ember, redis):
            picked = [reply] if count is None else reply
            assert set(picked) <= members, (args, reply)
            if count is not None and count >= 0:
                assert len(picked) == len(set(picked)) == min(count, len(members))
            elif count is not None:
                assert len(picked) == -count

    @rule(key=ANY_KEYS, count=st.integers(1, 3), pattern=st.sampled_from([None, "*", "1*", "?"]))
    def sscan(self, key, count, pattern):
        options = ("COUNT", str(count)) + (("MATCH", pattern) if pattern else ())
        found = []
        for client in (self.pair.ember, self.pair.redis):
            cursor, members = "0", []
            while True:
                reply = client.call("SSCAN", key, cursor, *options)
                if not isinstance(reply, list):
                    members = reply
                    break
                cursor, page = reply
                members.extend(page)
                if cursor == b"0":
                    break
            found.append(sorted(set(members)) if isinstance(members, list) else members)
        assert found[0] == found[1], (key, options, found)


def test_random_set_command_sequences_match_redis(compat):
    info = compat.redis.call("INFO", "server").decode()
    version = next(x for x in info.splitlines() if x.startswith("redis_version:"))
    SetMachine.old_reference = tuple(int(p) for p in version.split(":")[1].split(".")) < (7, 2)
    SetMachine.pair = compat
    try:
        run_state_machine_as_test(SetMachine, settings=settings(
            max_examples=80, stateful_step_count=40, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
    finally:
        SetMachine.pair = None

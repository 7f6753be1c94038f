"""A Hypothesis state machine for lists: random sequences of list commands sent to ember
and to a real redis-server, every reply compared byte for byte, and after every step the
contents of every key (TYPE, LRANGE) and the dirty counter's growth (what decides
propagation) compared too.

Lists are deterministic, so everything is compared exactly. Blocking forms run when a
key can serve them (or fails them: WRONGTYPE), else with an invalid timeout. OBJECT
ENCODING is left to the compat and unit tests: a 7.0 reference has no listpack lists.
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

KEY_NAMES = ["l0", "l1"]
KEYS = st.sampled_from(KEY_NAMES)
# Mostly the lists (a string and a missing key for the errors and empty replies).
ANY_KEYS = st.one_of(KEYS, KEYS, KEYS, st.sampled_from(["str", "nokey"]))
# Mostly two values, so that pivots, LREM and LPOS find (repeated) matches.
ELEMENTS = st.one_of(st.sampled_from(["a", "b"]), st.sampled_from(["a", "b"]), st.sampled_from(
    ["1", "c", "-7", "", "01", "x" * 70, "9223372036854775808"]))
# sampled_from draws evenly (st.integers favours 0 and the bounds).
SPECIAL = ["9223372036854775807", "-9223372036854775808", "x"]
INDEXES = st.sampled_from(list(range(-8, 9)) + SPECIAL)
COUNTS = st.sampled_from([-3, -2, -1, -1, 0, 1, 1, 2, 3, 4] + SPECIAL)
SIDES = st.sampled_from(["LEFT", "RIGHT", "left", "up"])


class ListMachine(RuleBasedStateMachine):
    """Both servers start with two lists and a string; every rule sends to both."""

    pair = None           # a tests.conftest.Compat, set by the test below

    @initialize()
    def start_clean(self):
        self.pair.check("FLUSHALL")
        self.pair.check("SET", "str", "a string")
        self.pair.check("RPUSH", "l0", "a", "b", "a", "1", "a", "b", "x" * 70)
        self.pair.check("RPUSH", "l1", "b", "a", "b")
        self.dirty = [self._dirty(self.pair.ember), self._dirty(self.pair.redis)]

    @staticmethod
    def _dirty(client) -> int:
        info = client.call("INFO", "persistence").decode()
        line = next(x for x in info.splitlines() if x.startswith("rdb_changes_since"))
        return int(line.split(":")[1])

    def same(self, *args):
        self.pair.check(*(str(a) if isinstance(a, int) else a for a in args))

    def element_of(self, data, key: str) -> str:
        """Mostly an element the list at ``key`` holds (so pivots, LREM and LPOS match,
        often more than once), else any element."""
        held = self.pair.redis.call("LRANGE", key, "0", "-1")
        if isinstance(held, list) and held and data.draw(st.integers(0, 3)):
            return data.draw(st.sampled_from(held))
        return data.draw(ELEMENTS)

    def would_wait(self, keys) -> bool:
        """True if a blocking command on ``keys`` would wait (none of them exists). Redis
        times such a command out only at its next cron tick (up to 100 ms), so the machine
        sends those with an invalid timeout; the compat tests cover real timeouts."""
        return self.pair.redis.call("EXISTS", *keys) == 0

    @invariant()
    def same_contents_and_dirty_count(self):
        commands = []
        for key in KEY_NAMES + ["str"]:
            commands += [("TYPE", key), ("LRANGE", key, "0", "-1")]
        views = []
        for client in (self.pair.ember, self.pair.redis):
            client.send(b"".join(encode_command(*c) for c in commands))
            views.append([client.read_value() for _ in commands])
        for command, mine, theirs in zip(commands, *views):
            assert mine == theirs, (command, mine, theirs)
        now = [self._dirty(self.pair.ember), self._dirty(self.pair.redis)]
        assert now[0] - self.dirty[0] == now[1] - self.dirty[1], (self.dirty, now)
        self.dirty = now

    # ---- writes ---------------------------------------------------------------------------

    @rule(key=ANY_KEYS, elements=st.lists(ELEMENTS, min_size=1, max_size=5),
          command=st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]))
    def push(self, key, elements, command):
        self.same(command, key, *elements)

    # Pushes twice as likely as the rest: lists must grow long enough to be interesting.
    @rule(key=KEYS, elements=st.lists(ELEMENTS, min_size=2, max_size=8),
          left=st.booleans())
    def push_more(self, key, elements, left):
        self.same("LPUSH" if left else "RPUSH", key, *elements)

    @rule(key=ANY_KEYS, command=st.sampled_from(["LPOP", "RPOP"]),
          count=st.one_of(st.none(), COUNTS))
    def pop(self, key, command, count):
        self.same(command, key, *(() if count is None else (count,)))

    @rule(key=ANY_KEYS, index=INDEXES, element=ELEMENTS)
    def lset(self, key, index, element):
        self.same("LSET", key, index, element)

    @rule(key=ANY_KEYS, where=st.sampled_from(["BEFORE", "after", "x"]), data=st.data(),
          element=ELEMENTS)
    def linsert(self, key, where, data, element):
        self.same("LINSERT", key, where, self.element_of(data, key), element)

    @rule(key=ANY_KEYS, count=COUNTS, data=st.data())
    def lrem(self, key, count, data):
        self.same("LREM", key, count, self.element_of(data, key))

    @rule(key=ANY_KEYS, start=st.one_of(st.sampled_from(range(-4, 3)), INDEXES),
          end=st.one_of(st.sampled_from(range(-2, 9)), INDEXES))
    def ltrim(self, key, start, end):
        self.same("LTRIM", key, start, end)

    @rule(src=ANY_KEYS, dst=ANY_KEYS, wherefrom=SIDES, whereto=SIDES)
    def lmove(self, src, dst, wherefrom, whereto):
        self.same("LMOVE", src, dst, wherefrom, whereto)

    @rule(src=ANY_KEYS, dst=ANY_KEYS)
    def rpoplpush(self, src, dst):
        self.same("RPOPLPUSH", src, dst)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=3), where=SIDES,
          count=st.one_of(st.none(), COUNTS), numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]))
    def lmpop(self, keys, where, count, numkeys_delta):
        extra = () if count is None else ("COUNT", count)
        self.same("LMPOP", len(keys) + numkeys_delta, *keys, where, *extra)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=3),
          command=st.sampled_from(["BLPOP", "BRPOP"]),
          timeout=st.sampled_from(["0", "0.5", "-1", "x"]))
    def blocking_pop(self, keys, command, timeout):
        if self.would_wait(keys):
            timeout = "-1"
        self.same(command, *keys, timeout)

    @rule(src=ANY_KEYS, dst=ANY_KEYS, wherefrom=SIDES, whereto=SIDES, legacy=st.booleans())
    def blocking_move(self, src, dst, wherefrom, whereto, legacy):
        timeout = "x" if self.would_wait([src]) else "0"
        if legacy:
            self.same("BRPOPLPUSH", src, dst, timeout)
        else:
            self.same("BLMOVE", src, dst, wherefrom, whereto, timeout)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=2), where=SIDES,
          count=st.one_of(st.none(), st.integers(1, 4)))
    def blmpop(self, keys, where, count):
        extra = () if count is None else ("COUNT", count)
        timeout = "-1" if self.would_wait(keys) else "0"
        self.same("BLMPOP", timeout, len(keys), *keys, where, *extra)

    @rule(key=KEYS)
    def delete(self, key):
        self.same("DEL", key)

    @rule(src=KEYS, dst=ANY_KEYS)
    def copy_or_rename(self, src, dst):
        self.same("COPY", src, dst, "REPLACE")
        self.same("RENAME", dst, src)

    # ---- reads ----------------------------------------------------------------------------

    @rule(key=ANY_KEYS, start=INDEXES, end=INDEXES)
    def lrange(self, key, start, end):
        self.same("LRANGE", key, start, end)
        self.same("LLEN", key)

    @rule(key=ANY_KEYS, index=INDEXES)
    def lindex(self, key, index):
        self.same("LINDEX", key, index)

    @rule(key=ANY_KEYS, data=st.data(), rank=st.one_of(st.none(), st.integers(-3, 3)),
          count=st.one_of(st.none(), st.integers(-1, 3)),
          maxlen=st.one_of(st.none(), st.integers(-1, 4)))
    def lpos(self, key, data, rank, count, maxlen):
        element = self.element_of(data, key)
        options = ()
        for name, value in (("RANK", rank), ("COUNT", count), ("MAXLEN", maxlen)):
            if value is not None:
                options += (name, value)
        self.same("LPOS", key, element, *options)


def test_random_list_command_sequences_match_redis(compat):
    ListMachine.pair = compat
    try:
        run_state_machine_as_test(ListMachine, settings=settings(
            max_examples=100, stateful_step_count=40, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
    finally:
        ListMachine.pair = None

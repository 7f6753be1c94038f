"""A Hypothesis state machine for streams with consumer groups: random sequences of XADD
(explicit and ``ms-*`` IDs, exact and approximate trimming), XDEL, XTRIM, XSETID, XGROUP,
XREADGROUP, XACK, XCLAIM, XAUTOCLAIM and reads, sent to ember and to a real
redis-server, every reply compared byte for byte; after every step each stream's
entries, XLEN, XINFO GROUPS (last IDs, entries-read, lag, pending) and each group's
XPENDING summary are compared too.

Nothing clock-dependent is compared: IDs are explicit (never ``*``), min-idle times are
0 and idle times are never read. Small listpack nodes (stream-node-max-entries 4) make
approximate trimming and node removal happen often.
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

KEY_NAMES = ["s0", "s1"]
KEYS = st.sampled_from(KEY_NAMES)
ANY_KEYS = st.one_of(KEYS, KEYS, KEYS, st.sampled_from(["str", "nokey"]))
GROUPS = st.sampled_from(["g1", "g2", "g1"])
CONSUMERS = st.sampled_from(["alice", "bob", "carol"])
MS = st.integers(0, 40)
SEQ = st.integers(0, 3)
IDS = st.one_of(st.builds(lambda m, s: f"{m}-{s}", MS, SEQ), st.builds(str, MS),
                st.sampled_from(["0", "-", "+", "x", "0-0"]))
COUNTS = st.sampled_from([None, 0, 1, 2, 3, -1])


class StreamMachine(RuleBasedStateMachine):
    """Both servers hold two streams (one with a group) and a string."""

    pair = None

    @initialize()
    def start_clean(self):
        self.pair.check("FLUSHALL")
        for client in (self.pair.ember, self.pair.redis):
            client.call("CONFIG", "SET", "stream-node-max-entries", "4")
        self.pair.check("SET", "str", "a string")
        for i in range(1, 6):
            self.pair.check("XADD", "s0", f"{i}-0", "f", str(i))
        self.pair.check("XGROUP", "CREATE", "s0", "g1", "0")
        info = self.pair.redis.call("INFO", "server").decode()
        version = next(x for x in info.splitlines() if x.startswith("redis_version:"))
        self.old_reference = tuple(int(p) for p in version[14:].split(".")) < (7, 2)

    def claimer(self, key, group, consumer):
        """Redis 7.2 creates the consumer of XREADGROUP, XCLAIM and XAUTOCLAIM up front
        (and sets its seen-time); 7.0 only when it serves or claims something. Against
        a 7.0 reference the consumer is created first, so that both versions agree."""
        if self.old_reference:
            self.same("XGROUP", "CREATECONSUMER", key, group, consumer)

    def same(self, *args):
        self.pair.check(*(str(a) for a in args if a is not None))

    def entry_id(self, data, key: str) -> str:
        """Mostly an ID the stream holds or had, else any ID."""
        held = self.pair.redis.call("XRANGE", key, "-", "+")
        if isinstance(held, list) and held and data.draw(st.integers(0, 3)):
            return data.draw(st.sampled_from([e[0].decode() for e in held]))
        return data.draw(IDS)

    @invariant()
    def same_streams_and_groups(self):
        for key in KEY_NAMES:
            self.same("XRANGE", key, "-", "+")
            self.same("XLEN", key)
            self.same("TYPE", key)
            groups = self.pair.redis.call("XINFO", "GROUPS", key)
            self.same("XINFO", "GROUPS", key)
            if isinstance(groups, list):
                for group in groups:
                    self.same("XPENDING", key, group[1])

    # ---- entries ------------------------------------------------------------------------

    @rule(key=ANY_KEYS, ms=MS, seq=st.one_of(SEQ, st.just("*")), data=st.data(),
          trim=st.sampled_from([None, "MAXLEN", "MINID"]),
          how=st.sampled_from(["=", "~", ""]), limit=st.sampled_from([None, 0, 3, 5]),
          nomkstream=st.booleans(), nfields=st.integers(1, 3))
    def xadd(self, key, ms, seq, data, trim, how, limit, nomkstream, nfields):
        args = ["XADD", key]
        if nomkstream:
            args.append("NOMKSTREAM")
        if trim:
            args += [trim] + ([how] if how else [])
            args.append(str(data.draw(st.integers(0, 6))) if trim == "MAXLEN"
                        else f"{data.draw(MS)}")
            if limit is not None:
                args += ["LIMIT", str(limit)]
        args.append(f"{ms}-{seq}")
        for i in range(nfields):
            args += [f"f{i}", data.draw(st.sampled_from(["v", "1", "", "xy"]))]
        self.same(*args)

    @rule(key=ANY_KEYS, data=st.data(), n=st.integers(1, 3))
    def xdel(self, key, data, n):
        self.same("XDEL", key, *[self.entry_id(data, key) for _ in range(n)])

    @rule(key=ANY_KEYS, data=st.data(), trim=st.sampled_from(["MAXLEN", "MINID"]),
          how=st.sampled_from(["=", "~", ""]), limit=st.sampled_from([None, 0, 2, 4]))
    def xtrim(self, key, data, trim, how, limit):
        value = str(data.draw(st.integers(0, 6))) if trim == "MAXLEN" else \
            self.entry_id(data, key)
        extra = ("LIMIT", limit) if limit is not None else ()
        self.same("XTRIM", key, trim, *([how] if how else []), value, *extra)

    @rule(key=ANY_KEYS, data=st.data(), added=st.sampled_from([None, 0, 5, 50]),
          maxdel=st.booleans())
    def xsetid(self, key, data, added, maxdel):
        args = ["XSETID", key, data.draw(st.builds(lambda m, s: f"{m}-{s}",
                                                   st.integers(30, 60), SEQ))]
        if added is not None:
            args += ["ENTRIESADDED", added]
        if maxdel:
            args += ["MAXDELETEDID", self.entry_id(data, key)]
        self.same(*args)

    @rule(key=ANY_KEYS, data=st.data(), count=COUNTS, reverse=st.booleans())
    def xrange(self, key, data, count, reverse):
        start, end = self.entry_id(data, key), self.entry_id(data, key)
        extra = ("COUNT", count) if count is not None else ()
        if reverse:
            self.same("XREVRANGE", key, end, start, *extra)
        else:
            self.same("XRANGE", key, start, end, *extra)

    @rule(keys=st.lists(ANY_KEYS, min_size=1, max_size=2), data=st.data(), count=COUNTS)
    def xread(self, keys, data, count):
        # ("+", the last entry, is Redis 7.4's: compared in the compat tests.)
        ids = [data.draw(st.one_of(IDS.filter(lambda i: i != "+"), st.just("$")))
               for _ in keys]
        extra = ("COUNT", count) if count is not None else ()
        self.same("XREAD", *extra, "STREAMS", *keys, *ids)

    # ---- groups -------------------------------------------------------------------------

    @rule(key=ANY_KEYS, group=GROUPS, data=st.data(), mkstream=st.booleans(),
          entries_read=st.sampled_from([None, None, 0, 2, -1]))
    def xgroup_create(self, key, group, data, mkstream, entries_read):
        start = data.draw(st.sampled_from(["0", "$", self.entry_id(data, key)]))
        args = ["XGROUP", "CREATE", key, group, start]
        if mkstream:
            args.append("MKSTREAM")
        if entries_read is not None:
            args += ["ENTRIESREAD", entries_read]
        self.same(*args)

    @rule(key=ANY_KEYS, group=GROUPS, data=st.data(),
          entries_read=st.sampled_from([None, 0, 3]))
    def xgroup_setid(self, key, group, data, entries_read):
        start = data.draw(st.sampled_from(["0", "$", self.entry_id(data, key)]))
        extra = ("ENTRIESREAD", entries_read) if entries_read is not None else ()
        self.same("XGROUP", "SETID", key, group, start, *extra)

    @rule(key=ANY_KEYS, group=GROUPS, consumer=CONSUMERS,
          what=st.sampled_from(["DESTROY", "CREATECONSUMER", "DELCONSUMER", "DELCONSUMER"]))
    def xgroup_other(self, key, group, consumer, what):
        if what == "DESTROY":
            self.same("XGROUP", what, key, group)
        else:
            self.same("XGROUP", what, key, group, consumer)

    @rule(key=ANY_KEYS, group=GROUPS, consumer=CONSUMERS, data=st.data(), count=COUNTS,
          noack=st.booleans())
    def xreadgroup(self, key, group, consumer, data, count, noack):
        start = data.draw(st.sampled_from([">", ">", "0", self.entry_id(data, key)]))
        self.claimer(key, group, consumer)
        args = ["XREADGROUP", "GROUP", group, consumer]
        if count is not None:
            args += ["COUNT", count]
        if noack:
            args.append("NOACK")
        self.same(*args, "STREAMS", key, start)

    @rule(key=ANY_KEYS, group=GROUPS, data=st.data(), n=st.integers(1, 3))
    def xack(self, key, group, data, n):
        self.same("XACK", key, group, *[self.entry_id(data, key) for _ in range(n)])

    @rule(key=ANY_KEYS, group=GROUPS, consumer=CONSUMERS, data=st.data(),
          n=st.integers(1, 3), justid=st.booleans(), force=st.booleans(),
          retry=st.sampled_from([None, 0, 5]), lastid=st.booleans())
    def xclaim(self, key, group, consumer, data, n, justid, force, retry, lastid):
        self.claimer(key, group, consumer)
        args = ["XCLAIM", key, group, consumer, "0"]
        args += [self.entry_id(data, key) for _ in range(n)]
        if justid:
            args.append("JUSTID")
        if force:
            args.append("FORCE")
        if retry is not None:
            args += ["RETRYCOUNT", retry]
        if lastid:
            args += ["LASTID", self.entry_id(data, key)]
        self.same(*args)

    @rule(key=ANY_KEYS, group=GROUPS, consumer=CONSUMERS, data=st.data(),
          count=st.sampled_from([None, 1, 2, 5]), justid=st.booleans())
    def xautoclaim(self, key, group, consumer, data, count, justid):
        self.claimer(key, group, consumer)
        args = ["XAUTOCLAIM", key, group, consumer, "0", self.entry_id(data, key)]
        if count is not None:
            args += ["COUNT", count]
        if justid:
            args.append("JUSTID")
        self.same(*args)

    @rule(key=ANY_KEYS, group=GROUPS, consumer=st.one_of(st.none(), CONSUMERS),
          data=st.data(), count=st.sampled_from([0, 1, 3, 10]))
    def xpending_ids(self, key, group, consumer, data, count):
        """XPENDING's extended form, compared on IDs, owners and delivery counts."""
        args = ["XPENDING", key, group, self.entry_id(data, key), "+", str(count)]
        if consumer:
            args.append(consumer)
        ours, theirs = self.pair.ember.call(*args), self.pair.redis.call(*args)

        def strip(reply):
            if isinstance(reply, list):
                return [[e[0], e[1], e[3]] for e in reply]
            return reply
        assert strip(ours) == strip(theirs), (args, ours, theirs)


def test_random_stream_command_sequences_match_redis(compat):
    StreamMachine.pair = compat
    try:
        run_state_machine_as_test(StreamMachine, settings=settings(
            max_examples=40, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                   HealthCheck.too_slow]))
    finally:
        for client in (compat.ember, compat.redis):
            client.call("CONFIG", "SET", "stream-node-max-entries", "100")
        StreamMachine.pair = None

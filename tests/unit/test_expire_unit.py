"""TTL behaviour under an injected clock: no sockets, time moved by hand.

Lazy expiry on every read path, an expired key never readable, active expiry through
``db.active_expire`` and the deadline index, what the TTL commands propagate (absolute
PEXPIREAT, DEL for a deadline in the past) and the keyspace events they record.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.errors import ReplyError
from tests.unit.harness import START_MS, Harness


def test_relative_commands_propagate_absolute_pexpireat(h):
    h("SET", "k", "v")
    h.propagated.clear()
    assert h("EXPIRE", "k", 10) == 1
    assert h("PEXPIRE", "k", 2500, "GT") == 0
    assert h("PEXPIRE", "k", 20000, "GT") == 1
    assert h("EXPIREAT", "k", START_MS // 1000 + 30) == 1
    assert h("PEXPIREAT", "k", START_MS + 40000) == 1
    assert h.propagated == [
        [b"PEXPIREAT", b"k", b"%d" % (START_MS + 10000)],
        [b"PEXPIREAT", b"k", b"%d" % (START_MS + 20000), b"GT"],
        [b"PEXPIREAT", b"k", b"%d" % (START_MS + 30000)],
        [b"PEXPIREAT", b"k", b"%d" % (START_MS + 40000)],
    ]
    assert h.events[-1] == ("expire", b"k")


def test_deadline_in_the_past_deletes_and_propagates_del(h):
    h("SET", "k", "v")
    h.propagated.clear()
    assert h("PEXPIREAT", "k", START_MS) == 1         # "now" is already past
    assert h.db.data == {}
    assert h.propagated == [[b"DEL", b"k"]]
    assert h.events[-1] == ("del", b"k")
    h("SET", "k", "v")
    h.engine.config.lazyfree_lazy_expire = True
    h.propagated.clear()
    assert h("EXPIRE", "k", -5) == 1
    assert h.propagated == [[b"UNLINK", b"k"]]
    h.propagated.clear()
    assert h("EXPIRE", "k", -5) == 0 and h.propagated == []


def test_an_expired_key_is_never_readable(h):
    h("SET", "k", "v")
    h("PEXPIRE", "k", 100)
    h.advance(99)
    assert h("GET", "k") == b"v" and h("PTTL", "k") == 1 and h("TTL", "k") == 0
    h.advance(1)
    # At the deadline itself the key still lives: Redis expires when now > deadline.
    assert h("PTTL", "k") == 0 and h("GET", "k") == b"v"
    h.advance(1)
    assert h.db.data                                  # still stored: nobody looked yet
    for command in (("GET", "k"), ("EXISTS", "k"), ("TYPE", "k"), ("TTL", "k"),
                    ("PTTL", "k"), ("EXPIRETIME", "k"), ("PERSIST", "k"),
                    ("EXPIRE", "k", 100), ("KEYS", "*"), ("RANDOMKEY",), ("MOVE", "k", 1),
                    ("COPY", "k", "c"), ("OBJECT", "ENCODING", "k"), ("SCAN", 0)):
        h("SET", "k", "v")
        h("PEXPIRE", "k", 1)
        h.advance(2)
        reply = h(*command)
        assert reply in (None, 0, -2, [], [b"0", []], "none"), command
    with pytest.raises(ReplyError, match="no such key"):
        h("SET", "k", "v")
        h("PEXPIRE", "k", 1)
        h.advance(2)
        h("RENAME", "k", "x")


def test_lazy_expiry_reports_expired_and_propagates_del(h):
    h("SET", "k", "v")
    h("PEXPIRE", "k", 10)
    h.propagated.clear()
    h.advance(10)
    assert h("GET", "k") == b"v" and h.propagated == []   # alive at the deadline
    h.advance(1)
    assert h("GET", "k") is None
    assert h.propagated == [[b"DEL", b"k"]]
    assert h.events[-1] == ("expired", b"k")
    assert h.engine.keyspace_stats.expired == 1


def test_active_expiry_removes_due_keys_only(h):
    for i in range(100):
        h("SET", "k%d" % i, "v")
        h("PEXPIRE", "k%d" % i, 10 + i)
    h("SET", "forever", "v")
    h("PEXPIRE", "k5", 1000)                          # a stale index entry for k5
    h.advance(50)
    removed = h.db.active_expire(1000)
    assert removed == 39                              # k0..k39 minus k5
    assert b"k5" in h.db.data and b"k39" not in h.db.data
    assert b"k40" in h.db.data                        # its deadline is now: not yet due
    assert h.db.active_expire(1000) == 0
    h.advance(1)
    assert h.db.active_expire(1000) == 1              # k40, 1 ms past its deadline
    assert b"k40" not in h.db.data and b"k41" in h.db.data
    assert h.db.active_expire(1000) == 0
    h.advance(10_000)
    assert h.db.active_expire(5) == 5                 # the budget is respected
    h.db.active_expire(1000)
    assert list(h.db.data) == [b"forever"]


def test_ttl_rounding_and_absolute_times(h):
    h("SET", "k", "v")
    h("PEXPIRE", "k", 1499)
    assert h("TTL", "k") == 1 and h("PTTL", "k") == 1499
    h("PEXPIRE", "k", 1500)
    assert h("TTL", "k") == 2
    assert h("EXPIRETIME", "k") == (START_MS + 1500 + 500) // 1000
    assert h("PEXPIRETIME", "k") == START_MS + 1500
    assert h("TTL", "nokey") == -2 and h("PTTL", "nokey") == -2
    h("PERSIST", "k")
    assert h("TTL", "k") == -1 and h("PEXPIRETIME", "k") == -1


def test_persist_and_writes_that_clear_or_keep_ttl(h):
    h("SET", "k", "v", "EX", 100)
    assert h("PERSIST", "k") == 1 and h.events[-1] == ("persist", b"k")
    assert h("PERSIST", "k") == 0 and h("PERSIST", "nokey") == 0
    h("EXPIRE", "k", 100)
    h("INCR", "n")
    h("EXPIRE", "n", 100)
    h("INCR", "n")
    assert h("TTL", "n") == 100                       # INCR keeps the TTL
    h("SET", "k", "w")
    assert h("TTL", "k") == -1                        # SET clears it


def test_overflow_errors(h):
    h("SET", "k", "v")
    for command in (("EXPIRE", "k", 2 ** 63 - 1), ("EXPIRE", "k", -(2 ** 63)),
                    ("PEXPIRE", "k", 2 ** 63 - 1), ("EXPIREAT", "k", 2 ** 63 // 1000 + 1)):
        with pytest.raises(ReplyError, match="invalid expire time in '%s' command"
                           % command[0].lower()):
            h(*command)
    assert h("PEXPIREAT", "k", 2 ** 63 - 1) == 1
    assert h("PEXPIRETIME", "k") == 2 ** 63 - 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["EXPIRE", "PEXPIRE", "PEXPIREAT", "PERSIST", "ADVANCE", "SET"]),
    st.integers(-5, 200), st.sampled_from([(), ("NX",), ("XX",), ("GT",), ("LT",)])),
    max_size=30))
def test_ttl_model(ops):
    """Random TTL commands against a tiny model of Redis's rules."""
    h = Harness()
    model_deadline = "absent"                         # "absent", None (no TTL) or ms
    for name, amount, flags in ops:
        now = h.now
        # Redis expires a key only once now > deadline (db.c keyIsExpired).
        if model_deadline not in ("absent", None) and model_deadline < now:
            model_deadline = "absent"
        if name == "ADVANCE":
            h.advance(abs(amount))
            continue
        if name == "SET":
            h("SET", "k", "v")
            model_deadline = None
            continue
        if name == "PERSIST":
            expected = 1 if model_deadline not in ("absent", None) else 0
            assert h("PERSIST", "k") == expected
            if expected:
                model_deadline = None
            continue
        when = {"EXPIRE": now + amount * 1000, "PEXPIRE": now + amount,
                "PEXPIREAT": now + amount}[name]
        arg = amount if name != "PEXPIREAT" else now + amount
        reply = h(name, "k", arg, *flags)
        current = None if model_deadline in ("absent", None) else model_deadline
        if model_deadline == "absent":
            expected = 0
        elif flags == ("NX",) and current is not None:
            expected = 0
        elif flags == ("XX",) and current is None:
            expected = 0
        elif flags == ("GT",) and (current is None or when <= current):
            expected = 0
        elif flags == ("LT",) and current is not None and when >= current:
            expected = 0
        else:
            expected = 1
            model_deadline = "absent" if when <= now else when
        assert reply == expected
        ttl = h("PTTL", "k")
        if model_deadline == "absent":
            assert ttl == -2
        elif model_deadline is None:
            assert ttl == -1
        else:
            assert ttl == model_deadline - h.now

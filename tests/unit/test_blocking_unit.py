"""The blocking framework without sockets: the registry, FIFO fairness, re-runs against
the current data, chained wake-ups, timeouts under an injected clock, CLIENT UNBLOCK,
disconnects, MULTI-style deny_blocking, and the timeout argument's parsing.

The blocking commands here are toy specs built for the test (not in the command table):
BGET waits until its key holds a string and then takes it (GET + DEL); BMOVE waits on a
source string and moves it to a destination key, which can wake a BGET blocked there.
"""

import pytest

import ember.commands
from ember.commands.blocking import BLOCKED, Block, Waiter, timeout_arg
from ember.commands.engine import Engine
from ember.commands.registry import CommandSpec
from ember.errors import ReplyError
from ember.protocol.replies import NULL_ARRAY
from ember.server.config import Config

ember.commands.load_all()
NOW = 1_700_000_000_000


def _bget(ctx, argv):
    """BGET key [key ...] timeout: take the first string found, or block."""
    deadline = timeout_arg(ctx, argv[-1])
    for key in argv[1:-1]:
        value = ctx.db.lookup_write(key)
        if value is not None and value != b"wait":
            ctx.db.delete(key)
            ctx.engine.key_modified(ctx.db, key, "del")
            return [key, value]
    raise Block(argv[1:-1], deadline, kind="string", nil=None)


def _bmove(ctx, argv):
    """BMOVE src dst timeout: move the string at src to dst, or block on src."""
    deadline = timeout_arg(ctx, argv[3])
    value = ctx.db.lookup_write(argv[1])
    if value is None:
        raise Block([argv[1]], deadline, kind="string")
    ctx.db.delete(argv[1])
    ctx.engine.key_modified(ctx.db, argv[1], "del")
    ctx.db.set(argv[2], value)
    ctx.engine.key_modified(ctx.db, argv[2], "set")
    return value


BGET = CommandSpec(name="bget", arity=-3, flags=("write", "blocking"), handler=_bget)
BMOVE = CommandSpec(name="bmove", arity=4, flags=("write", "blocking"), handler=_bmove)


@pytest.fixture
def clock():
    return {"ms": NOW}


@pytest.fixture
def engine(clock):
    return Engine(Config(), clock=lambda: clock["ms"])


def b(*args):
    return [a.encode() if isinstance(a, str) else a for a in args]


def run(engine, client, *args):
    return engine.execute(client, b(*args))


def block(engine, client, spec, *args):
    """Run a toy blocking command the way execute would (call, then serve ready keys)."""
    reply = engine.call(client, spec, b(spec.name, *args))
    if engine.ready_keys:
        engine.blocking.handle_ready()
    return reply


def test_a_blocked_client_is_registered_and_served_by_a_write(engine):
    waiter_client, writer = engine.new_client(), engine.new_client()
    assert block(engine, waiter_client, BGET, "k", "0") is BLOCKED
    waiter = waiter_client.blocked
    assert isinstance(waiter, Waiter) and waiter.keys == [b"k"] and waiter.deadline_ms == 0
    assert engine.blocking.blocking_keys() == 1
    assert engine.blocking._key_event in engine.keyspace_listeners
    assert BGET.calls == 0                   # a blocked command is counted when it ends
    run(engine, writer, "SET", "k", "v")
    assert waiter.reply == [b"k", b"v"] and waiter_client.blocked is None
    assert run(engine, writer, "EXISTS", "k") == 0        # the re-run took it
    assert engine.blocking.waiting == {} and engine.blocking.ready == {}
    assert engine.blocking._key_event not in engine.keyspace_listeners   # costs nothing now
    assert BGET.calls == 1


def test_an_available_value_is_served_without_blocking(engine):
    client = engine.new_client()
    run(engine, client, "SET", "k", "v")
    assert block(engine, client, BGET, "nokey", "k", "0") == [b"k", b"v"]
    assert client.blocked is None and engine.blocking.waiting == {}


def test_clients_blocked_on_a_key_are_served_first_come_first_served(engine):
    clients = [engine.new_client() for _ in range(3)]
    writer = engine.new_client()
    for client in clients:
        assert block(engine, client, BGET, "k", "0") is BLOCKED
    waiters = [c.blocked for c in clients]
    for n, expected in enumerate(waiters):
        run(engine, writer, "SET", "k", "v%d" % n)
        assert expected.reply == [b"k", b"v%d" % n]
        assert [w.reply for w in waiters[n + 1:]] == [None] * (2 - n)


def test_a_rerun_that_finds_nothing_blocks_again_with_its_first_deadline(engine, clock):
    first, second, writer = engine.new_client(), engine.new_client(), engine.new_client()
    block(engine, first, BGET, "k", "10")
    clock["ms"] += 4000
    engine.tick()
    block(engine, second, BGET, "k", "10")
    waiter = first.blocked
    run(engine, writer, "SET", "k", "wait")   # a string, but BGET refuses "wait": re-blocks
    assert first.blocked is waiter and waiter.reply is None
    assert waiter.deadline_ms == NOW + 10_000            # the first deadline, not a new one
    # Both were retried in order and went to the back in that order: FIFO still holds.
    assert list(engine.blocking.waiting[(0, b"k")]) == [waiter, second.blocked]
    run(engine, writer, "SET", "k", "go")
    assert waiter.reply == [b"k", b"go"] and second.blocked is not None


def test_several_keys_first_one_ready_serves_and_all_are_released(engine):
    client, writer = engine.new_client(), engine.new_client()
    block(engine, client, BGET, "a", "b", "a", "0")       # duplicates count once
    waiter = client.blocked
    assert waiter.keys == [b"a", b"b"]
    run(engine, writer, "SET", "b", "x")
    assert waiter.reply == [b"b", b"x"]
    assert engine.blocking.waiting == {}


def test_a_write_of_another_type_does_not_wake(engine):
    client, writer = engine.new_client(), engine.new_client()

    def wait_for_a_zset(ctx, argv):
        raise Block([b"k"], 0, kind="zset")

    block(engine, client, CommandSpec(name="bz", arity=3, flags=("blocking",),
                                      handler=wait_for_a_zset), "k", "0")
    run(engine, writer, "SET", "k", "v")
    assert client.blocked is not None and client.blocked.reply is None


def test_chained_wake_ups_in_one_pass(engine):
    mover, getter, writer = engine.new_client(), engine.new_client(), engine.new_client()
    block(engine, mover, BMOVE, "src", "dst", "0")
    block(engine, getter, BGET, "dst", "0")
    moving, getting = mover.blocked, getter.blocked
    run(engine, writer, "SET", "src", "v")
    assert moving.reply == b"v" and getting.reply == [b"dst", b"v"]
    assert run(engine, writer, "DBSIZE") == 0


def test_deny_blocking_answers_nil_at_once(engine):
    client = engine.new_client()
    client.flags.add("deny_blocking")           # what EXEC and scripts set
    assert block(engine, client, BGET, "k", "0") is None        # BGET's nil
    assert block(engine, client, BMOVE, "k", "d", "0") is NULL_ARRAY
    assert client.blocked is None and engine.blocking.waiting == {}
    assert BGET.calls >= 1


def test_timeouts_follow_the_injected_clock(engine, clock):
    early, late, forever = engine.new_client(), engine.new_client(), engine.new_client()
    block(engine, early, BGET, "k", "0.5")
    block(engine, late, BGET, "k", "1.5")
    block(engine, forever, BGET, "k", "0")
    assert engine.blocking.in_timeout_table() == 2
    waiters = early.blocked, late.blocked, forever.blocked
    clock["ms"] += 499
    engine.tick()
    assert engine.blocking.expire_due() == 0
    clock["ms"] += 1
    engine.tick()
    assert engine.blocking.expire_due() == 1
    assert waiters[0].reply is NULL_ARRAY and early.blocked is None
    clock["ms"] += 10_000_000
    engine.tick()
    assert engine.blocking.expire_due() == 1
    assert waiters[1].reply is NULL_ARRAY and forever.blocked is waiters[2]


def test_client_unblock_timeout_and_error(engine):
    first, second, admin = engine.new_client(), engine.new_client(), engine.new_client()
    block(engine, first, BGET, "k", "0")
    block(engine, second, BGET, "k", "0")
    waiters = first.blocked, second.blocked
    errors_before = engine.stats.total_error_replies
    assert run(engine, admin, "CLIENT", "UNBLOCK", str(first.id)) == 1
    assert waiters[0].reply is NULL_ARRAY
    assert run(engine, admin, "CLIENT", "UNBLOCK", str(first.id), "ERROR") == 0  # not blocked
    assert run(engine, admin, "CLIENT", "UNBLOCK", str(second.id), "error") == 1
    assert waiters[1].reply == ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert engine.stats.error_counts["UNBLOCKED"] == 1
    assert engine.stats.total_error_replies == errors_before + 1
    assert run(engine, admin, "CLIENT", "UNBLOCK", "12345") == 0
    assert run(engine, admin, "CLIENT", "UNBLOCK", "x", "foo") == ReplyError(
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    assert run(engine, admin, "CLIENT", "UNBLOCK", "x") == ReplyError(
        "ERR value is not an integer or out of range")
    assert engine.blocking.waiting == {}


def test_a_client_that_disconnects_leaves_nothing_behind(engine):
    gone, stays, writer = engine.new_client(), engine.new_client(), engine.new_client()
    block(engine, gone, BGET, "k", "other", "0")
    block(engine, stays, BGET, "k", "0")
    released = []
    engine.blocking.on_release = lambda waiter, reply: released.append((waiter, reply))
    engine.remove_client(gone)
    assert len(released) == 1 and released[0][0].client is gone   # told: cancel the timer
    assert list(engine.blocking.waiting) == [(0, b"k")]
    run(engine, writer, "SET", "k", "v")
    assert released[1][0].client is stays and released[1][1] == [b"k", b"v"]
    assert engine.blocking.waiting == {}


def test_held_defers_serving_until_the_outer_command_ends(engine):
    client, writer = engine.new_client(), engine.new_client()
    block(engine, client, BGET, "k", "0")
    waiter = client.blocked
    with engine.blocking.held():           # e.g. a script running SET then DEL
        run(engine, writer, "SET", "k", "v")
        assert waiter.reply is None
        run(engine, writer, "DEL", "k")
    engine.blocking.handle_ready()
    assert client.blocked is waiter        # the key was gone again by the end
    run(engine, writer, "SET", "k", "v2")
    assert waiter.reply == [b"k", b"v2"]


def test_swapdb_and_flushes_make_waited_keys_ready(engine):
    client, writer = engine.new_client(), engine.new_client()
    block(engine, client, BGET, "k", "0")
    waiter = client.blocked
    run(engine, writer, "SELECT", "1")
    run(engine, writer, "SET", "k", "from-db1")
    assert waiter.reply is None                    # another database
    run(engine, writer, "SWAPDB", "0", "1")
    assert waiter.reply == [b"k", b"from-db1"]


def test_monitors_see_a_blocking_command_once(engine):
    client, writer, monitor = engine.new_client(), engine.new_client(), engine.new_client()
    lines = []

    class Conn:
        closing = False

        def write(self, data):
            lines.append(data)

    monitor.conn = Conn()
    run(engine, monitor, "MONITOR")
    block(engine, client, BGET, "k", "0")
    run(engine, writer, "SET", "k", "v")
    assert [line.count(b'"bget"') for line in lines] == [1, 0]


@pytest.mark.parametrize("arg, expected", [
    ("0", 0), ("1", NOW + 1000), ("0.5", NOW + 500), ("0.0001", NOW + 1), ("1e-9", NOW + 1),
    ("-0.0001", 0), ("0x1p-20", NOW + 1), ("1.0005", NOW + 1001), ("inf", "range"),
    ("1e30", "range"), ("9223372036854775.807", "range"), ("-1", "negative"),
    ("-inf", "negative"), ("-1e30", "negative"), ("nan", "float"), ("", "float"),
    ("abc", "float"), (" 1", "float"), ("1 ", "float"), ("1e5000", "float"),
])
def test_timeout_argument_in_seconds(engine, arg, expected):
    client = engine.new_client()
    if isinstance(expected, int):
        assert timeout_arg(client, arg.encode()) == expected
    else:
        with pytest.raises(ReplyError) as err:
            timeout_arg(client, arg.encode())
        assert err.value.message == {
            "range": "ERR timeout is out of range", "negative": "ERR timeout is negative",
            "float": "ERR timeout is not a float or out of range"}[expected]


def test_timeout_argument_in_milliseconds(engine):
    client = engine.new_client()
    assert timeout_arg(client, b"0", unit="ms") == 0
    assert timeout_arg(client, b"250", unit="ms") == NOW + 250
    for arg, message in ((b"1.5", "ERR timeout is not an integer or out of range"),
                         (b"-1", "ERR timeout is negative"),
                         (b"9223372036854775807", "ERR timeout is out of range")):
        with pytest.raises(ReplyError) as err:
            timeout_arg(client, arg, unit="ms")
        assert err.value.message == message


# ---- the list commands on the framework ---------------------------------------------------

def test_blocked_list_commands_propagate_their_non_blocking_forms(engine):
    stream = []
    engine.propagators.append(lambda db, argv: stream.append(argv))
    pop, move, mpop, writer = (engine.new_client() for _ in range(4))
    assert run(engine, pop, "BLPOP", "a", "q", "0") is BLOCKED
    assert run(engine, move, "BLMOVE", "m", "d", "RIGHT", "LEFT", "5") is BLOCKED
    assert run(engine, mpop, "BLMPOP", "0", "1", "n", "RIGHT", "COUNT", "5") is BLOCKED
    waiters = pop.blocked, move.blocked, mpop.blocked
    assert stream == []                            # blocking changed nothing
    run(engine, writer, "RPUSH", "q", "x")
    run(engine, writer, "RPUSH", "m", "y")
    run(engine, writer, "RPUSH", "n", "1", "2", "3")
    assert [w.reply for w in waiters] == [[b"q", b"x"], b"y", [b"n", [b"3", b"2", b"1"]]]
    assert stream == [
        b("RPUSH", "q", "x"), b("LPOP", "q"),
        b("RPUSH", "m", "y"), b("LMOVE", "m", "d", "RIGHT", "LEFT"),
        b("RPUSH", "n", "1", "2", "3"), b("RPOP", "n", "3"),
    ]
    assert run(engine, writer, "BRPOPLPUSH", "d", "e", "0") == b"y"
    assert stream[-1] == b("RPOPLPUSH", "d", "e")


def test_list_commands_that_may_not_block_answer_redis_nils(engine):
    client = engine.new_client()
    client.flags.add("deny_blocking")
    assert run(engine, client, "BLPOP", "q", "0") is NULL_ARRAY
    assert run(engine, client, "BRPOP", "q", "0") is NULL_ARRAY
    assert run(engine, client, "BLMPOP", "0", "1", "q", "LEFT") is NULL_ARRAY
    assert run(engine, client, "BLMOVE", "q", "d", "LEFT", "LEFT", "0") is None
    assert run(engine, client, "BRPOPLPUSH", "q", "d", "0") is None
    assert run(engine, client, "BLPOP", "q", "x") == ReplyError(
        "ERR timeout is not a float or out of range")       # arguments are still checked


def test_a_transaction_like_batch_wakes_clients_once_it_is_done(engine):
    """What EXEC will do: run its commands under held(); serving happens after it."""
    waiter_client, writer = engine.new_client(), engine.new_client()
    run(engine, waiter_client, "BLPOP", "q", "0")
    waiter = waiter_client.blocked
    with engine.blocking.held():
        run(engine, writer, "RPUSH", "q", "a", "b")
        run(engine, writer, "LPOP", "q")
        assert waiter.reply is None
    engine.blocking.handle_ready()
    assert waiter.reply == [b"q", b"b"]


def test_wrong_type_keeps_waiting_until_a_list_comes(engine):
    waiter_client, writer = engine.new_client(), engine.new_client()
    run(engine, waiter_client, "BLPOP", "q", "0")
    waiter = waiter_client.blocked
    run(engine, writer, "SET", "q", "string")           # not a list: keep waiting
    assert waiter_client.blocked is waiter
    run(engine, writer, "DEL", "q")
    run(engine, writer, "LPUSH", "q", "v")
    assert waiter.reply == [b"q", b"v"]

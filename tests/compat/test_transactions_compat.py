"""MULTI / EXEC / DISCARD / WATCH / UNWATCH compared byte for byte with redis-server.

Every reply -- +QUEUED, EXEC's array with per-command errors, EXECABORT, the nil of an
aborted WATCH in RESP2 and RESP3, and every error text -- must be identical. A second
connection to each server (``other``) plays the client that touches watched keys.
"""

import pytest

from tests.conftest import Compat


@pytest.fixture
def other(ember_server, redis_reference):
    """A second connection to each server."""
    pair = Compat(ember_server.port, redis_reference.port)
    yield pair
    pair.close()


@pytest.fixture
def no_active_expiry(compat):
    """Keys whose TTL passed stay in memory until touched (DEBUG SET-ACTIVE-EXPIRE 0)."""
    compat.check("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield
    compat.check("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def exec_ping(compat) -> bytes:
    """MULTI, PING, EXEC: ``*1 +PONG`` if the watches held, the nil array if not."""
    compat.check("MULTI",)
    compat.check("PING")
    return compat.check("EXEC")


# ---- queueing and EXEC ------------------------------------------------------------------

def test_exec_returns_every_reply_including_runtime_errors(compat):
    compat.script([
        ("SET", "s", "text"), ("HSET", "h", "f", "v"), ("ZADD", "z", "1.5", "m"),
        ("MULTI",), ("SET", "k", "1"), ("INCR", "k"), ("INCR", "s"), ("LPUSH", "s", "x"),
        ("GET", "k"), ("HGETALL", "h"), ("ZSCORE", "z", "m"), ("SADD", "h", "m"),
        ("INCRBYFLOAT", "k", "1.5"), ("GET", "missing"), ("DEL", "k"),
        ("EXPIRE", "s", "100"), ("TTL", "s"), ("SET", "k", "v", "BADOPT"),
        ("EXEC",),
        ("GET", "k"), ("TTL", "s"),
    ])


def test_empty_transaction_and_discard(compat):
    compat.script([
        ("MULTI",), ("EXEC",),
        ("MULTI",), ("SET", "k", "v"), ("DISCARD",), ("GET", "k"),
        ("MULTI",), ("DISCARD",), ("EXEC",),
    ])


@pytest.mark.parametrize("refused", [
    ("NOSUCHCOMMAND", "a", "b"),
    ("SET", "k"),
    ("GET",),
    ("CONFIG", "NOSUCHSUB"),
    ("CONFIG",),
    ("DISCARD", "x"),
    ("MULTI", "x"),
    ("WATCH",),
    ("SHUTDOWN",),               # no_multi: refused while queueing, never run
    ("SHUTDOWN", "NOSAVE"),
])
def test_a_command_refused_while_queueing_aborts_exec(compat, refused):
    compat.script([
        ("MULTI",), ("SET", "a", "1"), refused, ("SET", "b", "2"), ("EXEC",),
        ("EXISTS", "a", "b"), ("PING",),
    ])


def test_nested_multi_and_watch_inside_multi_are_errors_that_do_not_abort(compat):
    compat.script([
        ("MULTI",), ("SET", "a", "1"), ("MULTI",), ("WATCH", "a"), ("SET", "b", "2"),
        ("EXEC",), ("MGET", "a", "b"),
    ])


def test_exec_and_discard_without_multi(compat):
    compat.script([("EXEC",), ("DISCARD",), ("UNWATCH",), ("EXEC",)])


def test_a_refused_exec_aborts_the_transaction_with_its_reason(compat):
    compat.script([
        ("EXEC", "x"),
        ("MULTI",), ("SET", "a", "1"), ("EXEC", "x"), ("EXEC",), ("EXISTS", "a"),
    ])


def test_unwatch_is_queued_inside_multi(compat):
    compat.script([("MULTI",), ("UNWATCH",), ("PING",), ("EXEC",)])


def test_reset_leaves_multi(compat):
    compat.script([("MULTI",), ("SET", "a", "1"), ("RESET",), ("EXEC",), ("EXISTS", "a")])


def test_select_inside_exec(compat):
    compat.script([
        ("MULTI",), ("SELECT", "4"), ("SET", "k", "v"), ("SELECT", "99"), ("GET", "k"),
        ("EXEC",), ("GET", "k"), ("SELECT", "0"), ("GET", "k"),
    ])


def test_blocking_commands_inside_multi_answer_nil(compat):
    compat.script([
        ("MULTI",),
        ("BLPOP", "l1", "0"), ("BRPOP", "l1", "l2", "0"), ("BRPOPLPUSH", "l1", "l2", "0"),
        ("BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"), ("BLMPOP", "0", "1", "l1", "LEFT"),
        ("BZPOPMIN", "z1", "0"), ("BZPOPMAX", "z1", "0"), ("BZMPOP", "0", "1", "z1", "MIN"),
        ("RPUSH", "l1", "a"), ("BLPOP", "l1", "0"),
        ("EXEC",),
    ])


def test_monitor_inside_exec_is_refused(compat):
    compat.script([("MULTI",), ("MONITOR",), ("PING",), ("EXEC",), ("PING",)])


def test_error_statistics_of_transactions(compat):
    compat.check("CONFIG", "RESETSTAT")
    compat.script([
        ("EXEC",), ("DISCARD",), ("MULTI",), ("MULTI",), ("NOPE",), ("EXEC",),
        ("MULTI",), ("INCR", "k"), ("LPUSH", "k", "x"), ("EXEC",), ("EXEC", "x"),
        ("INFO", "errorstats"),
    ])


# ---- WATCH ------------------------------------------------------------------------------

def test_watch_aborts_when_another_client_writes(compat, other):
    compat.check("SET", "k", "1")
    compat.check("WATCH", "k")
    other.check("INCR", "k")
    compat.script([("MULTI",), ("SET", "k", "mine"), ("EXEC",), ("GET", "k")])


def test_watch_aborts_on_own_write_and_exec_unwatches(compat):
    compat.script([("SET", "x", "30"), ("WATCH", "x"), ("SET", "x", "40")])
    exec_ping(compat)
    compat.check("SET", "x", "50")
    exec_ping(compat)                            # no longer watched


def test_untouched_watches_let_exec_run(compat, other):
    compat.script([("WATCH", "a", "b", "c"), ("WATCH", "d"), ("WATCH", "a")])
    other.check("SET", "unrelated", "1")
    other.check("GET", "a")
    exec_ping(compat)


def test_unwatch_and_discard_clear_dirtiness(compat):
    compat.script([("SET", "x", "1"), ("WATCH", "x"), ("SET", "x", "2"), ("UNWATCH",)])
    exec_ping(compat)
    compat.script([("WATCH", "x"), ("SET", "x", "10"), ("MULTI",), ("DISCARD",),
                   ("MULTI",), ("INCR", "x"), ("EXEC",)])


def test_watch_remembers_the_database(compat, other):
    compat.script([("SELECT", "5"), ("SET", "x", "30"), ("WATCH", "x")])
    other.script([("SELECT", "1"), ("SET", "x", "10")])
    exec_ping(compat)
    compat.check("WATCH", "x")
    other.script([("SELECT", "5"), ("APPEND", "x", "!")])
    exec_ping(compat)


def test_a_write_that_changes_nothing_does_not_abort(compat):
    compat.script([("WATCH", "x"), ("DEL", "x"), ("SREM", "x", "m"), ("PERSIST", "x")])
    exec_ping(compat)


def test_expire_of_a_watched_key_aborts(compat):
    compat.script([("SET", "x", "foo"), ("WATCH", "x"), ("EXPIRE", "x", "10")])
    exec_ping(compat)


@pytest.mark.parametrize("flush", [("FLUSHALL",), ("FLUSHDB",), ("FLUSHALL", "ASYNC")])
def test_flush_touches_watched_keys_that_existed_only(compat, other, flush):
    compat.script([("SET", "x", "30"), ("WATCH", "x")])
    other.check(*flush)
    exec_ping(compat)
    compat.check("WATCH", "x")
    other.check(*flush)
    exec_ping(compat)


def test_flushdb_of_another_database_does_not_touch(compat, other):
    compat.script([("SET", "x", "1"), ("WATCH", "x")])
    other.script([("SELECT", "3"), ("FLUSHDB",), ("SELECT", "0")])
    exec_ping(compat)


def test_swapdb_touches_keys_that_exist_on_either_side(compat, other):
    compat.script([("SET", "x", "30"), ("WATCH", "x")])
    other.check("SWAPDB", "0", "1")
    exec_ping(compat)
    compat.script([("FLUSHALL",), ("SELECT", "1"), ("SET", "x", "30"), ("SELECT", "0"),
                   ("WATCH", "x")])
    other.check("SWAPDB", "0", "1")
    exec_ping(compat)
    compat.check("WATCH", "nowhere")
    other.check("SWAPDB", "0", "1")
    exec_ping(compat)


def test_swapdb_of_a_database_with_itself_does_not_touch(compat, other):
    compat.script([("SET", "x", "30"), ("WATCH", "x")])
    other.check("SWAPDB", "0", "0")
    exec_ping(compat)


def test_ttl_passing_after_watch_aborts_exec(compat, no_active_expiry):
    compat.script([("SET", "x", "foo", "PX", "20"), ("WATCH", "x"),
                   ("DEBUG", "SLEEP", "0.05")])   # nobody reads x: only the clock moved
    exec_ping(compat)


def test_removal_by_expiry_of_a_watched_key_aborts(compat, other):
    compat.script([("SET", "x", "foo", "PX", "20"), ("WATCH", "x"),
                   ("DEBUG", "SLEEP", "0.05")])
    other.check("GET", "x")                      # lazy expiry removes it
    exec_ping(compat)


def test_stale_watched_keys_do_not_abort_exec(compat, no_active_expiry):
    for touch in (("GET", "x"), ("DEL", "x"), ("FLUSHDB",), ("EXISTS", "x")):
        compat.script([("SET", "x", "foo", "PX", "1"), ("DEBUG", "SLEEP", "0.01"),
                       ("WATCH", "x"), touch])
        exec_ping(compat)


def test_a_stale_watched_key_written_again_aborts(compat, no_active_expiry):
    compat.script([("SET", "x", "foo", "PX", "1"), ("DEBUG", "SLEEP", "0.01"),
                   ("WATCH", "x"), ("SET", "x", "bar")])
    exec_ping(compat)


def test_swapdb_does_not_touch_stale_watched_keys(compat, other, no_active_expiry):
    compat.script([("SELECT", "1"), ("SET", "x", "foo", "PX", "1"), ("SELECT", "0"),
                   ("SET", "x", "foo", "PX", "1"), ("DEBUG", "SLEEP", "0.01"),
                   ("WATCH", "x")])
    other.check("SWAPDB", "0", "1")              # stale on both sides
    exec_ping(compat)
    compat.script([("FLUSHALL",), ("SELECT", "1"), ("SET", "x", "foo", "PX", "1"),
                   ("SELECT", "0"), ("DEBUG", "SLEEP", "0.01"), ("WATCH", "x")])
    other.check("SWAPDB", "0", "1")              # missing, replaced by a stale key
    exec_ping(compat)


# ---- RESP3 ------------------------------------------------------------------------------

def test_resp3_transactions(compat, other):
    compat.both("HELLO", "3")                    # server/version/id differ: not compared
    compat.script([
        ("HSET", "h", "f", "v"), ("ZADD", "z", "2.5", "m"), ("SET", "s", "x"),
        ("MULTI",), ("HGETALL", "h"), ("ZSCORE", "z", "m"), ("SMEMBERS", "nothing"),
        ("INCR", "s"), ("GET", "missing"), ("BLPOP", "l", "0"), ("EXEC",),
        ("WATCH", "s"),
    ])
    other.check("SET", "s", "y")
    exec_ping(compat)                            # the nil is "_" in RESP3


def _command_counts(reply: bytes, names) -> dict:
    """calls / rejected_calls / failed_calls of ``names`` from INFO commandstats."""
    counts = {}
    for line in reply.decode().split("\r\n"):
        name, _, fields = line.partition(":")
        if name.startswith("cmdstat_") and name[8:] in names:
            values = dict(field.split("=") for field in fields.split(","))
            counts[name[8:]] = {k: values[k] for k in ("calls", "rejected_calls",
                                                       "failed_calls")}
    return counts


def test_command_statistics_of_transactions(compat):
    compat.check("CONFIG", "RESETSTAT")
    compat.script([
        ("MULTI",), ("SET", "a", "1"), ("SET", "b"), ("INCR", "a"), ("EXEC",),
        ("MULTI",), ("SET", "a", "x"), ("INCR", "a"), ("MULTI",), ("EXEC",),
        ("WATCH", "a"), ("SET", "a", "2"), ("MULTI",), ("SET", "a", "3"), ("EXEC",),
        ("MULTI",), ("DISCARD",), ("DISCARD",), ("EXEC", "x"), ("UNWATCH",),
    ])
    names = ("multi", "exec", "set", "incr", "discard", "watch", "unwatch")
    got, expected = compat.both("INFO", "commandstats")
    assert _command_counts(got, names) == _command_counts(expected, names)

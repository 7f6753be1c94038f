"""MULTI/EXEC/DISCARD/WATCH on an engine without sockets (tests/unit/harness.py).

Queueing and the errors that doom a transaction, what EXEC runs and returns, WATCH
invalidation by writes, expiry (with the clock moved by hand), flushes, SWAPDB and
eviction, the cleanup by EXEC/DISCARD/UNWATCH/RESET/disconnect, blocking commands
inside EXEC, clients woken once after EXEC, and what is propagated to the AOF/replicas.
"""

import pytest

from ember.commands.blocking import BLOCKED
from ember.commands.client import client_info_line
from ember.commands.registry import CommandSpec
from ember.errors import ReplyError
from ember.protocol.replies import NULL_ARRAY, QUEUED
from tests.unit.harness import START_MS

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def run(h, client, *args):
    """Run a command as ``client``; returns the reply (errors as ReplyError values)."""
    return h.engine.execute(client, [a if isinstance(a, bytes) else str(a).encode()
                                     for a in args])


def message(reply) -> str:
    assert isinstance(reply, ReplyError), reply
    return reply.message


def watching(h) -> bool:
    """True while the WATCH listener is registered with the engine."""
    found = h.engine.hooks.get("watch")
    return found is not None and found.key_event in h.engine.keyspace_listeners


# ---- queueing and EXEC ------------------------------------------------------------------

def test_commands_are_queued_and_exec_returns_their_replies_in_order(h):
    assert h("MULTI") == "OK"
    assert h("SET", "k", "1") is QUEUED
    assert h("INCR", "k") is QUEUED
    assert h("GET", "k") is QUEUED
    assert h.db.data == {}                       # nothing ran yet
    assert h("EXEC") == ["OK", 2, b"2"]
    assert h.client.multi is None and not h.client.special


def test_runtime_errors_are_replies_and_the_rest_still_runs(h):
    h("SET", "s", "text")
    h("MULTI")
    for command in (("INCR", "s"), ("LPUSH", "s", "x"), ("SET", "after", "1"), ("GET", "s")):
        assert h(*command) is QUEUED
    replies = h("EXEC")
    assert message(replies[0]) == "ERR value is not an integer or out of range"
    assert message(replies[1]).startswith("WRONGTYPE")
    assert replies[2:] == ["OK", b"text"]
    assert h.db.data[b"after"] == b"1"


@pytest.mark.parametrize("bad, error", [
    (("NOSUCHCOMMAND", "a"), "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' "),
    (("SET", "k"), "ERR wrong number of arguments for 'set' command"),
    (("CONFIG", "NOPE"), "ERR unknown subcommand 'NOPE'. Try CONFIG HELP."),
    (("DISCARD", "x"), "ERR wrong number of arguments for 'discard' command"),
    (("SHUTDOWN",), "ERR Command not allowed inside a transaction"),
])
def test_a_command_refused_while_queueing_aborts_exec(h, bad, error):
    h("MULTI")
    h("SET", "k", "1")
    assert message(run(h, h.client, *bad)) == error
    assert h("SET", "k2", "2") is QUEUED
    assert message(run(h, h.client, "EXEC")) == EXECABORT
    assert h.db.data == {}
    assert h.client.multi is None and "dirty_exec" not in h.client.flags
    assert h("PING") == "PONG"                   # out of MULTI again


def test_errors_of_multi_and_watch_inside_multi_do_not_abort(h):
    h("MULTI")
    assert message(run(h, h.client, "MULTI")) == "ERR MULTI calls can not be nested"
    assert message(run(h, h.client, "WATCH", "k")) == "ERR WATCH inside MULTI is not allowed"
    h("SET", "k", "v")
    assert h("EXEC") == ["OK"]


def test_exec_and_discard_without_multi(h):
    assert message(run(h, h.client, "EXEC")) == "ERR EXEC without MULTI"
    assert message(run(h, h.client, "DISCARD")) == "ERR DISCARD without MULTI"


def test_a_refused_exec_aborts_with_its_reason_in_or_out_of_multi(h):
    reason = "EXECABORT Transaction discarded because of: wrong number of arguments for " \
             "'exec' command"
    assert message(run(h, h.client, "EXEC", "x")) == reason
    h("MULTI")
    h("SET", "k", "v")
    assert message(run(h, h.client, "EXEC", "x")) == reason
    assert h.client.multi is None and h.db.data == {}
    assert h.engine.stats.error_counts["EXECABORT"] == 2


def test_discard_drops_the_queue(h):
    h("MULTI")
    h("SET", "k", "v")
    assert h("DISCARD") == "OK"
    assert h.db.data == {} and h.client.multi is None
    assert h("SET", "k", "v") == "OK"


def test_unwatch_inside_multi_is_queued(h):
    h("MULTI")
    assert h("UNWATCH") is QUEUED
    assert h("EXEC") == ["OK"]


def test_client_list_shows_multi_state(h):
    assert " flags=N " in client_info_line(h.client) and " multi=-1 " in client_info_line(h.client)
    h("MULTI")
    h("SET", "k", "v")
    h("GET", "k")
    line = client_info_line(h.client)
    assert " flags=x " in line and " multi=2 " in line
    assert " cmd=get " in line                   # the last queued command, as Redis
    h("EXEC")
    assert " multi=-1 " in client_info_line(h.client)


def test_client_list_inside_exec_still_shows_multi_and_nested_commands_run(h):
    seen = []

    def probe(ctx, argv):
        seen.append(client_info_line(ctx))
        seen.append(ctx.engine.execute(ctx, [b"SET", b"nested", b"1"]))  # like redis.call
        return b"done"

    spec = CommandSpec(name="probe", arity=1, flags=("write",), handler=probe)
    h("MULTI")
    h.client.multi.append((spec, [b"PROBE"]))    # queued as the gate would queue it
    h("GET", "k")
    assert h("EXEC") == [b"done", None]
    assert " flags=x " in seen[0] and " multi=2 " in seen[0]
    assert seen[1] == "OK" and h.db.data[b"nested"] == b"1"


def test_a_doomed_transaction_keeps_nothing(h):
    h("MULTI")
    run(h, h.client, "NOPE")
    h("SET", "k", "v")
    assert h.client.multi == []
    assert " multi=0 " in client_info_line(h.client)


def test_select_inside_exec_switches_db_for_the_rest(h):
    h("MULTI")
    h("SELECT", "3")
    h("SET", "k", "v")
    assert h("EXEC") == ["OK", "OK"]
    assert h.engine.dbs[3].data == {b"k": b"v"} and h.client.db.id == 3


# ---- blocking commands ------------------------------------------------------------------

def test_blocking_commands_inside_exec_answer_nil_at_once(h):
    h("MULTI")
    h("BLPOP", "nolist", "0")
    h("BZPOPMIN", "nozset", "0")
    h("BLMOVE", "a", "b", "LEFT", "LEFT", "0")
    assert h("EXEC") == [NULL_ARRAY, NULL_ARRAY, None]
    assert h.client.blocked is None
    assert "deny_blocking" not in h.client.flags


def test_blocked_clients_are_served_once_after_exec(h):
    waiter = h.engine.new_client()
    assert run(h, waiter, "BLPOP", "list", "0") is BLOCKED
    parked = waiter.blocked
    h("MULTI")
    h("LPUSH", "list", "first")
    h("LPUSH", "list", "second")
    assert parked.reply is None
    assert h("EXEC") == [1, 2]
    # Served after the whole transaction: it sees the list as EXEC left it.
    assert parked.reply == [b"list", b"second"]
    assert h("LRANGE", "list", "0", "-1") == [b"first"]


# ---- WATCH ------------------------------------------------------------------------------

def test_watch_aborts_when_another_client_writes(h):
    other = h.engine.new_client()
    h("SET", "k", "1")
    h("WATCH", "k")
    run(h, other, "SET", "k", "2")
    h("MULTI")
    h("SET", "k", "mine")
    assert h("EXEC") is NULL_ARRAY
    assert h.db.data[b"k"] == b"2"


def test_watch_aborts_on_own_write_before_multi_and_reset_by_exec(h):
    h("WATCH", "k")
    h("SET", "k", "1")
    assert "dirty_cas" in h.client.flags
    assert " flags=d " in client_info_line(h.client)
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY
    h("MULTI")                                   # EXEC unwatched: the next one runs
    h("INCR", "k")
    assert h("EXEC") == [2]


def test_untouched_watch_lets_exec_run_and_exec_unwatches(h):
    other = h.engine.new_client()
    h("WATCH", "a", "b")
    run(h, other, "SET", "c", "1")
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]
    assert h.client.watched is None and not watching(h)
    run(h, other, "SET", "a", "1")               # no longer watched
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_unwatch_and_discard_forget_watches_and_dirtiness(h):
    h("WATCH", "k")
    h("SET", "k", "1")
    assert h("UNWATCH") == "OK"
    h("MULTI")
    assert h("EXEC") == []
    h("WATCH", "k")
    h("SET", "k", "2")
    h("MULTI")
    assert h("DISCARD") == "OK"
    h("MULTI")
    h("INCR", "k")
    assert h("EXEC") == [3]


def test_watch_remembers_its_database(h):
    other = h.engine.new_client()
    h("SELECT", "5")
    h("SET", "x", "30")
    h("WATCH", "x")
    run(h, other, "SELECT", "1")
    run(h, other, "SET", "x", "10")              # same name, another db
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]
    h("WATCH", "x")
    run(h, other, "SELECT", "5")
    run(h, other, "DEL", "x")
    h("MULTI")
    h("PING")
    assert h("EXEC") is NULL_ARRAY


def test_a_write_that_changes_nothing_does_not_touch(h):
    h("WATCH", "k")
    h("DEL", "k")                                # no key: nothing deleted
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_expire_of_a_watched_key_touches_it(h):
    h("SET", "k", "v")
    h("WATCH", "k")
    h("EXPIRE", "k", "10")
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


def test_ttl_passing_after_watch_aborts_even_if_nothing_removed_the_key(h):
    h("SET", "k", "v", "PX", "100")
    h("WATCH", "k")
    h.advance(101)                               # deadline passed; nobody looked at k
    assert b"k" in h.db.data
    h("MULTI")
    h("PING")
    assert h("EXEC") is NULL_ARRAY


def test_removal_of_a_watched_key_by_expiry_aborts(h):
    h("SET", "k", "v", "PX", "100")
    h("WATCH", "k")
    h.advance(101)
    h.db.active_expire(10)                       # the active cycle removes it
    assert "dirty_cas" in h.client.flags
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


def test_a_key_already_expired_when_watched_does_not_abort(h):
    h("SET", "k", "v", "PX", "100")
    h.advance(101)
    h("WATCH", "k")                              # stale already (still in the dict)
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]
    h("WATCH", "k")
    h.db.active_expire(10)                       # removing it changes nothing logically
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_a_stale_watched_key_written_again_aborts(h):
    other = h.engine.new_client()
    h("SET", "k", "v", "PX", "100")
    h.advance(101)
    h("WATCH", "k")
    run(h, other, "SET", "k", "new")
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


@pytest.mark.parametrize("command", [("FLUSHDB",), ("FLUSHALL",), ("FLUSHALL", "ASYNC")])
def test_flushes_touch_watched_keys_that_existed(h, command):
    other = h.engine.new_client()
    h("SET", "x", "1")
    h("WATCH", "x", "missing")
    run(h, other, *command)
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY
    h("WATCH", "missing")
    run(h, other, *command)
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_flushall_touches_watches_in_other_databases_flushdb_does_not(h):
    other = h.engine.new_client()
    h("SELECT", "2")
    h("SET", "x", "1")
    h("WATCH", "x")
    run(h, other, "FLUSHDB")                     # other is on db 0
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]
    h("WATCH", "x")
    run(h, other, "FLUSHALL")
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


def test_swapdb_touches_keys_that_exist_on_either_side(h):
    other = h.engine.new_client()
    h("SET", "x", "30")
    h("WATCH", "x")                              # x will be "deleted" by the swap
    run(h, other, "SWAPDB", "0", "1")
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY
    run(h, other, "FLUSHALL")
    run(h, other, "SELECT", "1")
    run(h, other, "SET", "y", "1")
    h("WATCH", "y")                              # missing in 0, created by the swap
    run(h, other, "SWAPDB", "0", "1")
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY
    h("WATCH", "nowhere")
    run(h, other, "SWAPDB", "0", "1")
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_swapdb_of_a_database_with_itself_touches_nothing(h):
    other = h.engine.new_client()
    h("SET", "x", "1")
    h("WATCH", "x")
    run(h, other, "SWAPDB", "0", "0")
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_swapdb_bringing_an_expired_key_does_not_touch(h):
    other = h.engine.new_client()
    run(h, other, "SELECT", "1")
    run(h, other, "SET", "x", "v", "PX", "50")
    h.advance(51)
    h("WATCH", "x")                              # missing in db 0
    run(h, other, "SWAPDB", "0", "1")            # brings x, already expired
    h("MULTI")
    h("PING")
    assert h("EXEC") == ["PONG"]


def test_eviction_of_a_watched_key_touches_it(h):
    h("SET", "k", "v")
    h("WATCH", "k")
    h.db.delete(b"k")
    h.engine.key_modified(h.db, b"k", "evicted")  # what the eviction cycle reports
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


def test_watch_of_a_dirty_client_is_a_no_op(h):
    h("WATCH", "a")
    h("SET", "a", "1")
    assert h("WATCH", "b") == "OK"
    assert h.client.watched is None
    h("MULTI")
    assert h("EXEC") is NULL_ARRAY


def test_reset_and_disconnect_end_multi_and_watches(h):
    other = h.engine.new_client()
    run(h, other, "WATCH", "k")
    run(h, other, "MULTI")
    run(h, other, "SET", "k", "v")
    assert run(h, other, "RESET") == "RESET"
    assert other.multi is None and not other.special and other.watched is None
    assert not watching(h)
    run(h, other, "WATCH", "k")
    run(h, other, "MULTI")
    assert watching(h)
    h.engine.remove_client(other)
    assert not watching(h) and h.engine.hooks["watch"].keys == {}


def test_nobody_watching_means_no_listener(h):
    assert not watching(h)
    h("WATCH", "a", "b")
    assert watching(h)
    h("UNWATCH")
    assert not watching(h)
    assert h.engine.hooks["watch"].keys == {} and h.engine.hooks["watch"].clients == {}


def test_a_dirty_watcher_listener_leaves_when_the_client_moves_on(h):
    other = h.engine.new_client()
    h("WATCH", "k")
    run(h, other, "SET", "k", "1")
    assert h.engine.hooks["watch"].keys == {}    # the dirty client stopped watching
    h("MULTI")
    h("EXEC")
    assert not watching(h)


# ---- propagation ------------------------------------------------------------------------

@pytest.fixture
def stream(h):
    """(db, argv) of everything propagated, in order."""
    records = []
    h.engine.propagators.append(lambda db, argv: records.append((db, list(argv))))
    return records


def test_a_transaction_propagates_one_multi_exec_around_its_writes(h, stream):
    h("MULTI")
    h("SET", "a", "1")
    h("GET", "a")
    h("DEL", "nothing")                          # changed nothing: not propagated
    h("INCR", "a")
    h("EXPIRE", "a", "10")
    h("EXEC")
    assert stream == [
        (0, [b"MULTI"]),
        (0, [b"SET", b"a", b"1"]),
        (0, [b"INCR", b"a"]),
        (0, [b"PEXPIREAT", b"a", b"%d" % (START_MS + 10000)]),
        (0, [b"EXEC"]),
    ]


def test_read_only_and_empty_transactions_propagate_nothing(h, stream):
    h("SET", "a", "1")
    stream.clear()
    h("MULTI")
    h("GET", "a")
    h("DEL", "missing")
    h("EXEC")
    h("MULTI")
    h("EXEC")
    assert stream == []


def test_a_single_write_is_propagated_alone_as_redis_7_does(h, stream):
    h("MULTI")
    h("SET", "a", "1")
    h("GET", "a")
    h("EXEC")
    assert stream == [(0, [b"SET", b"a", b"1"])]


def test_writes_in_several_databases_keep_their_db(h, stream):
    h("MULTI")
    h("SELECT", "2")
    h("SET", "a", "1")
    h("SELECT", "3")
    h("SET", "b", "2")
    h("EXEC")
    assert stream == [(2, [b"MULTI"]), (2, [b"SET", b"a", b"1"]), (3, [b"SET", b"b", b"2"]),
                      (3, [b"EXEC"])]


def test_an_aborted_transaction_propagates_nothing(h, stream):
    other = h.engine.new_client()
    h("WATCH", "k")
    run(h, other, "SET", "k", "1")
    stream.clear()
    h("MULTI")
    h("SET", "k", "2")
    h("EXEC")
    h("MULTI")
    h("SET", "k", "2")
    run(h, h.client, "NOPE")
    run(h, h.client, "EXEC")
    assert stream == []


def test_nested_atomic_blocks_are_wrapped_once(h, stream):
    engine = h.engine
    with engine.atomic_propagation():
        h("SET", "a", "1")
        with engine.atomic_propagation():        # e.g. a script inside EXEC
            h("SET", "b", "2")
            h("SET", "c", "3")
        assert stream == []
    assert [argv[0] for _db, argv in stream] == [b"MULTI", b"SET", b"SET", b"SET", b"EXEC"]


def test_lazy_expiry_inside_exec_is_inside_the_wrapper(h, stream):
    h("SET", "old", "v", "PX", "10")
    h.advance(11)
    stream.clear()
    h("MULTI")
    h("GET", "old")                              # expires it: DEL propagated
    h("SET", "new", "1")
    h("EXEC")
    assert [argv for _db, argv in stream] == [[b"MULTI"], [b"DEL", b"old"],
                                              [b"SET", b"new", b"1"], [b"EXEC"]]


def test_stats_count_exec_and_the_commands_it_ran(h):
    from ember.commands.registry import COMMANDS
    before = COMMANDS["set"].calls
    h("MULTI")
    h("SET", "a", "1")
    h("SET", "b", "1")
    assert COMMANDS["set"].calls == before       # queued, not run
    h("EXEC")
    assert COMMANDS["set"].calls == before + 2

"""StreamValue alone (IDs, nodes, trimming, copies) and stream commands driven through an
Engine: ``*`` IDs from the injected clock, propagation of concrete IDs and of exact-effect
trims, keyspace events, and XREAD BLOCK served first come first served by XADD."""

import pytest

import ember.commands
from ember.commands.blocking import BLOCKED
from ember.commands.engine import Engine
from ember.protocol.replies import NULL_ARRAY
from ember.server.config import Config
from ember.storage.types.stream import MAX_ID, StreamValue, format_id, pack, unpack

ember.commands.load_all()
NOW = 1_700_000_000_000


def make(n: int, node_entries: int = 100) -> StreamValue:
    stream = StreamValue()
    for i in range(1, n + 1):
        stream.append(pack(i, 0), (b"f", b"%d" % i), node_entries, 4096)
    return stream


def test_ids_pack_and_format():
    assert unpack(pack(5, 7)) == (5, 7)
    assert format_id(pack(2**64 - 1, 3)) == b"18446744073709551615-3"
    assert pack(1, 2**64 - 1) + 1 == pack(2, 0)
    assert format_id(MAX_ID) == b"18446744073709551615-18446744073709551615"


def test_append_range_and_nodes():
    stream = make(250)
    assert len(stream) == 250 and stream.entries_added == 250
    assert [n.total for n in stream.nodes] == [100, 100, 50]
    assert stream.range(pack(10, 0), pack(12, 0)) == [
        (pack(i, 0), (b"f", b"%d" % i)) for i in (10, 11, 12)]
    assert [sid for sid, _ in stream.range(0, MAX_ID, 2, reverse=True)] == [
        pack(250, 0), pack(249, 0)]
    assert stream.range(pack(5, 0), pack(4, 0)) == []


def test_next_id_follows_the_clock_and_never_goes_back():
    stream = make(1)
    assert stream.next_id(10) == pack(10, 0)
    assert stream.next_id(1) == pack(1, 1)
    stream.last_id = pack(7, 2**64 - 1)
    assert stream.next_id(3) == pack(8, 0)
    stream.last_id = MAX_ID
    assert stream.next_id(3) is None


def test_delete_drops_empty_nodes_and_keeps_tombstones():
    stream = make(10, node_entries=5)
    assert stream.delete(pack(1, 0)) and not stream.delete(pack(1, 0))
    assert stream.first_id_with_tombstones() == pack(1, 0)     # tombstone kept
    for i in range(2, 6):
        stream.delete(pack(i, 0))
    assert len(stream.nodes) == 1 and stream.first_id_with_tombstones() == pack(6, 0)


def test_trim_exact_and_approximate():
    stream = make(350)
    assert stream.trim(maxlen=120, approx=True) == 200       # two whole nodes
    assert len(stream) == 150
    assert stream.trim(maxlen=120) == 30 and len(stream) == 120
    assert stream.trim(minid=pack(300, 0), approx=True) == 0  # node 201.. holds 300
    assert stream.trim(minid=pack(300, 0)) == 69
    assert stream.first_id == pack(300, 0)
    assert stream.trim(maxlen=0, approx=True, limit=10) == 1  # node 201..300 holds 1
    assert stream.trim(maxlen=0, approx=True, limit=10) == 0  # the next holds 50 > 10
    assert stream.trim(maxlen=0) == 50 and len(stream) == 0 and stream.first_id == 0


def test_copy_is_independent():
    stream = make(3)
    twin = stream.copy()
    twin.append(pack(9, 0), (b"a", b"b"), 100, 4096)
    twin.delete(pack(1, 0))
    assert len(stream) == 3 and len(twin) == 3
    assert stream.last_id == pack(3, 0) and twin.last_id == pack(9, 0)


# ---- through an Engine ---------------------------------------------------------------

@pytest.fixture
def clock():
    return {"ms": NOW}


@pytest.fixture
def engine(clock):
    eng = Engine(Config(), clock=lambda: clock["ms"])
    eng.propagated = []
    eng.propagators.append(lambda db, argv: eng.propagated.append(argv))
    return eng


def run(engine, client, *args):
    return engine.execute(client, [a if isinstance(a, bytes) else str(a).encode()
                                   for a in args])


def test_star_ids_come_from_the_engine_clock_and_propagate_concretely(engine, clock):
    c = engine.new_client()
    assert run(engine, c, "XADD", "s", "*", "a", "1") == b"%d-0" % NOW
    assert run(engine, c, "XADD", "s", "*", "a", "2") == b"%d-1" % NOW
    clock["ms"] += 5
    engine.tick()
    assert run(engine, c, "XADD", "s", "*", "a", "3") == b"%d-0" % (NOW + 5)
    assert engine.propagated[0] == [b"XADD", b"s", b"%d-0" % NOW, b"a", b"1"]
    assert engine.propagated[1] == [b"XADD", b"s", b"%d-1" % NOW, b"a", b"2"]


def test_approximate_trims_propagate_their_exact_effect(engine):
    c = engine.new_client()
    for i in range(1, 351):
        run(engine, c, "XADD", "s", f"{i}-0", "f", "v")
    engine.propagated.clear()
    run(engine, c, "XADD", "s", "MAXLEN", "~", "120", "400-*", "f", "v")
    assert engine.propagated[-1] == [b"XADD", b"s", b"MAXLEN", b"=", b"151", b"400-0",
                                     b"f", b"v"]
    assert run(engine, c, "XTRIM", "s", "MINID", "~", "260") == 0   # node 201..300
    assert run(engine, c, "XTRIM", "s", "MINID", "~", "301") == 100
    run(engine, c, "XDEL", "s", "301-0")
    assert run(engine, c, "XTRIM", "s", "MINID", "~", "302") == 0
    assert engine.propagated[-2] == [b"XTRIM", b"s", b"MINID", b"=", b"301-0"]
    assert engine.propagated[-1] == [b"XDEL", b"s", b"301-0"]
    run(engine, c, "CONFIG", "SET", "stream-node-max-entries", "10")
    for i in range(500, 520):
        run(engine, c, "XADD", "s", f"{i}-0", "f", "v")
    assert run(engine, c, "XTRIM", "s", "MAXLEN", "~", "15") == 50
    assert engine.propagated[-1] == [b"XTRIM", b"s", b"MAXLEN", b"=", b"20"]
    before = len(engine.propagated)
    assert run(engine, c, "XTRIM", "s", "MAXLEN", "~", "15") == 0     # nothing: no write
    assert len(engine.propagated) == before
    run(engine, c, "XTRIM", "s", "MAXLEN", "0")
    assert engine.propagated[-1] == [b"XTRIM", b"s", b"MAXLEN", b"0"]


def test_keyspace_events(engine):
    events = []
    engine.keyspace_listeners.append(lambda db, key, event: events.append((key, event)))
    c = engine.new_client()
    run(engine, c, "XADD", "s", "1-1", "a", "1")
    run(engine, c, "XADD", "s", "MAXLEN", "0", "2-1", "a", "1")
    run(engine, c, "XDEL", "s", "9-9")
    run(engine, c, "XSETID", "s", "5-5")
    run(engine, c, "XTRIM", "s", "MAXLEN", "0")
    assert events == [(b"s", "xadd"), (b"s", "xadd"), (b"s", "xtrim"), (b"s", "xsetid")]


def test_xread_block_is_served_fifo_by_xadd(engine, clock):
    first, second, writer = engine.new_client(), engine.new_client(), engine.new_client()
    assert run(engine, first, "XREAD", "BLOCK", "0", "STREAMS", "s", "$") is BLOCKED
    assert run(engine, second, "XREAD", "COUNT", "1", "BLOCK", "100", "STREAMS", "t", "s",
               "$", "$") is BLOCKED
    waiters = [first.blocked, second.blocked]
    order = []
    engine.blocking.on_release = lambda waiter, reply: order.append((waiter, reply))
    run(engine, writer, "XADD", "s", "1-1", "a", "1")
    assert first.blocked is None and second.blocked is None
    expected = [[b"s", [[b"1-1", [b"a", b"1"]]]]]
    assert order == [(waiters[0], expected), (waiters[1], expected)]
    # The re-run reads after the ID "$" stood for, not after the new last ID.
    assert run(engine, first, "XREAD", "BLOCK", "0", "STREAMS", "s", "$") is BLOCKED
    run(engine, writer, "XADD", "s", "2-1", "b", "2", "c", "3")
    assert order[-1][1] == [[b"s", [[b"2-1", [b"b", b"2", b"c", b"3"]]]]]


def test_xread_block_times_out_with_the_null_array(engine, clock):
    c = engine.new_client()
    run(engine, c, "XADD", "s", "1-1", "a", "1")
    assert run(engine, c, "XREAD", "BLOCK", "50", "STREAMS", "s", "$") is BLOCKED
    waiter = c.blocked
    run(engine, engine.new_client(), "XDEL", "s", "1-1")       # a write, nothing new
    assert c.blocked is waiter
    clock["ms"] += 60
    engine.tick()
    engine.blocking.expire_due()
    assert waiter.reply is NULL_ARRAY


def test_group_commands_propagate_as_redis_7(engine, clock):
    c = engine.new_client()
    run(engine, c, "XADD", "s", "1-1", "a", "1")
    run(engine, c, "XADD", "s", "2-1", "b", "2")
    run(engine, c, "XGROUP", "CREATE", "s", "g", "0")
    engine.propagated.clear()
    run(engine, c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
    claim = [b"XCLAIM", b"s", b"g", b"alice", b"0", b"1-1", b"TIME", b"%d" % NOW,
             b"RETRYCOUNT", b"1", b"FORCE", b"JUSTID", b"LASTID", b"1-1"]
    setid = [b"XGROUP", b"SETID", b"s", b"g", b"1-1", b"ENTRIESREAD", b"1"]
    assert engine.propagated == [[b"MULTI"], claim, setid, [b"EXEC"]]
    engine.propagated.clear()
    run(engine, c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")   # history
    assert engine.propagated == []
    run(engine, c, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
    assert engine.propagated == [
        [b"MULTI"], [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"bob"],
        [b"XGROUP", b"SETID", b"s", b"g", b"2-1", b"ENTRIESREAD", b"2"], [b"EXEC"]]
    engine.propagated.clear()
    clock["ms"] += 100
    engine.tick()
    assert run(engine, c, "XCLAIM", "s", "g", "carol", "50", "1-1", "JUSTID") == [b"1-1"]
    assert engine.propagated == [[b"XCLAIM", b"s", b"g", b"carol", b"0", b"1-1", b"TIME",
                                  b"%d" % (NOW + 100), b"RETRYCOUNT", b"2", b"FORCE",
                                  b"JUSTID", b"LASTID", b"2-1"]]
    engine.propagated.clear()
    assert run(engine, c, "XCLAIM", "s", "g", "dave", "0", "9-9", "LASTID", "3-0") == []
    assert engine.propagated == [[b"XGROUP", b"SETID", b"s", b"g", b"3-0", b"ENTRIESREAD",
                                  b"2"]]
    engine.propagated.clear()
    run(engine, c, "XACK", "s", "g", "1-1")
    assert engine.propagated == [[b"XACK", b"s", b"g", b"1-1"]]
    engine.propagated.clear()
    run(engine, c, "XACK", "s", "g", "1-1")        # nothing acknowledged: no write
    run(engine, c, "XCLAIM", "s", "g", "dave", "0", "9-9")
    assert engine.propagated == []
    # Idle times come from the engine clock.
    run(engine, c, "XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", "0")
    clock["ms"] += 250
    engine.tick()
    assert run(engine, c, "XPENDING", "s", "g", "-", "+", "10") == []
    run(engine, c, "XADD", "s", "4-1", "c", "3")
    run(engine, c, "XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">")
    clock["ms"] += 40
    engine.tick()
    assert run(engine, c, "XPENDING", "s", "g", "-", "+", "10") == [[b"4-1", b"erin", 40, 1]]
    assert run(engine, c, "XPENDING", "s", "g", "IDLE", "41", "-", "+", "10") == []


def test_xreadgroup_block_in_an_engine_wakes_on_xadd_and_reports_deletion(engine):
    reader, writer = engine.new_client(), engine.new_client()
    run(engine, writer, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    assert run(engine, reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS",
               "s", ">") is BLOCKED
    waiter = reader.blocked
    run(engine, writer, "XADD", "s", "1-1", "a", "1")
    assert waiter.reply == [[b"s", [[b"1-1", [b"a", b"1"]]]]]
    run(engine, reader, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    waiter = reader.blocked
    run(engine, writer, "DEL", "s")
    assert waiter.reply.message == "UNBLOCKED the stream key no longer exists"

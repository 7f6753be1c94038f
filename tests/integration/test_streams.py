"""Streams over TCP: redis-py in RESP2 and RESP3, and blocking XREAD with several
clients (woken by XADD from any client or a transaction, first come first served,
timeouts in both protocols). Clients are synchronised on CLIENT LIST's ``b`` flag,
never on sleeps."""

import pytest

from tests.integration.test_blocking import flags_of, wait_blocked
from tests.rawclient import Blocker


@pytest.fixture
def blockers(ember_server):
    """Make Blocker connections (raw sockets); all are closed after the test."""
    made = []

    def make(resp: int = 2) -> Blocker:
        made.append(Blocker(ember_server.port, resp))
        return made[-1]

    yield make
    for blocker in made:
        blocker.close()


def test_basic_commands_resp2(r):
    assert r.xadd("s", {"a": "1"}, id="1-1") == b"1-1"
    assert r.xadd("s", {"b": "2", "c": "3"}, id="2-*") == b"2-0"
    auto = r.xadd("s", {"d": "4"})
    assert int(auto.split(b"-")[0]) > 2
    assert r.xlen("s") == 3
    assert r.xrange("s", "-", "+", count=2) == [(b"1-1", {b"a": b"1"}),
                                                 (b"2-0", {b"b": b"2", b"c": b"3"})]
    assert r.xrevrange("s", "+", "-", count=1)[0][0] == auto
    assert r.xdel("s", "1-1") == 1
    assert r.xtrim("s", maxlen=1, approximate=False) == 1
    assert r.xrange("s") == [(auto, {b"d": b"4"})]
    assert r.xread({"s": "0"}) == [[b"s", [(auto, {b"d": b"4"})]]]
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"


def test_basic_commands_resp3(r3):
    r3.xadd("s", {"a": "1"}, id="1-1")
    r3.xadd("t", {"b": "2"}, id="5-5")
    raw = r3.execute_command("XREAD", "STREAMS", "s", "t", "0", "0")
    assert list(raw.keys()) == [b"s", b"t"]
    assert r3.xrange("t") == [(b"5-5", {b"b": b"2"})]


def test_xread_block_woken_by_xadd_in_fifo_order(r, blockers):
    first = blockers().send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    wait_blocked(r, first)
    second = blockers(3).send("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "other", "s",
                              "0", "$")
    wait_blocked(r, second)
    assert r.xadd("s", {"f": "v"}, id="3-1") == b"3-1"
    assert first.reply() == [[b"s", [[b"3-1", [b"f", b"v"]]]]]
    assert second.raw() == (b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n3-1\r\n"
                            b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
    assert flags_of(r, first.id) == "N"


def test_xread_block_on_several_streams_and_a_transaction(r, blockers):
    r.xadd("a", {"x": "1"}, id="1-1")
    waiter = blockers().send("XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$")
    wait_blocked(r, waiter)
    r.xdel("a", "1-1")              # a write, but nothing after the ID it waits for
    r.set("unrelated", "1")
    assert "b" in flags_of(r, waiter.id)
    pipe = r.pipeline(transaction=True)
    pipe.xadd("b", {"y": "2"}, id="7-7")
    pipe.xadd("b", {"y": "3"}, id="7-8")
    pipe.execute()
    assert waiter.reply() == [[b"b", [[b"7-7", [b"y", b"2"]], [b"7-8", [b"y", b"3"]]]]]


@pytest.mark.parametrize("resp, nil", [(2, b"*-1\r\n"), (3, b"_\r\n")])
def test_xread_block_timeout(r, blockers, resp, nil):
    waiter = blockers(resp).send("XREAD", "BLOCK", "20", "STREAMS", "s", "$")
    assert waiter.raw() == nil


def test_xread_block_after_an_explicit_id_and_wrong_type(r, blockers):
    r.xadd("s", {"f": "1"}, id="1-1")
    waiter = blockers().send("XREAD", "BLOCK", "0", "STREAMS", "s", "1-1")
    wait_blocked(r, waiter)
    r.xadd("s", {"f": "2"}, id="2-1")
    assert waiter.reply() == [[b"s", [[b"2-1", [b"f", b"2"]]]]]
    # A key that becomes another type does not serve it; the stream coming back does.
    waiter.send("XREAD", "BLOCK", "0", "STREAMS", "k", "0")
    wait_blocked(r, waiter)
    r.set("k", "v")
    assert "b" in flags_of(r, waiter.id)
    r.delete("k")
    r.xadd("k", {"g": "1"}, id="1-1")
    assert waiter.reply() == [[b"k", [[b"1-1", [b"g", b"1"]]]]]


def group_reader(blockers, consumer: str, resp: int = 2, key: str = "s", count: str = "10"):
    return blockers(resp).send("XREADGROUP", "GROUP", "g", consumer, "COUNT", count,
                               "BLOCK", "0", "STREAMS", key, ">")


def test_xreadgroup_block_serves_consumers_in_turn(r, blockers):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    alice = group_reader(blockers, "alice", count="1")
    wait_blocked(r, alice)
    bob = group_reader(blockers, "bob", resp=3)
    wait_blocked(r, bob)
    pipe = r.pipeline(transaction=True)
    pipe.xadd("s", {"n": "1"}, id="1-1")
    pipe.xadd("s", {"n": "2"}, id="2-1")
    pipe.execute()
    assert alice.reply() == [[b"s", [[b"1-1", [b"n", b"1"]]]]]
    assert bob.raw() == (b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n"
                         b"*2\r\n$1\r\nn\r\n$1\r\n2\r\n")
    pending = r.xpending("s", "g")
    assert pending["pending"] == 2
    assert sorted(c["name"] for c in pending["consumers"]) == [b"alice", b"bob"]
    assert r.xack("s", "g", "1-1", "2-1") == 2


def test_xreadgroup_block_each_entry_goes_to_one_consumer(r, blockers):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    readers = [group_reader(blockers, f"c{i}") for i in range(3)]
    wait_blocked(r, *readers)
    r.xadd("s", {"n": "1"}, id="1-1")
    assert readers[0].reply() == [[b"s", [[b"1-1", [b"n", b"1"]]]]]
    assert "b" in flags_of(r, readers[1].id) and "b" in flags_of(r, readers[2].id)
    r.xadd("s", {"n": "2"}, id="2-1")
    assert readers[1].reply() == [[b"s", [[b"2-1", [b"n", b"2"]]]]]
    r.xadd("s", {"n": "3"}, id="3-1")
    assert readers[2].reply() == [[b"s", [[b"3-1", [b"n", b"3"]]]]]


def test_blocked_group_reader_gets_errors_when_the_stream_or_group_goes(r, blockers):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    reader = group_reader(blockers, "c")
    wait_blocked(r, reader)
    r.delete("s")
    assert reader.raw() == b"-UNBLOCKED the stream key no longer exists\r\n"
    r.xgroup_create("s", "g", id="$", mkstream=True)
    reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, reader)
    r.delete("s")
    r.set("s", "now a string")
    assert reader.raw() == b"-UNBLOCKED the stream key no longer exists\r\n"
    r.delete("s")
    r.xgroup_create("s", "g", id="$", mkstream=True)
    reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, reader)
    r.flushall()
    assert reader.raw() == b"-UNBLOCKED the stream key no longer exists\r\n"
    r.xgroup_create("s", "g", id="$", mkstream=True)
    reader.send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, reader)
    r.xgroup_destroy("s", "g")
    # Redis 7.2 runs the command again, which finds no group (7.0 had its own text).
    assert reader.raw().startswith(b"-NOGROUP ")


def test_xreadgroup_block_timeout_and_noack(r, blockers):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    waiter = blockers(3).send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "20", "STREAMS",
                              "s", ">")
    assert waiter.raw() == b"_\r\n"
    waiter.send("XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    wait_blocked(r, waiter)
    r.xadd("s", {"a": "1"}, id="5-5")
    assert waiter.raw().startswith(b"%1\r\n")
    assert r.xpending("s", "g")["pending"] == 0
    assert r.xinfo_groups("s")[0]["last-delivered-id"] == b"5-5"

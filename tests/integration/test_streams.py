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

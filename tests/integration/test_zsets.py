"""Sorted sets over TCP: redis-py in RESP2 and RESP3 (the reply shapes each protocol gives:
flat member/score arrays vs [member, score] pairs, doubles), ZSCAN over a big set, and the
blocking pops with several clients (wake-up by another client's write, first come first
served, timeouts in both protocols, BZMPOP counts, disconnects and CLIENT UNBLOCK).

Blocked clients are awaited on the server's own state (CLIENT LIST flag ``b``), never with
sleeps.
"""

import math

import pytest

from tests.rawclient import Blocker, RawClient
from tests.servers import wait_until

# ---- RESP2 with redis-py --------------------------------------------------------------------


def test_resp2_basic_commands(r):
    assert r.zadd("z", {"a": 1, "b": 2.5, "c": -1}) == 3
    assert r.zadd("z", {"a": 5}, ch=True) == 1
    assert r.zadd("z", {"a": 1}, gt=True) == 0
    assert r.zincrby("z", 0.5, "c") == -0.5
    assert r.zscore("z", "b") == 2.5 and r.zscore("z", "nope") is None
    assert r.zmscore("z", ["a", "nope"]) == [5.0, None]
    assert r.zcard("z") == 3 and r.zcount("z", "(0", "+inf") == 2
    assert r.zrange("z", 0, -1) == [b"c", b"b", b"a"]
    assert r.zrange("z", 0, -1, withscores=True) == [(b"c", -0.5), (b"b", 2.5), (b"a", 5.0)]
    assert r.zrevrange("z", 0, 0, withscores=True) == [(b"a", 5.0)]
    assert r.zrangebyscore("z", 0, "inf", start=1, num=1) == [b"a"]
    assert r.zrank("z", "b") == 1 and r.zrevrank("z", "b") == 1
    assert r.execute_command("ZRANK", "z", "a", "WITHSCORE") == [2, b"5"]
    assert r.zpopmin("z") == [(b"c", -0.5)]
    assert r.zpopmax("z", 5) == [(b"a", 5.0), (b"b", 2.5)]
    assert r.exists("z") == 0


def test_resp2_ranges_and_set_operations(r):
    r.zadd("lex", {m: 0 for m in ["a", "b", "c", "d"]})
    assert r.zrangebylex("lex", "(a", "[c") == [b"b", b"c"]
    assert r.zlexcount("lex", "-", "+") == 4
    assert r.zremrangebylex("lex", "[a", "(c") == 2
    r.zadd("x", {"a": 1, "b": 2})
    r.zadd("y", {"b": 3, "c": 4})
    r.sadd("s", "a", "c")
    assert r.zunion(["x", "y"], withscores=True) == [(b"a", 1.0), (b"c", 4.0), (b"b", 5.0)]
    assert r.zinter(["x", "y"], aggregate="MAX", withscores=True) == [(b"b", 3.0)]
    assert r.zdiff(["x", "y"]) == [b"a"]
    assert r.zunionstore("u", {"x": 2, "s": 10}) == 3
    assert r.zrange("u", 0, -1, withscores=True) == [(b"b", 4.0), (b"c", 10.0), (b"a", 12.0)]
    assert r.zintercard(2, ["x", "y"]) == 1
    assert r.zrangestore("dst", "u", 0, 1) == 2 and r.zrange("dst", 0, -1) == [b"b", b"c"]
    assert r.zmpop(2, ["nope", "u"], min=True, count=2) == [b"u", [[b"b", b"4"], [b"c", b"10"]]]


def test_resp2_zrandmember_and_errors(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrandmember("z") in (b"a", b"b", b"c")
    assert sorted(r.zrandmember("z", 5)) == [b"a", b"b", b"c"]
    assert len(r.zrandmember("z", -7)) == 7
    r.set("str", "v")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.zadd("str", {"a": 1})
    with pytest.raises(Exception, match="not a valid float"):
        r.execute_command("ZADD", "z", "abc", "a")
    with pytest.raises(Exception, match="min or max is not a float"):
        r.zrangebyscore("z", "x", 1)


def test_zscan_visits_every_member_of_a_big_set(r):
    mapping = {"m%d" % i: i / 4 for i in range(2000)}
    r.zadd("big", mapping)
    assert r.object("encoding", "big") == b"skiplist"
    seen = dict(r.zscan_iter("big", count=100))
    assert seen == {k.encode(): v for k, v in mapping.items()}
    assert dict(r.zscan_iter("big", match="m1999")) == {b"m1999": 499.75}


# ---- RESP3 --------------------------------------------------------------------------------


def test_resp3_doubles_and_pairs_with_redis_py(r3):
    r3.zadd("z", {"a": 1.5, "b": math.inf})
    assert r3.zscore("z", "a") == 1.5 and r3.zscore("z", "b") == math.inf
    assert r3.zrange("z", 0, -1, withscores=True) == [[b"a", 1.5], [b"b", math.inf]]
    assert r3.zpopmin("z") == [b"a", 1.5]


def test_resp3_exact_shapes(ember_server):
    conn = RawClient(ember_server.port)
    try:
        conn.call("HELLO", "3")
        conn.call("ZADD", "z", "1", "a", "2.5", "b")
        assert conn.call_raw("ZSCORE", "z", "b") == b",2.5\r\n"
        assert conn.call_raw("ZSCORE", "z", "x") == b"_\r\n"
        assert conn.call_raw("ZRANGE", "z", "0", "-1", "WITHSCORES") == (
            b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n")
        assert conn.call_raw("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n,2.5\r\n"
        assert conn.call_raw("ZRANK", "z", "x", "WITHSCORE") == b"_\r\n"
        assert conn.call_raw("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"
        assert conn.call_raw("ZPOPMAX", "z", "1") == b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
        assert conn.call_raw("ZMPOP", "1", "z", "MIN") == b"_\r\n"
        assert conn.call_raw("FLUSHALL") == b"+OK\r\n"
    finally:
        conn.close()


# ---- blocking pops with several clients ---------------------------------------------------


@pytest.fixture
def blockers(ember_server):
    made = []

    def make(resp: int = 2) -> Blocker:
        blocker = Blocker(ember_server.port, resp)
        made.append(blocker)
        return blocker

    yield make
    for blocker in made:
        blocker.conn.close()


def _flags(r, client_id: int) -> str:
    line = r.execute_command("CLIENT", "LIST", "ID", client_id)
    line = line.decode() if isinstance(line, bytes) else line
    return next((f[6:] for f in line.split() if f.startswith("flags=")), "")


def wait_blocked(r, *blockers) -> None:
    """Wait until every blocker is parked on the server (CLIENT LIST flag b)."""
    for blocker in blockers:
        assert wait_until(lambda b=blocker: "b" in _flags(r, b.id)), blocker.id


def test_bzpopmin_is_woken_by_another_clients_zadd(r, blockers):
    waiting = blockers().send("BZPOPMIN", "k1", "k2", "0")
    wait_blocked(r, waiting)
    r.zadd("k2", {"a": 3, "b": 1})
    assert waiting.reply() == [b"k2", b"b", b"1"]
    assert r.zrange("k2", 0, -1) == [b"a"]


def test_blocked_clients_are_served_first_come_first_served(r, blockers):
    first = blockers().send("BZPOPMAX", "k", "0")
    wait_blocked(r, first)
    second = blockers().send("BZPOPMAX", "k", "0")
    wait_blocked(r, second)
    third = blockers().send("BZMPOP", "0", "1", "k", "MIN", "COUNT", "5")
    wait_blocked(r, third)
    r.zadd("k", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert first.reply() == [b"k", b"d", b"4"]
    assert second.reply() == [b"k", b"c", b"3"]
    assert third.reply() == [b"k", [[b"a", b"1"], [b"b", b"2"]]]
    assert r.exists("k") == 0


def test_a_client_served_nothing_keeps_waiting_at_its_place(r, blockers):
    waiting = blockers().send("BZPOPMIN", "k", "0")
    wait_blocked(r, waiting)
    r.set("k", "a string")                  # wrong type: not served, still blocked
    r.delete("k")
    assert "b" in _flags(r, waiting.id)
    r.zunionstore("k", {"src": 1})          # empty result: nothing stored
    r.zadd("src", {"m": 7})
    r.zunionstore("k", ["src"])             # a store wakes it too
    assert waiting.reply() == [b"k", b"m", b"7"]


def test_a_multi_exec_wakes_blocked_clients_after_the_whole_transaction(r, blockers):
    waiting = blockers().send("BZPOPMAX", "k", "0")
    wait_blocked(r, waiting)
    with r.pipeline(transaction=True) as tx:
        tx.zadd("k", {"a": 1, "b": 2})
        tx.zrem("k", "b")                   # the client sees the state after EXEC
        tx.execute()
    assert waiting.reply() == [b"k", b"a", b"1"]


def test_timeouts_reply_nil_in_both_protocols(blockers):
    assert blockers().send("BZPOPMIN", "nokey", "0.05").raw() == b"*-1\r\n"
    assert blockers(3).send("BZPOPMAX", "nokey", "0.05").raw() == b"_\r\n"
    assert blockers().send("BZMPOP", "0.05", "1", "nokey", "MAX").raw() == b"*-1\r\n"
    assert blockers(3).send("BZMPOP", "0.05", "1", "nokey", "MIN").raw() == b"_\r\n"


def test_resp3_wake_up_shapes(r, blockers):
    single = blockers(3).send("BZPOPMIN", "k", "0")
    wait_blocked(r, single)
    counted = blockers(3).send("BZMPOP", "0", "1", "k", "MAX", "COUNT", "2")
    wait_blocked(r, counted)
    r.zadd("k", {"a": 1.5, "b": 2, "c": 3})
    assert single.raw() == b"*3\r\n$1\r\nk\r\n$1\r\na\r\n,1.5\r\n"
    assert counted.raw() == b"*2\r\n$1\r\nk\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"


def test_disconnect_and_client_unblock_leave_nothing_behind(r, blockers):
    gone = blockers().send("BZPOPMIN", "k", "0")
    wait_blocked(r, gone)
    gone.conn.close()
    assert wait_until(lambda: r.info("clients")["blocked_clients"] == 0)
    r.zadd("k", {"a": 1})
    assert r.zcard("k") == 1                # nobody took it
    r.delete("k")
    unblocked = blockers().send("BZPOPMIN", "k", "0")
    wait_blocked(r, unblocked)
    assert r.client_unblock(unblocked.id, error=True) == 1
    assert unblocked.raw() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    timed = blockers().send("BZMPOP", "0", "1", "k", "MIN")
    wait_blocked(r, timed)
    assert r.client_unblock(timed.id) == 1
    assert timed.raw() == b"*-1\r\n"
    assert r.info("clients")["blocked_clients"] == 0

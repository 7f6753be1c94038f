"""Blocking list commands over TCP with several clients: wake-ups by pushes from other
clients, first-come-first-served order, timeouts (fractional, RESP2 and RESP3 shapes),
chained BLMOVE wake-ups, pipelined commands held behind a blocked one, CLIENT UNBLOCK,
clients that disconnect or are killed while blocked, INFO and CLIENT LIST, and an idle
event loop while clients wait.

Clients are synchronised on the server's own state (CLIENT LIST shows flag ``b`` once a
client is parked), never on sleeps.
"""

import os
import time

import pytest
import redis

from tests.rawclient import Blocker
from tests.servers import wait_until


@pytest.fixture
def blockers(ember_server):
    """Make Blocker connections; all are closed after the test."""
    made = []

    def make(resp: int = 2, db: int = 0) -> Blocker:
        blocker = Blocker(ember_server.port, resp, db)
        made.append(blocker)
        return blocker

    yield make
    for blocker in made:
        blocker.close()


def flags_of(r, client_id: int) -> str:
    """The CLIENT LIST flags of one client ('' if it is gone)."""
    line = r.execute_command("CLIENT", "LIST", "ID", client_id)
    if isinstance(line, bytes):
        line = line.decode()
    for field in line.split():
        if field.startswith("flags="):
            return field[6:]
    return ""


def wait_blocked(r, *blockers) -> None:
    """Wait until every blocker is parked on the server (CLIENT LIST flag b)."""
    for blocker in blockers:
        assert wait_until(lambda b=blocker: "b" in flags_of(r, b.id)), blocker.id


def blocked_clients(r) -> int:
    return r.info("clients")["blocked_clients"]


def test_blpop_is_woken_by_a_push_from_another_client(r, blockers):
    waiter = blockers().send("BLPOP", "q", "0")
    wait_blocked(r, waiter)
    assert r.rpush("q", "job") == 1
    assert waiter.reply() == [b"q", b"job"]
    assert r.exists("q") == 0
    assert flags_of(r, waiter.id) == "N"


def test_clients_on_one_key_are_served_in_the_order_they_blocked(r, blockers):
    waiters = []
    for _ in range(4):
        waiters.append(blockers().send("BRPOP", "q", "0"))
        wait_blocked(r, waiters[-1])            # each parks before the next one comes
    assert r.lpush("q", "a", "b", "c") == 3     # one push serves three, in order
    assert [w.reply() for w in waiters[:3]] == [[b"q", b"a"], [b"q", b"b"], [b"q", b"c"]]
    assert "b" in flags_of(r, waiters[3].id)
    r.rpush("q", "d")
    assert waiters[3].reply() == [b"q", b"d"]


def test_several_keys_and_the_first_one_with_data(r, blockers):
    r.rpush("b", "1")
    r.rpush("c", "2")
    assert r.blpop(["a", "b", "c"], timeout=1) == (b"b", b"1")
    waiter = blockers().send("BLPOP", "x", "y", "x", "0")
    wait_blocked(r, waiter)
    r.rpush("y", "v")
    assert waiter.reply() == [b"y", b"v"]
    assert r.info("clients")["total_blocking_keys"] == 0


@pytest.mark.parametrize("resp, nil", [(2, b"*-1\r\n"), (3, b"_\r\n")])
def test_fractional_timeouts_answer_the_null_array(blockers, resp, nil):
    for command in (("BLPOP", "none", "0.15"), ("BRPOP", "n1", "n2", "0.05"),
                    ("BLMOVE", "none", "d", "LEFT", "RIGHT", "0.05"),
                    ("BRPOPLPUSH", "none", "d", "0.05"),
                    ("BLMPOP", "0.05", "2", "a", "b", "LEFT", "COUNT", "3")):
        waiter = blockers(resp)
        started = time.monotonic()
        assert waiter.send(*command).raw() == nil
        elapsed = time.monotonic() - started
        assert float(command[-1] if command[0] != "BLMPOP" else command[1]) <= elapsed + 0.002
        assert elapsed < 2


def test_a_timeout_keeps_the_others_waiting(r, blockers):
    short = blockers().send("BLPOP", "q", "0.05")
    forever = blockers().send("BLPOP", "q", "0")
    assert short.raw() == b"*-1\r\n"
    wait_blocked(r, forever)
    r.rpush("q", "v")
    assert forever.reply() == [b"q", b"v"]


def test_blmove_to_a_list_someone_waits_on_chains_the_wake_ups(r, blockers):
    mover = blockers().send("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
    wait_blocked(r, mover)
    waiter = blockers().send("BLPOP", "dst", "0")
    wait_blocked(r, waiter)
    relay = blockers().send("BRPOPLPUSH", "dst2", "src", "0")
    wait_blocked(r, relay)
    r.rpush("dst2", "x")      # relay: dst2 -> src, mover: src -> dst, waiter pops dst
    assert relay.reply() == b"x"
    assert mover.reply() == b"x"
    assert waiter.reply() == [b"dst", b"x"]
    assert r.dbsize() == 0


def test_blmove_woken_onto_a_wrong_type_destination_fails_and_keeps_the_element(
        r, blockers):
    r.set("s", "string")
    mover = blockers().send("BLMOVE", "src", "s", "LEFT", "LEFT", "0")
    wait_blocked(r, mover)
    r.rpush("src", "v")
    assert mover.raw().startswith(b"-WRONGTYPE")
    assert r.lrange("src", 0, -1) == [b"v"]


def test_commands_pipelined_behind_a_blocked_one_wait_for_it(r, blockers):
    waiter = blockers()
    waiter.conn.send(b"BLPOP q 0\r\nPING\r\nRPUSH own 1\r\n")
    wait_blocked(r, waiter)
    assert r.exists("own") == 0                  # held, not run
    waiter.conn.send(b"ECHO later\r\n")          # sent while blocked: held too
    r.rpush("q", "v")
    assert waiter.reply() == [b"q", b"v"]
    assert waiter.raw() == b"+PONG\r\n"
    assert waiter.reply() == 1
    assert waiter.reply() == b"later"


def test_a_served_client_that_blocks_again_keeps_its_place_rules(r, blockers):
    waiter = blockers()
    waiter.conn.send(b"BLPOP q 0\r\nBLPOP q 0\r\n")
    wait_blocked(r, waiter)
    r.rpush("q", "1")
    assert waiter.reply() == [b"q", b"1"]
    wait_blocked(r, waiter)                      # the second BLPOP blocked in turn
    r.rpush("q", "2")
    assert waiter.reply() == [b"q", b"2"]


def test_a_transaction_wakes_clients_once_it_has_run(r, blockers):
    waiter = blockers().send("BLPOP", "q", "0")
    wait_blocked(r, waiter)
    pipe = r.pipeline(transaction=True)
    pipe.rpush("q", "first", "second").lpop("q").llen("q")
    assert pipe.execute() == [2, b"first", 1]
    assert waiter.reply() == [b"q", b"second"]      # what EXEC left, not what it pushed
    assert r.exists("q") == 0


def test_inside_multi_blocking_commands_do_not_block(r):
    pipe = r.pipeline(transaction=True)
    pipe.blpop(["none"], 0).brpoplpush("none", "d", 0).blmpop(0, 1, "none", direction="LEFT")
    assert pipe.execute() == [None, None, None]


def test_a_script_wakes_clients_after_it_ends_and_does_not_block_itself(r, blockers):
    waiter = blockers().send("BRPOP", "q", "0")
    wait_blocked(r, waiter)
    script = ("redis.call('RPUSH', KEYS[1], 'a', 'b'); redis.call('RPOP', KEYS[1]); "
              "return redis.call('BLPOP', KEYS[2], 0)")
    assert r.eval(script, 2, "q", "empty") is None
    assert waiter.reply() == [b"q", b"a"]


def test_resp3_client_gets_a_resp3_late_reply(r, blockers):
    waiter = blockers(3).send("BLMPOP", "0", "1", "q", "RIGHT", "COUNT", "2")
    wait_blocked(r, waiter)
    r.rpush("q", "a", "b", "c")
    assert waiter.raw() == b"*2\r\n$1\r\nq\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"


def test_client_unblock_timeout_and_error(r, blockers):
    first = blockers().send("BLPOP", "q", "0")
    second = blockers(3).send("BLMOVE", "q", "d", "LEFT", "LEFT", "0")
    wait_blocked(r, first, second)
    assert r.client_unblock(first.id) is True
    assert first.raw() == b"*-1\r\n"
    assert r.client_unblock(second.id, error=True) is True
    assert second.raw() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert r.client_unblock(second.id) is False           # no longer blocked
    assert r.info("errorstats").get("errorstat_UNBLOCKED", {}).get("count", 0) >= 1
    assert first.send("PING").raw() == b"+PONG\r\n"       # usable again


def test_a_client_that_disconnects_while_blocked_leaves_nothing_behind(r, blockers):
    before = blocked_clients(r)
    gone = blockers().send("BLPOP", "q", "0")
    wait_blocked(r, gone)
    assert blocked_clients(r) == before + 1
    gone.close()
    assert wait_until(lambda: blocked_clients(r) == before)
    assert r.info("clients")["total_blocking_keys"] == 0
    r.rpush("q", "kept")                       # nobody to take it: it stays
    assert r.lrange("q", 0, -1) == [b"kept"]
    stays = blockers().send("BLPOP", "q2", "0")
    wait_blocked(r, stays)
    r.rpush("q2", "v")
    assert stays.reply() == [b"q2", b"v"]


def test_a_killed_blocked_client_is_forgotten(r, blockers):
    victim = blockers().send("BRPOP", "q", "0")
    wait_blocked(r, victim)
    assert r.client_kill_filter(_id=victim.id) == 1
    assert victim.raw() == b""
    assert flags_of(r, victim.id) == ""
    r.rpush("q", "v")
    assert r.llen("q") == 1


def test_info_and_client_list_show_blocked_clients(r, blockers):
    before = r.info("clients")
    waiters = [blockers().send("BLPOP", "k%d" % i, "k", "0" if i else "100")
               for i in range(3)]
    wait_blocked(r, *waiters)
    info = r.info("clients")
    assert info["blocked_clients"] == before["blocked_clients"] + 3
    assert info["total_blocking_keys"] == before["total_blocking_keys"] + 4   # k0 k1 k2 k
    assert info["clients_in_timeout_table"] == before["clients_in_timeout_table"] + 1
    line = r.execute_command("CLIENT", "LIST", "ID", waiters[0].id)
    line = line.decode() if isinstance(line, bytes) else line
    assert " flags=b " in line and " cmd=blpop " in line
    r.rpush("k", "1", "2", "3")
    assert sorted(w.reply()[1] for w in waiters) == [b"1", b"2", b"3"]
    assert r.info("clients")["blocked_clients"] == before["blocked_clients"]


def test_databases_are_separate(r, blockers):
    waiter = blockers(db=1).send("BLPOP", "q", "0")
    wait_blocked(r, waiter)
    r.rpush("q", "db0")                            # db 0: not for it
    other = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=1)
    try:
        other.rpush("q", "db1")
        assert waiter.reply() == [b"q", b"db1"]
        assert r.lrange("q", 0, -1) == [b"db0"]
    finally:
        other.close()


def test_redis_py_blocking_helpers(r3, blockers):
    assert r3.blpop("none", timeout=0.05) is None
    assert r3.brpoplpush("none", "d", timeout=0.05) is None
    r3.rpush("src", "a", "b")
    assert r3.blmove("src", "dst", 1, "RIGHT", "LEFT") == b"b"
    assert r3.brpop(["src"], timeout=1) == [b"src", b"a"]
    assert r3.blmpop(1, 1, "dst", direction="LEFT", count=5) == [b"dst", [b"b"]]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_loop_is_idle_while_clients_wait(r, blockers, ember_server):
    waiters = [blockers().send("BLPOP", "idle%d" % i, "0" if i % 2 else "3600")
               for i in range(40)]
    wait_blocked(r, *waiters)
    pid = ember_server.proc.pid
    cpu_before = _cpu_seconds(pid)
    time.sleep(1.0)        # nothing to await here: idleness is the absence of work
    assert _cpu_seconds(pid) - cpu_before < 0.2
    for waiter in waiters:
        r.client_unblock(waiter.id)

"""Transactions over TCP with redis-py and several clients.

Optimistic locking with redis-py's ``transaction()`` helper (a forced WATCH race and
concurrent incrementers), WATCH broken by expiry and FLUSHALL, EXECABORT as redis-py
reports it, RESP3 replies inside EXEC, blocking commands answering nil inside MULTI,
EXEC's atomicity while another client writes without pause, MULTI state in CLIENT LIST,
and a rate limiter written the usual way (INCR + EXPIRE in MULTI).
"""

import threading

import pytest
import redis

from tests.rawclient import RawClient
from tests.servers import wait_until


@pytest.fixture
def other(ember_server):
    """A second redis-py client on the same server."""
    client = redis.Redis(port=ember_server.port)
    yield client
    client.close()


def server_ms(client) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


# ---- optimistic locking -----------------------------------------------------------------

def test_transaction_helper_retries_when_another_client_wins_the_race(r, other):
    r.set("balance", 100)
    attempts = []

    def withdraw(pipe):
        balance = int(pipe.get("balance"))
        attempts.append(balance)
        if len(attempts) == 1:
            other.decrby("balance", 30)          # someone else moves first
        pipe.multi()
        pipe.set("balance", balance - 10)

    assert r.transaction(withdraw, "balance") == [True]
    assert attempts == [100, 70]                 # the first EXEC was aborted, then retried
    assert int(r.get("balance")) == 60


def test_concurrent_incrementers_lose_no_update(ember_server, r):
    r.set("counter", 0)
    threads, per_thread = 4, 60
    retries = []

    def work():
        client = redis.Redis(port=ember_server.port)
        for _ in range(per_thread):
            def incr(pipe):
                value = int(pipe.get("counter"))
                pipe.multi()
                pipe.set("counter", value + 1)
            with client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch("counter")
                        incr(pipe)
                        pipe.execute()
                        break
                    except redis.WatchError:
                        retries.append(1)
        client.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert int(r.get("counter")) == threads * per_thread


def test_watch_broken_by_expiry(r):
    r.set("lease", "mine", px=50)
    deadline = server_ms(r) + 50
    with r.pipeline() as pipe:
        pipe.watch("lease")
        assert wait_until(lambda: server_ms(r) > deadline + 1)   # only the clock moves
        pipe.multi()
        pipe.set("lease", "renewed")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("lease") is None


def test_watch_broken_by_flushall_from_another_client(r, other):
    r.set("config", "v1")
    with r.pipeline() as pipe:
        pipe.watch("config")
        other.flushall()
        pipe.multi()
        pipe.set("config", "v2")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("config") is None


def test_watch_of_a_missing_key_survives_flushall(r, other):
    with r.pipeline() as pipe:
        pipe.watch("missing")
        other.flushall()
        pipe.multi()
        pipe.set("missing", "now")
        assert pipe.execute() == [True]


# ---- EXECABORT and errors ---------------------------------------------------------------

def test_execabort_after_a_queueing_error(ember_server, r):
    client = RawClient(ember_server.port)
    try:
        assert client.call_raw("MULTI") == b"+OK\r\n"
        assert client.call_raw("SET", "a", "1") == b"+QUEUED\r\n"
        assert client.call_raw("NOSUCHCOMMAND").startswith(b"-ERR unknown command")
        assert client.call_raw("SET", "b", "2") == b"+QUEUED\r\n"
        assert client.call_raw("EXEC") == \
            b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    finally:
        client.close()
    assert r.exists("a", "b") == 0


def test_pipeline_reports_runtime_errors_per_command(r):
    r.set("text", "abc")
    with r.pipeline() as pipe:
        pipe.set("n", 1).incr("text").incr("n")
        replies = pipe.execute(raise_on_error=False)
    assert replies[0] is True and replies[2] == 2
    assert isinstance(replies[1], redis.ResponseError)


def test_redis_py_raises_on_a_bad_command_in_a_transaction(r):
    with r.pipeline() as pipe:
        pipe.set("a", 1)
        pipe.execute_command("GET", "wrong", "arity")
        pipe.set("b", 2)
        with pytest.raises(redis.ResponseError):
            pipe.execute()
    assert r.exists("a", "b") == 0


# ---- RESP3, blocking commands -------------------------------------------------------------

def test_multi_in_resp3(r3):
    r3.hset("h", mapping={"f": "v"})
    r3.zadd("z", {"m": 2.5})
    with r3.pipeline() as pipe:
        pipe.hgetall("h").zscore("z", "m").smembers("h2").get("missing")
        assert pipe.execute() == [{b"f": b"v"}, 2.5, set(), None]


def test_watch_abort_in_resp3(r3, other):
    r3.set("k", 1)
    with r3.pipeline() as pipe:
        pipe.watch("k")
        other.set("k", 2)
        pipe.multi()
        pipe.incr("k")
        with pytest.raises(redis.WatchError):
            pipe.execute()


@pytest.mark.parametrize("fixture", ["r", "r3"])
def test_blocking_commands_inside_multi_return_nil_at_once(request, fixture):
    client = request.getfixturevalue(fixture)
    with client.pipeline() as pipe:
        pipe.blpop(["empty"], timeout=0).bzpopmin("emptyz", timeout=0)
        pipe.blmove("empty", "dst", timeout=0).rpush("l", "x").blpop(["l"], timeout=0)
        replies = pipe.execute()
    assert replies[:4] == [None, None, None, 1] and list(replies[4]) == [b"l", b"x"]


def test_a_blocked_client_is_woken_once_after_exec(ember_server, r):
    waiter = RawClient(ember_server.port)
    try:
        waiter_id = waiter.call("CLIENT", "ID")
        waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n0\r\n")
        assert wait_until(lambda: "b" in r.client_list(client_id=[waiter_id])[0]["flags"])
        with r.pipeline() as pipe:
            pipe.lpush("jobs", "first").lpush("jobs", "second")
            assert pipe.execute() == [1, 2]
        # Served once the transaction was over: it sees what EXEC left.
        assert waiter.read_value() == [b"jobs", b"second"]
        assert r.lrange("jobs", 0, -1) == [b"first"]
    finally:
        waiter.close()


# ---- atomicity ----------------------------------------------------------------------------

def test_exec_is_atomic_while_another_client_writes(ember_server, r):
    stop = threading.Event()
    seen = []

    def hammer():
        client = redis.Redis(port=ember_server.port)
        while not stop.is_set():
            seen.append(client.incr("x"))
        client.close()

    writer = threading.Thread(target=hammer)
    writer.start()
    try:
        assert wait_until(lambda: len(seen) > 20)
        with r.pipeline() as pipe:
            pipe.incr("x")
            for _ in range(20000):
                pipe.incr("filler")
            pipe.incr("x")
            replies = pipe.execute()
        assert wait_until(lambda: seen and seen[-1] > replies[-1] + 20)
    finally:
        stop.set()
        writer.join()
    first, last = replies[0], replies[-1]
    assert replies[-2] == 20000
    # Nothing ran between the transaction's two INCRs, although the writer was busy
    # before and after it.
    assert last == first + 1
    assert min(seen) < first and max(seen) > last


# ---- introspection ------------------------------------------------------------------------

def test_client_list_shows_a_client_in_multi(ember_server, r):
    client = RawClient(ember_server.port)
    try:
        client_id = client.call("CLIENT", "ID")
        client.call("MULTI")
        client.call("SET", "a", "1")
        client.call("GET", "a")
        info = r.client_list(client_id=[client_id])[0]
        assert info["flags"] == "x" and info["multi"] == "2" and info["cmd"] == "get"
        client.call("EXEC")
        info = r.client_list(client_id=[client_id])[0]
        assert info["flags"] == "N" and info["multi"] == "-1" and info["cmd"] == "exec"
        client.call("WATCH", "a")
        r.set("a", "2")
        assert r.client_list(client_id=[client_id])[0]["flags"] == "d"
    finally:
        client.close()


# ---- a rate limiter -----------------------------------------------------------------------

def allow_request(client, user: str, limit: int, window_ms: int) -> bool:
    """Fixed-window rate limiting as usually written: INCR and PEXPIRE in one MULTI."""
    key = f"rate:{user}"
    with client.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.pexpire(key, window_ms, nx=True)
        count, _ = pipe.execute()
    return count <= limit


def test_rate_limiter(r):
    results = [allow_request(r, "alice", 5, 200) for _ in range(7)]
    assert results == [True] * 5 + [False] * 2
    assert allow_request(r, "bob", 5, 200)       # per user
    assert 0 < r.pttl("rate:alice") <= 200       # the window's TTL was set once
    assert wait_until(lambda: r.exists("rate:alice") == 0)
    assert allow_request(r, "alice", 5, 200)     # a new window

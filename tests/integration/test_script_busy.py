"""Scripts that run past busy-reply-threshold, on a dedicated ember-server (threshold
200 ms): other clients get -BUSY, SCRIPT KILL / FUNCTION KILL stop the script (or are
refused with UNKILLABLE once it wrote), clients that connect meanwhile are served too,
and SHUTDOWN NOSAVE stops the server. Every reply is compared with the bytes
redis-server 7.x sends in the same situation.
"""

import pytest

from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember, wait_until

SLOW_EVAL = (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
             b"SHUTDOWN NOSAVE.\r\n")
SLOW_FUNCTION = (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL "
                 b"or SHUTDOWN NOSAVE.\r\n")
UNKILLABLE = (b"-UNKILLABLE Sorry the script already executed write commands against the "
              b"dataset. You can either wait the script termination or kill the server in a "
              b"hard way using the SHUTDOWN NOSAVE command.\r\n")
KILLED = (b"-ERR Script killed by user with SCRIPT KILL... script: %s, on %s.\r\n")
SPIN = "while true do end"
SPIN_SHA = b"694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7"


@pytest.fixture(scope="module")
def busy_server():
    server = start_ember("--busy-reply-threshold", "200")
    yield server
    server.stop()


@pytest.fixture
def clients(busy_server):
    opened = []

    def connect(established=True):
        client = RawClient(busy_server.port)
        opened.append(client)
        if established:     # accepted and set up by the server before a script starts
            assert client.call_raw("PING") == b"+PONG\r\n"
        return client
    yield connect
    for client in opened:
        client.close()


def start(client, *command) -> None:
    """Send a command without waiting for its reply."""
    client.send(encode_command(*command))


def wait_busy(client, expected=SLOW_EVAL) -> None:
    """Wait until the script has passed the threshold (PING answers -BUSY)."""
    assert wait_until(lambda: client.call_raw("PING") == expected, timeout=10)


def test_other_clients_get_busy_and_script_kill_stops_the_script(clients):
    caller, other = clients(), clients()
    assert other.call_raw("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    start(caller, "EVAL", SPIN, "0")
    start(caller, "PING")                        # pipelined behind the script: waits
    wait_busy(other)
    assert other.call_raw("GET", "x") == SLOW_EVAL
    assert other.call_raw("FUNCTION", "KILL") == SLOW_EVAL
    assert other.call_raw("FUNCTION", "STATS") == SLOW_EVAL
    assert other.call_raw("SHUTDOWN") == SLOW_EVAL
    assert other.call_raw("NOSUCH") == (b"-ERR unknown command 'NOSUCH', with args "
                                        b"beginning with: \r\n")
    assert other.call_raw("GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
    newcomer = clients(established=False)        # connects while the script runs
    assert newcomer.call_raw("PING") == SLOW_EVAL
    assert newcomer.call_raw("SCRIPT", "KILL") == b"+OK\r\n"
    assert caller.read_raw() == KILLED % (SPIN_SHA, b"@user_script:1")
    assert caller.read_raw() == b"+PONG\r\n"
    assert other.call_raw("SCRIPT", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    assert newcomer.call_raw("SET", "after", "1") == b"+OK\r\n"
    assert newcomer.call_raw("GET", "after") == b"$1\r\n1\r\n"
    assert other.call_raw("PING") == b"+PONG\r\n"


def test_allowed_commands_and_transactions_while_busy(clients):
    caller, other, killer = clients(), clients(), clients()
    other.call_raw("DEL", "x")
    start(caller, "EVAL", SPIN, "0")
    wait_busy(other)
    assert other.call_raw("MULTI") == b"+OK\r\n"
    assert other.call_raw("GET", "x") == SLOW_EVAL
    assert other.call_raw("EXEC") == (b"-EXECABORT Transaction discarded because of: BUSY "
                                      b"Redis is busy running a script. You can only call "
                                      b"SCRIPT KILL or SHUTDOWN NOSAVE.\r\n")
    assert other.call_raw("HELLO", "3").startswith(b"%7\r\n$6\r\nserver\r\n")
    assert other.call_raw("PING") == SLOW_EVAL
    assert other.call_raw("HELLO", "2").startswith(b"*14\r\n")
    assert other.call_raw("RESET") == b"+RESET\r\n"
    assert other.call_raw("WATCH", "x") == b"+OK\r\n"
    assert other.call_raw("UNWATCH") == b"+OK\r\n"
    assert other.call_raw("CLIENT", "ID") == SLOW_EVAL
    assert other.call_raw("AUTH", "x").startswith(b"-ERR AUTH <password> called without")
    assert other.call_raw("MULTI") == b"+OK\r\n"
    assert other.call_raw("GET", "x") == SLOW_EVAL
    assert killer.call_raw("SCRIPT", "KILL") == b"+OK\r\n"
    assert caller.read_raw() == KILLED % (SPIN_SHA, b"@user_script:1")
    assert other.call_raw("EXEC") == (b"-EXECABORT Transaction discarded because of "
                                      b"previous errors.\r\n")
    assert other.call_raw("QUIT") == b"+OK\r\n"


def test_a_script_that_wrote_cannot_be_killed(clients):
    caller, other = clients(), clients()
    script = ("redis.call('SET', KEYS[1], 'written') local start = redis.call('TIME') "
              "while true do local now = redis.call('TIME') "
              "if (now[1] - start[1]) * 1000000 + now[2] - start[2] > 700000 then break end "
              "end return 'done'")
    start(caller, "EVAL", script, "1", "k")
    wait_busy(other)
    assert other.call_raw("SCRIPT", "KILL") == UNKILLABLE
    assert other.call_raw("FUNCTION", "KILL") == UNKILLABLE
    assert other.call_raw("GET", "k") == SLOW_EVAL
    assert caller.read_raw() == b"$4\r\ndone\r\n"
    assert other.call_raw("GET", "k") == b"$7\r\nwritten\r\n"


def test_function_kill_and_stats(clients):
    caller, other = clients(), clients()
    other.call_raw("FUNCTION", "FLUSH")
    assert other.call_raw("FUNCTION", "LOAD", "#!lua name=spinner\n"
                          "redis.register_function('spin', function() while true do end "
                          "end)") == b"$7\r\nspinner\r\n"
    start(caller, "FCALL", "spin", "0")
    wait_busy(other, SLOW_FUNCTION)
    assert other.call_raw("SCRIPT", "KILL") == SLOW_FUNCTION
    stats = other.call("FUNCTION", "STATS")
    running = dict(zip(stats[1][::2], stats[1][1::2]))
    assert running[b"name"] == b"spin"
    assert running[b"command"] == [b"FCALL", b"spin", b"0"]
    assert running[b"duration_ms"] >= 200
    assert other.call_raw("FUNCTION", "KILL") == b"+OK\r\n"
    assert caller.read_raw() == KILLED % (b"spin", b"@user_function:2")
    assert other.call_raw("FUNCTION", "STATS").startswith(b"*4\r\n$14\r\nrunning_script\r\n"
                                                          b"$-1\r\n")
    other.call_raw("FUNCTION", "FLUSH")


def test_a_slow_script_that_ends_by_itself(clients):
    caller, other = clients(), clients()
    script = ("local start = redis.call('TIME') while true do local now = redis.call('TIME') "
              "if (now[1] - start[1]) * 1000000 + now[2] - start[2] > 400000 then break end "
              "end return 'finished'")
    start(caller, "EVAL", script, "0")
    wait_busy(other)
    assert caller.read_raw() == b"$8\r\nfinished\r\n"
    assert other.call_raw("PING") == b"+PONG\r\n"
    assert caller.call_raw("PING") == b"+PONG\r\n"


def test_shutdown_nosave_stops_a_busy_server():
    server = start_ember("--busy-reply-threshold", "100")
    try:
        caller, other = RawClient(server.port), RawClient(server.port)
        assert other.call_raw("PING") == b"+PONG\r\n"
        start(caller, "EVAL", "redis.call('SET', 'k', 'v') while true do end", "0")
        wait_busy(other)
        assert other.call_raw("SCRIPT", "KILL") == UNKILLABLE
        assert other.call_raw("SHUTDOWN") == SLOW_EVAL
        start(other, "SHUTDOWN", "NOSAVE")
        assert other.read_raw() == b""
        assert caller.read_raw() == b""
        assert server.proc.wait(10) == 0
    finally:
        server.stop()

"""MISCONF (stop-writes-on-bgsave-error) and transactions and scripts, byte for byte with
a redis-server whose BGSAVE fails the same way (its ``dir`` removed under it).

processCommand runs for EXEC too: an EXEC whose queue holds a write command (or a script
declaring writes) is refused with EXECABORT ... because of: MISCONF; a write refused
while queueing dooms the transaction; a script without a shebang is refused at its first
write inside, one with a shebang at dispatch.
"""

import shutil

import pytest

from tests.rawclient import RawClient
from tests.servers import redis_server_path, start_ember, start_redis, wait_until


@pytest.fixture
def failing_pair(tmp_path):
    if redis_server_path() is None:
        pytest.skip("no redis-server")
    servers = [start_ember("--save", "3600", "1", "--enable-protected-configs", "yes"),
               start_redis("--save", "3600 1", "--enable-protected-configs", "yes")]
    sides = []
    try:
        for name, server in zip(("ember", "redis"), servers):
            gone = tmp_path / name
            gone.mkdir()
            side = RawClient(server.port)
            sides.append(side)
            assert side.call("CONFIG", "SET", "dir", str(gone)) == "OK"
        others = [RawClient(server.port) for server in servers]   # outside the MULTI
        sides += others
        yield sides[:2], others, [tmp_path / "ember", tmp_path / "redis"]
    finally:
        for side in sides:
            side.close()
        for server in servers:
            server.stop()


def _check(sides, *args) -> bytes:
    got, expected = (side.call_raw(*args) for side in sides)
    assert got == expected, f"{args!r}: ember {got!r} != redis {expected!r}"
    return got


def _break_bgsave(sides, dirs) -> None:
    for path in dirs:
        shutil.rmtree(path)
    _check(sides, "SET", "a", "1")
    _check(sides, "BGSAVE")
    for side in sides:
        assert wait_until(lambda side=side: side.call("SET", "probe", "1") != "OK",
                          timeout=10)


def test_exec_and_scripts_under_misconf(failing_pair):
    sides, others, dirs = failing_pair
    # a transaction queued before the error appeared
    _check(sides, "MULTI")
    _check(sides, "SET", "x", "1")
    _check(sides, "GET", "x")
    _break_bgsave(others, dirs)
    _check(sides, "EXEC")                       # EXECABORT ... because of: MISCONF ...
    script = [
        ("MULTI",), ("SET", "x", "1"), ("GET", "x"), ("EXEC",),     # doomed when queueing
        ("MULTI",), ("GET", "x"), ("PING",), ("EXEC",),
        ("MULTI",), ("GET", "x"), ("EXEC",),                        # reads run
        ("MULTI",), ("EVAL", "#!lua\nreturn 1", "0"), ("EXEC",),
        ("MULTI",), ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"), ("EXEC",),
        ("EVAL", "return redis.call('set', 'x', '1')", "0"),        # at the first write
        ("EVAL", "redis.call('get', 'x') return redis.pcall('del', 'x')", "0"),
        ("EVAL", "return redis.call('get', 'x')", "0"),
        ("EVAL", "#!lua\nreturn 1", "0"),                           # at dispatch
        ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
        ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', "
                             "function() return 1 end)"),
    ]
    for command in script:
        _check(sides, *command)
    for side in sides:
        errors = side.call_raw("INFO", "errorstats")
        assert b"errorstat_MISCONF:count=" in errors, errors
    stats = [side.call_raw("INFO", "commandstats") for side in sides]
    for name in (b"cmdstat_exec:", b"cmdstat_set:", b"cmdstat_eval:"):
        # (calls of SET depend on how many probes each server needed)
        lines = [[b",".join(line.split(b",")[-2:]) for line in text.split(b"\r\n")
                  if line.startswith(name)] for text in stats]
        assert lines[0] == lines[1], (name, lines)

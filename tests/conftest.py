"""Shared fixtures: one ember-server and one reference redis-server per test session."""

import pytest
import redis

from tests.rawclient import RawClient
from tests.servers import redis_server_path, require_redis, start_ember, start_redis


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under EMBER_REQUIRE_REDIS=1 (CI) nothing may skip: a skip (a missing redis-server,
    redis-cli, redis-sentinel, or any other reason) is reported as a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and require_redis() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under EMBER_REQUIRE_REDIS=1 (no skips in CI): {reason}"


@pytest.fixture(scope="session")
def ember_server():
    """A real ember-server process on a free port."""
    server = start_ember("--enable-debug-command", "yes")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_reference():
    """A real redis-server on a free port; skips (or fails in CI) when none is installed."""
    if redis_server_path() is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed; compatibility tests need it")
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def r(ember_server):
    """redis-py client (RESP2) on a flushed ember."""
    client = redis.Redis(port=ember_server.port, protocol=2)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def r3(ember_server):
    """redis-py client in RESP3 on a flushed ember."""
    client = redis.Redis(port=ember_server.port, protocol=3)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def raw(ember_server):
    """A raw socket client on ember."""
    client = RawClient(ember_server.port)
    yield client
    client.close()


class Compat:
    """Sends the same commands to ember and redis-server and compares the reply bytes."""

    def __init__(self, ember_port: int, redis_port: int):
        self.ember = RawClient(ember_port)
        self.redis = RawClient(redis_port)

    def both(self, *args):
        """Send a command to both; return (ember_bytes, redis_bytes)."""
        return self.ember.call_raw(*args), self.redis.call_raw(*args)

    def check(self, *args) -> bytes:
        """Send a command to both and assert byte-identical replies."""
        got, expected = self.both(*args)
        assert got == expected, f"{args!r}: ember {got!r} != redis {expected!r}"
        return got

    def check_unordered(self, *args):
        """Like check, for replies whose element order is unspecified (KEYS, SMEMBERS)."""
        got, expected = self.ember.call(*args), self.redis.call(*args)
        assert _sorted(got) == _sorted(expected), f"{args!r}: ember {got!r} != redis {expected!r}"

    def script(self, commands) -> None:
        """Check a sequence of commands (each a tuple of arguments)."""
        for command in commands:
            self.check(*command)

    def close(self) -> None:
        self.ember.close()
        self.redis.close()


def _sorted(value):
    if isinstance(value, list):
        return sorted((_sorted(v) for v in value), key=repr)
    return value


@pytest.fixture
def compat(ember_server, redis_reference):
    """A Compat pair on flushed ember and redis-server, both in RESP2 on db 0."""
    pair = Compat(ember_server.port, redis_reference.port)
    pair.check("FLUSHALL")
    yield pair
    pair.close()

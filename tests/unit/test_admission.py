"""Who may connect: maxclients and protected mode (Redis 7 rules), without sockets."""

import pytest

from ember.server.app import MAX_CLIENTS_ERROR, PROTECTED_MODE_DENIED, Server
from ember.server.config import Config
from tests.servers import redis_server_path, require_redis


def _server(**settings) -> Server:
    config = Config()
    for name, value in settings.items():
        config.set(name, [value])
    return Server(config)


@pytest.mark.parametrize("peer", [("10.1.2.3", 5000), ("192.168.0.7", 1), ("2001:db8::1", 9)])
def test_remote_client_denied_without_password(peer):
    assert _server().admission_error(peer) == PROTECTED_MODE_DENIED


@pytest.mark.parametrize("peer", [("127.0.0.1", 5000), ("127.5.5.5", 1), ("::1", 2), "/tmp/s"])
def test_loopback_and_unix_clients_allowed(peer):
    assert _server().admission_error(peer) is None


def test_password_or_protected_mode_off_lets_remote_clients_in():
    assert _server(requirepass="s3cret").admission_error(("10.1.2.3", 1)) is None
    assert _server(**{"protected-mode": "no"}).admission_error(("10.1.2.3", 1)) is None


def test_explicit_bind_does_not_lift_protected_mode():
    # Redis 7 dropped the "no bind address" condition: only a password or the option does.
    assert _server(bind="0.0.0.0").admission_error(("10.1.2.3", 1)) == PROTECTED_MODE_DENIED


def test_maxclients_reached():
    server = _server(maxclients="2")
    server.connections.update({object(), object()})
    assert server.admission_error(("127.0.0.1", 1)) == MAX_CLIENTS_ERROR


def test_denied_text_is_redis_own():
    path = redis_server_path()
    if path is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but no redis-server is installed")
        pytest.skip("redis-server is not installed")
    with open(path, "rb") as binary:
        assert b"-" + PROTECTED_MODE_DENIED.encode() in binary.read()

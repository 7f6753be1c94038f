"""Client-side caching over TCP: redis-py in RESP3 receiving invalidation pushes, BCAST
with prefixes, REDIRECT to a RESP2 subscriber of __redis__:invalidate, FLUSHALL, expiry."""

import pytest
import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import wait_until


@pytest.fixture
def tracked(ember_server):
    """A RESP3 redis-py client on one connection whose invalidation pushes are recorded."""
    client = redis.Redis(port=ember_server.port, protocol=3, single_connection_client=True)
    client.ping()
    pushes = []
    client.connection._parser.set_invalidation_push_handler(pushes.append)
    yield client, pushes
    client.close()


def test_read_then_write_by_another_client_invalidates(tracked, r):
    client, pushes = tracked
    assert client.client_tracking_on() in (True, b"OK")
    r.set("user:1", "alice")
    assert client.get("user:1") == b"alice"
    r.set("user:1", "bob")
    client.ping()                       # pushes are read before the next reply
    assert pushes == [[b"invalidate", [b"user:1"]]]
    r.set("user:1", "carol")            # not read since: no new invalidation
    client.ping()
    assert len(pushes) == 1
    info = client.client_trackinginfo()
    assert info[b"flags"] in ([b"on"], {b"on"}) and info[b"redirect"] == 0


def test_bcast_prefixes(tracked, r):
    client, pushes = tracked
    client.client_tracking_on(bcast=True, prefix=["cache:", "cfg:"])
    r.mset({"cache:b": 1, "cache:a": 2, "other": 3, "cfg:x": 4})
    client.ping()
    assert sorted(pushes) == [[b"invalidate", [b"cache:a", b"cache:b"]],
                              [b"invalidate", [b"cfg:x"]]]
    assert client.client_getredir() == 0


def test_flushall_invalidates_everything(tracked, r):
    client, pushes = tracked
    client.client_tracking_on()
    client.get("k")
    r.flushall()
    client.ping()
    assert pushes == [[b"invalidate", None]]


def test_expiry_invalidates(tracked, r):
    client, pushes = tracked
    client.client_tracking_on()
    r.set("short", "v", px=100)
    assert client.get("short") == b"v"
    # Active expiry removes it within a few cron periods; each PING reads what came.
    assert wait_until(lambda: client.ping() and pushes, timeout=5)
    assert pushes == [[b"invalidate", [b"short"]]]


def test_redirect_to_a_resp2_subscriber(ember_server, r):
    listener = redis.Redis(port=ember_server.port, protocol=2).pubsub()
    reader = RawClient(ember_server.port)
    try:
        listener.subscribe("__redis__:invalidate")
        assert listener.get_message(timeout=5)["type"] == "subscribe"
        target = [c for c in r.client_list() if c["cmd"] == "subscribe"][0]["id"]
        assert reader.call("CLIENT", "TRACKING", "ON", "REDIRECT", target) == "OK"
        assert reader.call("CLIENT", "GETREDIR") == int(target)
        reader.call("GET", "shared")
        r.set("shared", "1")
        message = listener.get_message(timeout=5)
        assert (message["channel"], message["data"]) == (b"__redis__:invalidate",
                                                         [b"shared"])
    finally:
        listener.close()
        reader.close()


def test_own_write_invalidation_follows_the_reply(ember_server):
    client = RawClient(ember_server.port)
    try:
        client.call("HELLO", "3")
        client.call("CLIENT", "TRACKING", "ON")
        client.send(encode_command("GET", "mine") + encode_command("SET", "mine", "v")
                    + encode_command("PING"))
        assert [client.read_raw() for _ in range(4)] == [
            b"_\r\n", b"+OK\r\n", b">2\r\n$10\r\ninvalidate\r\n*1\r\n$4\r\nmine\r\n",
            b"+PONG\r\n"]
    finally:
        client.close()

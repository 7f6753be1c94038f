"""CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO and invalidation messages compared
byte for byte with redis-server (RESP2 and RESP3)."""

import pytest

from tests.compat.test_pubsub_compat import pair  # noqa: F401  (fixture)


def test_tracking_option_errors(compat):
    compat.script([
        ("CLIENT", "TRACKING", "on", "prefix", "a"),
        ("CLIENT", "TRACKING", "on", "bcast", "optin"),
        ("CLIENT", "TRACKING", "on", "optin", "optout"),
        ("CLIENT", "TRACKING", "on", "redirect", "999999"),
        ("CLIENT", "TRACKING", "on", "redirect", "abc"),
        ("CLIENT", "TRACKING", "on", "redirect", "0"),
        ("CLIENT", "TRACKING", "maybe"),
        ("CLIENT", "TRACKING", "on", "foo"),
        ("CLIENT", "TRACKING", "on", "prefix"),
        ("CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "ab"),
        ("CLIENT", "TRACKING", "on", "bcast", "prefix", "b"),
        ("CLIENT", "TRACKING", "on", "bcast", "prefix", "bc"),
        ("CLIENT", "TRACKING", "on", "bcast", "prefix", "c"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "on"),
        ("CLIENT", "TRACKING", "off", "bcast"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "CACHING", "yes"),
        ("CLIENT", "TRACKING", "on", "optin"),
        ("CLIENT", "CACHING", "no"),
        ("CLIENT", "CACHING", "yes"),
        ("CLIENT", "CACHING", "maybe"),
        ("CLIENT", "TRACKINGINFO"),      # a CLIENT command keeps CACHING, as in Redis
        ("GET", "k"),
        ("CLIENT", "TRACKINGINFO"),      # any other command consumes it
        ("CLIENT", "TRACKING", "on", "optout"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKING", "off"),
        ("CLIENT", "TRACKING", "on", "optout", "noloop"),
        ("CLIENT", "CACHING", "no"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "off"),
        ("CLIENT", "TRACKING"),
        ("CLIENT", "CACHING"),
    ])


@pytest.mark.parametrize("resp", [2, 3])
def test_trackinginfo_shapes(pair, resp):  # noqa: F811
    p = pair(resp)
    p.check("CLIENT", "TRACKINGINFO")
    p.check("CLIENT", "TRACKING", "on", "bcast")
    p.check("CLIENT", "TRACKINGINFO")
    p.check("CLIENT", "TRACKING", "on", "bcast", "prefix", "x")
    p.check("CLIENT", "TRACKINGINFO")


def test_invalidation_messages_resp3(pair):  # noqa: F811
    tracker = pair(3)
    writer = pair()
    tracker.check("CLIENT", "TRACKING", "on")
    tracker.check("MGET", "cmp:t1", "cmp:t2")
    writer.check("SET", "cmp:t1", "v")
    tracker.read()                  # invalidate [cmp:t1]
    writer.check("DEL", "cmp:t1")     # not read again since: nothing to say
    writer.check("SET", "cmp:t2", "v")
    tracker.read()                  # invalidate [cmp:t2]
    # The client's own write: the reply, then its invalidation.
    tracker.check("GET", "cmp:t1")
    tracker.check("SET", "cmp:t1", "mine", replies=2)
    tracker.check("GET", "cmp:t1")
    tracker.check("MULTI")
    tracker.check("SET", "cmp:t1", "again")
    tracker.check("EXEC", replies=2)
    # Without replies (CLIENT REPLY OFF) the invalidation still goes out.
    tracker.check("GET", "cmp:t1")
    tracker.check("CLIENT", "REPLY", "OFF", replies=0)
    tracker.check("SET", "cmp:t1", "quiet", replies=0)
    tracker.check("CLIENT", "REPLY", "ON", replies=2)
    tracker.check("CLIENT", "TRACKING", "off")
    tracker.check("CLIENT", "TRACKING", "on", "optin")
    tracker.check("GET", "cmp:t3")
    tracker.check("CLIENT", "CACHING", "yes")
    tracker.check("GET", "cmp:t4")
    writer.check("MSET", "cmp:t3", "1", "cmp:t4", "1")
    tracker.read()                  # only cmp:t4 was cached
    tracker.check("PING")


def test_invalidation_through_redirect_in_resp2(pair, ember_server, redis_reference):  # noqa: F811
    listener = pair()
    listener.check("SUBSCRIBE", "__redis__:invalidate")
    ids = (listener.ember.call("PING"), listener.redis.call("PING"))
    assert ids[0] == ids[1]
    tracker = pair()
    writer = pair()
    listener_ids = []
    for side, client in (("ember", tracker.ember), ("redis", tracker.redis)):
        raw_list = (writer.ember if side == "ember" else writer.redis).call("CLIENT", "LIST")
        line = [entry for entry in raw_list.decode().splitlines()
                if "cmd=ping" in entry and "sub=1" in entry][0]
        listener_ids.append(line.split()[0].split("=")[1])
        assert client.call("CLIENT", "TRACKING", "on", "redirect", listener_ids[-1]) == "OK"
    tracker.check("GET", "cmp:r1")
    writer.check("SET", "cmp:r1", "v")
    listener.read()                 # message __redis__:invalidate [cmp:r1]
    tracker.check("GET", "cmp:r1")
    writer.check("FLUSHALL")
    listener.read()                 # message __redis__:invalidate $-1

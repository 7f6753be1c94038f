"""DUMP and RESTORE on a running ember-server over TCP."""

import pytest
import redis

from tests.compat.test_rdb_interop import populate, redis_caller, report
from tests.rawclient import RawClient


@pytest.fixture
def raw_flushed(ember_server):
    client = RawClient(ember_server.port)
    client.call("FLUSHALL")
    yield client
    client.close()


def test_every_type_round_trips(raw_flushed):
    populate(raw_flushed.call, big=200)
    call = redis_caller(raw_flushed)
    for key in raw_flushed.call("KEYS", "*"):
        payload = raw_flushed.call("DUMP", key)
        copy = b"copy:" + key
        assert raw_flushed.call("RESTORE", copy, 0, payload) == "OK"
        original, restored = report(call, key), report(call, copy)
        assert original[0] == restored[0] and original[2:] == restored[2:], key
        assert restored[1] == -1


def test_resp3_and_redis_py(r, r3):
    r.rpush("l", "a", "b")
    payload = r.dump("l")
    assert isinstance(payload, bytes) and payload[-10:-8] == b"\x0a\x00"
    r.delete("l")
    assert r.restore("l", 5000, payload) in (True, b"OK")
    assert 0 < r.pttl("l") <= 5000
    with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists."):
        r.restore("l", 0, payload)
    assert r3.restore("l", 0, payload, replace=True, idletime=50) in (True, b"OK")
    assert r3.object("idletime", "l") >= 50
    assert r3.lrange("l", 0, -1) == [b"a", b"b"]
    assert r3.dump("missing") is None


def test_restore_ttl_and_events(ember_server):
    client = redis.Redis(port=ember_server.port)
    client.flushall()
    client.config_set("notify-keyspace-events", "KEA")
    sub = client.pubsub()
    sub.psubscribe("__keyevent@0__:*")
    sub.get_message(timeout=1)
    client.set("k", "v")
    payload = client.dump("k")
    client.restore("k2", 0, payload)
    events = []
    while len(events) < 2:
        msg = sub.get_message(timeout=2)
        assert msg is not None
        if msg["type"] == "pmessage":
            events.append(msg["channel"].split(b":")[-1])
    assert events == [b"set", b"restore"]
    client.config_set("notify-keyspace-events", "")
    sub.close()
    client.close()

"""Keyspace notifications over TCP with redis-py (RESP2 and RESP3 subscribers): the
events of each command family, active expiry's ``expired``, and CONFIG SET turning them
on and off."""

import pytest
import redis


@pytest.fixture
def events_on(r):
    """notify-keyspace-events set by the test; switched off again afterwards."""
    def configure(flags: str) -> None:
        r.config_set("notify-keyspace-events", flags)

    yield configure
    r.config_set("notify-keyspace-events", "")


def _subscriber(port: int, protocol: int, pattern: str = "__key*@0__:*"):
    pubsub = redis.Redis(port=port, protocol=protocol).pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    assert pubsub.get_message(timeout=5) is None     # the confirmation, skipped
    return pubsub


def _next(pubsub) -> tuple:
    message = pubsub.get_message(timeout=5)
    assert message is not None, "no notification arrived"
    return message["channel"], message["data"]


def _keyevents(pubsub, count: int) -> list:
    return [_next(pubsub) for _ in range(count)]


@pytest.mark.parametrize("protocol", [2, 3])
def test_events_of_each_family(ember_server, r, events_on, protocol):
    events_on("EA")
    pubsub = _subscriber(ember_server.port, protocol, "__keyevent@0__:*")
    try:
        r.set("s", "1")
        r.incrby("s", 2)
        r.append("s", "x")
        r.rpush("l", "a", "b")
        r.lpop("l")
        r.hset("h", mapping={"f": "v"})
        r.hdel("h", "f")
        r.sadd("st", "m")
        r.zadd("z", {"m": 1})
        r.zincrby("z", 1, "m")
        r.expire("s", 100)
        r.rename("s", "s2")
        r.delete("s2", "l")
        assert _keyevents(pubsub, 16) == [
            (b"__keyevent@0__:set", b"s"), (b"__keyevent@0__:incrby", b"s"),
            (b"__keyevent@0__:append", b"s"), (b"__keyevent@0__:rpush", b"l"),
            (b"__keyevent@0__:lpop", b"l"), (b"__keyevent@0__:hset", b"h"),
            (b"__keyevent@0__:hdel", b"h"), (b"__keyevent@0__:del", b"h"),
            (b"__keyevent@0__:sadd", b"st"), (b"__keyevent@0__:zadd", b"z"),
            (b"__keyevent@0__:zincr", b"z"), (b"__keyevent@0__:expire", b"s"),
            (b"__keyevent@0__:rename_from", b"s"), (b"__keyevent@0__:rename_to", b"s2"),
            (b"__keyevent@0__:del", b"s2"), (b"__keyevent@0__:del", b"l")]
    finally:
        pubsub.close()


def test_keyspace_channel_carries_the_event_name(ember_server, r, events_on):
    events_on("K$g")
    pubsub = _subscriber(ember_server.port, 2, "__keyspace@0__:user:*")
    try:
        r.set("user:1", "a")
        r.set("other", "b")
        r.getdel("user:1")
        assert _keyevents(pubsub, 2) == [(b"__keyspace@0__:user:1", b"set"),
                                         (b"__keyspace@0__:user:1", b"del")]
    finally:
        pubsub.close()


def test_active_expiry_sends_expired(ember_server, r, events_on):
    events_on("Ex")
    pubsub = _subscriber(ember_server.port, 3, "__keyevent@0__:expired")
    try:
        r.set("soon", "v", px=50)
        # Nobody touches the key: the active expiry cycle removes it and says so.
        assert _next(pubsub) == (b"__keyevent@0__:expired", b"soon")
    finally:
        pubsub.close()


def test_notifications_off_sends_nothing(ember_server, r, events_on):
    events_on("KEA")
    events_on("")
    pubsub = _subscriber(ember_server.port, 2, "__key*__:*")
    try:
        pubsub.subscribe("marker")
        assert pubsub.get_message(timeout=5) is None     # the confirmation, skipped
        r.set("quiet", "v")
        r.publish("marker", "m")            # arrives after SET's event, had there been one
        assert _next(pubsub) == (b"marker", b"m")
    finally:
        pubsub.close()

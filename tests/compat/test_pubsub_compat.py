"""Pub/sub reply bytes compared with redis-server: (un)subscribe confirmations, messages,
RESP2 subscriber-mode errors, PUBSUB introspection, in RESP2 and RESP3.

Redis answers "unsubscribe from everything" in its hash table's order, so the sequences
here unsubscribe all only when one name is left.
"""

import pytest

from tests.rawclient import RawClient, encode_command


class Pair:
    """One more connection to each server, with byte comparison helpers."""

    def __init__(self, ember_port: int, redis_port: int):
        self.ember = RawClient(ember_port)
        self.redis = RawClient(redis_port)

    def check(self, *args, replies: int = 1) -> list:
        """Send to both; the next ``replies`` replies must be byte-identical."""
        for side in (self.ember, self.redis):
            side.send(encode_command(*args))
        got = [self.ember.read_raw() for _ in range(replies)]
        expected = [self.redis.read_raw() for _ in range(replies)]
        assert got == expected, f"{args!r}: ember {got!r} != redis {expected!r}"
        return got

    def send(self, *args) -> None:
        for side in (self.ember, self.redis):
            side.send(encode_command(*args))

    def read(self) -> bytes:
        """The next reply or message of both, which must be identical."""
        got, expected = self.ember.read_raw(), self.redis.read_raw()
        assert got == expected, f"ember {got!r} != redis {expected!r}"
        return got

    def close(self) -> None:
        self.ember.close()
        self.redis.close()


@pytest.fixture
def pair(ember_server, redis_reference):
    pairs = []

    def make(resp: int = 2) -> Pair:
        p = Pair(ember_server.port, redis_reference.port)
        if resp == 3:
            p.check("HELLO", "3", replies=0)
            p.ember.read_raw()
            p.redis.read_raw()
        pairs.append(p)
        return p

    yield make
    for p in pairs:
        p.close()


@pytest.mark.parametrize("resp", [2, 3])
def test_subscribe_unsubscribe_sequences(pair, resp):
    p = pair(resp)
    p.check("SUBSCRIBE", "cmp:a", "cmp:b", replies=2)
    p.check("SUBSCRIBE", "cmp:a")
    p.check("PSUBSCRIBE", "cmp:*", "cmp:?", replies=2)
    p.check("SSUBSCRIBE", "cmp:s")
    p.check("UNSUBSCRIBE", "cmp:a", "cmp:nosuch", replies=2)
    p.check("UNSUBSCRIBE")
    p.check("UNSUBSCRIBE")
    p.check("PUNSUBSCRIBE", "cmp:?")
    p.check("PUNSUBSCRIBE")
    p.check("PUNSUBSCRIBE")
    p.check("SUNSUBSCRIBE", "cmp:s", "cmp:t", replies=2)
    p.check("SUNSUBSCRIBE")
    p.check("PING")


def test_resp2_subscriber_mode_errors(pair):
    p = pair()
    p.check("SUBSCRIBE", "cmp:mode")
    p.check("GET", "k")
    p.check("SET", "k", "v")
    p.check("CLIENT", "ID")
    p.check("CONFIG", "GET", "maxmemory")
    p.check("MULTI")
    p.check("GET")                  # arity is checked first
    p.check("NOSUCH", "x")
    p.check("CLIENT", "NOSUCH")
    p.check("PING")
    p.check("PING", "hello")
    p.check("PSUBSCRIBE", "cmp:mode*")
    p.check("UNSUBSCRIBE", "cmp:mode")
    p.check("GET", "k")             # still subscribed to a pattern
    p.check("PUNSUBSCRIBE")
    p.check("GET", "k")             # out of subscriber mode
    p.check("SSUBSCRIBE", "cmp:mode")
    p.check("ECHO", "x")            # shard subscriptions count too
    p.check("RESET")
    p.check("ECHO", "x")


@pytest.mark.parametrize("resp", [2, 3])
def test_message_bytes(pair, resp):
    subscriber = pair(resp)
    publisher = pair()
    subscriber.check("SUBSCRIBE", "cmp:msg")
    subscriber.check("PSUBSCRIBE", "cmp:m*")
    subscriber.check("SSUBSCRIBE", "cmp:msg")
    publisher.check("PUBLISH", "cmp:msg", "hello")
    subscriber.read()
    subscriber.read()
    publisher.check("PUBLISH", "cmp:mx", "")
    subscriber.read()
    publisher.check("SPUBLISH", "cmp:msg", "shard")
    subscriber.read()
    publisher.check("PUBLISH", "cmp:nobody", "x")
    publisher.check("SPUBLISH", "cmp:nobody", "x")


def test_resp3_client_publishing_to_itself(pair):
    p = pair(3)
    p.check("SUBSCRIBE", "cmp:self")
    p.send("PUBLISH", "cmp:self", "me")
    p.read()                        # the message first, as Redis appends it
    p.read()                        # then PUBLISH's reply
    p.check("GET", "cmp:nosuch")


def test_pubsub_introspection(pair):
    subscriber = pair()
    subscriber.check("SUBSCRIBE", "cmp:intro:1")
    subscriber.check("PSUBSCRIBE", "cmp:intro:*")
    q = pair()
    q.check("PUBSUB", "CHANNELS", "cmp:intro:*")
    q.check("PUBSUB", "CHANNELS", "cmp:other*")
    q.check("PUBSUB", "NUMSUB", "cmp:intro:1", "cmp:intro:2")
    q.check("PUBSUB", "NUMSUB")
    q.check("PUBSUB", "SHARDCHANNELS", "cmp:intro*")
    q.check("PUBSUB", "SHARDNUMSUB", "cmp:intro:1")
    q.check("PUBSUB", "CHANNELS", "a", "b")
    q.check("PUBSUB", "NUMPAT", "x")
    q.check("PUBSUB", "NOSUCH")
    q.check("PUBSUB")
    q.check("PUBSUB", "HELP")
    q.check("PUBLISH", "cmp:intro:1")
    q.check("SUBSCRIBE")

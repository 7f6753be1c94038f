"""Pub/sub over TCP: redis-py's PubSub in RESP2 and RESP3, several subscribers and
patterns, RESP3 push messages interleaved with replies on one connection, and a slow
subscriber cut off at client-output-buffer-limit pubsub while the server's memory stays
bounded."""

import socket

import pytest
import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember, wait_until


def _messages(pubsub, count: int) -> list:
    """The next ``count`` messages (not confirmations), waiting for each."""
    found = []
    while len(found) < count:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None, f"only {found} arrived"
        found.append((message["type"], message["pattern"], message["channel"],
                      message["data"]))
    return found


@pytest.mark.parametrize("protocol", [2, 3])
def test_several_subscribers_and_patterns(ember_server, r, protocol):
    first = redis.Redis(port=ember_server.port, protocol=protocol).pubsub()
    second = redis.Redis(port=ember_server.port, protocol=protocol).pubsub()
    try:
        first.subscribe("news", "sport")
        first.psubscribe("n*")
        second.psubscribe("*s", "sp?rt")
        for pubsub, confirmations in ((first, 3), (second, 2)):
            for _ in range(confirmations):
                assert pubsub.get_message(timeout=5)["type"] in ("subscribe", "psubscribe")
        assert r.publish("news", "a") == 3
        assert r.publish("sport", "b") == 2
        assert r.publish("none", "c") == 1
        assert _messages(first, 4) == [
            ("message", None, b"news", b"a"), ("pmessage", b"n*", b"news", b"a"),
            ("message", None, b"sport", b"b"), ("pmessage", b"n*", b"none", b"c")]
        assert _messages(second, 2) == [
            ("pmessage", b"*s", b"news", b"a"), ("pmessage", b"sp?rt", b"sport", b"b")]
        assert r.pubsub_numsub("news", "sport", "x") == [(b"news", 1), (b"sport", 1),
                                                         (b"x", 0)]
        assert r.pubsub_numpat() == 3
        assert sorted(r.pubsub_channels()) == [b"news", b"sport"]
        first.unsubscribe("news")
        first.punsubscribe()
        assert wait_until(lambda: r.pubsub_numpat() == 2)
        assert r.publish("news", "d") == 1
        assert _messages(second, 1) == [("pmessage", b"*s", b"news", b"d")]
    finally:
        first.close()
        second.close()


def test_sharded_pubsub_with_redis_py(ember_server, r):
    pubsub = redis.Redis(port=ember_server.port, protocol=2).pubsub()
    try:
        pubsub.ssubscribe("orders")
        assert pubsub.get_sharded_message(timeout=5)["type"] == "ssubscribe"
        assert r.spublish("orders", "o1") == 1
        message = pubsub.get_sharded_message(timeout=5)
        assert (message["type"], message["channel"], message["data"]) == (
            "smessage", b"orders", b"o1")
        assert r.pubsub_shardnumsub("orders") == [(b"orders", 1)]
        assert r.pubsub_shardchannels() == [b"orders"]
    finally:
        pubsub.close()


def test_resp3_pushes_interleave_with_replies(ember_server, r):
    client = RawClient(ember_server.port)
    try:
        client.call("HELLO", "3")
        client.call("SET", "k", "v")
        assert client.call_raw("SUBSCRIBE", "ch") == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        # Its own message comes between the replies of the pipeline, where Redis puts it.
        client.send(encode_command("GET", "k") + encode_command("PUBLISH", "ch", "me")
                    + encode_command("GET", "k"))
        assert [client.read_raw() for _ in range(4)] == [
            b"$1\r\nv\r\n", b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nme\r\n", b":1\r\n",
            b"$1\r\nv\r\n"]
        # A message published by someone else arrives before the next reply.
        assert r.publish("ch", "other") == 1
        client.send(encode_command("PING"))
        assert client.read_raw() == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nother\r\n"
        assert client.read_raw() == b"+PONG\r\n"
    finally:
        client.close()


def test_resp2_subscriber_can_only_use_pubsub_commands(raw):
    assert raw.call_raw("SUBSCRIBE", "a") == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    assert raw.call_raw("SET", "k", "v").startswith(b"-ERR Can't execute 'set'")
    assert raw.call_raw("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert raw.call_raw("RESET") == b"+RESET\r\n"
    assert raw.call_raw("SET", "k", "v") == b"+OK\r\n"


def test_disconnected_subscriber_is_forgotten(ember_server, r):
    client = RawClient(ember_server.port)
    client.call("SUBSCRIBE", "gone")
    assert r.pubsub_numsub("gone") == [(b"gone", 1)]
    client.close()
    assert wait_until(lambda: r.pubsub_numsub("gone") == [(b"gone", 0)])


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_slow_subscriber_is_disconnected_and_memory_stays_bounded():
    """A subscriber that never reads while 100 MB are published to it: it is cut off at
    the pubsub hard limit (32 MB), and the server never holds much more than that."""
    server = start_ember()
    try:
        publisher = redis.Redis(port=server.port)
        publisher.ping()
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(encode_command("SUBSCRIBE", "firehose"))
        assert wait_until(lambda: publisher.pubsub_numsub("firehose")[0][1] == 1)
        baseline = _rss_kb(server.proc.pid)
        message = b"x" * 65536
        receivers = []
        for _ in range(16):                     # 16 x 100 x 64 KB = 100 MB
            pipe = publisher.pipeline(transaction=False)
            for _ in range(100):
                pipe.publish("firehose", message)
            receivers.extend(pipe.execute())
        assert receivers[0] == 1 and receivers[-1] == 0     # dropped along the way
        peak = _rss_kb(server.proc.pid, "VmHWM")
        growth_mb = (peak - baseline) / 1024
        assert growth_mb < 64, f"server grew by {growth_mb:.0f} MB"
        assert publisher.pubsub_numsub("firehose") == [(b"firehose", 0)]
        assert wait_until(lambda: "for overcoming of output buffer limits" in server.log)
        slow.close()
    finally:
        server.stop()

"""Pub/sub, keyspace notifications and client tracking on an Engine without sockets.

Clients get a recording connection (``Sink``): it receives what the server would push
(messages, invalidations) as the bytes it would send. The clock is the harness's.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.commands import notifications
from ember.commands.pubsub_state import registry
from ember.commands.tracking import tracker
from ember.errors import ReplyError
from ember.protocol.encoder import encode
from ember.protocol.reader import NEED_MORE, ReplyReader
from ember.protocol.replies import OK, Raw
from ember.server.config import Config
from tests.unit.harness import Harness


class Sink:
    """A stand-in for a network connection: keeps every push."""

    def __init__(self):
        self.pushed = []

    def push(self, data: bytes) -> None:
        self.pushed.append(data)

    def messages(self) -> list:
        """The pushed bytes parsed back into values (RESP3 pushes come as lists)."""
        reader = ReplyReader()
        reader.feed(b"".join(self.pushed))
        values = []
        while True:
            value = reader.get()
            if value is NEED_MORE:
                return values
            values.append(value)

    def take(self) -> list:
        values = self.messages()
        self.pushed.clear()
        return values


def client(h, resp=2):
    c = h.engine.new_client(conn=Sink())
    c.resp = resp
    return c


def run(h, c, *args):
    argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return h.engine.execute(c, argv)


def raw(reply, resp=2) -> bytes:
    return encode(reply, resp == 3)


# ---- pub/sub -------------------------------------------------------------------------------


def test_subscribe_confirmations_count_channels_and_patterns():
    h = Harness()
    c = client(h)
    assert raw(run(h, c, "SUBSCRIBE", "a", "b")) == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
    assert raw(run(h, c, "PSUBSCRIBE", "x*")) == b"*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:3\r\n"
    # Shard channels are counted on their own.
    assert raw(run(h, c, "SSUBSCRIBE", "s")) == b"*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"
    assert raw(run(h, c, "UNSUBSCRIBE")) == (
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n")
    assert raw(run(h, c, "UNSUBSCRIBE")) == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n"


def test_publish_reaches_channel_and_pattern_subscribers_encoded_once_per_protocol():
    h = Harness()
    two_a, two_b, three = client(h), client(h), client(h, resp=3)
    for c in (two_a, two_b, three):
        run(h, c, "SUBSCRIBE", "news")
    run(h, three, "PSUBSCRIBE", "n[aeiou]ws")
    publisher = client(h)
    assert run(h, publisher, "PUBLISH", "news", "hi") == 4
    assert two_a.conn.pushed == [b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"]
    # One encoding per protocol version, shared by every subscriber that speaks it.
    assert two_a.conn.pushed[0] is two_b.conn.pushed[0]
    assert three.conn.pushed == [
        b">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n",
        b">4\r\n$8\r\npmessage\r\n$10\r\nn[aeiou]ws\r\n$4\r\nnews\r\n$2\r\nhi\r\n"]
    assert run(h, publisher, "PUBLISH", "nxws", "x") == 0
    assert run(h, publisher, "PUBLISH", "nows", "x") == 1


def test_patterns_use_redis_glob_and_never_match_the_empty_channel():
    h = Harness()
    c = client(h)
    run(h, c, "PSUBSCRIBE", "*", "a\\*b", "[^x]y")
    p = client(h)
    assert run(h, p, "PUBLISH", "", "m") == 0
    assert run(h, p, "PUBLISH", "a*b", "m") == 2
    assert run(h, p, "PUBLISH", "axb", "m") == 1
    assert run(h, p, "PUBLISH", "zy", "m") == 2
    assert run(h, p, "PUBLISH", "xy", "m") == 1


def test_spublish_only_reaches_shard_subscribers():
    h = Harness()
    c = client(h, resp=3)
    run(h, c, "SSUBSCRIBE", "s")
    run(h, c, "SUBSCRIBE", "s")
    p = client(h)
    assert run(h, p, "SPUBLISH", "s", "m") == 1
    assert c.conn.take() == [[b"smessage", b"s", b"m"]]
    assert run(h, p, "PUBSUB", "SHARDNUMSUB", "s", "t") == [b"s", 1, b"t", 0]
    assert run(h, p, "PUBSUB", "SHARDCHANNELS") == [b"s"]


def test_resp2_subscriber_mode_allows_only_pubsub_commands():
    h = Harness()
    c = client(h)
    run(h, c, "SUBSCRIBE", "a")
    before = h.engine.stats.total_error_replies
    reply = run(h, c, "GET", "k")
    assert isinstance(reply, ReplyError)
    assert reply.message == ("ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                             "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    assert h.engine.stats.total_error_replies == before + 1
    assert run(h, c, "PING") == [b"pong", b""]
    run(h, c, "UNSUBSCRIBE", "a")
    assert run(h, c, "GET", "k") is None
    assert "pubsub" not in c.special


def test_resp3_subscriber_runs_anything_and_gets_its_own_message_in_order():
    h = Harness()
    c = client(h, resp=3)
    run(h, c, "SUBSCRIBE", "a")
    assert run(h, c, "SET", "k", "v") == run(h, c, "SET", "k", "v")
    assert run(h, c, "PUBLISH", "a", "self") == 1
    assert c.conn.take() == [[b"message", b"a", b"self"]]


def test_pubsub_introspection():
    h = Harness()
    a, b = client(h), client(h)
    run(h, a, "SUBSCRIBE", "c1", "c2")
    run(h, b, "SUBSCRIBE", "c2")
    run(h, a, "PSUBSCRIBE", "p*")
    run(h, b, "PSUBSCRIBE", "p*", "q*")
    q = client(h)
    assert run(h, q, "PUBSUB", "CHANNELS") == [b"c1", b"c2"]
    assert run(h, q, "PUBSUB", "CHANNELS", "*2") == [b"c2"]
    assert run(h, q, "PUBSUB", "NUMSUB", "c1", "c2", "c3") == [b"c1", 1, b"c2", 2, b"c3", 0]
    assert run(h, q, "PUBSUB", "NUMPAT") == 2
    error = run(h, q, "PUBSUB", "CHANNELS", "a", "b")
    assert error.message == ("ERR unknown subcommand or wrong number of arguments for "
                             "'CHANNELS'. Try PUBSUB HELP.")


def test_disconnect_and_reset_drop_subscriptions():
    h = Harness()
    a, b = client(h), client(h)
    run(h, a, "SUBSCRIBE", "c")
    run(h, a, "PSUBSCRIBE", "p*")
    run(h, b, "SUBSCRIBE", "c")
    h.engine.remove_client(a)
    pubsub = registry(h.engine)
    assert list(pubsub.channels) == [b"c"] and not pubsub.patterns
    assert raw(run(h, b, "RESET")) == b"+RESET\r\n"
    assert not pubsub.channels and not b.subscriptions and not b.special
    assert run(h, client(h), "PUBLISH", "c", "m") == 0


def test_subscribe_refused_for_a_deny_blocking_client_outside_multi():
    h = Harness()
    c = client(h)
    c.flags.add("deny_blocking")
    reply = run(h, c, "SUBSCRIBE", "a")
    assert reply.message == "ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client"
    assert not c.subscriptions


_ops = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(
    ["SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE",
     "RESET", "QUIT"]), st.lists(st.sampled_from(["a", "b", "c*"]), max_size=3)),
    max_size=40)


@settings(max_examples=60, deadline=None)
@given(_ops)
def test_tables_always_mirror_the_clients_own_subscriptions(ops):
    h = Harness()
    clients = [client(h) for _ in range(3)]
    pubsub = registry(h.engine)
    for who, name, args in ops:
        c = clients[who]
        if name == "QUIT":      # a disconnect, then a fresh client in its place
            h.engine.remove_client(c)
            clients[who] = c = client(h)
            continue
        run(h, c, name, *([] if name == "RESET" else args))
        for kind, table in (("subscriptions", pubsub.channels),
                            ("psubscriptions", pubsub.patterns),
                            ("ssubscriptions", pubsub.shard_channels)):
            expected = {}
            for other in clients:
                for channel in getattr(other, kind):
                    expected.setdefault(channel, set()).add(other)
            assert {k: set(v) for k, v in table.items()} == expected
        for other in clients:
            subscribed = bool(other.subscriptions or other.psubscriptions
                              or other.ssubscriptions)
            assert ("pubsub" in other.special) == subscribed


# ---- keyspace notifications ----------------------------------------------------------------


def notifying(flags: str):
    config = Config()
    config.set("notify-keyspace-events", [flags])
    h = Harness(config)
    notifications.install(h.engine)
    listener = client(h)
    run(h, listener, "PSUBSCRIBE", "__key*__:*")
    return h, listener


def events(listener) -> list:
    return [(m[2], m[3]) for m in listener.conn.take()]


def test_keyspace_and_keyevent_messages_for_a_write():
    h, listener = notifying("KEA")
    run(h, h.client, "SET", "k", "v")
    assert events(listener) == [(b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k")]


def test_classes_filter_events_as_redis_does():
    h, listener = notifying("Kl")          # list events only, keyspace channel only
    run(h, h.client, "SET", "s", "v")
    run(h, h.client, "RPUSH", "l", "a")
    run(h, h.client, "DEL", "l")
    assert events(listener) == [(b"__keyspace@0__:l", b"rpush")]
    run(h, h.client, "CONFIG", "SET", "notify-keyspace-events", "Eg")
    run(h, h.client, "SELECT", "3")
    run(h, h.client, "SET", "s", "v")
    run(h, h.client, "EXPIRE", "s", "100")
    assert events(listener) == [(b"__keyevent@3__:expire", b"s")]
    run(h, h.client, "CONFIG", "SET", "notify-keyspace-events", "")
    assert h.engine.hooks["notifications"].on_key_event not in h.engine.keyspace_listeners


def test_expired_is_sent_when_the_key_is_removed():
    h, listener = notifying("Ex")
    run(h, h.client, "SET", "k", "v", "PX", "100")
    h.advance(200)
    assert events(listener) == []           # not removed yet: nothing said
    assert run(h, h.client, "GET", "k") is None
    assert events(listener) == [(b"__keyevent@0__:expired", b"k")]


def test_new_and_keymiss_events_and_their_databases_class():
    h, listener = notifying("KEnm$")
    db_class = type(h.engine.dbs[0])
    assert db_class.__name__ == "EventDatabase"
    run(h, h.client, "SET", "k", "1")
    run(h, h.client, "SET", "k", "2")
    run(h, h.client, "GET", "nosuch")
    assert events(listener) == [
        (b"__keyspace@0__:k", b"new"), (b"__keyevent@0__:new", b"k"),
        (b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k"),
        (b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k"),
        (b"__keyspace@0__:nosuch", b"keymiss"), (b"__keyevent@0__:keymiss", b"nosuch")]
    run(h, h.client, "CONFIG", "SET", "notify-keyspace-events", "KE$")
    assert type(h.engine.dbs[0]).__name__ == "Database"


def test_without_subscribers_nothing_is_built():
    h, listener = notifying("KEA")
    run(h, listener, "PUNSUBSCRIBE")
    run(h, h.client, "SET", "k", "v")
    assert listener.conn.pushed == []


# ---- client tracking -----------------------------------------------------------------------


def tracking_client(h, *options, resp=3):
    c = client(h, resp=resp)
    assert run(h, c, "CLIENT", "TRACKING", "ON", *options) == OK
    return c


def test_read_then_other_client_write_sends_one_invalidation():
    h = Harness()
    c = tracking_client(h)
    run(h, c, "MGET", "a", "b")
    run(h, h.client, "SET", "a", "1")
    run(h, h.client, "SET", "a", "2")       # not read again: no second message
    assert c.conn.take() == [[b"invalidate", [b"a"]]]
    assert h.engine.stats.tracking_total_keys == 1      # b is still tracked


def test_own_write_is_invalidated_after_the_reply():
    h = Harness()
    c = tracking_client(h)
    run(h, c, "GET", "k")
    reply = run(h, c, "SET", "k", "v")
    assert isinstance(reply, Raw)
    assert bytes(reply) == b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
    assert c.conn.pushed == []


def test_noloop_skips_own_writes():
    h = Harness()
    c = tracking_client(h, "NOLOOP")
    run(h, c, "GET", "k")
    assert raw(run(h, c, "SET", "k", "v"), 3) == b"+OK\r\n"
    run(h, c, "GET", "k")
    run(h, h.client, "DEL", "k")
    assert c.conn.take() == [[b"invalidate", [b"k"]]]


def test_optin_tracks_only_after_caching_yes():
    h = Harness()
    c = tracking_client(h, "OPTIN")
    run(h, c, "GET", "a")
    run(h, c, "CLIENT", "CACHING", "YES")
    run(h, c, "GET", "b")
    run(h, c, "GET", "c")                   # CACHING lasts one command
    run(h, h.client, "MSET", "a", "1", "b", "1", "c", "1")
    assert c.conn.take() == [[b"invalidate", [b"b"]]]


def test_reads_inside_exec_are_tracked():
    h = Harness()
    c = tracking_client(h)
    run(h, c, "MULTI")
    run(h, c, "GET", "x")
    run(h, c, "EXEC")
    assert "call" not in h.engine.__dict__      # the tracker stepped aside again
    run(h, h.client, "SET", "x", "1")
    assert c.conn.take() == [[b"invalidate", [b"x"]]]


def test_flush_invalidates_everything_with_a_null():
    h = Harness()
    c = tracking_client(h)
    redirected = tracking_client(h, resp=2)
    run(h, c, "GET", "k")
    run(h, h.client, "FLUSHALL")
    assert c.conn.take() == [[b"invalidate", None]]
    assert redirected.conn.pushed == []     # RESP2 without redirect: nothing to send
    assert h.engine.stats.tracking_total_keys == 0


def test_redirect_to_a_resp2_subscriber_uses_the_invalidate_channel():
    h = Harness()
    sink = client(h)
    run(h, sink, "SUBSCRIBE", "__redis__:invalidate")
    sink.conn.take()
    c = tracking_client(h, "REDIRECT", str(sink.id), resp=2)
    assert run(h, c, "CLIENT", "GETREDIR") == sink.id
    run(h, c, "GET", "k")
    run(h, c, "SET", "k", "v")
    assert sink.conn.take() == [[b"message", b"__redis__:invalidate", [b"k"]]]
    h.engine.remove_client(sink)
    c.resp = 3
    run(h, c, "GET", "k")
    run(h, h.client, "SET", "k", "w")
    assert c.conn.take() == [[b"tracking-redir-broken", sink.id]]
    assert b"broken_redirect" in run(h, c, "CLIENT", "TRACKINGINFO")[b"flags"]


def test_bcast_collects_keys_per_prefix_until_broadcast():
    h = Harness()
    c = tracking_client(h, "BCAST", "PREFIX", "user:", "PREFIX", "cfg")
    run(h, h.client, "MSET", "user:2", "a", "user:1", "b", "other", "c", "cfg", "d")
    run(h, h.client, "SET", "user:1", "again")
    assert c.conn.pushed == []
    tracker(h.engine).broadcast()
    assert c.conn.take() == [[b"invalidate", [b"cfg"]],
                             [b"invalidate", [b"user:1", b"user:2"]]]
    tracker(h.engine).broadcast()
    assert c.conn.pushed == []


def test_tracking_table_max_keys_evicts_by_invalidating():
    h = Harness()
    run(h, h.client, "CONFIG", "SET", "tracking-table-max-keys", "2")
    c = tracking_client(h)
    run(h, c, "MGET", "a", "b", "c")
    assert c.conn.take() == [[b"invalidate", [b"a"]]]
    assert h.engine.stats.tracking_total_keys == 2


def test_tracking_off_forgets_state_and_stops_listening():
    h = Harness()
    c = tracking_client(h, "BCAST")
    t = tracker(h.engine)
    assert t.on_key_event in h.engine.keyspace_listeners
    run(h, c, "CLIENT", "TRACKING", "OFF")
    assert c.tracking is None and not t.prefixes and "tracking" not in c.special
    assert t.on_key_event not in h.engine.keyspace_listeners
    assert run(h, c, "CLIENT", "GETREDIR") == -1


def test_reads_and_writes_inside_a_script_are_tracked():
    h = Harness()
    c = tracking_client(h)
    run(h, c, "EVAL", "return redis.call('GET', KEYS[1])", "1", "sk")
    run(h, h.client, "SET", "sk", "1")
    assert c.conn.take() == [[b"invalidate", [b"sk"]]]
    reply = run(h, c, "EVAL", "redis.call('GET', 'own') return redis.call('SET', 'own', 'x')",
                "0")
    assert bytes(reply) == b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nown\r\n"

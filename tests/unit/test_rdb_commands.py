"""DUMP/RESTORE on an Engine without sockets: propagation, dirty counter, IDLETIME, FREQ,
field-TTL hashes handed to active expiry."""

import pytest

from ember.errors import ReplyError
from ember.server.config import Config
from tests.unit.harness import START_MS, Harness


def test_relative_ttl_propagates_as_absttl():
    h = Harness()
    h("SET", "k", "v")
    payload = h("DUMP", "k")
    h.propagated.clear()
    h("RESTORE", "k2", "5000", payload)
    assert h.propagated == [[b"RESTORE", b"k2", b"%d" % (START_MS + 5000), payload, b"ABSTTL"]]
    h.propagated.clear()
    h("RESTORE", "k3", "0", payload, "REPLACE")
    assert h.propagated == [[b"RESTORE", b"k3", b"0", payload, b"REPLACE"]]
    assert h.ttl_ms(b"k2") == 5000


def test_expired_restore_with_replace_propagates_del():
    h = Harness()
    h("SET", "k", "v")
    payload = h("DUMP", "k")
    dirty = h.engine.dirty
    h("RESTORE", "n", "1", payload, "ABSTTL")          # already expired, nothing there
    assert h.engine.dirty == dirty and h.propagated[-1] == [b"SET", b"k", b"v"]
    h("RESTORE", "k", "1", payload, "ABSTTL", "REPLACE")
    assert h.propagated[-1] == [b"DEL", b"k"]
    assert h("EXISTS", "k") == 0


def test_idletime_and_freq():
    h = Harness()
    h("SET", "k", "v")
    payload = h("DUMP", "k")
    h("RESTORE", "a", "0", payload, "IDLETIME", "120")
    assert h("OBJECT", "IDLETIME", "a") == 120
    config = Config()
    config.maxmemory_policy = "allkeys-lfu"
    lfu = Harness(config)
    seen = []
    lfu.engine.hooks["lfu_set"] = lambda db, key, freq: seen.append((key, freq))
    lfu("RESTORE", "b", "0", payload, "FREQ", "7")
    lfu("RESTORE", "c", "0", payload, "IDLETIME", "7")     # ignored under LFU, as Redis
    assert seen == [(b"b", 7)]


def test_restored_field_ttls_expire_actively():
    h = Harness()
    h("HSET", "h", "a", "1", "b", "2")
    h("HPEXPIRE", "h", "100", "FIELDS", "1", "a")
    payload = h("DUMP", "h")
    h("RESTORE", "h2", "0", payload)
    h.advance(200)
    reaper = h.engine.hooks["hash_field_reaper"]
    reaper.reclaim()
    assert h.db.data[b"h2"].fields == {b"b": b"2"}


def test_bad_payload_errors():
    h = Harness()
    with pytest.raises(ReplyError, match="ERR DUMP payload version or checksum are wrong"):
        h("RESTORE", "k", "0", "garbage-garbage")
    with pytest.raises(ReplyError, match="ERR Invalid TTL value, must be >= 0"):
        h("RESTORE", "k", "-1", "x")


def test_migrate_sockets_idle_for_10s_are_closed_by_the_cron():
    import socket

    from ember.persistence import migrate_link
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        h = Harness()
        cache = migrate_link._cache(h.engine)
        link = migrate_link._connect(cache, b"x", "127.0.0.1", listener.getsockname()[1], 1.0)
        assert list(cache) == [b"x"]
        for hook in h.engine.hooks["cron"]:
            hook()
        assert list(cache) == [b"x"]
        link.last_use -= migrate_link.CACHE_TTL + 1
        for hook in h.engine.hooks["cron"]:
            hook()
        assert cache == {} and link.sock.fileno() == -1
    finally:
        listener.close()

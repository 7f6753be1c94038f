"""Active expiry: keys nobody touches again are removed in the background, within budget."""

import time

import redis

from tests.servers import LatencyProbe, start_ember


def test_100k_keys_with_100ms_ttl_are_gone_within_2s_while_serving():
    server = start_ember()
    try:
        client = redis.Redis(port=server.port)
        pipe = client.pipeline(transaction=False)
        for i in range(100_000):
            pipe.set(f"k:{i}", "v", px=100)
        pipe.execute()
        loaded_at = time.monotonic()
        assert client.dbsize() > 0

        with LatencyProbe(server.port) as probe:
            # Nothing touches the keys again: only active expiry can remove them.
            while client.dbsize() and time.monotonic() - loaded_at < 5:
                time.sleep(0.05)
            elapsed = time.monotonic() - loaded_at
        assert client.dbsize() == 0
        assert elapsed < 2.0, f"active expiry took {elapsed:.2f}s"
        stats = client.info("stats")
        assert stats["expired_keys"] >= 100_000
        # Other clients kept being answered: no PING waited more than a cron budget or so.
        assert probe.worst < 0.25, f"a PING waited {probe.worst * 1000:.0f} ms"
    finally:
        server.stop()


def test_expired_key_is_never_readable(r):
    r.set("short", "v", px=1)
    time.sleep(0.005)  # the passing of time is the event here
    assert r.get("short") is None
    assert r.exists("short") == 0

"""Active expiry: keys nobody touches again are removed in the background, within budget."""

import threading
import time

import redis

from tests.servers import start_ember


def _latency_probe(port: int, stop: threading.Event, worst: list) -> None:
    client = redis.Redis(port=port)
    while not stop.is_set():
        started = time.perf_counter()
        client.ping()
        worst[0] = max(worst[0], time.perf_counter() - started)
    client.close()


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

        stop = threading.Event()
        worst = [0.0]
        probe = threading.Thread(target=_latency_probe, args=(server.port, stop, worst))
        probe.start()
        try:
            # Nothing touches the keys again: only active expiry can remove them.
            while client.dbsize() and time.monotonic() - loaded_at < 5:
                time.sleep(0.05)
            elapsed = time.monotonic() - loaded_at
        finally:
            stop.set()
            probe.join()
        assert client.dbsize() == 0
        assert elapsed < 2.0, f"active expiry took {elapsed:.2f}s"
        stats = client.info("stats")
        assert stats["expired_keys"] >= 100_000
        # Other clients kept being answered: no PING waited more than a cron budget or so.
        assert worst[0] < 0.25, f"a PING waited {worst[0] * 1000:.0f} ms"
    finally:
        server.stop()


def test_expired_key_is_never_readable(r):
    r.set("short", "v", px=1)
    time.sleep(0.005)  # the passing of time is the event here
    assert r.get("short") is None
    assert r.exists("short") == 0

"""Client eviction (maxmemory-clients) and CLIENT NO-EVICT over TCP: a client whose unread
replies pile up past the limit is disconnected by the cron unless it set NO-EVICT."""

import socket

import pytest
import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember, wait_until

BIG = 8 * 1024 * 1024
LIMIT = 6 * 1024 * 1024


@pytest.fixture(scope="module")
def server():
    proc = start_ember("--hz", "50")
    yield proc
    proc.stop()


def _hog(port: int, no_evict: bool, key: str) -> RawClient:
    """A client that asks for a big reply and reads none of it (the kernel takes a few
    MB; the rest waits in ember's output buffer)."""
    client = RawClient(port)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.id = client.call("CLIENT", "ID")
    if no_evict:
        assert client.call("CLIENT", "NO-EVICT", "on") == "OK"
    client.send(encode_command("GET", key))
    return client


def test_clients_over_maxmemory_clients_are_evicted_unless_no_evict(server):
    r = redis.Redis(port=server.port)
    r.config_resetstat()
    r.set("big", b"x" * BIG)
    r.set("smaller", b"x" * (BIG * 3 // 4))
    r.config_set("maxmemory-clients", "6mb")
    # The biggest client is protected: the other one, smaller, is the one to go.
    protected = _hog(server.port, no_evict=True, key="big")
    try:
        assert wait_until(lambda: max(int(c["omem"]) for c in r.client_list()) > BIG // 4)
        hog = _hog(server.port, no_evict=False, key="smaller")
        assert wait_until(lambda: r.info("stats")["evicted_clients"] == 1)
        ids = {int(c["id"]) for c in r.client_list()}
        assert hog.id not in ids and protected.id in ids and len(ids) == 2   # and r
        assert "e" in [c for c in r.client_list() if int(c["id"]) == protected.id][0]["flags"]
        assert r.info("stats")["evicted_clients"] == 1
    finally:
        r.config_set("maxmemory-clients", "0")
        protected.close()
        r.close()

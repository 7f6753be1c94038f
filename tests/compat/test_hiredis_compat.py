"""ember with the optional hiredis request parser answers exactly as redis-server does.

The same request bytes as the pure parser's compatibility tests, sent to an ember started
with EMBER_PARSER=hiredis: replies and connection closing must match redis-server's.
"""

import pytest

from tests.compat.test_protocol_compat import both
from tests.integration.test_protocol import PROTOCOL_ERRORS
from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember

EDGE_REQUESTS = [
    b"*-1\r\n*0\r\nPING\r\n",
    b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
    b"*01\r\n$4\r\nPING\r\n",
    b"*1\r\n$04\r\nPING\r\n",
    b"*1\r\n+PING\r\n",
    b"*1\r\n:1\r\n",
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",
    b"SET k v\r\nGET k\r\nDEL k\r\n",
    encode_command("SET", "k", "v" * 70000) + encode_command("STRLEN", "k"),
    encode_command("MSET", "a", "1", "b", "2") + encode_command("MGET", "a", "b"),
]


@pytest.fixture(scope="module")
def ember_hiredis():
    server = start_ember(env={"EMBER_PARSER": "hiredis"})
    assert "Request parser: hiredis" in server.log
    yield server
    server.stop()


@pytest.mark.parametrize("bad", [bad for bad, _ in PROTOCOL_ERRORS],
                         ids=[repr(bad[:20]) for bad, _ in PROTOCOL_ERRORS])
def test_protocol_errors_match_redis(ember_hiredis, redis_reference, bad):
    data = encode_command("SET", "pc", "v") + b"GET pc\r\n" + bad
    both(ember_hiredis, redis_reference, data, sentinel=len(bad) < 1000)


@pytest.mark.parametrize("data", EDGE_REQUESTS, ids=[repr(d[:24]) for d in EDGE_REQUESTS])
def test_edge_requests_match_redis(ember_hiredis, redis_reference, data):
    both(ember_hiredis, redis_reference, data)


def test_pipelined_mixed_commands(ember_hiredis):
    client = RawClient(ember_hiredis.port)
    requests = [encode_command("SET", f"k{i}", f"v{i}") + encode_command("GET", f"k{i}")
                for i in range(500)]
    client.send(b"".join(requests))
    for i in range(500):
        assert client.read_raw() == b"+OK\r\n"
        assert client.read_raw() == b"$%d\r\nv%d\r\n" % (len(str(i)) + 1, i)
    client.close()

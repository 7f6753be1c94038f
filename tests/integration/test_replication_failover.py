"""FAILOVER between ember servers: the coordinated switch-over, its errors, ABORT and
TIMEOUT (Redis 6.2+ semantics, real processes)."""

import signal

import pytest

from tests.integration.test_replication_common import client, ember, info, offsets_equal
from tests.rawclient import RawClient, encode_command
from tests.servers import wait_until


@pytest.fixture
def pair():
    primary = ember()
    p = client(primary)
    p.set("k", "v")
    replica = ember("--replicaof", "127.0.0.1", str(primary.port))
    r = client(replica)
    assert offsets_equal(p, r)
    yield primary, replica, p, r
    p.close()
    r.close()
    replica.stop()
    primary.stop()


def error_of(server, *args) -> bytes:
    raw = RawClient(server.port)
    try:
        raw.send(encode_command(*args))
        return raw.read_raw()
    finally:
        raw.close()


def test_errors_without_replicas_and_bad_arguments():
    alone = ember()
    try:
        assert error_of(alone, "FAILOVER") == b"-ERR FAILOVER requires connected replicas.\r\n"
        assert error_of(alone, "FAILOVER", "ABORT") == b"-ERR No failover in progress.\r\n"
        assert error_of(alone, "FAILOVER", "TIMEOUT", "0") == \
            b"-ERR FAILOVER timeout must be greater than 0\r\n"
        assert error_of(alone, "FAILOVER", "BOGUS") == b"-ERR syntax error\r\n"
        assert error_of(alone, "FAILOVER", "TO", "h", "x") == \
            b"-ERR value is not an integer or out of range\r\n"
    finally:
        alone.stop()


def test_failover_errors_with_a_replica(pair):
    primary, replica, p, r = pair
    assert error_of(primary, "FAILOVER", "TO", "127.0.0.1", "1", ) == \
        b"-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
    assert error_of(primary, "FAILOVER", "FORCE") == (
        b"-ERR FAILOVER with force option requires both a timeout and target HOST and "
        b"IP.\r\n")
    assert error_of(replica, "FAILOVER") == \
        b"-ERR FAILOVER is not valid when server is a replica.\r\n"
    assert error_of(replica, "PSYNC", "x" * 40, "1", "FAILOVER") == \
        b"-ERR PSYNC FAILOVER replid must match my replid.\r\n"


@pytest.mark.parametrize("to_target", [True, False])
def test_coordinated_failover_swaps_the_roles(pair, to_target):
    primary, replica, p, r = pair
    for i in range(50):
        p.set("before%d" % i, i)
    args = ("TO", "127.0.0.1", replica.port) if to_target else ()
    assert p.execute_command("FAILOVER", *args) == b"OK"
    assert wait_until(lambda: info(r)["role"] == "master"
                      and info(p).get("master_link_status") == "up", 10)
    assert info(p)["master_failover_state"] == "no-failover"
    assert info(p)["master_port"] == str(replica.port)
    r.set("after", "switch")
    assert offsets_equal(r, p)
    assert p.get("after") == b"switch" and r.get("before49") == b"49"
    assert int(r.info("stats")["sync_partial_ok"]) >= 1     # no full resync needed


def test_timeout_aborts_when_the_replica_never_catches_up(pair):
    primary, replica, p, r = pair
    replica.proc.send_signal(signal.SIGSTOP)                # stops acknowledging
    try:
        p.set("unacked", 1)
        assert p.execute_command("FAILOVER", "TIMEOUT", 300) == b"OK"
        assert info(p)["master_failover_state"] == "waiting-for-sync"
        assert wait_until(lambda: info(p)["master_failover_state"] == "no-failover", 5)
        assert info(p)["role"] == "master"
        assert p.set("writable", 1)                         # the write pause ended
    finally:
        replica.proc.send_signal(signal.SIGCONT)


def test_abort(pair):
    primary, replica, p, r = pair
    replica.proc.send_signal(signal.SIGSTOP)
    try:
        p.set("unacked", 1)
        assert p.execute_command("FAILOVER") == b"OK"
        assert error_of(primary, "FAILOVER") == b"-ERR FAILOVER already in progress.\r\n"
        assert p.execute_command("FAILOVER", "ABORT") == b"OK"
        assert info(p)["master_failover_state"] == "no-failover"
        assert p.set("writable", 1)
    finally:
        replica.proc.send_signal(signal.SIGCONT)

"""Helpers shared by the replication tests (no tests here): servers and keyspace snapshots."""

import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import start_ember, wait_until

FAST = ("--repl-diskless-sync-delay", "0")


def ember(*extra):
    """An ember-server with full syncs starting at once."""
    return start_ember(*FAST, *extra)


def client(server, db: int = 0) -> redis.Redis:
    """A redis-py client (RESP2, replies as bytes) on ``server``."""
    return redis.Redis(port=server.port, db=db, socket_timeout=10)


def info(conn, section: str = "replication") -> dict:
    """One INFO section as a dict of str -> str, the values as the server wrote them."""
    kwargs = conn.connection_pool.connection_kwargs
    raw = RawClient(kwargs["port"], kwargs.get("host", "127.0.0.1"))
    try:
        if kwargs.get("password"):
            raw.send(encode_command("AUTH", kwargs["password"]))
            raw.read_raw()
        raw.send(encode_command("INFO", section))
        reply = raw.read_raw()
    finally:
        raw.close()
    lines = reply.split(b"\r\n", 1)[1].decode()
    return dict(line.split(":", 1) for line in lines.splitlines() if ":" in line)


def offsets_equal(primary, replica, timeout: float = 10.0) -> bool:
    """Wait until the replica processed everything the primary's stream holds."""
    return wait_until(lambda: info(replica).get("master_link_status") == "up"
                      and info(primary)["master_repl_offset"]
                      == info(replica)["master_repl_offset"], timeout)


def value_of(conn, key: bytes):
    """A comparable picture of one key: type and contents."""
    kind = conn.type(key).decode()
    if kind == "string":
        value = conn.get(key)
    elif kind == "list":
        value = conn.lrange(key, 0, -1)
    elif kind == "set":
        value = sorted(conn.smembers(key))
    elif kind == "zset":
        value = conn.zrange(key, 0, -1, withscores=True)
    elif kind == "hash":
        value = sorted(conn.hgetall(key).items())
    elif kind == "stream":
        value = conn.xrange(key)
    else:
        value = None
    return kind, value


def snapshot(server, dbs=range(16)) -> dict:
    """Every key of every database: (type, value, absolute expiry ms)."""
    picture = {}
    for db in dbs:
        conn = client(server, db)
        for key in conn.scan_iter(count=1000):
            picture[(db, key)] = value_of(conn, key) + (
                conn.execute_command("PEXPIRETIME", key),)
        conn.close()
    return picture

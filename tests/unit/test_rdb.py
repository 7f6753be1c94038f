"""RDB codec round trips without sockets: ember -> file -> ember, DUMP -> RESTORE."""

import io

import pytest

from ember.persistence.rdb import (
    RDB_VERSION,
    RdbError,
    dump_payload,
    load_rdb,
    restore_payload,
    write_rdb,
)
from ember.storage.keyspace import Database
from tests.compat.test_rdb_interop import ember_caller, ember_view, keyspace_report, populate
from tests.unit.harness import START_MS, Harness


def fresh_dbs(n: int = 16) -> list:
    return [Database(i, lambda: START_MS) for i in range(n)]


def snapshot(dbs) -> dict:
    return {(db.id, key): ember_view(value) for db in dbs for key, value in db.data.items()}


def write_bytes(dbs, **kwargs) -> bytes:
    out = io.BytesIO()
    write_rdb(out.write, dbs, **kwargs)
    return out.getvalue()


def test_round_trip_every_type_with_ttls():
    h = Harness()
    populate(h)
    data = write_bytes(h.engine.dbs, aux={"repl-id": b"abc", "repl-offset": 42,
                                          "aof-base": 1})
    assert data.count(b"aof-base") == 1
    assert data.startswith(b"REDIS%04d" % RDB_VERSION)
    dbs = fresh_dbs()
    aux = load_rdb(io.BytesIO(data).read, dbs)
    assert aux["repl-id"] == b"abc" and aux["repl-offset"] == b"42"
    assert aux["redis-ver"] == b"7.2.4" and aux["aof-base"] == b"1"
    assert snapshot(dbs) == snapshot(h.engine.dbs)
    for db, original in zip(dbs, h.engine.dbs):
        assert db.expires == original.expires


def test_encodings_follow_the_limits_on_load():
    h = Harness()
    populate(h)
    dbs = fresh_dbs()
    load_rdb(io.BytesIO(write_bytes(h.engine.dbs)).read, dbs)
    data = dbs[0].data
    assert data[b"intset"].encoding == "intset"
    assert data[b"lpset"].encoding == "listpack"
    assert data[b"bigset"].encoding == "hashtable"
    assert data[b"zset"].encoding == "listpack"
    assert data[b"bigzset"].encoding == "skiplist"
    assert data[b"hash"].encoding == "listpack"
    assert data[b"bighash"].encoding == "hashtable"
    assert data[b"longhash"].encoding == "hashtable"
    assert data[b"list"].encoding == "listpack"
    assert data[b"hugeitem"].encoding == "quicklist"


def test_expired_keys_skipped_when_now_given():
    h = Harness()
    h("SET", "a", "1", "PX", "100")
    h("SET", "b", "2")
    data = write_bytes(h.engine.dbs)
    dbs = fresh_dbs()
    stats = {}
    load_rdb(io.BytesIO(data).read, dbs, now_ms=START_MS + 1000, stats=stats)
    assert list(dbs[0].data) == [b"b"]
    assert stats["keys"] == 1 and stats["expired_skipped"] == 1
    assert stats["version"] == RDB_VERSION


def test_writer_skips_logically_expired_keys():
    h = Harness()
    h("SET", "a", "1", "PX", "100")
    h.now += 1000             # no tick: the key is still in the dict, but dead
    h.engine.tick()
    dbs = fresh_dbs()
    load_rdb(io.BytesIO(write_bytes(h.engine.dbs)).read, dbs)
    assert dbs[0].data == {}


def test_checksum_mismatch_is_an_error_with_offset():
    h = Harness()
    h("SET", "k", "v")
    data = bytearray(write_bytes(h.engine.dbs))
    data[-1] ^= 0xFF
    with pytest.raises(RdbError) as info:
        load_rdb(io.BytesIO(bytes(data)).read, fresh_dbs())
    assert "checksum" in info.value.message
    assert info.value.offset == len(data) - 8


def test_zero_checksum_is_not_checked():
    h = Harness()
    h("SET", "k", "v")
    data = write_bytes(h.engine.dbs)[:-8] + bytes(8)
    dbs = fresh_dbs()
    load_rdb(io.BytesIO(data).read, dbs)
    assert dbs[0].data == {b"k": b"v"}


def test_truncation_at_every_cut_is_an_error():
    h = Harness()
    populate(h, big=5)
    data = write_bytes(h.engine.dbs)
    for cut in range(0, len(data) - 1, 7):
        with pytest.raises(RdbError) as info:
            load_rdb(io.BytesIO(data[:cut]).read, fresh_dbs())
        assert info.value.offset <= cut


def test_dump_restore_round_trip_every_type():
    h = Harness()
    populate(h)
    for key, value in h.db.data.items():
        payload = dump_payload(value)
        assert payload[-10:-8] == RDB_VERSION.to_bytes(2, "little")
        assert ember_view(restore_payload(payload)) == ember_view(value), key


def test_restore_rejects_bad_checksum_and_bad_body():
    payload = dump_payload(b"hello")
    bad = payload[:-1] + bytes([payload[-1] ^ 1])
    with pytest.raises(RdbError, match="DUMP payload version or checksum are wrong"):
        restore_payload(bad)
    newer = payload[:-10] + (13).to_bytes(2, "little")
    from ember.persistence.crc64 import crc64
    newer += crc64(newer).to_bytes(8, "little")
    with pytest.raises(RdbError, match="version or checksum"):
        restore_payload(newer)
    body = b"\x00\x10abc" + (10).to_bytes(2, "little")     # string shorter than declared
    body += crc64(body).to_bytes(8, "little")
    with pytest.raises(RdbError, match="Bad data format"):
        restore_payload(body)


def reload(h) -> Harness:
    """A new engine holding what ``h`` wrote to an RDB."""
    other = Harness()
    other.now = h.now
    other.engine.tick()
    load_rdb(io.BytesIO(write_bytes(h.engine.dbs)).read, other.engine.dbs)
    return other


def test_reload_answers_every_read_the_same():
    h = Harness()
    populate(h)
    other = reload(h)
    assert keyspace_report(ember_caller(other), (0, 3)) == keyspace_report(
        ember_caller(h), (0, 3))


def test_stream_nodes_and_groups_survive():
    h = Harness()
    for i in range(1, 251):
        h("XADD", "s", f"{i}-0", "f", str(i))
    h("XGROUP", "CREATE", "s", "g", "0")
    h("XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">")
    h("XDEL", "s", "2-0")
    other = reload(h)
    a, b = h.db.data[b"s"], other.db.data[b"s"]
    assert [n.first for n in a.nodes] == [n.first for n in b.nodes]
    assert b.groups[b"g"].consumers[b"c"].pending == a.groups[b"g"].consumers[b"c"].pending
    # approximate trimming drops the same whole nodes on both
    assert h("XTRIM", "s", "MAXLEN", "~", "120") == other("XTRIM", "s", "MAXLEN", "~", "120")


def test_hash_field_deadlines_survive():
    h = Harness()
    h("HSET", "h", "a", "1", "b", "2", "c", "3")
    h("HPEXPIRE", "h", "5000", "FIELDS", "1", "a")
    h("HPEXPIRE", "h", "9000", "FIELDS", "1", "b")
    other = reload(h)
    assert other("HPTTL", "h", "FIELDS", "3", "a", "b", "c") == [5000, 9000, -1]
    assert other.db.data[b"h"].encoding == "listpackex"
    value = other.db.data[b"h"]
    assert ember_view(restore_payload(dump_payload(value))) == ember_view(value)

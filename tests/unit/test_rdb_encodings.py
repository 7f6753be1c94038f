"""Compact encodings that redis-server 7.0 does not write here (older Redis: zipmap,
ziplist, quicklist v1; Redis 7.2: set listpack, stream v3; Redis 7.4: hashes with field
TTLs), built by hand following Redis's source, and hostile variants of them."""

import struct

import pytest

from ember.persistence import rdb_format as F
from ember.persistence.crc64 import crc64
from ember.persistence.encodings import (
    BlobError,
    intset_members,
    listpack_encode,
    listpack_entries,
    ziplist_entries,
    zipmap_pairs,
)
from ember.persistence.rdb import RdbError, dump_payload, restore_payload
from ember.persistence.rdb_write import encode_string
from tests.compat.test_rdb_interop import ember_view


def payload(rdb_type: int, body: bytes, version: int = 12) -> bytes:
    data = bytes((rdb_type,)) + body + version.to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


# ---- hand-made blobs --------------------------------------------------------------------

def ziplist(values) -> bytes:
    """A ziplist (ziplist.c): prevlen, encoding, data per entry."""
    body = b""
    prev = 0
    for v in values:
        entry = b"\xfe" + prev.to_bytes(4, "little") if prev >= 254 else bytes((prev,))
        if isinstance(v, int):
            if 0 <= v <= 12:
                entry += bytes((0xF1 + v,))
            elif -128 <= v <= 127:
                entry += b"\xfe" + v.to_bytes(1, "little", signed=True)
            elif -32768 <= v <= 32767:
                entry += b"\xc0" + v.to_bytes(2, "little", signed=True)
            elif -(1 << 23) <= v < (1 << 23):
                entry += b"\xf0" + v.to_bytes(3, "little", signed=True)
            elif -(1 << 31) <= v < (1 << 31):
                entry += b"\xd0" + v.to_bytes(4, "little", signed=True)
            else:
                entry += b"\xe0" + v.to_bytes(8, "little", signed=True)
        elif len(v) < 64:
            entry += bytes((len(v),)) + v
        elif len(v) < 16384:
            entry += bytes((0x40 | (len(v) >> 8), len(v) & 0xFF)) + v
        else:
            entry += b"\x80" + len(v).to_bytes(4, "big") + v
        prev = len(entry)
        body += entry
    total = 10 + len(body) + 1
    return (total.to_bytes(4, "little") + (total - 1 - prev).to_bytes(4, "little")
            + len(values).to_bytes(2, "little") + body + b"\xff")


def zipmap(pairs) -> bytes:
    body = bytes((len(pairs),))
    for field, value in pairs:
        body += bytes((len(field),)) + field + bytes((len(value),)) + b"\x00" + value
    return body + b"\xff"


def intset(values, width: int = 8) -> bytes:
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return (width.to_bytes(4, "little") + len(values).to_bytes(4, "little")
            + b"".join(struct.pack(fmt, v) for v in sorted(values)))


def test_ziplist_every_entry_encoding():
    values = [0, 12, 13, -128, 1000, -70000, 1 << 30, -(1 << 40), b"", b"abc", b"x" * 300,
              b"y" * 20000]
    blob = ziplist(values)
    expected = [v if isinstance(v, bytes) else b"%d" % v for v in values]
    assert ziplist_entries(blob) == expected


def test_listpack_round_trip_and_intset():
    values = [0, 127, 128, -4096, 4095, -40000, 1 << 22, -(1 << 31), 1 << 62, b"s", b"m" * 100,
              b"l" * 5000]
    assert listpack_entries(listpack_encode(values), ints=True) == values
    assert intset_members(intset([3, -2, 1 << 40])) == [b"-2", b"3", b"1099511627776"]
    assert intset_members(intset([5, 6], width=2)) == [b"5", b"6"]


@pytest.mark.parametrize("rdb_type,blob,view", [
    (F.TYPE_HASH_ZIPMAP, zipmap([(b"f", b"v"), (b"g", b"")]), ("hash", {b"f": b"v", b"g": b""})),
    (F.TYPE_LIST_ZIPLIST, ziplist([b"a", 7, b"b"]), ("list", [b"a", b"7", b"b"])),
    (F.TYPE_SET_INTSET, intset([1, 2, 3], 2), ("set", {b"1", b"2", b"3"})),
    (F.TYPE_ZSET_ZIPLIST, ziplist([b"a", b"1.5", b"b", 2]), ("zset", {b"a": 1.5, b"b": 2.0})),
    (F.TYPE_HASH_ZIPLIST, ziplist([b"f", 1, b"g", b"x"]), ("hash", {b"f": b"1", b"g": b"x"})),
    (F.TYPE_SET_LISTPACK, listpack_encode([b"a", 5, b"c"]), ("set", {b"a", b"5", b"c"})),
    (F.TYPE_ZSET_LISTPACK, listpack_encode([b"m", b"-1.25"]), ("zset", {b"m": -1.25})),
    (F.TYPE_HASH_LISTPACK, listpack_encode([b"f", b"v"]), ("hash", {b"f": b"v"})),
])
def test_blob_types_restore(rdb_type, blob, view):
    value = restore_payload(payload(rdb_type, encode_string(blob)))
    assert ember_view(value) == view


def test_quicklists_v1_and_v2():
    body = F.encode_length(2) + encode_string(ziplist([b"a", 1])) + encode_string(ziplist([b"b"]))
    assert ember_view(restore_payload(payload(F.TYPE_LIST_QUICKLIST, body))) == (
        "list", [b"a", b"1", b"b"])
    body = (F.encode_length(3) + F.encode_length(2) + encode_string(listpack_encode([b"a", 2]))
            + F.encode_length(1) + encode_string(b"P" * 100)
            + F.encode_length(2) + encode_string(listpack_encode([])))      # empty: skipped
    assert ember_view(restore_payload(payload(F.TYPE_LIST_QUICKLIST_2, body))) == (
        "list", [b"a", b"2", b"P" * 100])


def test_hash_listpack_ex_and_metadata():
    low = 1_900_000_000_000
    lp = listpack_encode([b"a", b"1", low + 5, b"b", b"2", 0])
    for rdb_type, prefix in ((F.TYPE_HASH_LISTPACK_EX, low.to_bytes(8, "little")),
                             (F.TYPE_HASH_LISTPACK_EX_PRE_GA, b"")):
        value = restore_payload(payload(rdb_type, prefix + encode_string(lp)))
        assert value.fields == {b"a": b"1", b"b": b"2"}
        assert value.ttls == {b"a": low + 5}
    body = (low.to_bytes(8, "little") + F.encode_length(2)
            + F.encode_length(6) + encode_string(b"a") + encode_string(b"1")
            + F.encode_length(0) + encode_string(b"b") + encode_string(b"2"))
    value = restore_payload(payload(F.TYPE_HASH_METADATA, body))
    assert value.ttls == {b"a": low + 5} and value.fields[b"b"] == b"2"
    body = (F.encode_length(1) + F.encode_length(low) + encode_string(b"a")
            + encode_string(b"1"))
    assert restore_payload(payload(F.TYPE_HASH_METADATA_PRE_GA, body)).ttls == {b"a": low}


def test_stream_v3_consumer_active_time():
    from tests.unit.harness import Harness
    h = Harness()
    h("XADD", "s", "1-1", "f", "v")
    h("XGROUP", "CREATE", "s", "g", "0")
    h("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    value = h.db.data[b"s"]
    v2 = dump_payload(value)[:-10]
    assert v2[0] == F.TYPE_STREAM_LISTPACKS_2
    # v3 = v2 with the consumer's active time after its seen time: rebuild by hand
    consumer = value.groups[b"g"].consumers[b"c"]
    seen = consumer.seen_time.to_bytes(8, "little")
    at = v2.rindex(encode_string(b"c") + seen) + len(encode_string(b"c") + seen)
    v3 = bytes((F.TYPE_STREAM_LISTPACKS_3,)) + v2[1:at] + (1234).to_bytes(8, "little") + v2[at:]
    data = v3 + (11).to_bytes(2, "little")
    loaded = restore_payload(data + crc64(data).to_bytes(8, "little"))
    assert loaded.groups[b"g"].consumers[b"c"].active_time == 1234
    assert list(loaded.entries) == list(value.entries)


@pytest.mark.parametrize("blob", [
    b"", b"\xff", b"\x0b\x00\x00\x00\x0a\x00\x00\x00\x01\x00\xff",
    ziplist([b"abc"])[:-3] + b"\xff", b"\x00\x00\x00\x00" * 3,
])
def test_bad_ziplists_are_errors(blob):
    with pytest.raises(BlobError):
        ziplist_entries(blob)


def test_bad_blobs_give_bad_data_format():
    good = listpack_encode([b"a", b"b"])
    cut = good[:4] + good[4:-2] + b"\xff"
    for rdb_type, blob in ((F.TYPE_SET_LISTPACK, cut), (F.TYPE_SET_INTSET, b"\x08\x00\x00\x00"),
                           (F.TYPE_HASH_ZIPMAP, b"\x01\x05ab\xff"),
                           (F.TYPE_SET_INTSET, intset([1, 1])),
                           (F.TYPE_HASH_LISTPACK, listpack_encode([b"a", b"b", b"a", b"c"]))):
        with pytest.raises(RdbError, match="Bad data format"):
            restore_payload(payload(rdb_type, encode_string(blob)))
    with pytest.raises(BlobError):
        zipmap_pairs(b"\x01\x05ab\xff")


# ---- whole files of newer versions, built by hand ---------------------------------------

def rdb_file(version: int, body: bytes, checksum: bool = True) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    return data + (crc64(data) if checksum else 0).to_bytes(8, "little")


def aux(name: bytes, value: bytes) -> bytes:
    return b"\xfa" + encode_string(name) + encode_string(value)


def test_version_12_file_with_slot_info_functions_and_new_types():
    import io

    from ember.persistence.rdb import load_rdb
    from tests.unit.harness import Harness
    code = b"#!lua name=lib\nredis.register_function('f', function() return 2 end)"
    low = 4_000_000_000_000
    body = (aux(b"redis-ver", b"7.4.1") + b"\xf5" + encode_string(code)
            + b"\xfe\x00\xfb\x03\x00"
            + b"\xf4\x00\x03\x00"                                 # SLOT_INFO slot 0
            + bytes((F.TYPE_SET_LISTPACK,)) + encode_string(b"s")
            + encode_string(listpack_encode([b"a", 1]))
            + b"\xf8\x0a"                                         # IDLE 10 s
            + bytes((F.TYPE_HASH_LISTPACK_EX,)) + encode_string(b"h")
            + low.to_bytes(8, "little")
            + encode_string(listpack_encode([b"f", b"v", low, b"g", b"w", 0]))
            + b"\xf9\x05"                                         # FREQ 5
            + bytes((F.TYPE_ZSET_LISTPACK,)) + encode_string(b"z")
            + encode_string(listpack_encode([b"m", b"2"])))
    h = Harness()
    codes = []
    fields = load_rdb(io.BytesIO(rdb_file(12, body)).read, h.engine.dbs, functions=codes)
    assert fields == {"redis-ver": b"7.4.1"} and codes == [code]
    assert h("OBJECT", "IDLETIME", "h") == 10           # before anything touches it
    assert h("SMEMBERS", "s") == [b"a", b"1"]
    assert h("OBJECT", "ENCODING", "s") == b"listpack"
    assert h("HPEXPIRETIME", "h", "FIELDS", "2", "f", "g") == [low, -1]
    assert h("ZSCORE", "z", "m") == 2.0


def test_module_aux_and_module_types_are_refused_clearly():
    import io

    from ember.persistence.rdb import load_rdb
    from ember.storage.keyspace import Database
    dbs = [Database(0, lambda: 0)]
    module_aux = b"\xf7\x81" + (1234).to_bytes(8, "big") + b"\x02\x05"
    with pytest.raises(RdbError, match="AUX module data") as info:
        load_rdb(io.BytesIO(rdb_file(10, module_aux)).read, dbs)
    assert info.value.offset == 9
    module_key = b"\xfe\x00\x07\x01k\x81" + (1234).to_bytes(8, "big")
    with pytest.raises(RdbError, match="Module data types are not supported"):
        load_rdb(io.BytesIO(rdb_file(10, module_key)).read, dbs)
    with pytest.raises(RdbError, match="Can't handle RDB format version 13"):
        load_rdb(io.BytesIO(rdb_file(13, b"")).read, dbs)
    with pytest.raises(RdbError, match="Wrong signature"):
        load_rdb(io.BytesIO(b"REDIX0010\xff" + bytes(8)).read, dbs)


def test_old_versions_expiretime_seconds_and_zset_v1():
    import io

    from ember.persistence.rdb import load_rdb
    from ember.storage.keyspace import Database
    body = (b"\xfe\x00" + b"\xfd" + (2_000_000_000).to_bytes(4, "little")
            + b"\x00" + encode_string(b"k") + encode_string(b"v")
            + bytes((F.TYPE_ZSET,)) + encode_string(b"z") + b"\x02"
            + encode_string(b"a") + b"\x031.5" + encode_string(b"b") + b"\xfe")
    dbs = [Database(0, lambda: 0)]
    load_rdb(io.BytesIO(b"REDIS0003" + body + b"\xff").read, dbs)   # v3: no checksum
    assert dbs[0].expires == {b"k": 2_000_000_000_000}
    assert dbs[0].data[b"z"].scores == {b"a": 1.5, b"b": float("inf")}


def test_mutated_strings_and_bytearrays_are_written():
    import io

    from ember.persistence.rdb import load_rdb, write_rdb
    from tests.unit.harness import Harness
    h = Harness()
    h("SET", "k", "12")
    h("APPEND", "k", "34")                    # a bytearray now, and an integer text
    h("SET", "r", "x")
    h("SETRANGE", "r", "30", "y")
    assert type(h.db.data[b"k"]) is bytearray
    out = io.BytesIO()
    write_rdb(out.write, h.engine.dbs)
    other = Harness()
    load_rdb(io.BytesIO(out.getvalue()).read, other.engine.dbs)
    assert other("GET", "k") == b"1234" and other("GET", "r") == b"x" + bytes(29) + b"y"


def test_stream_v1_estimates_entries_read():
    """RDB_TYPE_STREAM_LISTPACKS (Redis 5/6): no first ID, deleted ID, entries-added or
    entries-read; Redis 7 derives them (streamEstimateDistanceFromFirstEverEntry)."""
    from ember.persistence.stream_codec import _raw_id, node_listpack
    from tests.unit.harness import Harness
    h = Harness()
    for i in range(1, 6):
        h("XADD", "s", f"{i}-0", "f", str(i))
    stream = h.db.data[b"s"]
    node = stream.nodes[0]
    body = (F.encode_length(1) + encode_string(_raw_id(node.first))
            + encode_string(node_listpack(stream, node))
            + F.encode_length(5) + F.encode_length(5) + F.encode_length(0)     # last 5-0
            + F.encode_length(3)                                               # 3 groups
            + encode_string(b"atlast") + F.encode_length(5) + F.encode_length(0)
            + F.encode_length(0) + F.encode_length(0)
            + encode_string(b"atzero") + F.encode_length(0) + F.encode_length(0)
            + F.encode_length(0) + F.encode_length(0)
            + encode_string(b"middle") + F.encode_length(3) + F.encode_length(0)
            + F.encode_length(0) + F.encode_length(0))
    loaded = restore_payload(payload(F.TYPE_STREAM_LISTPACKS, body, version=9))
    assert loaded.entries_added == 5 and loaded.first_id == stream.first_id
    reads = {name: g.entries_read for name, g in loaded.groups.items()}
    assert reads == {b"atlast": 5, b"atzero": 0, b"middle": -1}


def test_freq_opcode_sets_the_lfu_counter_under_lfu():
    import io

    from ember.persistence.rdb import load_rdb
    from ember.server.config import Config
    from tests.unit.harness import Harness
    body = (b"\xfe\x00" + b"\xf9\x2a" + b"\x00" + encode_string(b"k") + encode_string(b"v")
            + b"\xf8\x07" + b"\x00" + encode_string(b"j") + encode_string(b"w"))
    config = Config()
    config.maxmemory_policy = "allkeys-lfu"
    h = Harness(config)
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    load_rdb(io.BytesIO(rdb_file(10, body)).read, h.engine.dbs)
    if not hasattr(h.db.access, "set_counter"):
        pytest.skip("the databases keep no LFU counters in this build")
    assert h("OBJECT", "FREQ", "k") == 42
    plain = Harness()
    load_rdb(io.BytesIO(rdb_file(10, body)).read, plain.engine.dbs)
    assert plain("OBJECT", "IDLETIME", "j") == 7 and plain("OBJECT", "IDLETIME", "k") == 0


def test_lfu_counters_are_written_and_read_back():
    import io

    from ember.persistence.rdb import load_rdb, write_rdb
    from ember.server.config import Config
    from tests.unit.harness import Harness
    config = Config()
    config.maxmemory_policy = "allkeys-lfu"
    h = Harness(config)
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    if not hasattr(h.db.access, "frequency"):
        pytest.skip("the databases keep no LFU counters in this build")
    h("SET", "k", "v")
    h("RESTORE", "r", "0", h("DUMP", "k"), "FREQ", "99")
    out = io.BytesIO()
    write_rdb(out.write, h.engine.dbs)
    assert out.getvalue().count(b"\xf9c") == 1                 # FREQ 99 before "r"
    other = Harness(config)
    other("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    load_rdb(io.BytesIO(out.getvalue()).read, other.engine.dbs)
    assert other("OBJECT", "FREQ", "r") == 99

"""Streams in RDB: RDB_TYPE_STREAM_LISTPACKS (v1, Redis 5/6), _2 (Redis 7.0, what ember
writes) and _3 (Redis 7.2: consumers' active time).

Layout (rdb.c rdbSaveObject): the number of listpack nodes, each as its master ID (16
bytes, big-endian ms and seq) and a listpack; the entry count; the last ID; (v2+) the
first ID, the largest deleted ID and the entries-added counter; then the consumer groups,
each with its name, last delivered ID, (v2+) entries-read, its PEL (raw ID, delivery
time, delivery count) and its consumers (name, seen time, (v3) active time, their own
PEL of raw IDs).

A node's listpack (t_stream.c) starts with the master entry ``count, deleted,
num-fields, field_1 .. field_N, 0`` and then holds entries ``flags, ms-diff, seq-diff,
[num-fields, field_1, value_1 ...] | [value_1 ...] (SAMEFIELDS), lp-count``; deleted
entries keep their place with the DELETED flag. ember writes only live entries, one
listpack per modelled node of :class:`StreamValue` (its boundaries are kept, so
approximate trimming behaves the same after a reload).
"""

from sortedcontainers import SortedList

from ember.persistence import rdb_format as F
from ember.persistence.encodings import BlobError, listpack_encode, listpack_entries
from ember.persistence.reader import RdbError, Reader
from ember.storage.types.stream import (
    MAX64,
    Consumer,
    Group,
    PendingEntry,
    StreamValue,
    _Node,
    pack,
    unpack,
)

FLAG_DELETED = 1
FLAG_SAMEFIELDS = 2
_U64 = 1 << 64


def _length(n: int) -> bytes:
    return F.encode_length(n & MAX64)


def _raw_id(sid: int) -> bytes:
    return sid.to_bytes(16, "big")


def _delta(value: int, base: int) -> int:
    d = (value - base) & MAX64
    return d - _U64 if d >= 1 << 63 else d


def _string(s: bytes) -> bytes:
    from ember.persistence.rdb_write import encode_string
    return encode_string(s)


def node_listpack(stream: StreamValue, node) -> bytes:
    """The listpack of one node holding its live entries (none deleted)."""
    master = node.fields
    master_ms, master_seq = unpack(node.first)
    entries = stream.entries
    ids = list(stream.ids.irange(node.first, node.last))
    values = [len(ids), 0, len(master), *master, 0]
    for sid in ids:
        fields = entries[sid]
        ms, seq = unpack(sid)
        names = fields[0::2]
        if names == master:
            values += (FLAG_SAMEFIELDS, _delta(ms, master_ms), _delta(seq, master_seq))
            values += fields[1::2]
            values.append(len(names) + 3)
        else:
            values += (0, _delta(ms, master_ms), _delta(seq, master_seq), len(names))
            values += fields
            values.append(2 * len(names) + 4)
    return listpack_encode(values)


def encode_stream(stream: StreamValue, compress: bool = False) -> bytes:
    """The RDB_TYPE_STREAM_LISTPACKS_2 body of ``stream``."""
    nodes = [node for node in stream.nodes if node.live]
    parts = [_length(len(nodes))]
    for node in nodes:
        parts.append(_string(_raw_id(node.first)))
        parts.append(_string(node_listpack(stream, node)))
    parts.append(_length(len(stream.entries)))
    for sid in (stream.last_id, stream.first_id, stream.max_deleted_id):
        ms, seq = unpack(sid)
        parts += (_length(ms), _length(seq))
    parts.append(_length(stream.entries_added))
    parts.append(_length(len(stream.groups)))
    for name in sorted(stream.groups):
        group = stream.groups[name]
        parts.append(_string(name))
        ms, seq = unpack(group.last_id)
        parts += (_length(ms), _length(seq), _length(group.entries_read))
        parts.append(_length(len(group.pel_ids)))
        for sid in group.pel_ids:
            nack = group.pel[sid]
            parts.append(_raw_id(sid))
            parts.append(nack.delivery_time.to_bytes(8, "little", signed=True))
            parts.append(_length(nack.delivery_count))
        parts.append(_length(len(group.consumers)))
        for cname in sorted(group.consumers):
            consumer = group.consumers[cname]
            parts.append(_string(cname))
            parts.append(consumer.seen_time.to_bytes(8, "little", signed=True))
            parts.append(_length(len(consumer.pending)))
            parts += [_raw_id(sid) for sid in consumer.pending]
    return b"".join(parts)


# ---- loading ------------------------------------------------------------------------

def _as_bytes(x) -> bytes:
    return x if isinstance(x, bytes) else b"%d" % x


def _load_node(stream: StreamValue, master_id: int, blob: bytes, start: int) -> None:
    try:
        vals = listpack_entries(blob, ints=True)
    except BlobError as exc:
        raise RdbError(f"Corrupt stream listpack: {exc}", start)
    if not vals:
        raise RdbError("Empty listpack inside stream", start)
    try:
        count, deleted, nfields = vals[0], vals[1], vals[2]
        master = tuple(_as_bytes(x) for x in vals[3:3 + nfields])
        if len(master) != nfields or vals[3 + nfields] != 0:
            raise RdbError("Bad stream master entry", start)
        master_ms, master_seq = unpack(master_id)
        node = _Node.__new__(_Node)
        node.first = master_id
        node.last = master_id
        node.total = 0
        node.live = 0
        node.fields = master
        node.bytes = len(blob)
        entries = stream.entries
        i = 4 + nfields
        end = len(vals)
        while i < end:
            flags, msd, seqd = vals[i], vals[i + 1], vals[i + 2]
            i += 3
            if flags & FLAG_SAMEFIELDS:
                values = vals[i:i + nfields]
                i += nfields
                fields = tuple(x for pair in zip(master, map(_as_bytes, values)) for x in pair)
                if len(values) != nfields:
                    raise IndexError
            else:
                n = vals[i]
                flat = vals[i + 1:i + 1 + 2 * n]
                if n < 0 or len(flat) != 2 * n:
                    raise IndexError
                i += 1 + 2 * n
                fields = tuple(map(_as_bytes, flat))
            i += 1                                   # lp-count
            if i > end:
                raise IndexError
            sid = pack((master_ms + msd) & MAX64, (master_seq + seqd) & MAX64)
            if sid < node.last and node.total:
                raise RdbError("Stream entry IDs out of order", start)
            node.total += 1
            node.last = sid
            if flags & FLAG_DELETED:
                continue
            if sid in entries:
                raise RdbError("Duplicate stream entry ID", start)
            entries[sid] = fields
            node.live += 1
        if node.live != count or node.total != count + deleted:
            raise RdbError("Stream node entry counts do not match", start)
    except (IndexError, TypeError):
        raise RdbError("Corrupt stream listpack entries", start)
    if node.live:
        stream.nodes.append(node)
        stream.node_keys.append(master_id)


def _stream_id(reader: Reader) -> int:
    ms = reader.length()
    seq = reader.length()
    return pack(ms, seq)


def _raw(reader: Reader) -> int:
    return int.from_bytes(reader.read(16), "big")


def _signed(n: int) -> int:
    return n - _U64 if n >= 1 << 63 else n


def estimate_entries_read(stream: StreamValue, sid: int) -> int:
    """streamEstimateDistanceFromFirstEverEntry (v1 files carry no entries-read)."""
    if not stream.entries_added:
        return 0
    length = len(stream.entries)
    if not length and sid <= stream.last_id:
        return stream.entries_added
    if sid == stream.last_id:
        return stream.entries_added
    if sid > stream.last_id:
        return -1
    if stream.max_deleted_id == 0 or stream.max_deleted_id < stream.first_id:
        if sid < stream.first_id:
            return stream.entries_added - length
        if sid == stream.first_id:
            return stream.entries_added - length + 1
    return -1


def load_stream(reader: Reader, rdb_type: int, limits=None) -> StreamValue:
    """A stream of any of the three RDB stream types."""
    start = reader.offset
    stream = StreamValue()
    for _ in range(reader.length()):
        key_at = reader.offset
        key = reader.string()
        if len(key) != 16:
            raise RdbError("Stream node key entry is not the size of a stream ID", key_at)
        master_id = int.from_bytes(key, "big")
        if stream.node_keys and master_id <= stream.node_keys[-1]:
            raise RdbError("Stream node keys out of order", key_at)
        blob_at = reader.offset
        _load_node(stream, master_id, reader.string(), blob_at)
    stream.ids = SortedList(stream.entries)
    length = reader.length()
    if length != len(stream.entries):
        raise RdbError("Stream length does not match its entries", start)
    stream.last_id = _stream_id(reader)
    if rdb_type >= F.TYPE_STREAM_LISTPACKS_2:
        stream.first_id = _stream_id(reader)
        stream.max_deleted_id = _stream_id(reader)
        stream.entries_added = reader.length()
    else:
        stream.first_id = stream.ids[0] if stream.ids else 0
        stream.entries_added = length
    if stream.ids and stream.ids[-1] > stream.last_id:
        raise RdbError("Stream last ID below its last entry", start)
    for _ in range(reader.length()):
        name = reader.string()
        last_id = _stream_id(reader)
        if rdb_type >= F.TYPE_STREAM_LISTPACKS_2:
            entries_read = _signed(reader.length())
        else:
            entries_read = estimate_entries_read(stream, last_id)
        if name in stream.groups:
            raise RdbError("Duplicated consumer group name", start)
        group = Group(last_id, entries_read)
        stream.groups[name] = group
        for _ in range(reader.length()):
            sid = _raw(reader)
            delivery_time = reader.i64le()
            delivery_count = reader.length()
            if sid in group.pel:
                raise RdbError("Duplicated global PEL entry loading stream consumer group",
                               reader.offset)
            group.pel[sid] = PendingEntry(None, delivery_time, delivery_count)
        group.pel_ids = SortedList(group.pel)
        for _ in range(reader.length()):
            cname = reader.string()
            seen = reader.i64le()
            consumer = Consumer(cname, seen)
            consumer.active_time = (reader.i64le() if rdb_type >= F.TYPE_STREAM_LISTPACKS_3
                                    else seen)
            if cname in group.consumers:
                raise RdbError("Duplicate stream consumer detected", reader.offset)
            group.consumers[cname] = consumer
            pending = []
            for _ in range(reader.length()):
                sid = _raw(reader)
                nack = group.pel.get(sid)
                if nack is None or nack.consumer is not None:
                    raise RdbError("Consumer PEL NACK not found in group PEL", reader.offset)
                nack.consumer = consumer
                pending.append(sid)
            consumer.pending = SortedList(pending)
        if any(nack.consumer is None for nack in group.pel.values()):
            raise RdbError("Stream group PEL entry without a consumer", reader.offset)
    return stream

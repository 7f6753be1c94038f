"""Reading RDB files and DUMP payloads into ember's values (every version 1..12).

:func:`load_object` turns one serialised object into a keyspace value, for the plain
types and every compact encoding Redis writes (see :mod:`ember.persistence.encodings`);
:func:`load_into` reads a whole file (opcodes, AUX fields, databases, EOF and the
CRC-64 trailer) into Database objects.
"""

from types import SimpleNamespace

from ember.persistence import encodings as E
from ember.persistence import rdb_format as F
from ember.persistence.reader import RdbError, Reader
from ember.storage.types.hash import HashValue
from ember.storage.types.list import ListValue
from ember.storage.types.set import SetValue
from ember.storage.types.zset import ZSet

# Redis's defaults for the encoding limits, used when the caller gives no config.
DEFAULT_LIMITS = SimpleNamespace(
    list_max_listpack_size=-2, hash_max_listpack_entries=512, hash_max_listpack_value=64,
    set_max_intset_entries=512, set_max_listpack_entries=128, set_max_listpack_value=64,
    zset_max_listpack_entries=128, zset_max_listpack_value=64,
    stream_node_max_entries=100, stream_node_max_bytes=4096)


def _blob(reader: Reader, decode, *args) -> list:
    start = reader.offset
    blob = reader.string()
    try:
        return decode(blob, *args)
    except E.BlobError as exc:
        raise RdbError(f"Corrupt encoded value: {exc}", start)


def _strings(reader: Reader, count: int) -> list:
    string = reader.string
    return [string() for _ in range(count)]


def _make_list(items, limits) -> ListValue:
    return ListValue(items, limits.list_max_listpack_size)


def _make_list_at(items, limits, start: int) -> ListValue:
    return _make_list(items, limits)


def _make_set(members, limits, start: int) -> SetValue:
    value = SetValue.from_members(members, limits)
    if len(value) != len(members):
        raise RdbError("Duplicate set members detected", start)
    return value


def _make_hash(flat, limits, start: int) -> HashValue:
    value = HashValue()
    fields = value.fields
    if len(flat) % 2:
        raise RdbError("Hash with an odd number of elements", start)
    it = iter(flat)
    for field, val in zip(it, it):
        fields[field] = val
    if len(fields) * 2 != len(flat):
        raise RdbError("Duplicate hash fields detected", start)
    max_value = limits.hash_max_listpack_value
    value.big = (len(fields) > limits.hash_max_listpack_entries
                 or any(len(f) > max_value or len(v) > max_value for f, v in fields.items()))
    return value


def _parse_score(text: bytes, start: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise RdbError("Invalid sorted set score", start)


def _make_zset(pairs, limits, start: int) -> ZSet:
    value = ZSet.from_pairs(pairs, limits)
    if len(value) != len(pairs):
        raise RdbError("Duplicate zset members detected", start)
    for _member, score in pairs:
        if score != score:
            raise RdbError("Zset with NAN score detected", start)
    return value


def _flat_zset(flat, limits, start: int) -> ZSet:
    if len(flat) % 2:
        raise RdbError("Sorted set with an odd number of elements", start)
    it = iter(flat)
    return _make_zset([(m, _parse_score(s, start)) for m, s in zip(it, it)], limits, start)


def load_object(reader: Reader, rdb_type: int, limits=DEFAULT_LIMITS, now_ms: int = 0):
    """One object of ``rdb_type`` (rdbLoadObject), as an ember value; None for a value
    that loaded empty (Redis drops such keys)."""
    start = reader.offset
    if rdb_type == F.TYPE_STRING:
        return reader.string()
    if rdb_type == F.TYPE_LIST:
        items = _strings(reader, reader.length())
        return _make_list(items, limits) if items else None
    if rdb_type == F.TYPE_SET:
        members = _strings(reader, reader.length())
        return _make_set(members, limits, start) if members else None
    if rdb_type in (F.TYPE_ZSET, F.TYPE_ZSET_2):
        count = reader.length()
        score = reader.double if rdb_type == F.TYPE_ZSET_2 else reader.string_double
        pairs = []
        for _ in range(count):
            member = reader.string()
            pairs.append((member, score()))
        return _make_zset(pairs, limits, start) if pairs else None
    if rdb_type == F.TYPE_HASH:
        count = reader.length()
        flat = _strings(reader, 2 * count) if count < (1 << 62) else None
        if flat is None:
            raise RdbError("Hash length out of range", start)
        return _make_hash(flat, limits, start) if flat else None
    compact = _COMPACT.get(rdb_type)
    if compact is not None:         # one blob (ziplist, listpack, intset, zipmap) per value
        decode, make = compact
        entries = _blob(reader, decode)
        return make(entries, limits, start) if entries else None
    if rdb_type == F.TYPE_LIST_QUICKLIST:
        items = []
        for _ in range(reader.length()):
            items += _blob(reader, E.ziplist_entries)
        return _make_list(items, limits) if items else None
    if rdb_type == F.TYPE_LIST_QUICKLIST_2:
        items = []
        for _ in range(reader.length()):
            container = reader.length()
            if container == 1:                  # QUICKLIST_NODE_CONTAINER_PLAIN
                item = reader.string()
                if not item:
                    raise RdbError("Empty plain quicklist node", start)
                items.append(item)
            elif container == 2:                # QUICKLIST_NODE_CONTAINER_PACKED
                items += _blob(reader, E.listpack_entries)   # empty nodes: skipped
            else:
                raise RdbError("Quicklist integrity check failed: bad container", start)
        return _make_list(items, limits) if items else None
    if rdb_type in (F.TYPE_STREAM_LISTPACKS, F.TYPE_STREAM_LISTPACKS_2,
                    F.TYPE_STREAM_LISTPACKS_3):
        from ember.persistence.stream_codec import load_stream
        return load_stream(reader, rdb_type, limits)
    if rdb_type in (F.TYPE_HASH_METADATA, F.TYPE_HASH_METADATA_PRE_GA,
                    F.TYPE_HASH_LISTPACK_EX, F.TYPE_HASH_LISTPACK_EX_PRE_GA):
        from ember.persistence.hash_ttl_codec import load_hash_ttl
        return load_hash_ttl(reader, rdb_type, limits, now_ms)
    if rdb_type in (F.TYPE_MODULE_PRE_GA, F.TYPE_MODULE_2):
        raise RdbError("Module data types are not supported by ember", start - 1)
    raise RdbError("Unknown RDB value type %d" % rdb_type, start - 1)


def is_object_type(rdb_type: int) -> bool:
    """True for a byte that starts a key-value pair (rdbIsObjectType)."""
    return 0 <= rdb_type <= 7 or 9 <= rdb_type <= 25


# Value types stored as one compact blob: RDB type -> (blob decoder, value builder).
_COMPACT = {
    F.TYPE_HASH_ZIPMAP: (E.zipmap_pairs, _make_hash),
    F.TYPE_LIST_ZIPLIST: (E.ziplist_entries, _make_list_at),
    F.TYPE_SET_INTSET: (E.intset_members, _make_set),
    F.TYPE_SET_LISTPACK: (E.listpack_entries, _make_set),
    F.TYPE_ZSET_ZIPLIST: (E.ziplist_entries, _flat_zset),
    F.TYPE_ZSET_LISTPACK: (E.listpack_entries, _flat_zset),
    F.TYPE_HASH_ZIPLIST: (E.ziplist_entries, _make_hash),
    F.TYPE_HASH_LISTPACK: (E.listpack_entries, _make_hash),
}

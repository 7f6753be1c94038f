"""Hashes with field deadlines (Redis 7.4, RDB 12): RDB_TYPE_HASH_METADATA (24) and
RDB_TYPE_HASH_LISTPACK_EX (25), and their pre-GA forms 22 and 23.

* 24: min deadline (8 bytes LE ms), count, then per field a length-encoded TTL (0: none,
  else deadline - min + 1), the field and the value; 22 has no min and absolute TTLs.
* 25: min deadline, then a listpack of (field, value, deadline or 0) triplets; 23 has no
  min deadline.

ember writes type 24 for a hash that has live field deadlines (the only way to keep them
across a restart; a Redis older than 7.4 cannot load such a key, as it cannot hold one).
"""

from ember.persistence import rdb_format as F
from ember.persistence.encodings import BlobError, listpack_entries
from ember.persistence.reader import RdbError, Reader
from ember.storage.types.hash import HashValue

EB_EXPIRE_TIME_MAX = (1 << 48) - 1


def encode_hash_metadata(value: HashValue, now_ms: int, encode_string) -> bytes:
    """The RDB_TYPE_HASH_METADATA body of ``value`` (fields already dead are left out)."""
    ttls = value.ttls or {}
    items = value.live_items(now_ms)
    deadlines = [ttls[f] for f, _ in items if f in ttls]
    low = min(deadlines) if deadlines else 0
    parts = [low.to_bytes(8, "little"), F.encode_length(len(items))]
    for field, val in items:
        when = ttls.get(field)
        parts.append(F.encode_length(0 if when is None else when - low + 1))
        parts.append(encode_string(field))
        parts.append(encode_string(val))
    return b"".join(parts)


def _build(triplets, limits, start: int) -> HashValue:
    value = HashValue()
    fields = value.fields
    max_value = limits.hash_max_listpack_value
    big = len(triplets) > limits.hash_max_listpack_entries
    for field, val, _ in triplets:
        if field in fields:
            raise RdbError("Duplicate hash fields detected", start)
        fields[field] = val
        if len(field) > max_value or len(val) > max_value:
            big = True
    value.big = big
    value.ex = not big
    for field, _, when in triplets:
        if when:
            if when > EB_EXPIRE_TIME_MAX:
                raise RdbError("invalid expireAt time: %d" % when, start)
            value.set_deadline(field, when)
    return value


def load_hash_ttl(reader: Reader, rdb_type: int, limits, now_ms: int = 0):
    """A hash of type 22..25 as a HashValue with its field deadlines; None if empty."""
    start = reader.offset
    low = None
    if rdb_type in (F.TYPE_HASH_METADATA, F.TYPE_HASH_LISTPACK_EX):
        low = reader.u64le()
        if low > EB_EXPIRE_TIME_MAX + 1:
            raise RdbError("Hash read invalid minExpire value", start)
    triplets = []
    if rdb_type in (F.TYPE_HASH_METADATA, F.TYPE_HASH_METADATA_PRE_GA):
        for _ in range(reader.length()):
            ttl = reader.length()
            if rdb_type == F.TYPE_HASH_METADATA:
                when = ttl + low - 1 if ttl else 0
            else:
                when = ttl
            field = reader.string()
            triplets.append((field, reader.string(), when))
    else:
        blob_at = reader.offset
        try:
            flat = listpack_entries(reader.string(), ints=True)
        except BlobError as exc:
            raise RdbError(f"Hash listpack integrity check failed: {exc}", blob_at)
        if len(flat) % 3:
            raise RdbError("Hash listpack integrity check failed", blob_at)
        for i in range(0, len(flat), 3):
            field, val, when = flat[i:i + 3]
            if not isinstance(when, int) or when < 0:
                raise RdbError("Hash listpack integrity check failed: bad TTL", blob_at)
            field = field if isinstance(field, bytes) else b"%d" % field
            val = val if isinstance(val, bytes) else b"%d" % val
            triplets.append((field, val, when))
    if not triplets:
        return None
    return _build(triplets, limits, start)

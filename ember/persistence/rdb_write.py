"""Serialising the keyspace as an RDB file (version 10, plain object types).

ember writes the plain encodings every Redis since 2.x loads: strings (raw, or as
Redis's small-integer encoding), RDB_TYPE_LIST, RDB_TYPE_SET, RDB_TYPE_ZSET_2 (binary
double scores), RDB_TYPE_HASH, and streams as RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0).
Chunks go to a ``write(bytes)`` callable as they fill up (~1 MB), so a snapshot streams
to a file, a pipe or a socket; the CRC-64 is computed on the way.
"""

import struct
import time

from ember.persistence import rdb_format as F
from ember.persistence.crc64 import crc64
from ember.persistence.hash_ttl_codec import encode_hash_metadata
from ember.persistence.lzf import compress as lzf_compress
from ember.storage.types.hash import HashValue
from ember.storage.types.list import ListValue
from ember.storage.types.set import SetValue
from ember.storage.types.stream import StreamValue
from ember.storage.types.zset import ZSet

_SHORT = F._SHORT
_encode_length = F.encode_length
_pack_double = struct.Struct("<d").pack
_FLUSH_AT = 1 << 20
_DIGITS = frozenset(b"-0123456789")


class RdbOutput:
    """A bytearray that is handed to ``write`` in ~1 MB chunks, with a running CRC."""

    __slots__ = ("write", "buf", "crc", "written", "compress")

    def __init__(self, write, compress: bool = False):
        self.write = write
        self.buf = bytearray()
        self.crc = 0
        self.written = 0
        self.compress = compress

    def flush(self) -> None:
        """Hand the buffered bytes to ``write`` (and fold them into the CRC)."""
        buf = self.buf
        if buf:
            chunk = bytes(buf)
            self.crc = crc64(chunk, self.crc)
            self.written += len(chunk)
            buf.clear()
            self.write(chunk)


def encode_string(s, compress: bool = False) -> bytes:
    """Redis's rdbSaveRawString: an integer encoding for short canonical integers, LZF
    for strings over 20 bytes when ``compress`` and it saves space, else length + raw."""
    n = len(s)
    if n <= 11 and n and s[0] in _DIGITS:
        encoded = _int_encoding(s)
        if encoded is not None:
            return encoded
    if compress and n > 20:
        packed = lzf_compress(bytes(s))
        if packed is not None:
            return b"\xc3" + _encode_length(len(packed)) + _encode_length(n) + packed
    return (_SHORT[n] if n < 16384 else _encode_length(n)) + s


def _int_encoding(s):
    try:
        value = int(s)
    except ValueError:
        return None
    if b"%d" % value != s:
        return None
    if -128 <= value <= 127:
        return b"\xc0" + value.to_bytes(1, "little", signed=True)
    if -32768 <= value <= 32767:
        return b"\xc1" + value.to_bytes(2, "little", signed=True)
    if -2147483648 <= value <= 2147483647:
        return b"\xc2" + value.to_bytes(4, "little", signed=True)
    return None


def encode_value(value, compress: bool = False, now_ms: int = 0) -> tuple:
    """(RDB type byte, serialised object) of a keyspace value (rdbSaveObject)."""
    t = type(value)
    enc = encode_string
    if t is bytes or t is bytearray:
        return F.TYPE_STRING, enc(value, compress)
    if t is ListValue:
        parts = [_encode_length(len(value.items))]
        parts += [enc(item, compress) for item in value.items]
        return F.TYPE_LIST, b"".join(parts)
    if t is SetValue:
        members = value.members()
        parts = [_encode_length(len(members))]
        parts += [enc(m, compress) for m in members]
        return F.TYPE_SET, b"".join(parts)
    if t is ZSet:
        scores = value.scores
        parts = [_encode_length(len(scores))]
        for member, score in scores.items():
            parts.append(enc(member, compress))
            parts.append(_pack_double(score))
        return F.TYPE_ZSET_2, b"".join(parts)
    if t is HashValue:
        if value.ttls:
            if value.next_deadline() is not None:
                return F.TYPE_HASH_METADATA, encode_hash_metadata(value, now_ms, enc)
            items = value.live_items(now_ms)
        else:
            items = value.fields.items()
        parts = [_encode_length(len(items))]
        for field, val in items:
            parts.append(enc(field, compress))
            parts.append(enc(val, compress))
        return F.TYPE_HASH, b"".join(parts)
    if t is StreamValue:
        from ember.persistence.stream_codec import encode_stream
        return F.TYPE_STREAM_LISTPACKS_2, encode_stream(value, compress)
    raise TypeError(f"cannot serialise a {t.__name__} value")


def write_aux(out: RdbOutput, key: bytes, value: bytes) -> None:
    """One AUX field (RDB_OPCODE_AUX, key, value)."""
    out.buf += b"\xfa" + encode_string(key) + encode_string(value)


def write_header(out: RdbOutput, aux=None, used_mem: int = 0) -> None:
    """Magic, version and the AUX fields Redis 7 writes, then the caller's ``aux`` (a
    name given there replaces the default, e.g. aof-base 1 or used-mem)."""
    out.buf += b"REDIS%04d" % F.RDB_VERSION
    fields = {b"redis-ver": b"7.2.4", b"redis-bits": b"64",
              b"ctime": b"%d" % int(time.time()), b"used-mem": b"%d" % used_mem,
              b"aof-base": b"0"}
    for key, value in (aux or {}).items():      # the caller's values replace defaults
        key = key.encode() if isinstance(key, str) else key
        value = value.encode() if isinstance(value, str) else (
            b"%d" % value if isinstance(value, int) else value)
        fields[key] = value
    for key, value in fields.items():
        write_aux(out, key, value)


def write_functions(out: RdbOutput, functions) -> None:
    """One RDB_OPCODE_FUNCTION2 per library code (Redis 7.0+)."""
    for code in functions or ():
        out.buf += b"\xf5" + encode_string(code)


def write_db(out: RdbOutput, db, compress: bool = False) -> None:
    """SELECTDB, RESIZEDB and every live key of ``db`` (EXPIRETIME_MS before those with a
    TTL; keys whose deadline passed are skipped; RDB_OPCODE_FREQ before each key when
    the database keeps LFU counters, as Redis does under an LFU maxmemory-policy)."""
    data = db.data
    if not data:
        return
    expires = db.expires
    now = db.time.ms
    buf = out.buf
    buf += b"\xfe" + _encode_length(db.id)
    buf += b"\xfb" + _encode_length(len(data)) + _encode_length(len(expires))
    short = _SHORT
    enc = encode_string
    frequency = getattr(db.access, "frequency", None)      # LFU counters kept
    minutes = now // 60000
    for key, value in data.items():
        if expires and key in expires:
            deadline = expires[key]
            if deadline < now:
                continue
            buf += b"\xfc" + deadline.to_bytes(8, "little", signed=True)
        if frequency is not None:
            buf += b"\xf9" + bytes((min(255, frequency(key, minutes)),))
        n = len(key)
        t = type(value)
        if t is bytes and not compress:
            # the common case written out: type 0, key, value
            m = len(value)
            if n < 16384 and m < 16384 and not (m <= 11 and m and value[0] in _DIGITS):
                buf += b"\x00" + short[n] + key + short[m] + value
            else:
                buf += b"\x00" + enc(key) + enc(value)
        else:
            rdb_type, body = encode_value(value, compress, now)
            buf.append(rdb_type)
            buf += enc(key, compress)
            buf += body
        if len(buf) > _FLUSH_AT:
            out.flush()


def write_rdb(write, dbs, aux=None, functions=None, compress: bool = False,
              used_mem: int = 0) -> None:
    """Serialise ``dbs`` (Database objects) as a whole RDB v10 file through ``write``."""
    out = RdbOutput(write, compress)
    write_header(out, aux, used_mem)
    write_functions(out, functions)
    for db in dbs:
        write_db(out, db, compress)
    out.buf.append(F.OPCODE_EOF)
    out.flush()
    out.write(out.crc.to_bytes(8, "little"))
    out.written += 8

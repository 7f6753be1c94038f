"""The RDB codec's public API (a thin facade; see /tmp/contract7.md's contract).

* :func:`write_rdb` / :func:`load_rdb`: whole RDB files (ember writes version 10; it
  reads 1..12 with every encoding real Redis writes).
* :func:`dump_payload` / :func:`restore_payload`: DUMP/RESTORE payloads (type byte,
  object, 2-byte RDB version, CRC-64).
* :class:`RdbError`: ``.message`` and ``.offset`` of the first bad byte.
"""

from ember.persistence import rdb_format as F
from ember.persistence.crc64 import crc64
from ember.persistence.rdb_load import load_into
from ember.persistence.rdb_read import DEFAULT_LIMITS, is_object_type, load_object
from ember.persistence.rdb_write import encode_value
from ember.persistence.rdb_write import write_rdb as _write_rdb
from ember.persistence.reader import RdbError, Reader

RDB_VERSION = F.RDB_VERSION
MAX_VERSION = F.MAX_VERSION

__all__ = ["RDB_VERSION", "MAX_VERSION", "RdbError", "write_rdb", "load_rdb",
           "dump_payload", "restore_payload", "payload_ok"]


def write_rdb(write, dbs, aux=None, functions=None, compress: bool = False,
              used_mem: int = 0) -> None:
    """Serialise ``dbs`` (a list of Database) as an RDB v10 file, handing the bytes to
    ``write(chunk)`` as they are produced. ``aux``: extra AUX fields (name -> bytes, str
    or int); ``functions``: function library codes (bytes) written as
    RDB_OPCODE_FUNCTION2; ``compress``: LZF-compress strings over 20 bytes (slow in pure
    Python; off by default)."""
    _write_rdb(write, dbs, aux, functions, compress, used_mem)


def load_rdb(read, dbs, now_ms=None, limits=None, functions=None, stats=None,
             trace=None) -> dict:
    """Load a whole RDB (version 1..12) from ``read(n)`` into ``dbs`` (empty Databases)
    and return its AUX fields (str -> bytes). Keys whose deadline is before ``now_ms``
    are skipped when it is given. ``limits`` (e.g. the server's Config) picks the
    encodings of the loaded values; ``functions`` (a list) receives function library
    codes. Raises :class:`RdbError` on truncation, corruption or unsupported data.

    ``read`` is called for ~1 MB at a time, so the input may be read past the RDB's end
    (an AOF with an RDB preamble): ``stats["bytes"]`` says where the RDB ended, or use
    ``rdb_load.load_into(Reader(data=...), ...)`` and ``reader.offset``."""
    reader = Reader(read, track_crc=True)
    return load_into(reader, dbs, now_ms, limits, functions, stats, trace)


def dump_payload(value, now_ms: int = 0, compress: bool = False) -> bytes:
    """The DUMP payload of a keyspace value: type, object, RDB version, CRC-64 (hash
    fields whose deadline is before ``now_ms`` are left out; strings over 20 bytes
    LZF-compressed when ``compress``, as Redis does with rdbcompression yes)."""
    rdb_type, body = encode_value(value, compress, now_ms)
    payload = bytes((rdb_type,)) + body + F.RDB_VERSION.to_bytes(2, "little")
    return payload + crc64(payload).to_bytes(8, "little")


def payload_ok(payload: bytes) -> bool:
    """verifyDumpPayload: long enough, an RDB version ember reads, a matching CRC."""
    if len(payload) < 10:
        return False
    version = int.from_bytes(payload[-10:-8], "little")
    if version > F.MAX_VERSION:
        return False
    return crc64(payload[:-8]) == int.from_bytes(payload[-8:], "little")


def restore_payload(payload: bytes, limits=None, now_ms: int = 0):
    """The value in a DUMP payload. RdbError("DUMP payload version or checksum are
    wrong") for a bad trailer, RdbError("Bad data format") for a bad body."""
    if not payload_ok(payload):
        raise RdbError("DUMP payload version or checksum are wrong", max(0, len(payload) - 10))
    reader = Reader(data=bytes(payload[:-10]))
    try:
        rdb_type = reader.byte()
        if not is_object_type(rdb_type):
            raise RdbError("Bad data format", 0)
        value = load_object(reader, rdb_type, limits or DEFAULT_LIMITS, now_ms)
    except RdbError as exc:
        raise RdbError("Bad data format", exc.offset)
    if value is None:        # trailing bytes are ignored, as Redis does
        raise RdbError("Bad data format", reader.offset)
    return value

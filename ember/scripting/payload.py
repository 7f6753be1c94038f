"""FUNCTION DUMP / RESTORE payloads, in Redis's format (an RDB fragment).

A payload is, for each library, the opcode ``RDB_OPCODE_FUNCTION2`` (245) followed by
the library's code as an RDB string; then the RDB version (2 bytes, little-endian) and
the CRC-64 (Jones polynomial, reflected, as Redis's crc64.c) of everything before it
(8 bytes, little-endian). Payloads from Redis 7.0/7.2 restore in ember and ember's in
Redis 7.2; ember writes strings uncompressed (always valid RDB) and reads LZF-compressed
ones as Redis writes them.
"""

RDB_VERSION = 11                 # Redis 7.2
OPCODE_FUNCTION_PRE_GA = 246
OPCODE_FUNCTION2 = 245


class PayloadError(Exception):
    """A payload that cannot be restored; the message is Redis's error text."""


def _crc_table() -> list:
    poly = 0x95AC9329AC4BC9B5    # 0xad93d23594c935a9, bit-reflected
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc64(data: bytes, crc: int = 0) -> int:
    """Redis's crc64 (crc64_jones)."""
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _rdb_length(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 1 << 32:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def dump(codes: list) -> bytes:
    """The payload of libraries given by their code (FUNCTION DUMP)."""
    body = b"".join(bytes([OPCODE_FUNCTION2]) + _rdb_length(len(code)) + code
                    for code in codes)
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def verify(data: bytes) -> bool:
    """verifyDumpPayload: a known RDB version and a matching CRC."""
    if len(data) < 10:
        return False
    version = data[-10] | (data[-9] << 8)
    if version > RDB_VERSION:
        return False
    return crc64(data[:-8]) == int.from_bytes(data[-8:], "little")


def load(data: bytes) -> list:
    """The libraries' code in a verified payload, in order (FUNCTION RESTORE)."""
    codes = []
    pos = 0
    end = len(data) - 10
    while end - pos > 0:
        opcode = data[pos]
        pos += 1
        if opcode == OPCODE_FUNCTION_PRE_GA:
            raise PayloadError("Pre-GA function format not supported")
        if opcode != OPCODE_FUNCTION2:
            raise PayloadError("given type is not a function")
        try:
            code, pos = _read_string(data, pos, end)
        except (IndexError, ValueError):
            raise PayloadError("Failed loading library payload") from None
        codes.append(code)
    return codes


def _read_length(data: bytes, pos: int):
    """(length or None, encoding or None, next position) of an RDB length field."""
    first = data[pos]
    kind = first >> 6
    if kind == 0:
        return first & 0x3F, None, pos + 1
    if kind == 1:
        return ((first & 0x3F) << 8) | data[pos + 1], None, pos + 2
    if kind == 3:
        return None, first & 0x3F, pos + 1
    if first == 0x80:
        return int.from_bytes(data[pos + 1:pos + 5], "big"), None, pos + 5
    if first == 0x81:
        return int.from_bytes(data[pos + 1:pos + 9], "big"), None, pos + 9
    raise ValueError("bad length encoding")


def _read_string(data: bytes, pos: int, end: int):
    length, encoding, pos = _read_length(data, pos)
    if encoding is None:
        if pos + length > end:
            raise ValueError("truncated string")
        return data[pos:pos + length], pos + length
    if encoding in (0, 1, 2):           # integers stored as 1, 2, 4 little-endian bytes
        size = 1 << encoding
        value = int.from_bytes(data[pos:pos + size], "little", signed=True)
        return b"%d" % value, pos + size
    if encoding == 3:                   # LZF: compressed length, original length, data
        compressed, _, pos = _read_length(data, pos)
        original, _, pos = _read_length(data, pos)
        if compressed is None or original is None or pos + compressed > end:
            raise ValueError("bad LZF string")
        return lzf_decompress(data[pos:pos + compressed], original), pos + compressed
    raise ValueError("unknown string encoding")


def lzf_decompress(data: bytes, expected: int) -> bytes:
    """liblzf's lzf_decompress."""
    out = bytearray()
    i = 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:
            run = ctrl + 1
            if i + run > len(data):
                raise ValueError("truncated literal run")
            out += data[i:i + run]
            i += run
            continue
        length = ctrl >> 5
        ref = len(out) - ((ctrl & 0x1F) << 8) - 1
        if length == 7:
            length += data[i]
            i += 1
        ref -= data[i]
        i += 1
        if ref < 0:
            raise ValueError("back reference before the start")
        for _ in range(length + 2):
            out.append(out[ref])
            ref += 1
    if len(out) != expected:
        raise ValueError("wrong decompressed length")
    return bytes(out)

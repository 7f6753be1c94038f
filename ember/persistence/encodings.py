"""Decoders for Redis's compact blobs found inside RDB strings: ziplist, listpack,
intset and zipmap (quicklists are sequences of these).

Each decoder takes the blob (bytes) and returns its elements as a list of ``bytes``
(integers as their decimal text, as Redis's commands reply them) and checks every
header, length and entry against the blob's size, raising :class:`BlobError` on the
first inconsistency: these blobs come from files and DUMP payloads, so a corrupt one must
be an error and never an over-read or a huge allocation. There are encoders for listpacks
too (streams are stored as listpacks in every RDB version).
"""

import struct


class BlobError(ValueError):
    """A compact blob that does not parse; the message says what and where."""


_I16 = struct.Struct("<h").unpack_from
_I32 = struct.Struct("<i").unpack_from
_I64 = struct.Struct("<q").unpack_from


# ---- ziplist (Redis < 7.0) ------------------------------------------------------------

def ziplist_entries(blob: bytes) -> list:
    """Every entry of a ziplist (zlbytes, zltail, zllen, entries, 0xFF)."""
    n = len(blob)
    if n < 11 or int.from_bytes(blob[0:4], "little") != n or blob[-1] != 0xFF:
        raise BlobError("ziplist header or size mismatch")
    out = []
    pos = 10
    end = n - 1
    while pos < end:
        pos += 1 if blob[pos] < 254 else 5          # prevlen
        if pos >= end:
            raise BlobError("ziplist entry truncated")
        enc = blob[pos]
        if enc < 0xC0:
            kind = enc >> 6
            if kind == 0:
                length, pos = enc & 0x3F, pos + 1
            elif kind == 1:
                if pos + 2 > end:
                    raise BlobError("ziplist entry truncated")
                length, pos = ((enc & 0x3F) << 8) | blob[pos + 1], pos + 2
            elif enc == 0x80:
                if pos + 5 > end:
                    raise BlobError("ziplist entry truncated")
                length, pos = int.from_bytes(blob[pos + 1:pos + 5], "big"), pos + 5
            else:
                raise BlobError("ziplist bad string encoding")
            if pos + length > end:
                raise BlobError("ziplist string past the end")
            out.append(blob[pos:pos + length])
            pos += length
            continue
        pos += 1
        if enc == 0xC0:
            size, value = 2, None
        elif enc == 0xD0:
            size, value = 4, None
        elif enc == 0xE0:
            size, value = 8, None
        elif enc == 0xF0:
            size, value = 3, None
        elif enc == 0xFE:
            size, value = 1, None
        elif 0xF1 <= enc <= 0xFD:
            size, value = 0, (enc & 0x0F) - 1
        else:
            raise BlobError("ziplist bad integer encoding")
        if pos + size > end:
            raise BlobError("ziplist integer past the end")
        if value is None:
            value = int.from_bytes(blob[pos:pos + size], "little", signed=True)
        out.append(b"%d" % value)
        pos += size
    if pos != end:
        raise BlobError("ziplist entries overrun the end marker")
    count = int.from_bytes(blob[8:10], "little")
    if count != 65535 and count != len(out):
        raise BlobError("ziplist entry count mismatch")
    return out


# ---- listpack (Redis >= 7.0) ----------------------------------------------------------

def _backlen_size(size: int) -> int:
    if size <= 127:
        return 1
    if size < 16383:
        return 2
    if size < 2097151:
        return 3
    if size < 268435455:
        return 4
    return 5


def listpack_entries(blob: bytes, ints: bool = False) -> list:
    """Every entry of a listpack (total bytes, count, entries, 0xFF). Integers come back
    as decimal ``bytes``, or as ``int`` when ``ints`` (streams read them as numbers)."""
    n = len(blob)
    if n < 7 or int.from_bytes(blob[0:4], "little") != n or blob[-1] != 0xFF:
        raise BlobError("listpack header or size mismatch")
    out = []
    append = out.append
    pos = 6
    end = n - 1
    while pos < end:
        enc = blob[pos]
        if enc < 0x80:                                   # 7-bit uint
            value, size = enc, 1
        elif enc < 0xC0:                                 # 6-bit string length
            length = enc & 0x3F
            size = 1 + length
            if pos + size > end:
                raise BlobError("listpack string past the end")
            append(blob[pos + 1:pos + size])
            pos += size + (1 if size <= 127 else 2)
            continue
        elif enc < 0xE0:                                 # 13-bit int
            if pos + 2 > end:
                raise BlobError("listpack entry truncated")
            value = ((enc & 0x1F) << 8) | blob[pos + 1]
            if value >= 1 << 12:
                value -= 1 << 13
            size = 2
        elif enc < 0xF0:                                 # 12-bit string length
            if pos + 2 > end:
                raise BlobError("listpack entry truncated")
            length = ((enc & 0x0F) << 8) | blob[pos + 1]
            size = 2 + length
            if pos + size > end:
                raise BlobError("listpack string past the end")
            append(blob[pos + 2:pos + size])
            pos += size + _backlen_size(size)
            continue
        elif enc == 0xF0:                                # 32-bit string length
            if pos + 5 > end:
                raise BlobError("listpack entry truncated")
            length = int.from_bytes(blob[pos + 1:pos + 5], "little")
            size = 5 + length
            if pos + size > end:
                raise BlobError("listpack string past the end")
            append(blob[pos + 5:pos + size])
            pos += size + _backlen_size(size)
            continue
        elif enc == 0xF1:
            if pos + 3 > end:
                raise BlobError("listpack entry truncated")
            value, size = _I16(blob, pos + 1)[0], 3
        elif enc == 0xF2:
            if pos + 4 > end:
                raise BlobError("listpack entry truncated")
            value = int.from_bytes(blob[pos + 1:pos + 4], "little", signed=True)
            size = 4
        elif enc == 0xF3:
            if pos + 5 > end:
                raise BlobError("listpack entry truncated")
            value, size = _I32(blob, pos + 1)[0], 5
        elif enc == 0xF4:
            if pos + 9 > end:
                raise BlobError("listpack entry truncated")
            value, size = _I64(blob, pos + 1)[0], 9
        else:
            raise BlobError("listpack bad entry encoding 0x%02x" % enc)
        append(value if ints else b"%d" % value)
        pos += size + 1                                  # int entries are <= 9 bytes
    if pos != end:
        raise BlobError("listpack entries overrun the end marker")
    count = int.from_bytes(blob[4:6], "little")
    if count != 65535 and count != len(out):
        raise BlobError("listpack entry count mismatch")
    return out


def _backlen(size: int) -> bytes:
    """lpEncodeBacklen: the entry size in 7-bit groups, most significant first, every
    byte after the first flagged with 0x80 (read backwards from the entry's end)."""
    count = _backlen_size(size)
    groups = [(size >> (7 * i)) & 0x7F for i in range(count - 1, -1, -1)]
    return bytes([groups[0]] + [g | 0x80 for g in groups[1:]])


def listpack_encode_entry(value) -> bytes:
    """One listpack entry (encoding, data and back-length) for ``int`` or ``bytes``."""
    if isinstance(value, int):
        if 0 <= value <= 127:
            body = bytes((value,))
        elif -4096 <= value <= 4095:
            v = value & 0x1FFF
            body = bytes((0xC0 | (v >> 8), v & 0xFF))
        elif -32768 <= value <= 32767:
            body = b"\xf1" + value.to_bytes(2, "little", signed=True)
        elif -(1 << 23) <= value < (1 << 23):
            body = b"\xf2" + value.to_bytes(3, "little", signed=True)
        elif -(1 << 31) <= value < (1 << 31):
            body = b"\xf3" + value.to_bytes(4, "little", signed=True)
        else:
            body = b"\xf4" + value.to_bytes(8, "little", signed=True)
    else:
        n = len(value)
        if n < 64:
            body = bytes((0x80 | n,)) + value
        elif n < 4096:
            body = bytes((0xE0 | (n >> 8), n & 0xFF)) + value
        else:
            body = b"\xf0" + n.to_bytes(4, "little") + value
    return body + _backlen(len(body))


def listpack_encode(values) -> bytes:
    """A listpack holding ``values`` (ints and bytes)."""
    body = b"".join(map(listpack_encode_entry, values))
    count = len(values) if len(values) < 65535 else 65535
    total = 6 + len(body) + 1
    return total.to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


# ---- intset ---------------------------------------------------------------------------

def intset_members(blob: bytes) -> list:
    """The members of an intset (encoding 2/4/8, count, sorted little-endian ints)."""
    if len(blob) < 8:
        raise BlobError("intset header truncated")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8):
        raise BlobError("intset bad encoding")
    if 8 + width * count != len(blob):
        raise BlobError("intset size mismatch")
    fmt = {2: "<%dh", 4: "<%di", 8: "<%dq"}[width] % count
    values = struct.unpack_from(fmt, blob, 8)
    for a, b in zip(values, values[1:]):
        if a >= b:
            raise BlobError("intset not sorted or has duplicates")
    return [b"%d" % v for v in values]


# ---- zipmap (Redis < 2.6 hashes) ------------------------------------------------------

def zipmap_pairs(blob: bytes) -> list:
    """The flat [field, value, field, value ...] of a zipmap."""
    n = len(blob)
    if n < 2 or blob[-1] != 0xFF:
        raise BlobError("zipmap end marker missing")
    out = []
    pos = 1
    end = n - 1
    key = True
    while pos < end:
        first = blob[pos]
        if first < 254:
            length, pos = first, pos + 1
        elif first == 254:
            if pos + 5 > end:
                raise BlobError("zipmap length truncated")
            length, pos = int.from_bytes(blob[pos + 1:pos + 5], "little"), pos + 5
        else:
            raise BlobError("zipmap bad length")
        free = 0
        if not key:
            if pos >= end:
                raise BlobError("zipmap free byte truncated")
            free, pos = blob[pos], pos + 1
        if pos + length + free > end:
            raise BlobError("zipmap entry past the end")
        out.append(blob[pos:pos + length])
        pos += length + free
        key = not key
    if pos != end or not key:
        raise BlobError("zipmap entries do not end on a pair")
    return out

"""Reader: buffered, bounds-checked reading of RDB primitives with a running CRC-64.

Input comes either from a ``read(n)`` callable (a file, a pipe, a socket) in ~1 MB
chunks, or from one bytes object (a DUMP payload). Every read checks that the bytes are
there before slicing, so a truncated or hostile input raises :class:`RdbError` with the
offset of the first byte that could not be read, and never allocates more than the input
actually holds.
"""

import struct

from ember.persistence.crc64 import crc64
from ember.persistence.lzf import LzfError, decompress

_CHUNK = 1 << 20
_MAX_READ = 1 << 26        # one read() call asks for at most 64 MB
_unpack_double = struct.Struct("<d").unpack_from


class RdbError(Exception):
    """A truncated, corrupt or unsupported RDB/DUMP input.

    ``message`` is a clear text, ``offset`` the byte offset of the first bad byte.
    """

    def __init__(self, message: str, offset: int = 0):
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


class Reader:
    """Sequential reader over a ``read`` callable or a bytes object (``data``)."""

    __slots__ = ("_read", "buf", "pos", "base", "crc", "_crc_from", "track_crc")

    def __init__(self, read=None, data: bytes = None, track_crc: bool = False):
        self._read = read
        self.buf = data if data is not None else b""
        self.pos = 0
        self.base = 0            # offset of buf[0] in the whole input
        self.crc = 0
        self._crc_from = 0       # buf index up to which the CRC has been folded in
        self.track_crc = track_crc

    @property
    def offset(self) -> int:
        """Bytes consumed so far."""
        return self.base + self.pos

    def error(self, message: str, at: int = None):
        """An RdbError at the current offset (or ``at``)."""
        return RdbError(message, self.offset if at is None else at)

    def _refill(self, n: int) -> None:
        buf = self.buf
        if self._read is None:
            raise RdbError("Unexpected end of input", self.base + self.pos)
        if self.track_crc:
            self.crc = crc64(memoryview(buf)[self._crc_from:self.pos], self.crc)
        rest = buf[self.pos:]
        self.base += self.pos
        parts = [rest]
        have = len(rest)
        want = max(n, _CHUNK)
        while have < want:
            chunk = self._read(min(want - have, _MAX_READ))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self.buf = b"".join(parts) if len(parts) > 1 else rest
        self.pos = 0
        self._crc_from = 0
        if have < n:                  # the offset where the short read started
            raise RdbError("Unexpected EOF reading RDB file", self.base)

    def crc_now(self) -> int:
        """The CRC-64 of everything consumed so far (track_crc must be on)."""
        self.crc = crc64(memoryview(self.buf)[self._crc_from:self.pos], self.crc)
        self._crc_from = self.pos
        return self.crc

    def at_end(self) -> bool:
        """True when no byte is left."""
        if self.pos < len(self.buf):
            return False
        if self._read is None:
            return True
        try:
            self._refill(1)
        except RdbError:
            return True
        return False

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes."""
        if self.pos + n > len(self.buf):
            self._refill(n)
        pos = self.pos
        self.pos = pos + n
        return self.buf[pos:pos + n]

    def byte(self) -> int:
        """One unsigned byte."""
        if self.pos >= len(self.buf):
            self._refill(1)
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def u32be(self) -> int:
        """A 4-byte big-endian unsigned integer (32-bit lengths)."""
        return int.from_bytes(self.read(4), "big")

    def u64le(self) -> int:
        """An 8-byte little-endian unsigned integer (the CRC trailer, minExpire)."""
        return int.from_bytes(self.read(8), "little")

    def i64le(self) -> int:
        """An 8-byte little-endian signed integer (millisecond times)."""
        return int.from_bytes(self.read(8), "little", signed=True)

    def double(self) -> float:
        """A binary little-endian double (RDB_TYPE_ZSET_2 scores)."""
        if self.pos + 8 > len(self.buf):
            self._refill(8)
        value = _unpack_double(self.buf, self.pos)[0]
        self.pos += 8
        return value

    def length_enc(self):
        """rdbLoadLenByRef: (length, is_encoded)."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return self.u32be(), False
        if first == 0x81:
            return int.from_bytes(self.read(8), "big"), False
        raise self.error("Unknown length encoding %d in rdbLoadLen()" % first, self.offset - 1)

    def length(self) -> int:
        """A plain length (an encoded-string marker here is corrupt)."""
        if self.pos < len(self.buf):
            first = self.buf[self.pos]
            if first < 64:
                self.pos += 1
                return first
        n, encoded = self.length_enc()
        if encoded:
            raise self.error("Unexpected string encoding where a length was expected")
        return n

    def string(self) -> bytes:
        """rdbGenericLoadStringObject: raw, integer-encoded or LZF-compressed."""
        buf = self.buf
        pos = self.pos
        if pos < len(buf):
            first = buf[pos]
            if first < 64 and pos + 1 + first <= len(buf):
                self.pos = pos + 1 + first
                return buf[pos + 1:pos + 1 + first]
        n, encoded = self.length_enc()
        if not encoded:
            return self.read(n)
        if n == 0:
            return b"%d" % int.from_bytes(self.read(1), "little", signed=True)
        if n == 1:
            return b"%d" % int.from_bytes(self.read(2), "little", signed=True)
        if n == 2:
            return b"%d" % int.from_bytes(self.read(4), "little", signed=True)
        if n == 3:
            start = self.offset
            clen = self.length()
            ulen = self.length()
            packed = self.read(clen)
            if ulen > 0x7FFFFFFF or (clen and ulen > clen * 300):
                raise RdbError("Invalid LZF compressed string lengths", start)
            try:
                return decompress(packed, ulen)
            except LzfError as exc:
                raise RdbError(f"Invalid LZF compressed string: {exc}", start)
        raise self.error("Unknown RDB string encoding type %d" % n)

    def string_double(self) -> float:
        """An RDB_TYPE_ZSET score: length byte then ASCII (253 nan, 254 inf, 255 -inf)."""
        n = self.byte()
        if n == 253:
            return float("nan")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        text = self.read(n)
        try:
            return float(text)
        except ValueError:
            raise self.error("Invalid double value")

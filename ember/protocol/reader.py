"""ReplyReader: RESP2/RESP3 reply bytes -> Python values (for the replica link and tests).

``feed(data)`` then ``get()`` returns the next complete reply, or :data:`NEED_MORE`.
``raw()`` returns the next complete reply as its exact bytes instead, which the
compatibility tests compare byte for byte. Errors come back as
:class:`ember.errors.ReplyError` values (not raised); RESP3 attributes are skipped.
"""

from ember.errors import ReplyError
from ember.protocol.replies import NULL_ARRAY, BigNumber, Push, SetReply, Status, Verbatim

NEED_MORE = object()


class ReaderError(Exception):
    """The bytes are not valid RESP."""


class ReplyReader:
    """Incremental reply parser."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._buf += data

    def get(self):
        """The next complete reply as a value, or NEED_MORE."""
        result = _parse(self._buf, 0)
        if result is None:
            return NEED_MORE
        value, end = result
        del self._buf[:end]
        return value

    def raw(self):
        """The next complete reply as its exact bytes, or NEED_MORE."""
        result = _parse(self._buf, 0)
        if result is None:
            return NEED_MORE
        end = result[1]
        data = bytes(self._buf[:end])
        del self._buf[:end]
        return data


def _line(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    return bytes(buf[pos + 1:end]), end + 2


def _parse(buf, pos):
    """Parse one reply at ``pos``: (value, end) or None if incomplete."""
    if pos >= len(buf):
        return None
    kind = buf[pos]
    got = _line(buf, pos)
    if got is None:
        return None
    line, nxt = got
    if kind == 0x2B:  # +
        return Status(line.decode("utf-8", "surrogateescape")), nxt
    if kind == 0x2D:  # -
        return ReplyError(line.decode("utf-8", "surrogateescape")), nxt
    if kind == 0x3A:  # :
        return int(line), nxt
    if kind in (0x24, 0x3D, 0x21):  # $ = !
        length = int(line)
        if length < 0:
            return None, nxt
        if len(buf) < nxt + length + 2:
            return None
        data = bytes(buf[nxt:nxt + length])
        if kind == 0x3D:  # "fmt:data": keep the format (txt, mkd)
            value = Verbatim(data[4:])
            if data[:3] != Verbatim.fmt:
                value.fmt = data[:3]
        elif kind == 0x21:
            value = ReplyError(data.decode("utf-8", "surrogateescape"))
        else:
            value = data
        return value, nxt + length + 2
    if kind in (0x2A, 0x7E, 0x3E, 0x25, 0x7C):  # * ~ > % |
        count = int(line)
        if count < 0:
            return NULL_ARRAY, nxt
        items = []
        total = count * 2 if kind in (0x25, 0x7C) else count
        for _ in range(total):
            got = _parse(buf, nxt)
            if got is None:
                return None
            items.append(got[0])
            nxt = got[1]
        if kind == 0x7C:  # attribute: skip it, return the reply that follows
            return _parse(buf, nxt)
        if kind == 0x25:
            return {_hashable(items[i]): items[i + 1] for i in range(0, total, 2)}, nxt
        if kind == 0x7E:
            return SetReply(items), nxt
        if kind == 0x3E:
            return Push(items), nxt
        return items, nxt
    if kind == 0x5F:  # _
        return None, nxt
    if kind == 0x23:  # #
        return line == b"t", nxt
    if kind == 0x2C:  # ,
        return float(line), nxt
    if kind == 0x28:  # (
        return BigNumber(int(line)), nxt
    raise ReaderError(f"unknown reply type byte {chr(kind)!r}")


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value

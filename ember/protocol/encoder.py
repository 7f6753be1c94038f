"""Reply values -> RESP2 or RESP3 bytes (see :mod:`ember.protocol.replies` for the mapping).

``encode(value, resp3)`` returns the bytes of one reply. The dispatch is a dict keyed by
the value's exact type, so the common replies (bulk strings, integers, OK) cost one
lookup and one format.
"""

from ember.errors import ReplyError
from ember.protocol.numbers import format_float
from ember.protocol.replies import (
    NULL_ARRAY,
    BigNumber,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
    _NullArray,
)

_INT_CACHE = {i: b":%d\r\n" % i for i in range(-1, 10001)}
_STATUS_CACHE = {}


# b"$N\r\n" for the common bulk lengths: a list index beats %-formatting.
BULK_HEADERS = [b"$%d\r\n" % n for n in range(4096)]


def _bulk(v) -> bytes:
    n = len(v)
    return (BULK_HEADERS[n] if n < 4096 else b"$%d\r\n" % n) + v + b"\r\n"


def _int(v) -> bytes:
    return _INT_CACHE.get(v) or b":%d\r\n" % v


def _status(v) -> bytes:
    enc = _STATUS_CACHE.get(v)
    if enc is None:
        enc = b"+%s\r\n" % v.encode()
        if len(_STATUS_CACHE) < 1000:
            _STATUS_CACHE[v] = enc
    return enc


def error_bytes(message: str) -> bytes:
    """Encode an error; CR and LF inside the text become spaces, as Redis does."""
    if "\r" in message or "\n" in message:
        message = message.replace("\r", " ").replace("\n", " ")
    return b"-%s\r\n" % message.encode("utf-8", "surrogateescape")


def _error(v) -> bytes:
    return error_bytes(v.message)


def _array2(v) -> bytes:
    enc = _ENC2
    return b"*%d\r\n" % len(v) + b"".join([enc[type(x)](x) for x in v])


def _array3(v) -> bytes:
    enc = _ENC3
    return b"*%d\r\n" % len(v) + b"".join([enc[type(x)](x) for x in v])


def _map2(v) -> bytes:
    enc = _ENC2
    parts = [b"*%d\r\n" % (2 * len(v))]
    for k, x in v.items():
        parts.append(enc[type(k)](k))
        parts.append(enc[type(x)](x))
    return b"".join(parts)


def _map3(v) -> bytes:
    enc = _ENC3
    parts = [b"%%%d\r\n" % len(v)]
    for k, x in v.items():
        parts.append(enc[type(k)](k))
        parts.append(enc[type(x)](x))
    return b"".join(parts)


def _set3(v) -> bytes:
    enc = _ENC3
    return b"~%d\r\n" % len(v) + b"".join([enc[type(x)](x) for x in v])


def _push3(v) -> bytes:
    enc = _ENC3
    return b">%d\r\n" % len(v) + b"".join([enc[type(x)](x) for x in v])


def _str_bulk(v) -> bytes:
    return _bulk(v.encode())


_ENC2 = {
    bytes: _bulk,
    bytearray: _bulk,
    memoryview: lambda v: _bulk(bytes(v)),
    int: _int,
    bool: lambda v: b":1\r\n" if v else b":0\r\n",
    type(None): lambda v: b"$-1\r\n",
    _NullArray: lambda v: b"*-1\r\n",
    Status: _status,
    str: _str_bulk,
    ReplyError: _error,
    list: _array2,
    tuple: _array2,
    SetReply: _array2,
    Push: _array2,
    dict: _map2,
    float: lambda v: _bulk(format_float(v)),
    Verbatim: _bulk,
    BigNumber: lambda v: _bulk(b"%d" % v),
    Raw: bytes,
}

_ENC3 = dict(_ENC2)
_ENC3.update({
    bool: lambda v: b"#t\r\n" if v else b"#f\r\n",
    type(None): lambda v: b"_\r\n",
    _NullArray: lambda v: b"_\r\n",
    list: _array3,
    tuple: _array3,
    SetReply: _set3,
    Push: _push3,
    dict: _map3,
    float: lambda v: b",%s\r\n" % format_float(v),
    Verbatim: lambda v: b"=%d\r\n%s:%s\r\n" % (len(v) + 4, v.fmt, v),
    BigNumber: lambda v: b"(%d\r\n" % v,
})


def encode(value, resp3: bool = False) -> bytes:
    """Encode one reply value as RESP3 (``resp3=True``) or RESP2 bytes."""
    return (_ENC3 if resp3 else _ENC2)[type(value)](value)


ENCODERS_RESP2 = _ENC2
ENCODERS_RESP3 = _ENC3
__all__ = ["encode", "error_bytes", "ENCODERS_RESP2", "ENCODERS_RESP3", "NULL_ARRAY"]

"""Reply value types that handlers return and the encoder turns into RESP2 or RESP3.

Plain Python values cover most replies:

=================  ======================  ==========================
Python value       RESP2                   RESP3
=================  ======================  ==========================
bytes/bytearray    bulk string             bulk string
int                integer                 integer
None               null bulk ``$-1``       null ``_``
list / tuple       array                   array
dict               flat array k, v, ...    map ``%``
float              bulk string             double ``,``
bool               integer 1/0             boolean ``#t``/``#f``
ReplyError         error                   error
=================  ======================  ==========================

The classes below mark the remaining shapes.
"""


class Status(str):
    """A simple string reply (``+OK``)."""

    __slots__ = ()


class SetReply(list):
    """A set: RESP3 ``~``, RESP2 array."""

    __slots__ = ()


class Push(list):
    """An out-of-band push message: RESP3 ``>``, RESP2 array."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim string (RESP3 ``=``, with a 3-letter format); RESP2 bulk string."""

    fmt = b"txt"


class BigNumber(int):
    """A big number: RESP3 ``(``; RESP2 bulk string."""

    __slots__ = ()


class _NullArray:
    """The null array: RESP2 ``*-1``; RESP3 ``_``."""

    __slots__ = ()

    def __repr__(self):
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()


class Raw(bytes):
    """Pre-encoded bytes, identical in RESP2 and RESP3 (constant replies)."""


OK = Status("OK")
QUEUED = Status("QUEUED")
PONG = Status("PONG")

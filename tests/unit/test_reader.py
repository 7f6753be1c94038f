"""ReplyReader: RESP2/RESP3 reply bytes -> values, incrementally; raw() keeps exact bytes."""

import math

import pytest

from ember.errors import ReplyError
from ember.protocol.reader import NEED_MORE, ReaderError, ReplyReader
from ember.protocol.replies import NULL_ARRAY, BigNumber, Push, SetReply, Status, Verbatim

CASES = [
    (b"+OK\r\n", Status("OK")),
    (b"-ERR no\r\n", ReplyError("ERR no")),
    (b":-7\r\n", -7),
    (b"$5\r\na\r\nbc\r\n", b"a\r\nbc"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", NULL_ARRAY),
    (b"*0\r\n", []),
    (b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", [[1], b"x"]),
    (b"_\r\n", None),
    (b"#t\r\n", True),
    (b"#f\r\n", False),
    (b",1.25\r\n", 1.25),
    (b",inf\r\n", math.inf),
    (b",-inf\r\n", -math.inf),
    (b"(123456789012345678901234567890\r\n", BigNumber(123456789012345678901234567890)),
    (b"!9\r\nERR a\r\nbc\r\n", ReplyError("ERR a\r\nbc")),
    (b"~2\r\n:1\r\n:2\r\n", SetReply([1, 2])),
    (b">2\r\n$7\r\nmessage\r\n:1\r\n", Push([b"message", 1])),
    (b"%2\r\n$1\r\na\r\n:1\r\n*1\r\n:2\r\n_\r\n", {b"a": 1, (2,): None}),
    (b"|1\r\n+key\r\n:1\r\n+after-attribute\r\n", Status("after-attribute")),
]


@pytest.mark.parametrize("data, value", CASES)
def test_get(data, value):
    reader = ReplyReader()
    reader.feed(data)
    got = reader.get()
    assert got == value and type(got) is type(value)
    assert reader.get() is NEED_MORE


@pytest.mark.parametrize("data, value", CASES)
def test_byte_by_byte(data, value):
    """Every proper prefix is incomplete; the last byte completes the reply."""
    reader = ReplyReader()
    for i, byte in enumerate(data):
        reader.feed(bytes((byte,)))
        got = reader.get()
        if i < len(data) - 1:
            assert got is NEED_MORE, data[:i + 1]
    assert got == value


def test_nan():
    reader = ReplyReader()
    reader.feed(b",nan\r\n")
    assert math.isnan(reader.get())


def test_verbatim_keeps_format():
    reader = ReplyReader()
    reader.feed(b"=15\r\ntxt:Some string\r\n=8\r\nmkd:# hi\r\n")
    first, second = reader.get(), reader.get()
    assert (type(first), first, first.fmt) == (Verbatim, b"Some string", b"txt")
    assert (second, second.fmt) == (b"# hi", b"mkd")


def test_raw_returns_exact_bytes_of_each_reply():
    data = b"".join(c[0] for c in CASES)
    reader = ReplyReader()
    for i in range(0, len(data), 3):
        reader.feed(data[i:i + 3])
    # An attribute comes out together with the reply that follows it.
    assert [reader.raw() for _ in CASES] == [c[0] for c in CASES]
    assert reader.raw() is NEED_MORE


def test_several_replies_in_one_feed():
    reader = ReplyReader()
    reader.feed(b"+a\r\n:1\r\n$1\r\nz\r\n")
    assert [reader.get(), reader.get(), reader.get()] == [Status("a"), 1, b"z"]
    assert reader.get() is NEED_MORE


def test_unknown_type_byte():
    reader = ReplyReader()
    reader.feed(b"?x\r\n")
    with pytest.raises(ReaderError):
        reader.get()

"""Encoder: every reply value survives encode -> ReplyReader in RESP3, and downgrades in RESP2.

The expected decoding is written here from the RESP2/RESP3 specification (the table in
ember/protocol/replies.py), independently of the encoder's code.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.errors import ReplyError
from ember.protocol.encoder import ENCODERS_RESP2, ENCODERS_RESP3, encode, error_bytes
from ember.protocol.reader import NEED_MORE, ReplyReader
from ember.protocol.replies import (
    NULL_ARRAY,
    OK,
    BigNumber,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
)


class FloatBulk:
    """Expected RESP2 form of a double: a bulk string that parses back to the value."""

    def __init__(self, value: float):
        self.value = value


def verbatim(data: bytes, fmt: bytes) -> Verbatim:
    value = Verbatim(data)
    if fmt != b"txt":
        value.fmt = fmt
    return value


def expected(value, resp3: bool):
    """What a client must decode from ``encode(value, resp3)``."""
    t = type(value)
    if t in (bytes, bytearray, memoryview):
        return bytes(value)
    if t is str:
        return value.encode()
    if t is bool:
        return value if resp3 else int(value)
    if t is int:
        return value
    if value is None:
        return None
    if value is NULL_ARRAY:
        return None if resp3 else NULL_ARRAY
    if t is Status:
        return value
    if t is ReplyError:
        return ReplyError(value.message.replace("\r", " ").replace("\n", " "))
    if t is float:
        return value if resp3 else FloatBulk(value)
    if t is BigNumber:
        return value if resp3 else b"%d" % value
    if t is Verbatim:
        return value if resp3 else bytes(value)
    if t in (list, tuple):
        return [expected(v, resp3) for v in value]
    if t is SetReply:
        items = [expected(v, resp3) for v in value]
        return SetReply(items) if resp3 else items
    if t is Push:
        items = [expected(v, resp3) for v in value]
        return Push(items) if resp3 else items
    if t is dict:
        if resp3:
            return {expected(k, True): expected(v, True) for k, v in value.items()}
        flat = []
        for k, v in value.items():
            flat += [expected(k, False), expected(v, False)]
        return flat
    raise AssertionError(f"no expectation for {t}")


def same(got, want) -> bool:
    """Deep equality that also compares exact types, NaN and verbatim formats."""
    if isinstance(want, FloatBulk):
        if type(got) is not bytes:
            return False
        parsed = float(got)
        return math.isnan(parsed) if math.isnan(want.value) else parsed == want.value
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        return math.isnan(got) if math.isnan(want) else got == want
    if isinstance(want, Verbatim):
        return got == want and got.fmt == want.fmt
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return (len(got) == len(want) and list(got) == list(want)
                and all(same(got[k], w) for k, w in want.items()))
    return got == want


def decode(data: bytes):
    reader = ReplyReader()
    reader.feed(data)
    value = reader.get()
    assert value is not NEED_MORE
    assert reader.get() is NEED_MORE, "encoder wrote more than one reply"
    return value


# ---- strategies ------------------------------------------------------------------------

line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                           blacklist_characters="\r\n"), max_size=20)
scalars = st.one_of(
    st.binary(max_size=30),
    st.binary(max_size=10).map(bytearray),
    st.binary(max_size=10).map(memoryview),
    st.text(max_size=10),
    st.integers(-(1 << 63), (1 << 63) - 1),
    st.none(),
    st.just(NULL_ARRAY),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 0.0, 1e17, 1.5e-300]),
    line_text.map(Status),
    st.text(max_size=20).map(lambda t: ReplyError("ERR " + t)),
    st.integers(-(1 << 200), 1 << 200).map(BigNumber),
    st.tuples(st.binary(max_size=20), st.sampled_from([b"txt", b"mkd"])).map(
        lambda t: verbatim(*t)),
)
keys = st.one_of(st.binary(max_size=10), st.integers(-1000, 1000))


def containers(children):
    return st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=3).map(tuple),
        st.lists(children, max_size=5).map(SetReply),
        st.lists(children, max_size=5).map(Push),
        st.dictionaries(keys, children, max_size=4),
    )


values = st.recursive(scalars, containers, max_leaves=25)


# ---- round trips -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(values)
def test_resp3_round_trip(value):
    got = decode(encode(value, resp3=True))
    assert same(got, expected(value, True)), (value, got)


@settings(max_examples=300, deadline=None)
@given(values)
def test_resp2_round_trip(value):
    got = decode(encode(value, resp3=False))
    assert same(got, expected(value, False)), (value, got)


@settings(max_examples=100, deadline=None)
@given(values, st.booleans())
def test_dispatch_tables_match_encode(value, resp3):
    table = ENCODERS_RESP3 if resp3 else ENCODERS_RESP2
    assert table[type(value)](value) == encode(value, resp3)


# ---- exact bytes -----------------------------------------------------------------------


@pytest.mark.parametrize("value, resp2, resp3", [
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (42, b":42\r\n", b":42\r\n"),
    (-(1 << 63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
    (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (math.inf, b"$3\r\ninf\r\n", b",inf\r\n"),
    (-math.inf, b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (math.nan, b"$3\r\nnan\r\n", b",nan\r\n"),
    (3.0, b"$1\r\n3\r\n", b",3\r\n"),
    (BigNumber(1 << 70), b"$22\r\n1180591620717411303424\r\n", b"(1180591620717411303424\r\n"),
    (Verbatim(b"hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
    ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
    (SetReply([b"m"]), b"*1\r\n$1\r\nm\r\n", b"~1\r\n$1\r\nm\r\n"),
    (Push([b"message", b"c", b"x"]), b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n",
     b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n"),
    (ReplyError("ERR bad"), b"-ERR bad\r\n", b"-ERR bad\r\n"),
    (Raw(b"+PONG\r\n"), b"+PONG\r\n", b"+PONG\r\n"),
])
def test_exact_bytes(value, resp2, resp3):
    assert encode(value, resp3=False) == resp2
    assert encode(value, resp3=True) == resp3


def test_error_newlines_become_spaces():
    assert encode(ReplyError("ERR a\r\nb\nc")) == b"-ERR a  b c\r\n"
    assert error_bytes("ERR x\udcff") == b"-ERR x\xff\r\n"


def test_verbatim_format_is_kept():
    value = verbatim(b"# title", b"mkd")
    assert encode(value, resp3=True) == b"=11\r\nmkd:# title\r\n"
    assert same(decode(encode(value, resp3=True)), value)

"""LZF as Redis uses it: decompressing liblzf's output (a real redis-server payload),
round trips of ember's compressor, and hostile streams rejected."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.persistence.lzf import (
    FAST,
    LzfError,
    compress,
    compress_pure,
    decompress,
    decompress_pure,
)
from ember.persistence.rdb import restore_payload

# DUMP of "abc" * 16 + "xyz" * 10 on redis-server 7.0 (LZF-compressed by liblzf)
REDIS_PAYLOAD = (b"\x00\xc3\x12@N\x03abca\xe0#\x02\x02xyz\xe0\x10\x02\x01yz\n\x00"
                 b"\xcb[\xbd\xf5\x1c\x01\xa3\xf4")


def test_decompresses_liblzf_output():
    assert restore_payload(REDIS_PAYLOAD) == b"abc" * 16 + b"xyz" * 10
    assert decompress(REDIS_PAYLOAD[5:23], 78) == b"abc" * 16 + b"xyz" * 10


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=3000),
                 st.lists(st.sampled_from([b"ab", b"abc", b"x" * 40, b"\x00", b"hello "]),
                          max_size=400).map(b"".join)))
def test_round_trip(data):
    for packed in (compress(data), compress_pure(data)):
        if packed is None:
            continue                            # Redis stores such strings raw
        assert len(packed) <= len(data) - 4
        assert decompress(packed, len(data)) == data
        assert decompress_pure(packed, len(data)) == data


def test_compresses_repetitive_data_only():
    for fn in (compress, compress_pure):
        assert fn(b"a" * 1000) is not None and len(fn(b"a" * 1000)) < 20
        assert fn(b"abcd") is None
        assert fn(bytes(range(200))) is None


@pytest.mark.parametrize("stream,length", [
    (b"\x05abc", 6),                 # literal run past the end
    (b"\x00a\x20\x00", 10),          # match too long for the declared output
    (b"\x20\x05", 3),                # match before the start of the output
    (b"\xe0", 10),                   # truncated long match
    (b"\x00a", 5),                   # shorter than declared
    (b"\x02abc", 2),                 # longer than declared
])
def test_hostile_streams(stream, length):
    with pytest.raises(LzfError):
        decompress(stream, length)
    with pytest.raises(LzfError):
        decompress_pure(stream, length)


def test_c_implementation_is_used():
    assert FAST       # python-lzf is a declared dependency (pyproject.toml)

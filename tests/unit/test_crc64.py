"""CRC-64/Jones as Redis's crc64.c: the check value, incremental use, and the fast
(anycrc) and pure-Python implementations agreeing."""

from hypothesis import given
from hypothesis import strategies as st

from ember.persistence.crc64 import FAST, crc64, crc64_pure


def test_redis_check_value():
    # crc64.c's own test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64_pure(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0


def test_redis_payload_trailer():
    # DUMP of "hello" on redis-server 7.0: CRC over type, object and version
    payload = b"\x00\x05hello\n\x00cr\xdfve4 \n"
    assert crc64(payload[:-8]).to_bytes(8, "little") == payload[-8:]


@given(st.binary(max_size=2000), st.integers(0, 2000))
def test_incremental_and_pure_agree(data, cut):
    whole = crc64(data)
    assert crc64(data[cut:], crc64(data[:cut])) == whole
    assert crc64_pure(data) == whole
    assert crc64(memoryview(data)) == whole


def test_fast_path_is_available():
    assert FAST       # anycrc is a declared dependency (pyproject.toml)

"""Hostile DUMP payloads and RDB files: random bit flips, byte changes and truncations of
valid ones (with the CRC recomputed, so the parser itself is exercised) must give a value
or an RdbError: never another exception, and never a large allocation."""

import io
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember.persistence.crc64 import crc64
from ember.persistence.rdb import RdbError, dump_payload, load_rdb, restore_payload, write_rdb
from ember.storage.keyspace import Database
from tests.compat.test_rdb_interop import populate
from tests.unit.harness import Harness

_H = Harness()
populate(_H, big=150)
_H("HSET", "httl", "a", "1", "b", "2")
_H("HPEXPIRE", "httl", "100000", "FIELDS", "1", "a")
PAYLOADS = [dump_payload(v) for v in _H.db.data.values()]
_out = io.BytesIO()
write_rdb(_out.write, _H.engine.dbs)
RDB = _out.getvalue()
_MAX_BYTES = 64 << 20


def seal(body: bytes) -> bytes:
    """A payload body with a fresh trailer (version 10 and the right CRC)."""
    data = body + (10).to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


def mutate(data: bytes, draw_ops) -> bytes:
    data = bytearray(data)
    for kind, pos, value in draw_ops:
        if not data:
            break
        pos %= len(data)
        if kind == "flip":
            data[pos] ^= 1 << (value % 8)
        elif kind == "set":
            data[pos] = value % 256
        elif kind == "cut":
            del data[pos:]
        else:
            data[pos:pos] = bytes([value % 256]) * (1 + value % 9)
    return bytes(data)


OPS = st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert"]),
                         st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=4)


def bounded(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < _MAX_BYTES, peak


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(PAYLOADS) - 1), ops=OPS)
def test_mutated_payloads_fail_cleanly(index, ops):
    body = mutate(PAYLOADS[index][:-10], ops)

    def run():
        try:
            restore_payload(seal(body))
        except RdbError as exc:
            assert exc.message == "Bad data format"
    bounded(run)


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, len(PAYLOADS) - 1), ops=OPS)
def test_mutated_payloads_without_new_crc_are_rejected(index, ops):
    payload = PAYLOADS[index]
    mutated = mutate(payload, ops)
    if mutated == payload:
        return
    try:
        restore_payload(mutated)
    except RdbError as exc:
        assert "checksum" in exc.message or exc.message == "Bad data format"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_mutated_files_fail_cleanly(ops):
    data = mutate(RDB, ops)
    if data[-8:] == RDB[-8:]:
        data = data[:-8] + bytes(8)                # checksum off: reach the parser

    def run():
        dbs = [Database(i, lambda: 0) for i in range(16)]
        try:
            load_rdb(io.BytesIO(data).read, dbs)
        except RdbError as exc:
            assert 0 <= exc.offset <= len(data)
    bounded(run)


def test_huge_declared_lengths_do_not_allocate():
    for body in (b"\x00\x81" + (1 << 62).to_bytes(8, "big"),          # string of 4 EB
                 b"\x01\x80\xff\xff\xff\xff" + b"\x00" * 10,          # list of 4G items
                 b"\x00\xc3\x05\x80\xff\xff\xff\xff" + b"\x00" * 5,    # LZF to 4 GB
                 b"\x04\x81" + (1 << 63).to_bytes(8, "big")):          # hash of 2^63
        def run(body=body):
            try:
                restore_payload(seal(body))
            except RdbError:
                pass
        bounded(run)

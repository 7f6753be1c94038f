"""Redis's HyperLogLog string format and algorithms (hyperloglog.c), byte for byte.

An HLL is an ordinary string value: a 16-byte header (``HYLL``, the encoding byte:
0 dense / 1 sparse, three unused bytes, the cached cardinality as 8 little-endian
bytes whose top bit marks the cache invalid) followed by the registers, either dense
(16384 6-bit registers packed LSB first, 12288 bytes) or sparse (ZERO / XZERO / VAL
run-length opcodes). Values are kept as ``bytearray`` in the keyspace and updated in
place, so adding to a dense HLL costs O(1), as in Redis.

Whole-array work (histograms, merges) goes through a "raw" form: one byte per register
(16384 bytes), converted to and from the dense packing with ``bytes.translate`` and
big-integer arithmetic instead of a Python loop per register.
"""

import math
import struct

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_P_MASK = HLL_REGISTERS - 1
HLL_BITS = 6
HLL_REGISTER_MAX = (1 << HLL_BITS) - 1
HDR_SIZE = 16
DENSE_BYTES = (HLL_REGISTERS * HLL_BITS + 7) // 8
DENSE_SIZE = HDR_SIZE + DENSE_BYTES
DENSE, SPARSE = 0, 1
MAGIC = b"HYLL"
SEED = 0xADC83B19
ALPHA_INF = 0.721347520444481703680     # 0.5 / ln(2)

SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64

_M64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995
_CACHE_INVALID = 0x80


class CorruptedHLL(Exception):
    """The sparse representation does not describe exactly 16384 registers."""


# ---- hashing -------------------------------------------------------------------------

def murmurhash64a(data: bytes, seed: int = SEED) -> int:
    """MurmurHash2, 64-bit version, as Redis's MurmurHash64A (little-endian words)."""
    m = _MURMUR_M
    n = len(data)
    h = (seed ^ (n * m)) & _M64
    tail = n & 7
    body = n - tail
    if body:
        for k in struct.unpack_from("<%dQ" % (body >> 3), data):
            k = (k * m) & _M64
            k ^= k >> 47
            k = (k * m) & _M64
            h ^= k
            h = (h * m) & _M64
    if tail:
        h ^= int.from_bytes(data[body:], "little")
        h = (h * m) & _M64
    h ^= h >> 47
    h = (h * m) & _M64
    h ^= h >> 47
    return h


def pattern(element: bytes):
    """(register index, length of the 000..1 run + 1) of ``element`` (hllPatLen)."""
    h = murmurhash64a(element)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & HLL_P_MASK, (rest & -rest).bit_length()


# ---- the header ----------------------------------------------------------------------

def new_sparse() -> bytearray:
    """An empty HLL as Redis's createHLLObject makes it: sparse, one XZERO:16384."""
    buf = bytearray(HDR_SIZE)
    buf[0:4] = MAGIC
    buf[4] = SPARSE
    buf += _xzero(HLL_REGISTERS)
    return buf


def is_valid(value) -> bool:
    """Redis's isHLLObjectOrReply test: magic, known encoding, exact dense size."""
    if len(value) < HDR_SIZE or value[0:4] != MAGIC or value[4] > SPARSE:
        return False
    return value[4] != DENSE or len(value) == DENSE_SIZE


def cache_valid(buf) -> bool:
    """True if the cached cardinality can be returned as is."""
    return not buf[15] & _CACHE_INVALID


def cached_card(buf) -> int:
    """The cached cardinality (the 8 header bytes, little endian)."""
    return int.from_bytes(buf[8:16], "little")


def set_cached_card(buf: bytearray, card: int) -> None:
    """Store ``card`` as the cached cardinality (which makes the cache valid)."""
    buf[8:16] = (card & _M64).to_bytes(8, "little")


def invalidate_cache(buf: bytearray) -> None:
    """Mark the cached cardinality stale (HLL_INVALIDATE_CACHE)."""
    buf[15] |= _CACHE_INVALID


# ---- dense registers -----------------------------------------------------------------

def dense_get(buf, index: int) -> int:
    """Register ``index`` of a dense HLL (HLL_DENSE_GET_REGISTER)."""
    bit = index * HLL_BITS
    pos = HDR_SIZE + (bit >> 3)
    fb = bit & 7
    value = buf[pos] >> fb
    if fb > 2:
        value |= buf[pos + 1] << (8 - fb)
    return value & HLL_REGISTER_MAX


def dense_set(buf: bytearray, index: int, value: int) -> None:
    """Write register ``index`` of a dense HLL in place (HLL_DENSE_SET_REGISTER)."""
    bit = index * HLL_BITS
    pos = HDR_SIZE + (bit >> 3)
    fb = bit & 7
    buf[pos] = (buf[pos] & ~(HLL_REGISTER_MAX << fb) & 0xFF) | ((value << fb) & 0xFF)
    if fb > 2:
        fb8 = 8 - fb
        buf[pos + 1] = (buf[pos + 1] & ~(HLL_REGISTER_MAX >> fb8) & 0xFF) | (value >> fb8)


def dense_set_max(buf: bytearray, index: int, count: int) -> int:
    """hllDenseSet: raise register ``index`` to ``count``; 1 if it changed, else 0."""
    if count > dense_get(buf, index):
        dense_set(buf, index, count)
        return 1
    return 0


def _table(fn) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_AND63 = _table(lambda b: b & 63)
_SHR6 = _table(lambda b: b >> 6)
_SHR4 = _table(lambda b: b >> 4)
_SHR2 = _table(lambda b: b >> 2)
_LOW4_SHL2 = _table(lambda b: (b & 15) << 2)
_LOW2_SHL4 = _table(lambda b: (b & 3) << 4)
_LOW2_SHL6 = _table(lambda b: (b & 3) << 6)
_SHR2_LOW4 = _table(lambda b: (b >> 2) & 15)
_LOW4_SHL4 = _table(lambda b: (b & 15) << 4)
_SHR4_LOW2 = _table(lambda b: (b >> 4) & 3)
_SHL2 = _table(lambda b: (b & 63) << 2)
_QUARTER = HLL_REGISTERS // 4


def _or(a: bytes, b: bytes) -> bytes:
    """Byte-wise OR of two equally long byte strings (no bits overlap here)."""
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(
        len(a), "little")


def dense_to_raw(buf) -> bytearray:
    """The 16384 registers of a dense HLL, one byte each."""
    body = bytes(buf[HDR_SIZE:DENSE_SIZE])
    b0, b1, b2 = body[0::3], body[1::3], body[2::3]
    raw = bytearray(HLL_REGISTERS)
    raw[0::4] = b0.translate(_AND63)
    raw[1::4] = _or(b0.translate(_SHR6), b1.translate(_LOW4_SHL2))
    raw[2::4] = _or(b1.translate(_SHR4), b2.translate(_LOW2_SHL4))
    raw[3::4] = b2.translate(_SHR2)
    return raw


def raw_to_dense_body(raw) -> bytes:
    """Pack 16384 one-byte registers (each < 64) into the 12288-byte dense body."""
    raw = bytes(raw)
    r0, r1, r2, r3 = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    body = bytearray(DENSE_BYTES)
    body[0::3] = _or(r0, r1.translate(_LOW2_SHL6))
    body[1::3] = _or(r1.translate(_SHR2_LOW4), r2.translate(_LOW4_SHL4))
    body[2::3] = _or(r2.translate(_SHR4_LOW2), r3.translate(_SHL2))
    return bytes(body)


_HIGH = int.from_bytes(b"\x80" * HLL_REGISTERS, "little")
_ALL = int.from_bytes(b"\xff" * HLL_REGISTERS, "little")


def raw_max(a, b) -> bytes:
    """Register-wise maximum of two raw arrays (values < 128), without a Python loop."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    ge = (((x | _HIGH) - y) & _HIGH) >> 7      # 1 in each byte where x >= y
    mask = ge * 0xFF
    return ((x & mask) | (y & (~mask & _ALL))).to_bytes(HLL_REGISTERS, "little")


# ---- sparse opcodes ------------------------------------------------------------------

def _xzero(length: int) -> bytes:
    n = length - 1
    return bytes((0x40 | (n >> 8), n & 0xFF))


def _zero_or_xzero(length: int) -> bytes:
    return _xzero(length) if length > SPARSE_ZERO_MAX_LEN else bytes((length - 1,))


def _val(value: int, length: int) -> int:
    return 0x80 | ((value - 1) << 2) | (length - 1)


def sparse_ops(buf):
    """Yield (kind, run length, value) for each opcode: kind 'z', 'Z' or 'v'."""
    p, end = HDR_SIZE, len(buf)
    while p < end:
        op = buf[p]
        if op & 0x80:
            yield "v", (op & 3) + 1, ((op >> 2) & 0x1F) + 1
            p += 1
        elif op & 0x40:
            nxt = buf[p + 1] if p + 1 < end else 0     # sds's implicit NUL terminator
            yield "Z", (((op & 0x3F) << 8) | nxt) + 1, 0
            p += 2
        else:
            yield "z", (op & 0x3F) + 1, 0
            p += 1


def sparse_to_raw(buf) -> bytearray:
    """The registers of a sparse HLL, one byte each; CorruptedHLL if it is malformed.

    As hllSparseToDense / hllMerge: the runs must cover exactly 16384 registers (a run
    past the last one is an error at once).
    """
    raw = bytearray(HLL_REGISTERS)
    idx = 0
    for kind, runlen, value in sparse_ops(buf):
        if idx + runlen > HLL_REGISTERS:
            raise CorruptedHLL()
        if kind == "v":
            raw[idx:idx + runlen] = bytes((value,)) * runlen
        idx += runlen
    if idx != HLL_REGISTERS:
        raise CorruptedHLL()
    return raw


def sparse_histogram(buf):
    """hllSparseRegHisto: (register histogram, whether the runs cover 16384 registers)."""
    histo = [0] * 64
    idx = 0
    for _kind, runlen, value in sparse_ops(buf):
        idx += runlen
        histo[value] += runlen
    return histo, idx == HLL_REGISTERS


def to_dense(buf: bytearray) -> None:
    """hllSparseToDense in place: the header is kept (encoding set to dense)."""
    if buf[4] == DENSE:
        return
    raw = sparse_to_raw(buf)
    header = bytearray(buf[:HDR_SIZE])
    header[4] = DENSE
    buf[:] = header + raw_to_dense_body(raw)


def sparse_set(buf: bytearray, index: int, count: int, max_bytes: int, hint=None) -> int:
    """hllSparseSet: raise register ``index`` to ``count`` in a sparse HLL, in place.

    Returns 1 if the register changed, 0 if not, -1 if the representation is invalid.
    Promotes ``buf`` to dense when ``count`` exceeds 32 or the string would grow past
    ``max_bytes`` (hll-sparse-max-bytes). ``hint`` (a list) lets ascending calls
    (PFMERGE) resume the opcode scan where the previous one left the bytes untouched;
    the result is the same as scanning from the start.
    """
    if count > SPARSE_VAL_MAX_VALUE:
        return _promote(buf, index, count)
    end = len(buf)
    p, first, prev = (hint[0], hint[1], hint[2]) if hint and hint[0] is not None \
        else (HDR_SIZE, 0, None)
    prevprev = None
    first_of_prev = 0
    span = 0
    while p < end:
        op = buf[p]
        oplen = 1
        if not op & 0xC0:
            span = (op & 0x3F) + 1
        elif op & 0x80:
            span = (op & 3) + 1
        else:
            span = (((op & 0x3F) << 8) | (buf[p + 1] if p + 1 < end else 0)) + 1
            oplen = 2
        if index <= first + span - 1:
            break
        prevprev = (prev, first_of_prev) if prev is not None else None
        prev = p
        first_of_prev = first
        p += oplen
        first += span
    if span == 0 or p >= end:
        return -1
    if hint is not None:
        # The opcode before ``prev`` (and all before it) will not change: resume there.
        if prevprev is not None:
            hint[0], hint[1], hint[2] = prevprev[0], prevprev[1], None
        else:
            hint[0] = None
    op = buf[p]
    is_xzero = (op & 0xC0) == 0x40
    is_zero = not op & 0xC0
    nxt = p + 2 if is_xzero else p + 1
    if is_zero:
        runlen = (op & 0x3F) + 1
    elif is_xzero:
        runlen = span
    else:
        runlen = (op & 3) + 1
    if not is_zero and not is_xzero:
        oldcount = ((op >> 2) & 0x1F) + 1
        if oldcount >= count:
            return 0
        if runlen == 1:
            buf[p] = _val(count, 1)
            return _merge_adjacent(buf, prev)
    if is_zero and runlen == 1:
        buf[p] = _val(count, 1)
        return _merge_adjacent(buf, prev)
    last = first + span - 1
    seq = bytearray()
    if is_zero or is_xzero:
        if index != first:
            seq += _zero_or_xzero(index - first)
        seq.append(_val(count, 1))
        if index != last:
            seq += _zero_or_xzero(last - index)
    else:
        curval = ((op >> 2) & 0x1F) + 1
        if index != first:
            seq.append(_val(curval, index - first))
        seq.append(_val(count, 1))
        if index != last:
            seq.append(_val(curval, last - index))
    oldlen = nxt - p
    delta = len(seq) - oldlen
    if delta > 0 and len(buf) + delta > max_bytes:
        return _promote(buf, index, count)
    if nxt > len(buf):      # an XZERO cut short by the string's end (corrupted)
        seq = seq[:len(buf) + delta - p]
    buf[p:nxt] = seq
    return _merge_adjacent(buf, prev)


def _merge_adjacent(buf: bytearray, prev) -> int:
    """Step 4 of hllSparseSet: merge equal adjacent VAL opcodes (5 opcodes from prev)."""
    p = prev if prev is not None else HDR_SIZE
    end = len(buf)
    scanlen = 5
    while p < end and scanlen:
        scanlen -= 1
        op = buf[p]
        if (op & 0xC0) == 0x40:
            p += 2
            continue
        if not op & 0xC0:
            p += 1
            continue
        if p + 1 < end and buf[p + 1] & 0x80:
            nxt = buf[p + 1]
            v1 = ((op >> 2) & 0x1F) + 1
            if v1 == ((nxt >> 2) & 0x1F) + 1:
                length = (op & 3) + (nxt & 3) + 2
                if length <= SPARSE_VAL_MAX_LEN:
                    buf[p + 1] = _val(v1, length)
                    del buf[p]
                    end -= 1
                    continue
        p += 1
    invalidate_cache(buf)
    return 1


def _promote(buf: bytearray, index: int, count: int) -> int:
    try:
        to_dense(buf)
    except CorruptedHLL:
        return -1
    dense_set_max(buf, index, count)
    return 1


def add(buf: bytearray, element: bytes, max_bytes: int) -> int:
    """hllAdd: add ``element``; 1 if a register changed, 0 if not, -1 if corrupted."""
    index, count = pattern(element)
    if buf[4] == DENSE:
        return dense_set_max(buf, index, count)
    return sparse_set(buf, index, count, max_bytes)


# ---- cardinality ---------------------------------------------------------------------

def raw_histogram(raw) -> list:
    """Register histogram of a raw (one byte per register) array."""
    raw = bytes(raw)
    return [raw.count(v) for v in range(64)]


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prime = z
        z += x * y
        y += y
        if z_prime == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prime = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if z_prime == z:
            return z / 3


def estimate(histo) -> int:
    """hllCount's estimator from a register histogram (Ertl's improved estimator)."""
    m = float(HLL_REGISTERS)
    z = m * _tau((m - histo[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    e = ALPHA_INF * m * m / z
    if math.isinf(e):
        return 0x8000000000000000           # llroundl's overflow result, as uint64
    whole = math.floor(e)
    return int(whole + 1 if e - whole >= 0.5 else whole)    # llroundl: half away


def count(buf) -> int:
    """The estimated cardinality of a valid HLL; CorruptedHLL for a broken sparse one."""
    if buf[4] == DENSE:
        return estimate(raw_histogram(dense_to_raw(buf)))
    histo, ok = sparse_histogram(buf)
    if not ok:
        raise CorruptedHLL()
    return estimate(histo)


def registers(buf) -> bytearray:
    """The 16384 registers of a valid HLL, one byte each (CorruptedHLL if broken)."""
    return dense_to_raw(buf) if buf[4] == DENSE else sparse_to_raw(buf)


def decode(buf) -> str:
    """PFDEBUG DECODE's text for a sparse HLL: ``z:N``, ``Z:N``, ``v:VAL,LEN``."""
    parts = []
    for kind, runlen, value in sparse_ops(buf):
        parts.append("v:%d,%d" % (value, runlen) if kind == "v" else
                     "%s:%d" % (kind, runlen))
    return " ".join(parts)

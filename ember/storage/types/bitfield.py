"""Bit-level operations on strings: the arithmetic behind SETBIT, BITCOUNT, BITPOS,
BITOP and BITFIELD, independent of commands and RESP.

Bits are numbered as Redis numbers them: bit 0 is the most significant bit of byte 0.
Reads accept ``bytes`` or ``bytearray`` and treat bits past the end as zero; writes
take a ``bytearray`` already grown to cover the field.
"""

import re

_FIRST_NONZERO = re.compile(rb"[^\x00]")
_FIRST_NOT_FF = re.compile(rb"[^\xff]")

WRAP, SAT, FAIL = "wrap", "sat", "fail"


def get_unsigned(data, offset: int, bits: int) -> int:
    """The unsigned ``bits``-wide field at bit ``offset`` (zero past the end)."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    width = last - first + 1
    chunk = data[first:last + 1]
    word = int.from_bytes(chunk, "big") << ((width - len(chunk)) << 3)
    shift = (width << 3) - (offset & 7) - bits
    return (word >> shift) & ((1 << bits) - 1)


def get_signed(data, offset: int, bits: int) -> int:
    """The two's-complement ``bits``-wide field at bit ``offset``."""
    value = get_unsigned(data, offset, bits)
    if value >> (bits - 1):
        value -= 1 << bits
    return value


def set_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low ``bits`` bits of ``value`` at bit ``offset`` of ``buf``."""
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    width = last - first + 1
    shift = (width << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    word = int.from_bytes(buf[first:last + 1], "big")
    word = (word & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = word.to_bytes(width, "big")


def _wrap(value: int, bits: int, signed: bool) -> int:
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def signed_overflow(value: int, incr: int, bits: int, mode: str):
    """Redis's checkSignedBitfieldOverflow: (overflowed, value to store) for value+incr.

    ``value`` is the current field (or the SET argument with ``incr`` 0). The stored
    value is None when ``mode`` is FAIL and the operation overflows.
    """
    high = (1 << (bits - 1)) - 1
    low = -high - 1
    # Redis compares incr with these differences as int64, wrapped: a SET of a value far
    # below the field's range can wrap max - value to INT64_MIN, and then Redis takes it
    # for an overflow upwards (SAT stores the maximum).
    max_incr = _wrap(high - value, 64, True)
    min_incr = _wrap(low - value, 64, True)
    if value > high or (bits != 64 and incr > max_incr) or (
            value >= 0 and incr > 0 and incr > max_incr):
        limit = high
    elif value < low or (bits != 64 and incr < min_incr) or (
            value < 0 and incr < 0 and incr < min_incr):
        limit = low
    else:
        return False, value + incr
    if mode == WRAP:
        return True, _wrap(value + incr, bits, True)
    if mode == SAT:
        return True, limit
    return True, None


def unsigned_overflow(value: int, incr: int, bits: int, mode: str):
    """Redis's checkUnsignedBitfieldOverflow, as :func:`signed_overflow`.

    For SET, ``value`` is the argument as a uint64 (negative numbers wrapped), so a
    negative SET under SAT saturates to the maximum, as in Redis.
    """
    high = (1 << bits) - 1
    total = value + incr
    if 0 <= total <= high:
        return False, total
    if mode == WRAP:
        return True, total & high
    if mode == SAT:
        return True, high if (value > high or total > high) else 0
    return True, None


def bit_count(data, start: int, end: int, first_mask: int = 0, last_mask: int = 0) -> int:
    """Set bits in bytes ``start..end`` (inclusive), minus the bits under the edge masks
    (the out-of-range bits of the first and last byte in BIT mode)."""
    count = int.from_bytes(data[start:end + 1], "big").bit_count()
    if first_mask:
        count -= (data[start] & first_mask).bit_count()
    if last_mask:
        count -= (data[end] & last_mask).bit_count()
    return count


def _scan_byte(byte: int, bit: int, base: int, lo: int, hi: int) -> int:
    """First position in ``lo..hi`` (bit numbers within one byte at ``base``) holding
    ``bit``, or -1."""
    for here in range(lo, hi + 1):
        if (byte >> (7 - (here - base))) & 1 == bit:
            return here
    return -1


def first_bit(data, bit: int, start_bit: int, end_bit: int) -> int:
    """Position of the first ``bit`` (0/1) in bits ``start_bit..end_bit`` of ``data``
    (which must cover them), or -1 when there is none."""
    first_byte, last_byte = start_bit >> 3, end_bit >> 3
    base = first_byte << 3
    found = _scan_byte(data[first_byte], bit, base, start_bit, min(end_bit, base + 7))
    if found >= 0 or last_byte == first_byte:
        return found
    pattern = _FIRST_NONZERO if bit else _FIRST_NOT_FF
    match = pattern.search(data, first_byte + 1, last_byte)
    if match is not None:
        byte = data[match.start()]
        if not bit:
            byte ^= 0xFF
        return (match.start() << 3) + 8 - byte.bit_length()
    base = last_byte << 3
    return _scan_byte(data[last_byte], bit, base, base, end_bit)


def bitop(op: str, sources: list, length: int) -> bytearray:
    """AND/OR/XOR/NOT of ``sources`` zero-padded to ``length`` bytes."""
    words = [int.from_bytes(s, "big") << ((length - len(s)) << 3) for s in sources]
    if op == "not":
        result = words[0] ^ ((1 << (length << 3)) - 1)
    else:
        result = words[0]
        for word in words[1:]:
            if op == "and":
                result &= word
            elif op == "or":
                result |= word
            else:
                result ^= word
    return bytearray(result.to_bytes(length, "big"))

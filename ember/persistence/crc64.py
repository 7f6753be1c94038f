"""CRC-64/Jones as Redis computes it (crc64.c): the RDB trailer and DUMP payload checksum.

Parameters (Redis's ``crc64(0, data, len)``): polynomial 0xad93d23594c935a9, reflected
input and output, initial value 0, no final xor; ``crc64(b"123456789")`` is
0xe9c6d914c4b8d9ca. The fast path is the ``anycrc`` package (a C implementation, model
"CRC64-REDIS", ~2 GB/s); without it a table-driven pure-Python version is used (about
10 MB/s: correct, but a large RDB then spends most of its time here).
"""

_POLY_REFLECTED = 0x95AC9329AC4BC9B5      # 0xad93d23594c935a9 bit-reversed
_MASK = (1 << 64) - 1


def _make_table() -> list:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def crc64_pure(data, crc: int = 0) -> int:
    """CRC-64/Jones of ``data`` continuing from ``crc`` (pure Python, table-driven)."""
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc & _MASK


try:  # pragma: no branch - depends on the environment
    import anycrc as _anycrc

    _MODEL = _anycrc.Model("CRC64-REDIS")
    _calc = _MODEL.calc

    def crc64(data, crc: int = 0) -> int:
        """CRC-64/Jones of ``data`` continuing from ``crc`` (0 to start), as Redis's
        ``crc64(crc, data, len)``."""
        if not data:
            return crc
        return _calc(data, crc)

    FAST = True
except ImportError:  # pragma: no cover - fallback when anycrc is not installed
    crc64 = crc64_pure
    FAST = False

"""LZF (liblzf's format), as Redis uses it for RDB strings over 20 bytes.

A compressed stream is a sequence of runs: a control byte below 32 is followed by that
many plus one literal bytes; otherwise its top three bits are a match length minus 2
(7 means "plus the next byte") and its low five bits with the next byte the distance
back minus 1 (up to 8 KB) of bytes to copy from the output, possibly overlapping.

:func:`decompress` checks every run against the input left and the declared output
length, so a hostile payload raises :class:`LzfError` instead of reading past the end or
growing without bound. :func:`compress` is a greedy pure-Python compressor (a dict of
3-byte prefixes; any valid LZF stream decompresses the same in Redis): correct, but far
slower than liblzf (about 4 MB/s against hundreds), so ember's writer only compresses when
asked (``write_rdb(compress=True)``). Decompression runs at about 20 MB/s (overlapping
matches are copied as repeated slices).

When the ``python-lzf`` package (liblzf in C, a dependency) is installed,
:func:`compress` and :func:`decompress` use it (~100 MB/s on 100-byte values, far more on
large ones), with the same checks on the result; the pure versions stay as the fallback
and as the reference the tests compare with.
"""


class LzfError(ValueError):
    """A compressed string that does not decompress to its declared length."""


def decompress_pure(data, out_len: int) -> bytes:
    """The ``out_len`` bytes that ``data`` (an LZF stream) decompresses to (pure Python)."""
    out = bytearray()
    pos = 0
    end = len(data)
    while pos < end:
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:
            run = ctrl + 1
            if pos + run > end:
                raise LzfError("literal run past the end of the input")
            if len(out) + run > out_len:
                raise LzfError("output longer than declared")
            out += data[pos:pos + run]
            pos += run
            continue
        length = ctrl >> 5
        if length == 7:
            if pos >= end:
                raise LzfError("truncated match length")
            length += data[pos]
            pos += 1
        if pos >= end:
            raise LzfError("truncated match offset")
        back = ((ctrl & 0x1F) << 8) + data[pos] + 1
        pos += 1
        length += 2
        start = len(out) - back
        if start < 0:
            raise LzfError("match before the start of the output")
        if len(out) + length > out_len:
            raise LzfError("output longer than declared")
        while length > back:          # overlapping: the last ``back`` bytes repeat
            out += out[start:start + back]
            start += back
            length -= back
        out += out[start:start + length]
    if len(out) != out_len:
        raise LzfError("output shorter than declared")
    return bytes(out)


_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)      # 264: longest match (7 + 255 + 2)


def compress_pure(data: bytes):
    """``data`` LZF-compressed, or None unless it fits in ``len(data) - 4`` bytes (Redis
    stores the raw string then); pure Python."""
    n = len(data)
    if n <= 4:
        return None
    limit = n - 4
    out = bytearray()
    literal_start = 0
    table = {}
    i = 0
    while i < n - 2:
        key = data[i:i + 3]
        ref = table.get(key)
        table[key] = i
        if ref is not None and i - ref <= _MAX_OFF:
            length = 3
            max_len = min(_MAX_REF, n - i)
            while length < max_len and data[ref + length] == data[i + length]:
                length += 1
            _literals(out, data, literal_start, i)
            off = i - ref - 1
            code = length - 2
            if code < 7:
                out.append((code << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(code - 7)
            out.append(off & 0xFF)
            if len(out) > limit:
                return None
            for j in range(i + 1, min(i + length, n - 2)):
                table[data[j:j + 3]] = j
            i += length
            literal_start = i
        else:
            i += 1
    _literals(out, data, literal_start, n)
    if len(out) > limit:
        return None
    return bytes(out)


def _literals(out: bytearray, data: bytes, start: int, end: int) -> None:
    while start < end:
        run = min(32, end - start)
        out.append(run - 1)
        out += data[start:start + run]
        start += run


try:  # pragma: no branch - depends on the environment
    import lzf as _clzf
    if not (hasattr(_clzf, "compress") and hasattr(_clzf, "decompress")):
        _clzf = None
except ImportError:  # pragma: no cover
    _clzf = None

FAST = _clzf is not None


def compress(data: bytes):
    """``data`` LZF-compressed, or None unless it fits in ``len(data) - 4`` bytes (Redis's
    rdbSaveLzfStringObject); liblzf when available."""
    if _clzf is None or len(data) <= 4:
        return compress_pure(data)
    return _clzf.compress(bytes(data), len(data) - 4) or None


def decompress(data, out_len: int) -> bytes:
    """The ``out_len`` bytes that ``data`` decompresses to; LzfError otherwise."""
    if _clzf is None or out_len <= 0 or not data:
        return decompress_pure(data, out_len)
    try:
        out = _clzf.decompress(bytes(data), out_len)
    except ValueError:
        raise LzfError("corrupt LZF stream")
    if out is None or len(out) != out_len:
        raise LzfError("output length differs from the declared one")
    return out

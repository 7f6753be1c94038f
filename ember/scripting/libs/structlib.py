"""Roberto Ierusalimschy's ``struct`` library (as bundled with Redis): pack, unpack, size.

Formats: ``<`` ``>`` ``!n`` (endianness, alignment), ``x`` padding, ``b B h H l L T i I[n]``
integers (char, short, long = 8, size_t = 8, int = 4 or n bytes), ``f d`` floats,
``c[n]`` fixed strings (``c0``: length from the previous value on unpack, the whole
string on pack), ``s`` zero-terminated strings. Native layout: little-endian LP64.
"""

import struct

from ember.scripting.libs import check_number, check_string

_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}
_MAXINTSIZE = 32
_MAXALIGN = 8
_INT_MAX = 2**31 - 1


class _Format:
    """A cursor over a format string with the current endianness and alignment."""

    def __init__(self, ctx, fmt: bytes):
        self.ctx = ctx
        self.fmt = fmt
        self.pos = 0
        self.little = True
        self.align = 1

    def __iter__(self):
        return self

    def __next__(self):
        if self.pos >= len(self.fmt) or self.fmt[self.pos] == 0:
            raise StopIteration
        opt = chr(self.fmt[self.pos])
        self.pos += 1
        return opt

    def number(self, default: int) -> int:
        start = self.pos
        while self.pos < len(self.fmt) and 48 <= self.fmt[self.pos] <= 57:
            self.pos += 1
        if start == self.pos:
            return default
        value = 0
        for digit in self.fmt[start:self.pos]:
            if value > _INT_MAX // 10 or value * 10 > _INT_MAX - (digit - 48):
                raise self.ctx.error("integral size overflow")
            value = value * 10 + digit - 48
        return value

    def size(self, opt: str) -> int:
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == "c":
            return self.number(1)
        if opt in "iI":
            size = self.number(4)
            if size > _MAXINTSIZE:
                raise self.ctx.error(f"integral size {size} is larger than limit of {_MAXINTSIZE}")
            return size
        return 0

    def to_align(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        size = min(size, self.align)
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str, func: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.little = False
        elif opt == "<":
            self.little = True
        elif opt == "!":
            align = self.number(_MAXALIGN)
            if align & (align - 1):
                raise self.ctx.error(f"alignment {align} is not a power of 2")
            self.align = align
        else:
            raise self.ctx.arg_error(1, func, f"invalid format option '{opt}'")


def _pack(ctx, *args):
    fmt = _Format(ctx, check_string(ctx, args, 1, "pack"))
    out = bytearray()
    index = 2
    for opt in fmt:
        size = fmt.size(opt)
        pad = fmt.to_align(len(out), opt, size)
        out += b"\0" * pad
        if opt in "bBhHlLTiI":
            number = check_number(ctx, args, index, "pack")
            index += 1
            value = int(number) & 0xFFFFFFFFFFFFFFFF
            raw = value.to_bytes(8, "little")[:size].ljust(size, b"\0")
            out += raw if fmt.little else raw[::-1]
        elif opt == "x":
            out += b"\0"
        elif opt in "fd":
            number = float(check_number(ctx, args, index, "pack"))
            index += 1
            code = "f" if opt == "f" else "d"
            try:
                out += struct.pack(("<" if fmt.little else ">") + code, number)
            except OverflowError:
                out += struct.pack(("<" if fmt.little else ">") + code,
                                   float("inf") if number > 0 else float("-inf"))
        elif opt in "cs":
            text = check_string(ctx, args, index, "pack")
            index += 1
            if size == 0:
                size = len(text)
            if len(text) < size:
                raise ctx.arg_error(index, "pack", "string too short")
            out += text[:size]
            if opt == "s":
                out += b"\0"
        else:
            fmt.control(opt, "pack")
    return bytes(out)


def _unpack(ctx, *args):
    fmt = _Format(ctx, check_string(ctx, args, 1, "unpack"))
    data = check_string(ctx, args, 2, "unpack")
    pos = 1
    if len(args) >= 3 and args[2] is not None:
        pos = int(check_number(ctx, args, 3, "unpack"))
    if pos <= 0:
        raise ctx.arg_error(3, "unpack", "offset must be 1 or greater")
    pos -= 1
    results = []
    for opt in fmt:
        size = fmt.size(opt)
        pos += fmt.to_align(pos, opt, size)
        if size > len(data) or pos > len(data) - size:
            raise ctx.arg_error(2, "unpack", "data string too short")
        if opt in "bBhHlLTiI":
            raw = data[pos:pos + size]
            value = int.from_bytes(raw if fmt.little else raw[::-1], "little")
            value &= 0xFFFFFFFFFFFFFFFF
            if opt.islower() and size <= 8:
                mask = (0xFFFFFFFFFFFFFFFF << (size * 8 - 1)) & 0xFFFFFFFFFFFFFFFF
                if value & mask:
                    value |= mask
                if value >= 1 << 63:
                    value -= 1 << 64
            results.append(float(value) if abs(value) > 2**53 else value)
        elif opt == "x":
            pass
        elif opt in "fd":
            code = "f" if opt == "f" else "d"
            results.append(struct.unpack(("<" if fmt.little else ">") + code,
                                         data[pos:pos + size])[0])
        elif opt == "c":
            if size == 0:
                if not results or not isinstance(results[-1], (int, float)):
                    raise ctx.error("format 'c0' needs a previous size")
                size = int(results.pop())
                if size > len(data) or pos > len(data) - size:
                    raise ctx.arg_error(2, "unpack", "data string too short")
            results.append(data[pos:pos + size])
        elif opt == "s":
            end = data.find(b"\0", pos)
            if end < 0:
                raise ctx.error("unfinished string in data")
            size = end - pos + 1
            results.append(data[pos:end])
        else:
            fmt.control(opt, "unpack")
        pos += size
    results.append(pos + 1)
    return tuple(results)


def _size(ctx, *args):
    fmt = _Format(ctx, check_string(ctx, args, 1, "size"))
    pos = 0
    for opt in fmt:
        size = fmt.size(opt)
        pos += fmt.to_align(pos, opt, size)
        if opt == "s":
            raise ctx.arg_error(1, "size", "option 's' has no fixed size")
        if opt == "c" and size == 0:
            raise ctx.arg_error(1, "size", "option 'c0' has no fixed size")
        if not opt.isalnum():
            fmt.control(opt, "size")
        pos += size
    return pos


def members(ctx) -> dict:
    """The ``struct`` table."""
    return {
        "pack": lambda *args: _pack(ctx, *args),
        "unpack": lambda *args: _unpack(ctx, *args),
        "size": lambda *args: _size(ctx, *args),
    }

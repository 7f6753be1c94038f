"""lua_cmsgpack 0.4.0 (``cmsgpack``), as bundled with Redis: pack, unpack, unpack_one,
unpack_limit.

Numbers that are whole (and fit 64 bits) pack as the smallest MessagePack integer, other
numbers as float32 when exact, else float64; strings as fixstr/str8/str16/str32; a table
whose keys are exactly 1..n as an array, any other table as a map; tables nested deeper
than 16 levels, and functions and the like, as nil.
"""

import struct

from lupa import lua51

from ember.scripting.libs import check_number, check_string

_MAX_NESTING = 16
_INT_MAX = 2**31 - 1


class _Truncated(Exception):
    """Missing bytes in input."""


class _BadFormat(Exception):
    """Bad data format in input."""


def _pack_int(n: int) -> bytes:
    if n >= 0:
        if n <= 127:
            return bytes([n])
        if n <= 0xFF:
            return b"\xcc" + bytes([n])
        if n <= 0xFFFF:
            return b"\xcd" + n.to_bytes(2, "big")
        if n <= 0xFFFFFFFF:
            return b"\xce" + n.to_bytes(4, "big")
        return b"\xcf" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
    if n >= -32:
        return bytes([n & 0xFF])
    if n >= -128:
        return b"\xd0" + n.to_bytes(1, "big", signed=True)
    if n >= -32768:
        return b"\xd1" + n.to_bytes(2, "big", signed=True)
    if n >= -2147483648:
        return b"\xd2" + n.to_bytes(4, "big", signed=True)
    return b"\xd3" + n.to_bytes(8, "big", signed=True)


def _pack_number(value) -> bytes:
    number = float(value)
    if number not in (float("inf"), float("-inf")) and number == number:
        if -2**63 <= number < 2**63 and number == int(number):
            return _pack_int(int(number))
    try:
        single = struct.unpack(">f", struct.pack(">f", number))[0]
    except OverflowError:
        single = None
    if single == number or (number != number and single != single):
        return b"\xca" + struct.pack(">f", number)
    return b"\xcb" + struct.pack(">d", number)


def _pack_string(data: bytes) -> bytes:
    n = len(data)
    if n < 32:
        return bytes([0xA0 | n]) + data
    if n <= 0xFF:
        return b"\xd9" + bytes([n]) + data
    if n <= 0xFFFF:
        return b"\xda" + n.to_bytes(2, "big") + data
    return b"\xdb" + n.to_bytes(4, "big") + data


def _pack(value, level: int, out: list) -> None:
    kind = type(value)
    if kind is bytes:
        out.append(_pack_string(value))
    elif kind is bool:
        out.append(b"\xc3" if value else b"\xc2")
    elif kind is int or kind is float:
        out.append(_pack_number(value))
    elif value is not None and lua51.lua_type(value) == "table" and level < _MAX_NESTING:
        _pack_table(value, level, out)
    else:
        out.append(b"\xc0")


def _pack_table(table, level: int, out: list) -> None:
    items = list(table.items())
    largest = 0
    is_array = True
    for key, _ in items:
        if type(key) not in (int, float) or key <= 0 or key != int(key):
            is_array = False
            break
        largest = max(largest, int(key))
    if is_array and largest == len(items):
        n = len(items)
        out.append(bytes([0x90 | n]) if n <= 15 else
                   b"\xdc" + n.to_bytes(2, "big") if n <= 0xFFFF else
                   b"\xdd" + n.to_bytes(4, "big"))
        values = dict(items)
        for index in range(1, n + 1):
            _pack(values.get(index), level + 1, out)
        return
    n = len(items)
    out.append(bytes([0x80 | n]) if n <= 15 else
               b"\xde" + n.to_bytes(2, "big") if n <= 0xFFFF else
               b"\xdf" + n.to_bytes(4, "big"))
    for key, item in items:
        _pack(key, level + 1, out)
        _pack(item, level + 1, out)


class _Reader:
    """mp_cur: a cursor over the packed bytes."""

    def __init__(self, rt, data: bytes, pos: int):
        self.rt = rt
        self.data = data
        self.pos = pos

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if self.left() < n:
            raise _Truncated()
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def sint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big", signed=True)

    def value(self):
        tag = self.take(1)[0]
        if tag <= 0x7F:
            return tag
        if tag >= 0xE0:
            return tag - 0x100
        if 0xA0 <= tag <= 0xBF:
            return self.take(tag & 0x1F)
        if 0x90 <= tag <= 0x9F:
            return self.array(tag & 0x0F)
        if 0x80 <= tag <= 0x8F:
            return self.map(tag & 0x0F)
        if tag == 0xC0:
            return None
        if tag == 0xC2:
            return False
        if tag == 0xC3:
            return True
        if tag in (0xCC, 0xCD, 0xCE, 0xCF):
            value = self.uint(1 << (tag - 0xCC))
            return float(value) if value > 2**53 else value
        if tag in (0xD0, 0xD1, 0xD2, 0xD3):
            value = self.sint(1 << (tag - 0xD0))
            return float(value) if abs(value) > 2**53 else value
        if tag == 0xCA:
            return struct.unpack(">f", self.take(4))[0]
        if tag == 0xCB:
            return struct.unpack(">d", self.take(8))[0]
        if tag in (0xD9, 0xC4):
            return self.take(self.uint(1))
        if tag in (0xDA, 0xC5):
            return self.take(self.uint(2))
        if tag in (0xDB, 0xC6):
            return self.take(self.uint(4))
        if tag == 0xDC:
            return self.array(self.uint(2))
        if tag == 0xDD:
            return self.array(self.uint(4))
        if tag == 0xDE:
            return self.map(self.uint(2))
        if tag == 0xDF:
            return self.map(self.uint(4))
        raise _BadFormat()

    def array(self, n: int):
        table = self.rt.table()
        for index in range(1, n + 1):
            item = self.value()
            if item is not None:
                table[index] = item
        return table

    def map(self, n: int):
        table = self.rt.table()
        for _ in range(n):
            key = self.value()
            item = self.value()
            if key is not None and item is not None:
                table[key] = item
        return table


def members(ctx) -> dict:
    """The ``cmsgpack`` table."""
    def pack(*args):
        if not args:
            raise ctx.arg_error(0, "pack", "MessagePack pack needs input.")
        out = []
        for value in args:
            _pack(value, 0, out)
        return b"".join(out)

    def unpack_full(data: bytes, limit: int, offset: int):
        decode_all = not limit and not offset
        if offset < 0 or limit < 0:
            raise ctx.error(f"Invalid request to unpack with offset of {offset} and limit "
                            f"of {len(data)}.")
        if offset > len(data):
            raise ctx.error(f"Start offset {offset} greater than input length {len(data)}.")
        if decode_all:
            limit = _INT_MAX
        reader = _Reader(ctx.rt, data, offset)
        values = []
        try:
            while reader.left() > 0 and len(values) < limit:
                values.append(reader.value())
        except _Truncated:
            raise ctx.error("Missing bytes in input.") from None
        except _BadFormat:
            raise ctx.error("Bad data format in input.") from None
        if not decode_all:
            values.insert(0, -1 if reader.left() == 0 else reader.pos)
        return tuple(values)

    def unpack(*args):
        return unpack_full(check_string(ctx, args, 1, "unpack"), 0, 0)

    def unpack_one(*args):
        data = check_string(ctx, args, 1, "unpack_one")
        offset = int(check_number(ctx, args, 2, "unpack_one")) if len(args) > 1 and \
            args[1] is not None else 0
        return unpack_full(data, 1, offset)

    def unpack_limit(*args):
        data = check_string(ctx, args, 1, "unpack_limit")
        limit = int(check_number(ctx, args, 2, "unpack_limit"))
        offset = int(check_number(ctx, args, 3, "unpack_limit")) if len(args) > 2 and \
            args[2] is not None else 0
        return unpack_full(data, limit, offset)

    return {
        "pack": pack, "unpack": unpack, "unpack_one": unpack_one,
        "unpack_limit": unpack_limit,
        "_NAME": b"cmsgpack", "_VERSION": b"lua-cmsgpack 0.4.0",
        "_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
        "_DESCRIPTION": b"MessagePack C implementation for Lua",
    }

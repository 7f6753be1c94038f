"""LuaBitOp 1.0 (``bit``), as bundled with Redis: 32-bit operations on Lua numbers.

Arguments are normalized as LuaBitOp does (add 2^52+2^51 to the double, keep the low 32
bits of its representation); results are signed 32-bit numbers.
"""

import struct

from ember.scripting.libs import check_number

_MAGIC = 6755399441055744.0      # 2^52 + 2^51
_DOUBLE = struct.Struct("<d")
_LONG = struct.Struct("<q")


def tobits(number) -> int:
    """A Lua number as LuaBitOp's unsigned 32-bit argument."""
    return _LONG.unpack(_DOUBLE.pack(float(number) + _MAGIC))[0] & 0xFFFFFFFF


def signed(bits: int) -> int:
    """An unsigned 32-bit value as the signed number LuaBitOp returns."""
    bits &= 0xFFFFFFFF
    return bits - (1 << 32) if bits & 0x80000000 else bits


def members(ctx) -> dict:
    """The ``bit`` table."""
    def arg(args, index, func):
        return tobits(check_number(ctx, args, index, func))

    def unary(func, op):
        return lambda *args: signed(op(arg(args, 1, func)))

    def shift(func, op):
        return lambda *args: signed(op(arg(args, 1, func), arg(args, 2, func) & 31))

    def fold(func, op, start):
        def call(*args):
            result = arg(args, 1, func)
            for index in range(len(args), 1, -1):
                result = op(result, arg(args, index, func))
            return signed(result)
        return call

    def tohex(*args):
        b = arg(args, 1, "tohex")
        count = 8 if len(args) < 2 else signed(arg(args, 2, "tohex"))
        digits = "0123456789abcdef"
        if count < 0:
            count = -count
            digits = "0123456789ABCDEF"
        count = min(count, 8)
        out = []
        for _ in range(count):
            out.append(digits[b & 15])
            b >>= 4
        return "".join(reversed(out)).encode()

    return {
        "tobit": unary("tobit", lambda b: b),
        "bnot": unary("bnot", lambda b: ~b),
        "bswap": unary("bswap", lambda b: int.from_bytes(b.to_bytes(4, "little"), "big")),
        "band": fold("band", lambda a, b: a & b, 0xFFFFFFFF),
        "bor": fold("bor", lambda a, b: a | b, 0),
        "bxor": fold("bxor", lambda a, b: a ^ b, 0),
        "lshift": shift("lshift", lambda b, n: b << n),
        "rshift": shift("rshift", lambda b, n: b >> n),
        "arshift": shift("arshift", lambda b, n: signed(b) >> n),
        "rol": shift("rol", lambda b, n: (b << n) | (b >> (32 - n))),
        "ror": shift("ror", lambda b, n: (b >> n) | (b << (32 - n))),
        "tohex": tohex,
    }

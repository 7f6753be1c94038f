"""Strict number parsing and formatting, as Redis's string2ll/string2ld and friends.

Redis refuses leading zeros, a leading ``+``, spaces and underscores in integers; Python's
``int()`` accepts all of them, so every integer that comes from a client goes through here.
"""

import math

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


def parse_int(data: bytes):
    """Return the int64 that ``data`` spells exactly (Redis string2ll), or None."""
    n = len(data)
    if 0 < n < 19 and data.isdigit():
        if data[0] == 48 and n > 1:  # leading zero
            return None
        return int(data)
    if n == 0 or n > 20:
        return None
    try:
        value = int(data)
    except ValueError:
        return None
    if b"%d" % value != data or value > LLONG_MAX or value < LLONG_MIN:
        return None
    return value


def parse_float(data: bytes):
    """Return the float ``data`` spells (Redis string2ld rules), or None.

    Accepts what strtold accepts with no trailing garbage and no leading space;
    ``inf``/``-inf`` are allowed, NaN is not.
    """
    if not data or len(data) > 5000 or data[:1].isspace() or data[-1:].isspace():
        return None
    try:
        value = float(data)
    except ValueError:
        return None
    if b"_" in data or math.isnan(value):
        return None
    return value


def format_float(value: float) -> bytes:
    """Format a double the way Redis 7.2 replies with one (its d2string).

    nan/inf/-inf; "0" and "-0"; integral values within +-2**62 as integers (double2ll);
    otherwise the shortest round-trip digits laid out as Redis's fpconv_dtoa does
    (plain up to 7 zeros past the digits, "0.000015", exponents unpadded: "1e-7").
    """
    if value != value:
        return b"nan"
    if value == math.inf:
        return b"inf"
    if value == -math.inf:
        return b"-inf"
    if value == 0:
        return b"-0" if math.copysign(1.0, value) < 0 else b"0"
    if -_LL_HALF <= value <= _LL_HALF and value.is_integer():
        return b"%d" % value
    return _fpconv_layout(repr(value)).encode()


_LL_HALF = 4611686018427387904.0          # (double)(LLONG_MAX / 2), Redis's double2ll bound


def _fpconv_layout(text: str) -> str:
    """Lay out Python's shortest digits (``repr``) as fpconv's emit_digits does."""
    neg = text.startswith("-")
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    k = int(exponent or 0) - len(fraction)
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    digits = stripped
    n = len(digits)
    exp = abs(k + n - 1)
    sign = "-" if neg else ""
    if k >= 0 and exp < n + 7:
        return sign + digits + "0" * k
    if k < 0 and (k > -7 or exp < 4):
        offset = n + k
        if offset <= 0:
            return sign + "0." + "0" * -offset + digits
        return sign + digits[:offset] + "." + digits[offset:]
    head = digits[0] + ("." + digits[1:] if n > 1 else "")
    return "%s%se%s%d" % (sign, head, "-" if k + n - 1 < 0 else "+", exp)


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
    """Format a double the way Redis 7.2 replies with one (shortest round-trip form)."""
    if value != value:
        return b"nan"
    if value == math.inf:
        return b"inf"
    if value == -math.inf:
        return b"-inf"
    if value.is_integer() and abs(value) < 1e17:
        return b"%d" % value
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        text = f"{mantissa}e{sign}{digits.zfill(2)}"
    return text.encode()


def format_long_double(value: float) -> bytes:
    """Format like Redis's humanfriendly long double (%.17Lf, trailing zeros cut).

    Used by INCRBYFLOAT and HINCRBYFLOAT.
    """
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    text = "%.17f" % value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return text.encode()

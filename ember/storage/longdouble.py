"""Exact emulation of the C ``long double`` arithmetic that INCRBYFLOAT relies on.

Redis parses both operands with ``strtold``, adds them in x87 80-bit extended precision
(a 64-bit mantissa, exponents down to 2**-16382 plus denormals) and replies with
``%.17Lf`` minus trailing zeros (``ld2string`` in LD_STR_HUMAN mode). Python floats
have a 53-bit mantissa and give different digits (``0.1`` then ``0.2`` is ``0.3`` in
Redis), so values are kept as exact :class:`~fractions.Fraction` s and rounded to the
extended format after every operation, exactly as the FPU and glibc do: round half to
even, with gradual underflow and overflow to infinity.

Finite values are Fractions; infinities are the floats ``inf`` and ``-inf``.
"""

import re
from fractions import Fraction

MANTISSA_BITS = 64
MIN_NORMAL_EXP = -16382          # smallest normal is 2**-16382
OVERFLOW = 1 << 16384            # anything that rounds to this or more is infinite
MAX_CHARS = 5 * 1024             # Redis's MAX_LONG_DOUBLE_CHARS buffer

INF = float("inf")
ZERO = Fraction(0)

_NUMBER = re.compile(
    rb"([+-]?)(?:"
    rb"0[xX](?P<hint>[0-9a-fA-F]*)(?:\.(?P<hfrac>[0-9a-fA-F]*))?(?:[pP](?P<hexp>[+-]?[0-9]+))?"
    rb"|(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?"
    rb"|(?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    rb")")


def round_extended(value: Fraction):
    """Round an exact rational to the nearest x87 extended value (half to even).

    Returns a Fraction, or ``±inf`` when the result overflows.
    """
    if not value:
        return Fraction(0)
    negative = value < 0
    num, den = (-value.numerator if negative else value.numerator), value.denominator
    exp = num.bit_length() - den.bit_length()
    if (num << -exp if exp < 0 else num) < (den << exp if exp > 0 else den):
        exp -= 1                                  # now 2**exp <= |value| < 2**(exp+1)
    ulp = max(exp, MIN_NORMAL_EXP) - (MANTISSA_BITS - 1)
    if ulp >= 0:
        den <<= ulp
    else:
        num <<= -ulp
    quotient, remainder = divmod(num, den)
    twice = remainder << 1
    if twice > den or (twice == den and quotient & 1):
        quotient += 1
    result = Fraction(quotient << ulp) if ulp >= 0 else Fraction(quotient, 1 << -ulp)
    if result >= OVERFLOW:
        return -INF if negative else INF
    return -result if negative else result


def parse_long_double(data: bytes):
    """Parse ``data`` as Redis's string2ld does, or return None if Redis would refuse it.

    ``strtold`` syntax (decimal, hexadecimal, ``inf``/``infinity``) must cover the whole
    string; no leading or trailing space, no NaN, no overflow to infinity and no
    non-zero value that underflows to zero. ``inf`` spelled out is accepted.
    """
    if not data or len(data) >= MAX_CHARS:
        return None
    match = _NUMBER.fullmatch(data)
    if match is None:
        return None
    negative = match.group(1) == b"-"
    if match.group("inf") is not None:
        return -INF if negative else INF
    hint = match.group("hint")
    if hint is not None:
        frac = match.group("hfrac") or b""
        digits, base = hint + frac, 16
        exponent = int(match.group("hexp") or b"0") - 4 * len(frac)
    else:
        frac = match.group("frac") or b""
        digits, base = match.group("int") + frac, 10
        exponent = int(match.group("exp") or b"0") - len(frac)
    if not digits:
        return None                        # no conversion: strtold stops at the start
    mantissa = int(digits, 16) if base == 16 else _decimal_int(digits)
    if not mantissa:
        return Fraction(0)
    if base == 16:
        magnitude = mantissa.bit_length() + exponent       # |value| < 2**magnitude
        too_big, too_small = 16400, -16500
    else:
        magnitude = len(digits.lstrip(b"0")) + exponent     # |value| < 10**magnitude
        too_big, too_small = 4940, -4960
    if magnitude >= too_big or magnitude <= too_small:
        return None                        # ERANGE: overflow, or underflow to zero
    scale = Fraction(10 if base == 10 else 2) ** exponent
    value = round_extended(mantissa * scale)
    if value == 0 or isinstance(value, float):
        return None
    return -value if negative else value


def _decimal_int(digits: bytes) -> int:
    """``int(digits)`` without Python's 4300-digit conversion limit."""
    value = 0
    for start in range(0, len(digits), 4000):
        chunk = digits[start:start + 4000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _decimal_str(value: int) -> str:
    """``str(value)`` for a non-negative int, without the 4300-digit limit."""
    if value.bit_length() < 13000:
        return str(value)
    high, low = divmod(value, 10 ** 3900)
    return _decimal_str(high) + str(low).rjust(3900, "0")


def add(a, b):
    """``a + b`` in extended precision; None when the result is NaN or infinite."""
    if isinstance(a, float) or isinstance(b, float):
        return None
    result = round_extended(a + b)
    if isinstance(result, float):
        return None
    return result


def format_human(value: Fraction) -> bytes:
    """``%.17Lf`` with trailing zeros (and a bare point) cut, ``-0`` made ``0``.

    glibc prints the exact binary value rounded half to even, which ``round`` on a
    Fraction reproduces.
    """
    negative = value < 0
    scaled = round(abs(value) * 10 ** 17)
    digits = _decimal_str(scaled).rjust(18, "0")
    text = (digits[:-17] + "." + digits[-17:]).rstrip("0").rstrip(".")
    if negative and text != "0":
        text = "-" + text
    return text.encode()

"""Argument parsing helpers that raise Redis's exact error replies."""

from ember.errors import NOT_FLOAT, NOT_INTEGER, ReplyError
from ember.protocol.numbers import parse_float, parse_int


def int_arg(data: bytes, error: str = NOT_INTEGER) -> int:
    """An int64 argument, or ``ERR value is not an integer or out of range``."""
    value = parse_int(data)
    if value is None:
        raise ReplyError(error)
    return value


def float_arg(data: bytes, error: str = NOT_FLOAT) -> float:
    """A float argument, or ``ERR value is not a valid float``."""
    value = parse_float(data)
    if value is None:
        raise ReplyError(error)
    return value


def text(data: bytes) -> str:
    """Bytes -> str without ever failing (for error messages)."""
    return data.decode("utf-8", "surrogateescape")

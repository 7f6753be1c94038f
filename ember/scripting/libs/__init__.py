"""The Lua libraries Redis loads besides Lua's own (string, table, math, coroutine).

Each module provides ``members(ctx)``: the library table's contents, name -> Python
callable or constant. The sandbox turns the callables into Lua C functions; they raise
Lua errors with ``ctx.error(message)`` / ``ctx.arg_error(n, func, message)`` (see
:class:`~ember.scripting.sandbox.LibContext`), worded as the C libraries word them.
"""

from lupa import lua51


def lua_number(value):
    """lua_tonumber: numbers as they are, numeric strings (decimal or hex) parsed, else None."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is not bytes:
        return None
    text = value.strip()
    try:
        body = text.decode("ascii")
        lowered = body.lower()
        if lowered.startswith(("0x", "-0x", "+0x")):
            return float(int(body, 16))
        if lowered in ("inf", "-inf", "+inf", "nan", "-nan", "+nan", "infinity", "-infinity"):
            return float(body)
        if not body or body[-1] not in "0123456789.":
            return None
        return float(body)
    except (UnicodeDecodeError, ValueError):
        return None


def type_name(value) -> str:
    """Lua's type() of a value as lupa hands it to Python."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, bytes):
        return "string"
    return lua51.lua_type(value) or "userdata"


def check_number(ctx, args, index: int, func: str):
    """luaL_checknumber for argument ``index`` (1-based)."""
    value = args[index - 1] if index <= len(args) else None
    number = lua_number(value)
    if number is None:
        got = "no value" if index > len(args) else type_name(value)
        raise ctx.arg_error(index, func, f"number expected, got {got}")
    return number


def check_string(ctx, args, index: int, func: str) -> bytes:
    """luaL_checklstring for argument ``index``: strings, and numbers as Lua prints them."""
    value = args[index - 1] if index <= len(args) else None
    kind = type(value)
    if kind is bytes:
        return value
    if kind is int or kind is float:
        return b"%.14g" % value
    got = "no value" if index > len(args) else type_name(value)
    raise ctx.arg_error(index, func, f"string expected, got {got}")


from ember.scripting.libs import bit, cjson, cmsgpack, structlib  # noqa: E402

LIBRARIES = (("bit", bit), ("struct", structlib), ("cjson", cjson), ("cmsgpack", cmsgpack))

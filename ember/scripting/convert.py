"""Command replies -> Lua values, as ``redis.call`` returns them (Redis's
redisProtocolToLuaType), for the script's protocol (``redis.setresp``).

RESP2: integer -> number, bulk -> string, null bulk / null array -> false, array ->
table, status -> ``{ok=...}``, error -> ``{err=...}``; RESP3 types seen through RESP2
arrive as they would on the wire (a map as a flat array, a double as a bulk string, a
boolean as 1/0). RESP3: null -> nil, boolean -> boolean, double -> ``{double=n}``, map ->
``{map={k=v}}``, set -> ``{set={m=true}}``, big number -> ``{big_number="..."}``,
verbatim -> ``{verbatim_string={format=, string=}}``.

The reply to the script itself is encoded to RESP in Lua (see prelude.py).
"""

from ember.errors import ReplyError
from ember.protocol.numbers import format_float
from ember.protocol.reader import NEED_MORE, ReplyReader
from ember.protocol.replies import (
    NULL_ARRAY,
    BigNumber,
    Push,
    Raw,
    SetReply,
    Status,
    Verbatim,
)

# The kinds the Lua side of redis.call expects (prelude.py r_call).
PLAIN, STATUS, ERROR_COUNTED, ERROR = 0, 1, 2, 3


def reply_to_lua(rt, value, resp3: bool):
    """(kind, value) for ``redis.call``: top-level statuses and errors become Lua tables
    on the Lua side, so that redis.call can raise the error and redis.pcall return it."""
    kind = type(value)
    if kind is bytes or kind is int:
        return PLAIN, value
    if kind is Raw:
        value = _parse_raw(value)
        kind = type(value)
    if kind is Status:
        return STATUS, value.encode()
    if kind is ReplyError:
        return ERROR_COUNTED, value.message.encode("utf-8", "surrogateescape")
    return PLAIN, to_lua(rt, value, resp3)


def to_lua(rt, value, resp3: bool):
    """One reply value as a Lua value (nested tables built bottom-up)."""
    kind = type(value)
    if kind is bytes:
        return value
    if kind is int:
        return value
    if kind is Status:
        return rt.table_from({b"ok": value.encode()})
    if kind is ReplyError:
        return rt.table_from({b"err": value.message.encode("utf-8", "surrogateescape"),
                              b"ignore_error_stats_update": True})
    if value is None or value is NULL_ARRAY:
        return None if resp3 else False
    if kind is bool:
        return value if resp3 else int(value)
    if kind in (list, tuple, Push):
        table = rt.table()
        for i, item in enumerate(value, 1):
            converted = to_lua(rt, item, resp3)
            if converted is not None:
                table[i] = converted
        return table
    if kind is dict:
        if resp3:
            inner = rt.table()
            for key, item in value.items():
                lua_key = to_lua(rt, key, resp3)
                if lua_key is not None:
                    inner[lua_key] = to_lua(rt, item, resp3)
            return rt.table_from({b"map": inner})
        flat = []
        for key, item in value.items():
            flat.append(key)
            flat.append(item)
        return to_lua(rt, flat, resp3)
    if kind is SetReply:
        if not resp3:
            return to_lua(rt, list(value), resp3)
        inner = rt.table()
        for member in value:
            lua_key = to_lua(rt, member, resp3)
            if lua_key is not None:
                inner[lua_key] = True
        return rt.table_from({b"set": inner})
    if kind is float:
        if resp3:
            return rt.table_from({b"double": value})
        return format_float(value)
    if kind is BigNumber:
        text = b"%d" % value
        return rt.table_from({b"big_number": text}) if resp3 else text
    if kind is Verbatim:
        if not resp3:
            return bytes(value)
        inner = rt.table_from({b"format": bytes(value.fmt), b"string": bytes(value)})
        return rt.table_from({b"verbatim_string": inner})
    if kind is Raw:
        return to_lua(rt, _parse_raw(value), resp3)
    if kind is str:
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    return str(value).encode()


def _parse_raw(data: bytes):
    """A pre-encoded reply (constant replies are kept as Raw bytes) as a value."""
    reader = ReplyReader()
    reader.feed(bytes(data))
    value = reader.get()
    return None if value is NEED_MORE else value

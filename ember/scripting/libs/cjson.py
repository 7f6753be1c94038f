"""lua-cjson 2.1.0 (``cjson``), as bundled with Redis: encode, decode and their settings.

Encoding follows lua_cjson.c: a table whose keys are all positive integers is an array
(holes as ``null``; "excessively sparse" ones are refused), any other table an object,
the empty table ``{}``; numbers use ``%.14g``; ``/`` and control characters are
escaped; ``cjson.null`` (and nil) encode as ``null``. Decoding is its tokenizer and
recursive descent, with the same error texts ("Expected value but found invalid token at
character 1") and limits (1000 levels).
"""

import re
import sys

from lupa import lua51

from ember.scripting.libs import check_string, type_name

_ESCAPES = {i: b"\\u%04x" % i for i in range(32)}
_ESCAPES.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 34: b'\\"',
                 47: b"\\/", 92: b"\\\\", 127: b"\\u007f"})
_NEEDS_ESCAPE = re.compile(rb'[\x00-\x1f"/\\\x7f]')

_WHITESPACE = b" \t\n\r"
# Encoding and decoding recurse once or twice per nesting level, up to 1000 levels.
_RECURSION_NEEDED = 5000
_NUMBER = re.compile(
    rb"[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)")


class Settings:
    """One cjson instance's configuration (cjson.encode_max_depth() & co.)."""

    def __init__(self):
        self.encode_max_depth = 1000
        self.decode_max_depth = 1000
        self.encode_number_precision = 14
        self.encode_keep_buffer = True
        self.encode_invalid_numbers = False
        self.decode_invalid_numbers = True
        self.sparse_convert = False
        self.sparse_ratio = 2
        self.sparse_safe = 10


def _escape(match) -> bytes:
    return _ESCAPES[match.group()[0]]


def _number_text(value, precision: int) -> bytes:
    return b"%.*g" % (precision, value)


class Encoder:
    """cjson.encode for one call."""

    def __init__(self, ctx, settings: Settings):
        self.ctx = ctx
        self.settings = settings
        self.out = []

    def fail(self, value, reason: str):
        """json_encode_exception: "Cannot serialise <type>: <reason>"."""
        raise self.ctx.error(f"Cannot serialise {type_name(value)}: {reason}")

    def number(self, value) -> bytes:
        """A number as cjson writes it (%.14g; NaN/Inf refused by default)."""
        value = float(value) if type(value) is float else value
        if type(value) is float and (value != value or value in (float("inf"), float("-inf"))):
            if not self.settings.encode_invalid_numbers:
                self.fail(value, "must not be NaN or Inf")
            if value != value:
                return b"NaN"
            return b"-Infinity" if value < 0 else b"Infinity"
        return _number_text(value, self.settings.encode_number_precision)

    def string(self, value: bytes) -> bytes:
        """A quoted, escaped JSON string."""
        return b'"' + _NEEDS_ESCAPE.sub(_escape, value) + b'"'

    def value(self, value, depth: int) -> None:
        """Append any Lua value."""
        out = self.out
        kind = type(value)
        if kind is bytes:
            out.append(self.string(value))
        elif kind is bool:
            out.append(b"true" if value else b"false")
        elif kind is int or kind is float:
            out.append(self.number(value))
        elif value is None:
            out.append(b"null")
        else:
            lua_kind = lua51.lua_type(value)
            if lua_kind == "table":
                self.table(value, depth + 1)
            elif lua_kind == "userdata":     # cjson.null: the only userdata scripts hold
                out.append(b"null")
            else:
                self.fail(value, "type not supported")

    def array_length(self, items: list) -> int:
        """lua_array_length: the largest index of an array, 0 for {}, -1 for an object."""
        largest = 0
        for key, _ in items:
            if type(key) is bool or type(key) not in (int, float):
                return -1
            if key < 1 or key != int(key):
                return -1
            largest = max(largest, int(key))
        settings = self.settings
        if (settings.sparse_ratio > 0 and largest > len(items) * settings.sparse_ratio
                and largest > settings.sparse_safe):
            if not settings.sparse_convert:
                raise self.ctx.error("Cannot serialise table: excessively sparse array")
            return -1
        return largest

    def table(self, table, depth: int) -> None:
        """Append a table as an array or an object."""
        if depth > self.settings.encode_max_depth:
            raise self.ctx.error(f"Cannot serialise, excessive nesting ({depth})")
        out = self.out
        items = list(table.items())
        length = self.array_length(items)
        if length > 0:
            values = dict(items)
            out.append(b"[")
            for index in range(1, length + 1):
                if index > 1:
                    out.append(b",")
                self.value(values.get(index), depth)
            out.append(b"]")
            return
        out.append(b"{")
        first = True
        for key, item in items:
            if not first:
                out.append(b",")
            first = False
            kind = type(key)
            if kind is bytes:
                out.append(self.string(key) + b":")
            elif (kind is int or kind is float) and kind is not bool:
                out.append(b'"' + self.number(key) + b'":')
            else:
                raise self.ctx.error(f"Cannot serialise {type_name(key)}: table key must be "
                                     "a number or string")
            self.value(item, depth)
        out.append(b"}")


class Decoder:
    """cjson.decode for one call (json_next_token and the parse contexts)."""

    def __init__(self, ctx, settings: Settings, data: bytes):
        self.ctx = ctx
        self.settings = settings
        cut = data.find(b"\x00")
        self.data = data if cut < 0 else data[:cut]
        self.pos = 0
        self.depth = 0

    # tokens: (kind, value, index); kind is a T_* name, or "error" with value = its text
    def token(self):
        """json_next_token: (kind, value, 0-based index)."""
        data, pos = self.data, self.pos
        while pos < len(data) and data[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos
        if pos >= len(data):
            return "T_END", None, pos
        ch = data[pos]
        simple = {123: "T_OBJ_BEGIN", 125: "T_OBJ_END", 91: "T_ARR_BEGIN",
                  93: "T_ARR_END", 58: "T_COLON", 44: "T_COMMA"}.get(ch)
        if simple is not None:
            self.pos = pos + 1
            return simple, None, pos
        if ch == 34:
            return self.string_token(pos)
        if ch == 45 or 48 <= ch <= 57:
            if not self.settings.decode_invalid_numbers and self.invalid_number(pos):
                return "error", "invalid number", pos
            return self.number_token(pos)
        for word, kind, value in ((b"true", "T_BOOLEAN", True), (b"false", "T_BOOLEAN", False),
                                  (b"null", "T_NULL", None)):
            if data.startswith(word, pos):
                self.pos = pos + len(word)
                return kind, value, pos
        if self.settings.decode_invalid_numbers and self.invalid_number(pos):
            return self.number_token(pos)
        return "error", "invalid token", pos

    def invalid_number(self, pos: int) -> bool:
        """json_is_invalid_number: hex, leading zeros, +, inf/nan."""
        data = self.data
        if data.startswith(b"+", pos):
            return True
        if data.startswith(b"-", pos):
            pos += 1
        if data.startswith(b"0", pos):
            nxt = data[pos + 1] if pos + 1 < len(data) else 0
            return (nxt | 0x20) == ord("x") or 48 <= nxt <= 57
        if pos < len(data) and data[pos] <= ord("9"):
            return False
        head = data[pos:pos + 3].lower()
        return head in (b"inf", b"nan")

    def number_token(self, pos: int):
        """A number token, parsed as strtod would."""
        match = _NUMBER.match(self.data, pos)
        if match is None:
            return "error", "invalid number", pos
        text = match.group()
        try:
            if b"x" in text.lower() and not text.lower().lstrip(b"+-").startswith(b"n"):
                sign = -1.0 if text.startswith(b"-") else 1.0
                value = sign * float.fromhex(text.lstrip(b"+-").decode())
            elif b"(" in text:
                value = float("nan")
            else:
                value = float(text)
        except ValueError:
            return "error", "invalid number", pos
        self.pos = match.end()
        if value == value and abs(value) < 2**53 and value.is_integer() and (
                value or str(value)[0] != "-"):
            value = int(value)
        return "T_NUMBER", value, pos

    def string_token(self, start: int):
        """A string token, escapes decoded."""
        data = self.data
        pos = start + 1
        out = bytearray()
        while True:
            if pos >= len(data):
                return "error", "unexpected end of string", pos
            ch = data[pos]
            if ch == 34:
                break
            if ch != 92:
                out.append(ch)
                pos += 1
                continue
            if pos + 1 >= len(data):
                return "error", "unexpected end of string", pos
            esc = data[pos + 1]
            simple = {34: 34, 92: 92, 47: 47, 98: 8, 102: 12, 110: 10, 114: 13, 116: 9}
            if esc in simple:
                out.append(simple[esc])
                pos += 2
                continue
            if esc != ord("u"):
                return "error", "invalid escape code", pos
            decoded = self.unicode_escape(pos)
            if decoded is None:
                return "error", "invalid unicode escape code", pos
            text, pos = decoded
            out += text
        self.pos = pos + 1
        return "T_STRING", bytes(out), start

    def unicode_escape(self, pos: int):
        """A \\uXXXX escape (with its surrogate pair) as UTF-8, and the next position."""
        def hex4(at):
            chunk = self.data[at:at + 4]
            if len(chunk) != 4 or not all(c in b"0123456789abcdefABCDEF" for c in chunk):
                return None
            return int(chunk, 16)
        code = hex4(pos + 2)
        if code is None:
            return None
        end = pos + 6
        if 0xDC00 <= code <= 0xDFFF:
            return None
        if 0xD800 <= code <= 0xDBFF:
            if self.data[end:end + 2] != b"\\u":
                return None
            low = hex4(end + 2)
            if low is None or not 0xDC00 <= low <= 0xDFFF:
                return None
            code = (((code & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            end += 6
        return chr(code).encode("utf-8", "surrogatepass"), end

    def fail(self, expected: str, token):
        """json_throw_parse_error."""
        kind, value, index = token
        found = value if kind == "error" else kind
        raise self.ctx.error(f"Expected {expected} but found {found} at character {index + 1}")

    def descend(self):
        """One nesting level deeper (decode_max_depth)."""
        self.depth += 1
        if self.depth > self.settings.decode_max_depth:
            raise self.ctx.error(f"Found too many nested data structures ({self.depth}) at "
                                 f"character {self.pos}")

    def value(self, token):
        """json_process_value."""
        kind, value, _ = token
        if kind in ("T_STRING", "T_NUMBER", "T_BOOLEAN"):
            return value
        if kind == "T_NULL":
            return self.ctx.null
        if kind == "T_OBJ_BEGIN":
            return self.object()
        if kind == "T_ARR_BEGIN":
            return self.array()
        self.fail("value", token)

    def object(self):
        """json_parse_object_context."""
        self.descend()
        table = self.ctx.rt.table()
        token = self.token()
        if token[0] == "T_OBJ_END":
            self.depth -= 1
            return table
        while True:
            if token[0] != "T_STRING":
                self.fail("object key string", token)
            key = token[1]
            token = self.token()
            if token[0] != "T_COLON":
                self.fail("colon", token)
            table[key] = self.value(self.token())
            token = self.token()
            if token[0] == "T_OBJ_END":
                self.depth -= 1
                return table
            if token[0] != "T_COMMA":
                self.fail("comma or object end", token)
            token = self.token()

    def array(self):
        """json_parse_array_context."""
        self.descend()
        table = self.ctx.rt.table()
        token = self.token()
        if token[0] == "T_ARR_END":
            self.depth -= 1
            return table
        index = 1
        while True:
            table[index] = self.value(token)
            index += 1
            token = self.token()
            if token[0] == "T_ARR_END":
                self.depth -= 1
                return table
            if token[0] != "T_COMMA":
                self.fail("comma or array end", token)
            token = self.token()

    def decode(self):
        """The whole document, which must end after one value."""
        result = self.value(self.token())
        token = self.token()
        if token[0] != "T_END":
            self.fail("the end", token)
        return result


def members(ctx) -> dict:
    """The ``cjson`` table."""
    if sys.getrecursionlimit() < _RECURSION_NEEDED:
        sys.setrecursionlimit(_RECURSION_NEEDED)
    settings = Settings()

    def encode(*args):
        if len(args) != 1:
            raise ctx.arg_error(1, "encode", "expected 1 argument")
        encoder = Encoder(ctx, settings)
        encoder.value(args[0], 0)
        return b"".join(encoder.out)

    def decode(*args):
        if len(args) != 1:
            raise ctx.arg_error(1, "decode", "expected 1 argument")
        data = check_string(ctx, args, 1, "decode")
        if len(data) >= 2 and (not data[0] or not data[1]):
            raise ctx.error("JSON parser does not support UTF-16 or UTF-32")
        return Decoder(ctx, settings, data).decode()

    def integer_setting(name, func, low, high):
        def call(*args):
            if args and args[0] is not None:
                value = args[0]
                if type(value) not in (int, float) or not low <= value <= high:
                    raise ctx.arg_error(1, func, f"expected integer between {low} and {high}")
                setattr(settings, name, int(value))
            return getattr(settings, name)
        return call

    def bool_setting(name, func):
        def call(*args):
            if args and args[0] is not None:
                value = args[0]
                if value in (True, b"on", 1):
                    setattr(settings, name, True)
                elif value in (False, b"off", 0):
                    setattr(settings, name, False)
                else:
                    raise ctx.arg_error(1, func, "invalid option")
            return getattr(settings, name)
        return call

    def sparse_array(*args):
        if args and args[0] is not None:
            settings.sparse_convert = bool(args[0])
        if len(args) > 1 and args[1] is not None:
            settings.sparse_ratio = int(args[1])
        if len(args) > 2 and args[2] is not None:
            settings.sparse_safe = int(args[2])
        return settings.sparse_convert, settings.sparse_ratio, settings.sparse_safe

    return {
        "encode": encode,
        "decode": decode,
        "encode_max_depth": integer_setting("encode_max_depth", "encode_max_depth",
                                            1, 2**31 - 1),
        "decode_max_depth": integer_setting("decode_max_depth", "decode_max_depth",
                                            1, 2**31 - 1),
        "encode_number_precision": integer_setting("encode_number_precision",
                                                   "encode_number_precision", 1, 14),
        "encode_keep_buffer": bool_setting("encode_keep_buffer", "encode_keep_buffer"),
        "encode_invalid_numbers": bool_setting("encode_invalid_numbers",
                                               "encode_invalid_numbers"),
        "decode_invalid_numbers": bool_setting("decode_invalid_numbers",
                                               "decode_invalid_numbers"),
        "encode_sparse_array": sparse_array,
        "new": lambda *args: None,
        "_NAME": b"cjson",
        "_VERSION": b"2.1.0",
    }

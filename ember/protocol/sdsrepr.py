"""Redis's sdscatrepr: a string quoted so that sdssplitargs reads it back unchanged.

Used wherever ember writes a file Redis also reads line by line: CONFIG REWRITE's
directives and the AOF manifest's file names.
"""

_REPR_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}


def sds_repr(text: str) -> str:
    """Quote ``text`` as Redis's sdscatrepr does (readable back by sdssplitargs)."""
    out = ['"']
    for byte in text.encode("utf-8", "surrogateescape"):
        char = chr(byte)
        if char in '\\"':
            out.append("\\" + char)
        elif char in _REPR_ESCAPES:
            out.append(_REPR_ESCAPES[char])
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append("\\x%02x" % byte)
    out.append('"')
    return "".join(out)

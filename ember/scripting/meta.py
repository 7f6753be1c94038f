"""Script shebangs and library metadata, parsed as Redis 7 parses them.

EVAL scripts may start with ``#!lua [flags=a,b,...]`` (evalExtractShebangFlags); a script
without one runs in compatibility mode (its flags are not checked and it may write
unless run by a ``*_RO`` command). FUNCTION LOAD code must start with
``#!<engine> name=<library>`` (functionExtractLibMetaData). The shebang line is split as
sdssplitargs splits; the body keeps the shebang's newline so that line numbers in
errors stay those of the original text.
"""

from ember.protocol.parser import split_inline

SCRIPT_FLAGS = ("no-writes", "allow-oom", "allow-stale", "no-cluster",
                "allow-cross-slot-keys")


class MetaError(ValueError):
    """A shebang Redis refuses; the message is Redis's text (without "ERR ")."""


def script_shebang(body: bytes):
    """(flags, compat, shebang_length) of an EVAL script body."""
    if not body.startswith(b"#!"):
        return frozenset(), True, 0
    end = body.find(b"\n")
    if end < 0 or b"\x00" in body[:end]:
        raise MetaError("Invalid script shebang")
    parts = split_inline(body[:end])
    if not parts:
        raise MetaError("Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise MetaError("Unexpected engine in script shebang: " + _text(parts[0]))
    flags = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise MetaError("Unknown lua shebang option: " + _text(part))
        value = part[6:]
        for name in (value.split(b",") if value else ()):
            text = _text(name)
            if text not in SCRIPT_FLAGS:
                raise MetaError("Unexpected flag in script shebang: " + text)
            flags.add(text)
    return frozenset(flags), False, end


def library_metadata(code: bytes):
    """(engine, library name, code from the shebang's newline on) of FUNCTION LOAD code."""
    if not code.startswith(b"#!"):
        raise MetaError("Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise MetaError("Invalid library metadata")
    parts = split_inline(code[:end])
    if not parts:
        raise MetaError("Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise MetaError("Invalid metadata value, name argument was given multiple "
                                "times")
            name = part[5:]
            continue
        raise MetaError("Invalid metadata value given: " + _text(part))
    if name is None:
        raise MetaError("Library name was not given")
    return engine, name, code[end:]


def valid_name(name: bytes) -> bool:
    """functionsVerifyName: letters, digits and underscores, at least one."""
    return bool(name) and all(c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122
                              for c in name)


def flag_names(flags) -> list:
    """Flags in Redis's order (FUNCTION LIST)."""
    return [name for name in SCRIPT_FLAGS if name in flags]


def _text(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")

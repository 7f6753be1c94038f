"""Reading AOF files: the command stream, the RDB preamble, truncated tails, bad bytes.

An AOF file (a BASE or an INCR) is an optional RDB preamble (when it starts with
``REDIS``) followed by write commands in RESP multibulk form, with ``#`` annotation lines
skipped, exactly what Redis's loadSingleAppendOnlyFile accepts:

* a line that should start a command or an argument and does not -> format error (the
  server refuses to start: corruption in the middle);
* the file ending inside a command -> a truncated tail: with aof-load-truncated yes and
  only in the last file, the valid prefix is kept and the file is cut there;
* the file ending inside MULTI ... (no EXEC) -> the transaction is rolled back (it was
  never executed) and the file treated as truncated before the MULTI.

Commands are replayed through an ``execute(argv)`` callable (the engine's dispatcher
with a fake client), handed in by the caller; this module knows no server.
"""

import io

from ember.commands.registry import lookup


class AofFormatError(Exception):
    """Bytes that are not an AOF command where one must start (corruption)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


class AofTruncated(Exception):
    """The file ends inside a command (or an unfinished MULTI): ``valid_up_to`` is the
    end of the last complete command outside a transaction."""

    def __init__(self, valid_up_to: int, in_multi: bool = False):
        super().__init__("truncated at %d" % valid_up_to)
        self.valid_up_to = valid_up_to
        self.in_multi = in_multi


class AofUnknownCommand(Exception):
    """A command the server does not know (Redis refuses to start)."""

    def __init__(self, name: bytes, offset: int):
        super().__init__(name.decode("utf-8", "replace"))
        self.name = name
        self.offset = offset


def _atoi(data: bytes) -> int:
    """C's atoi/strtol on a line: leading sign and digits, 0 when none."""
    end = 0
    size = len(data)
    while end < size and data[end] in b" \t":
        end += 1
    start = end
    if end < size and data[end] in b"+-":
        end += 1
    while end < size and 48 <= data[end] <= 57:
        end += 1
    try:
        return int(data[start:end])
    except ValueError:
        return 0


def parse_commands(data, pos: int = 0):
    """Yield ``(argv, end_offset)`` for each command in ``data[pos:]``.

    Raises AofFormatError where a command or argument header is malformed, AofTruncated
    (valid_up_to = end of the last complete command) when the data ends mid-command.
    MULTI bookkeeping is the caller's (see :func:`replay`).
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    size = len(data)
    find = data.find
    valid = pos
    while pos < size:
        eol = find(b"\n", pos)
        if eol < 0:
            raise AofTruncated(valid)
        first = data[pos]
        if first == 35:                       # '#': an annotation line
            pos = valid = eol + 1
            continue
        if first != 42:                       # not '*'
            raise AofFormatError("Bad file format", pos)
        try:
            argc = int(data[pos + 1:eol])     # like strtol: blanks around are fine
        except ValueError:
            argc = _atoi(data[pos + 1:eol])
        if argc < 1:
            raise AofFormatError("Bad file format", pos)
        pos = eol + 1
        argv = []
        for _ in range(argc):
            eol = find(b"\n", pos)
            if eol < 0:
                raise AofTruncated(valid)
            if data[pos] != 36:               # not '$'
                raise AofFormatError("Bad file format", pos)
            try:
                length = int(data[pos + 1:eol])
            except ValueError:
                length = _atoi(data[pos + 1:eol])
            start = eol + 1
            end = start + length
            if length < 0:
                raise AofFormatError("Bad file format", pos)
            if end + 2 > size:
                raise AofTruncated(valid)
            argv.append(data[start:end])
            pos = end + 2
        valid = pos
        yield argv, pos


def replay(data, execute, pos: int = 0, on_progress=None, every: int = 10000):
    """Run every command of ``data[pos:]`` through ``execute(argv)``; return the count.

    Raises AofFormatError, AofUnknownCommand, or AofTruncated with the offset to cut the
    file at (a torn last command, or the start of a MULTI that never got its EXEC, whose
    queued commands were never executed). ``on_progress(offset)`` is called every
    ``every`` commands (the server answers -LOADING clients meanwhile).
    """
    count = 0
    valid_before_multi = None
    valid = pos
    names = {}          # command name as written -> its table name (None: unknown)
    try:
        for argv, end in parse_commands(data, pos):
            first = argv[0]
            name = names.get(first, False)
            if name is False:
                spec, _ = lookup(argv)
                name = names[first] = None if spec is None else spec.name.split("|")[0]
            if name is None:
                raise AofUnknownCommand(first, valid)
            if name == "multi":
                valid_before_multi = valid
            elif name in ("exec", "discard"):
                valid_before_multi = None
            execute(argv)
            valid = end
            count += 1
            if on_progress is not None and count % every == 0:
                on_progress(end)
    except AofTruncated as exc:
        if valid_before_multi is not None:
            raise AofTruncated(valid_before_multi, True) from None
        raise exc from None
    if valid_before_multi is not None:
        raise AofTruncated(valid_before_multi, True)
    return count


def has_rdb_preamble(data) -> bool:
    """True when the file starts with an RDB (aof-use-rdb-preamble, or a RDB BASE)."""
    return bytes(data[:5]) == b"REDIS"


def load_preamble(data, load_rdb, dbs, now_ms=None) -> int:
    """Load the RDB at the start of ``data`` into ``dbs``; return where it ended."""
    stream = io.BytesIO(data) if not isinstance(data, io.BytesIO) else data
    load_rdb(stream.read, dbs, now_ms=now_ms)
    return stream.tell()


def check_commands(data, pos: int = 0):
    """Validate without executing: (valid_up_to, error or None, in_multi) for the checker.

    ``error`` is "format" (a bad header at ``valid_up_to``... the offset of the bad
    line), "truncated" or None.
    """
    in_multi_from = None
    valid = pos
    try:
        for argv, end in parse_commands(data, pos):
            name = argv[0].lower()
            if name == b"multi":
                if in_multi_from is not None:
                    return valid, "nested-multi", True
                in_multi_from = valid
            elif name in (b"exec", b"discard"):
                in_multi_from = None
            valid = end
    except AofFormatError as exc:
        return exc.offset, "format", False
    except AofTruncated as exc:
        if in_multi_from is not None:
            return in_multi_from, "truncated", True
        return exc.valid_up_to, "truncated", False
    if in_multi_from is not None:
        return in_multi_from, "truncated", True
    return valid, None, False

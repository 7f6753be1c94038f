"""RequestParser: client bytes -> complete commands (lists of bytes arguments).

Sans-IO: ``feed(data)`` returns every command that is now complete. Multibulk
(``*N\\r\\n$len\\r\\n...``) and inline (telnet-style) requests are both understood, with
Redis's limits and Redis's exact protocol error texts.

Two paths produce the same commands:

* the fast path splits the whole buffer on CRLF once and walks the pieces, checking each
  declared bulk length against the piece it names; anything unusual (a CRLF inside a
  bulk, a partial command, an odd header, inline input) hands over to
* the slow path, a byte-position state machine that mirrors Redis's
  ``processMultibulkBuffer``/``processInlineBuffer`` and keeps its place across feeds,
  so a huge bulk that arrives in pieces is never re-scanned and a bulk that is declared
  but never sent allocates nothing up front.

After a protocol error, ``error`` holds the message (``Protocol error: ...``); the
commands parsed before the error are still returned, and the caller should reply with the
error and close the connection, as Redis does.
"""

import re
from itertools import chain

from ember.protocol.framing import Framing, Stretch, named
from ember.protocol.numbers import parse_int

INLINE_MAX = 64 * 1024
INT_MAX = (1 << 31) - 1
DEFAULT_MAX_BULK = 512 * 1024 * 1024
UNAUTH_MAX_ARGS = 10
UNAUTH_MAX_BULK = 16384

# Header lookup tables for the fast path: a dict hit replaces int() and its validation.
_COUNTS = {b"*%d" % i: i for i in range(1, 1025)}
_LENGTHS = {b"$%d" % i: i for i in range(0, 65536)}
# The header line of a request of 1 to 99 arguments -> its argument count.
_HEADS = {b"*%d\r\n" % i: i for i in range(1, 100)}
# (header tuple (the "$len" of each argument), command name or None) -> (a compiled
# regex matching one whole command of exactly that framing, its size in bytes); see
# same_shaped and RequestParser.feed's learned framing.
_SHAPES = {}
_SHAPES_MAX = 1024


class ProtocolError(Exception):
    """Raised internally; surfaces as :attr:`RequestParser.error`."""


def split_inline(line: bytes):
    """Split an inline request as Redis's sdssplitargs does; None if quotes are unbalanced."""
    line = line.split(b"\x00", 1)[0]  # Redis parses a C string: NUL ends the line
    if not _NEEDS_FULL_SPLIT.search(line):
        # No quotes, and no \v or \f (which end a token for Python but not for Redis):
        # bytes.split() then splits exactly where sdssplitargs does, at C speed.
        return line.split()
    return split_inline_full(line)


def split_inline_full(line: bytes):
    """sdssplitargs, character by character (quotes, escapes); ``line`` has no NUL."""
    args = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f\x00":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if i >= n:
                if in_double or in_single:
                    return None
                break
            c = line[i]
            if in_double:
                if (c == 0x5C and i + 3 < n and line[i + 1] == 0x78
                        and _is_hex(line[i + 2]) and _is_hex(line[i + 3])):
                    current.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f\x00":
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    current.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f\x00":
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if c in b" \n\r\t\x00":
                    i += 1
                    break
                if c == 0x22:
                    in_double = True
                elif c == 0x27:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


_NEEDS_FULL_SPLIT = re.compile(rb"[\"'\x0b\x0c]")

_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def _is_hex(c: int) -> bool:
    return c in b"0123456789abcdefABCDEF"


_BIG_ARG = 32 * 1024


def _strchr(buf: bytearray, char: bytes, pos: int) -> int:
    """Index of ``char`` at or after ``pos`` as C's strchr finds it, else -1.

    Redis searches its query buffer with strchr, which stops at a NUL byte: a header
    or inline line with a NUL before its line end is "not complete yet" (until the
    buffer passes the 64 KB inline limit), not a line that ends at the NUL.
    """
    found = buf.find(char, pos)
    if found > pos and buf.find(b"\x00", pos, found) >= 0:
        return -1
    return found


def _error_char(byte: int) -> str:
    """The offending byte in "expected '$', got 'X'": raw byte, CR/LF as a space.

    Redis formats it with %c and then blanks CR and LF in error texts; a byte >= 0x80
    is kept as a surrogate so that ``error_bytes`` sends it back unchanged.
    """
    if byte in (0x0D, 0x0A):
        return " "
    return bytes((byte,)).decode("utf-8", "surrogateescape")


def _split_inline_lines(lines: list, count: int):
    """The inline requests of ``lines[:count]`` (no NUL, no CR or LF inside), empty lines
    skipped as Redis skips them; None if a line has unbalanced quotes (the slow path then
    answers the commands before it and the error, in order)."""
    if not any(map(_NEEDS_FULL_SPLIT.search, lines[:count])):
        return [argv for argv in map(bytes.split, lines[:count]) if argv]
    commands = []
    for line in lines[:count]:
        argv = split_inline_full(line)
        if argv is None:
            return None
        if argv:
            commands.append(argv)
    return commands


def same_shaped(data: bytes, first: list, argc: int):
    """The commands of ``data`` if it is nothing but whole requests framed exactly like
    its first one (same argument count and lengths), else None.

    ``first`` is ``data`` split at its first ``2 * argc + 1`` CRLFs. One regex for that
    framing (``[*]2\r\n[$]3\r\nGET\r\n[$]16\r\n(.{16})\r\n``, cached) finds every
    command in C; the matches tile the chunk exactly when their count times the
    command's size is its length, and a CRLF inside an argument is just payload to
    ``.{n}``. The first try takes the command name as written in the first request (a
    pipeline usually repeats one command), so the name is one shared object, hashed
    once; a pipeline of several names of the same length takes a second regex.
    """
    headers = tuple(first[1:2 * argc:2])
    name = first[2]
    if _LENGTHS.get(headers[0]) == len(name):   # (else a CRLF inside the name split it)
        matches = _tiling_matches(data, argc, headers, name)
        if matches is not None:
            return named(name, argc, matches)
    matches = _tiling_matches(data, argc, headers, None)
    if matches is None:
        return None
    if argc == 1:
        return [[arg] for arg in matches]
    return list(map(list, matches))


def _tiling_matches(data: bytes, argc: int, headers: tuple, name):
    """The matches of the regex for this framing (and command name, or any name for
    None) if they tile ``data`` exactly, else None."""
    shape = _SHAPES.get((headers, name)) or _compile_shape(argc, headers, name)
    if shape is None:
        return None
    pattern, size = shape
    if len(data) % size:
        return None
    matches = pattern.findall(data)
    return matches if len(matches) * size == len(data) else None


def _compile_shape(argc: int, headers: tuple, name):
    """Build (and cache) the regex of :func:`same_shaped` for one framing, with the
    command name as a literal (or, for ``name`` None, as a group like the other
    arguments); None when a header is not a plain length (leading zeros, a sign, over
    65535: the parser's)."""
    lengths = [_LENGTHS.get(header) for header in headers]
    if None in lengths:
        return None
    groups = [b"(.{%d})" % length for length in lengths]
    if name is not None:
        groups[0] = re.escape(name)
    pattern = b"[*]%d\r\n" % argc + b"".join(
        b"[$]%d\r\n%s\r\n" % (length, group) for length, group in zip(lengths, groups))
    size = len(b"*%d\r\n" % argc) + sum(len(header) + length + 4
                                        for header, length in zip(headers, lengths))
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    shape = _SHAPES[(headers, name)] = (re.compile(pattern, re.DOTALL), size)
    return shape


class RequestParser:
    """Incremental request parser for one client connection."""

    __slots__ = ("unparsed", "_args", "_argc_left", "_bulklen", "error", "max_bulk",
                 "unauthenticated", "_framing", "_previous")

    def __init__(self, max_bulk: int = DEFAULT_MAX_BULK):
        # Bytes received but not yet part of a complete command (the query buffer).
        self.unparsed = bytearray()
        self._args = []
        self._argc_left = 0
        self._bulklen = -1
        self.error = None
        self.max_bulk = max_bulk
        # When True, Redis 7's pre-AUTH limits apply (10 arguments, 16 KB bulks).
        self.unauthenticated = False
        # The framing this client last repeated (see _learn and protocol/framing.py),
        # or None.
        self._framing = None
        self._previous = 0      # the size of the last single command split below

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete command (the query buffer)."""
        return len(self.unparsed)

    def feed(self, data: bytes) -> list:
        """Add received bytes; return the list of commands that became complete."""
        commands = self.parse(data)
        return commands if type(commands) is list else commands.commands()

    def parse(self, data: bytes):
        """:meth:`feed`, except that a pipeline of the framing this client repeats comes
        back as a :class:`~ember.protocol.framing.Stretch` (its arguments split by
        position, without a list per command) rather than as a list."""
        if self.unparsed or self._argc_left or self.error is not None or self.unauthenticated:
            if self.error is not None:
                return []
            self.unparsed += data
            commands = []
            self._slow(commands)
            return commands
        # Nothing buffered. First, the framing this client repeated last time: one
        # command of it is one regex match, a pipeline of them one findall.
        framing = self._framing
        if framing is not None:
            size = framing.size
            if len(data) == size:
                command = framing.one(data)
                if command is not None:
                    return [command]
            elif not len(data) % size and data.startswith(framing.prefix):
                commands = framing.split(data)
                if commands is not None:
                    return commands
        # A chunk that starts "*N\r\n" (N < 100): split off its first
        # command; if that is all there is (every unpipelined request), check its headers
        # without building lists (the usual shapes written out); if more follows, try the
        # chunk as a run of same-shaped commands (redis-py and redis-benchmark pipelines).
        argc = _HEADS.get(data[:4])
        if argc is None and data[3:5] == b"\r\n":    # "*10\r\n" to "*99\r\n" (MSET ...)
            argc = _HEADS.get(data[:5])
        if argc is not None:
            parts = data.split(b"\r\n", 2 * argc + 1)
            if len(parts) == 2 * argc + 2:
                if not parts[-1]:
                    lengths = _LENGTHS
                    command = None
                    if argc == 2:
                        if lengths.get(parts[1]) == len(parts[2]) and \
                                lengths.get(parts[3]) == len(parts[4]):
                            command = [parts[2], parts[4]]
                    elif argc == 3:
                        if lengths.get(parts[1]) == len(parts[2]) and \
                                lengths.get(parts[3]) == len(parts[4]) and \
                                lengths.get(parts[5]) == len(parts[6]):
                            command = [parts[2], parts[4], parts[6]]
                    elif argc == 1:
                        if lengths.get(parts[1]) == len(parts[2]):
                            command = [parts[2]]
                    elif list(map(lengths.get, parts[1:-1:2])) == list(map(len, parts[2:-1:2])):
                        command = parts[2:-1:2]
                    if command is not None:
                        # The same size twice in a row: likely the same framing again.
                        if len(data) == self._previous:
                            self._learn(data, parts, argc)
                        self._previous = len(data)
                        return [command]
                else:
                    commands = same_shaped(data, parts, argc)
                    if commands is not None:
                        if commands[0][0] is parts[2]:  # matched with the name as written
                            self._learn(data, parts, argc)
                        return commands
        return self._split(data)

    def _split(self, data: bytes) -> list:
        """:meth:`feed` for a chunk none of its shortcuts took (a pipeline of several
        commands or framings, inline input, a partial or malformed request), with nothing
        buffered before it."""
        # Split the whole chunk once and take the complete commands it starts with.
        parts = data.split(b"\r\n")
        argc = _COUNTS.get(parts[0])
        last = len(parts) - 1
        if argc is not None:
            commands, consumed = self._fast(parts, argc, last, len(data))
            if consumed == len(data):
                return commands
            self.unparsed += data[consumed:] if consumed else data
        elif last == 1 and not parts[1] and parts[0][:1] != b"*" \
                and b"\n" not in parts[0] and b"\x00" not in parts[0]:
            # One inline request (telnet style, redis-benchmark's PING_INLINE); a NUL
            # hides the line end from Redis's strchr, so such a line is the slow path's.
            argv = split_inline(parts[0])
            if argv is not None:
                return [argv] if argv else []
            commands = []
            self.unparsed += data
        elif parts[0][:1] != b"*" and not parts[last] and len(data) <= INLINE_MAX \
                and b"\n*" not in data and data.count(b"\n") == last \
                and b"\x00" not in data:
            # A pipeline of whole inline requests (redis-benchmark's PING_INLINE -P 16):
            # every line ends in CRLF, none is multibulk, none can pass the inline limit.
            if parts.count(parts[0]) == last:   # one line, repeated: a Stretch of it
                argv = split_inline(parts[0])
                if argv:
                    return Stretch(argv[0], len(argv), last, tuple(argv[1:]) * last)
            commands = _split_inline_lines(parts, last)
            if commands is not None:
                return commands
            commands = []
            self.unparsed += data
        else:
            commands = []
            self.unparsed += data
        self._slow(commands)
        return commands

    def _learn(self, data: bytes, parts: list, argc: int) -> None:
        """Remember a framing this client repeats: a pipeline of same-shaped commands, or
        a single command of the same size as the one before. ``data`` starts
        with such a command; ``parts`` is it split at its CRLFs (and the rest after).

        Clients repeat a framing (same arguments' lengths, same command name: a pipeline
        of GETs, an MSET of fixed-size keys and values), and then one regex match of the
        next chunk checks and splits its commands in C, without splitting off the first
        command and looking its framing up again (a third of a pipelined GET's parse,
        half of an unpipelined GET's, two thirds of an unpipelined MSET's). A chunk of
        another size or framing fails the match (or is not tried) and takes the usual
        path, which learns anew.
        """
        name = parts[2]
        headers = tuple(parts[1:2 * argc:2])
        shape = _SHAPES.get((headers, name)) or _compile_shape(argc, headers, name)
        if shape is not None:
            pattern, size = shape
            start = size if argc == 1 else sum(map(len, parts[:4])) + 8
            self._framing = Framing(data[:size], pattern, name, data[:start], argc,
                                    [_LENGTHS[header] for header in headers])

    @staticmethod
    def _fast(parts: list, argc: int, last: int, size: int):
        """Parse whole well-formed multibulk commands from a chunk already split at CRLF
        (``parts``, whose first piece is the ``*argc`` header and whose ``last`` piece
        follows the final CRLF, of a chunk of ``size`` bytes); return (commands, bytes
        consumed). A whole chunk of one command with the same argument count (a redis-py
        pipeline of GETs of keys of several lengths) is returned as a Stretch.

        Every ``$N`` header is checked against the length of the piece it precedes, so a
        CRLF inside a bulk (which splits it) is always detected and left to the slow path.
        """
        period = 2 * argc + 1
        if last % period == 0 and not parts[last] and \
                parts[0:last:period].count(parts[0]) == last // period:
            # A pipeline of same-shaped commands: validate column by column.
            lengths_get = _LENGTHS.get
            for column in range(1, period, 2):
                if list(map(lengths_get, parts[column:last:period])) != \
                        list(map(len, parts[column + 1:last:period])):
                    break
            else:
                names = parts[2:last:period]
                if names.count(names[0]) == len(names):     # one command: a Stretch
                    columns = [parts[column:last:period] for column in range(4, period, 2)]
                    args = tuple(columns[0] if argc == 2 else
                                 chain.from_iterable(zip(*columns))) if columns else ()
                    return Stretch(names[0], argc, len(names), args), size
                return [parts[k + 2:k + period:2] for k in range(0, last, period)], size
        # Commands of several framings: each header checked against its piece (the
        # usual two- and three-argument shapes written out, cheaper than slicing).
        lengths_get = _LENGTHS.get
        counts = _COUNTS
        i = 0
        commands = []
        append = commands.append
        while i < last:
            argc = counts.get(parts[i])
            if argc is None:
                break
            end = i + 1 + 2 * argc
            if end > last:
                break
            if argc == 2:
                if lengths_get(parts[i + 1]) != len(parts[i + 2]) or \
                        lengths_get(parts[i + 3]) != len(parts[i + 4]):
                    break
                append([parts[i + 2], parts[i + 4]])
            elif argc == 3:
                if lengths_get(parts[i + 1]) != len(parts[i + 2]) or \
                        lengths_get(parts[i + 3]) != len(parts[i + 4]) or \
                        lengths_get(parts[i + 5]) != len(parts[i + 6]):
                    break
                append([parts[i + 2], parts[i + 4], parts[i + 6]])
            else:
                args = parts[i + 2:end:2]
                if list(map(lengths_get, parts[i + 1:end:2])) != list(map(len, args)):
                    break
                append(args)
            i = end
        if i == last and not parts[last]:
            return commands, size
        return commands, sum(map(len, parts[:i])) + 2 * i

    def _slow(self, commands: list) -> None:
        buf = self.unparsed
        pos = 0
        size = len(buf)
        try:
            while pos < size or self._argc_left:
                if not self._argc_left:
                    if buf[pos] == 0x2A:  # '*'
                        nl = _strchr(buf, b"\r", pos)
                        if nl < 0:
                            if size - pos > INLINE_MAX:
                                raise ProtocolError("Protocol error: too big mbulk count string")
                            break
                        if nl > size - 2:
                            break
                        count = parse_int(bytes(buf[pos + 1:nl]))
                        if count is None or count > INT_MAX:
                            raise ProtocolError("Protocol error: invalid multibulk length")
                        if count > UNAUTH_MAX_ARGS and self.unauthenticated:
                            raise ProtocolError(
                                "Protocol error: unauthenticated multibulk length")
                        pos = nl + 2
                        if count > 0:
                            self._argc_left = count
                            self._args = []
                        continue
                    nl = _strchr(buf, b"\n", pos)
                    if nl < 0:
                        if size - pos > INLINE_MAX:
                            raise ProtocolError("Protocol error: too big inline request")
                        break
                    end = nl - 1 if nl > pos and buf[nl - 1] == 0x0D else nl
                    argv = split_inline(bytes(buf[pos:end]))
                    if argv is None:
                        raise ProtocolError("Protocol error: unbalanced quotes in request")
                    pos = nl + 1
                    if argv:
                        commands.append(argv)
                        if self.unauthenticated:
                            break
                    continue
                # Inside a multibulk: read bulk headers and payloads.
                if self._bulklen < 0:
                    nl = _strchr(buf, b"\r", pos)
                    if nl < 0:
                        if size - pos > INLINE_MAX:
                            raise ProtocolError("Protocol error: too big bulk count string")
                        break
                    if nl > size - 2:
                        break
                    if buf[pos] != 0x24:  # '$'
                        raise ProtocolError(
                            "Protocol error: expected '$', got '%s'" % _error_char(buf[pos]))
                    length = parse_int(bytes(buf[pos + 1:nl]))
                    if length is None or length < 0 or length > self.max_bulk:
                        raise ProtocolError("Protocol error: invalid bulk length")
                    if length > UNAUTH_MAX_BULK and self.unauthenticated:
                        raise ProtocolError("Protocol error: unauthenticated bulk length")
                    pos = nl + 2
                    self._bulklen = length
                if size - pos < self._bulklen + 2:
                    break
                end = pos + self._bulklen
                # A big argument is copied once (through a view), not twice.
                self._args.append(bytes(memoryview(buf)[pos:end]) if self._bulklen > _BIG_ARG
                                  else bytes(buf[pos:end]))
                pos = end + 2
                self._bulklen = -1
                self._argc_left -= 1
                if not self._argc_left:
                    commands.append(self._args)
                    self._args = []
                    if self.unauthenticated:
                        break  # the caller runs it (maybe AUTH) before parsing on
        except ProtocolError as exc:
            self.error = str(exc)
            buf.clear()
            return
        if pos:
            del buf[:pos]

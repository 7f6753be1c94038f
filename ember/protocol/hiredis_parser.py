"""An optional request parser that lets hiredis's C reader do the splitting.

Selected with ``EMBER_PARSER=hiredis`` when the ``ember[hiredis]`` extra is installed; the
pure :class:`~ember.protocol.parser.RequestParser` stays the default and remains the
authority. Its shortcuts come first (a learned framing, a single command, a pipeline of
one framing: each a split by position or a regex match, cheaper than hiredis's reply
objects plus the checks below). hiredis takes what they leave, a pipeline of several
commands or framings, where it is a little cheaper than the pure split (8.6k against 9.1k
instructions per command for sixteen mixed SET/GET/INCR/HSET; benchmarks/README.md).
That includes a pipeline of one command with arguments of several lengths, which the
pure split would hand over as a Stretch: here it comes back as lists.

hiredis is trusted with a chunk only when it turns out to be nothing but complete,
canonically framed multibulk requests of bulk strings. That is checked after the fact
with C-speed operations: every element is ``bytes``, no command is partial, and the
canonical encoding of the commands is exactly as long as the bytes received. Anything
else (inline input, a partial command, a protocol error, a null or nested element, a
length with a leading zero, a bulk over proto-max-bulk-len, the pre-AUTH limits) is
handed to the pure parser, which produces Redis's exact behaviour and error texts.
"""

import re
from itertools import chain

import hiredis

from ember.protocol.parser import DEFAULT_MAX_BULK, RequestParser

# Every element header follows a CRLF, so an element that is not a bulk string (a status,
# integer, error or RESP3 type, which hiredis would hand back as bytes or a number) shows
# as CRLF + its type byte. The same bytes inside a payload only cost a fallback.
_NON_BULK_ELEMENT = re.compile(rb"\r\n[-+:_,#(=%~>|!]")

# Bytes a bulk of length n costs beyond its payload: "$" n "\r\n" ... "\r\n".
_BULK_OVERHEAD = [len(b"$%d\r\n\r\n" % n) for n in range(65536)]
# Bytes an array header of n elements costs: "*" n "\r\n".
_ARRAY_OVERHEAD = [len(b"*%d\r\n" % n) for n in range(1025)]


class HiredisRequestParser(RequestParser):
    """RequestParser that hands whole, well-formed chunks to hiredis.Reader."""

    __slots__ = ("_reader",)

    def __init__(self, max_bulk: int = DEFAULT_MAX_BULK):
        super().__init__(max_bulk)
        self._reader = hiredis.Reader()

    def _split(self, data: bytes) -> list:
        """RequestParser's split of a chunk its shortcuts did not take (a pipeline of
        several commands or framings), tried with hiredis first."""
        if data[:1] == b"*":
            commands = self._parse_whole(data)
            if commands is not None:
                return commands
            self._reader = hiredis.Reader()   # drop whatever hiredis kept of this chunk
        return super()._split(data)

    def _parse_whole(self, data: bytes):
        """The commands in ``data`` if it is only complete canonical requests, else None."""
        if _NON_BULK_ELEMENT.search(data):
            return None
        reader = self._reader
        reader.feed(data)
        gets = reader.gets
        commands = []
        try:
            while True:
                command = gets()
                if command is False:
                    break
                commands.append(command)
        except hiredis.ProtocolError:
            return None
        try:
            arguments = list(chain.from_iterable(commands))
            if set(map(type, arguments)) - {bytes}:
                return None   # an integer, status, nested or RESP3 element
            sizes = list(map(len, arguments))
            counts = list(map(len, commands))
            # The tables stop at 65535-byte bulks and 1024-element requests, so bigger
            # ones raise IndexError and go to the pure parser (which also applies
            # proto-max-bulk-len: it cannot be set below 1 MB).
            expected = (sum(sizes) + sum(map(_BULK_OVERHEAD.__getitem__, sizes))
                        + sum(map(_ARRAY_OVERHEAD.__getitem__, counts)))
        except (TypeError, IndexError):
            return None
        if expected != len(data) or 0 in counts:
            # A partial command, framing Redis would not accept (every deviation left
            # is longer than the canonical form), or an empty request ("*0", "*"):
            # the pure parser decides.
            return None
        return commands


"""A framing a client repeats, and a pipeline of it split by position.

Clients repeat a framing: the same command with arguments of the same lengths (a
pipeline of GETs of fixed-size keys, an MSET of fixed-size keys and values).
``RequestParser`` learns one (``RequestParser._learn``) and keeps it as a
:class:`Framing`. In a chunk of N such commands every argument sits at a known offset, so
one precompiled ``struct.Struct`` (``"16s6x3s..."``: the arguments as fields, the bytes
between them as padding) takes them all in one C call, and every other byte (the
``*N``/``$len`` headers, the command name, the CRLFs) is checked at once by formatting the
arguments back into the framing's template and comparing the result with the chunk: equal
means the chunk is exactly N commands of this framing, and a CRLF inside an argument is
just payload. Neither step scans the chunk byte by byte, as a regex does (half a pipelined
GET's parse, and a third of an unpipelined MSET's, went to that scan).
"""

from itertools import repeat
from struct import Struct

# Chunks of more commands than this, or of more arguments in all (name included) than
# MAX_TILED_ARGS, are split with the regex: no per-count tiling (struct and template) is
# kept for them, so a tiling stays small (a few KB) and quick to build.
MAX_TILED = 256
MAX_TILED_ARGS = 1024
# Tilings kept per framing (by command count), for pipelines of several depths.
_TILINGS_MAX = 8


def named(name: bytes, argc: int, matches: list) -> list:
    """The commands of a same-shaped chunk matched with ``name`` as a literal: ``name``
    (one object for all) followed by each match's groups."""
    if argc == 1:
        return [[name] for _ in matches]
    if argc == 2:
        return [[name, arg] for arg in matches]
    if argc == 3:
        return [[name, key, value] for key, value in matches]
    return [[name, *args] for args in matches]


class Stretch:
    """A chunk of ``count`` commands of one framing (a pipeline repeating one command),
    kept as the command name and every command's other arguments in one flat tuple, so
    that a run (commands/runs.py) can take them without a list per command."""

    __slots__ = ("name", "argc", "count", "args")

    def __init__(self, name: bytes, argc: int, count: int, args: tuple):
        self.name = name
        self.argc = argc
        self.count = count
        self.args = args

    def items(self):
        """The commands as tuples, made as they are taken (``zip`` reuses its tuple
        when the taker keeps none): what a run function iterates."""
        if self.argc == 1:
            return repeat((self.name,), self.count)
        if self.argc == 2:
            return zip(repeat(self.name), self.args)
        args = iter(self.args)
        return zip(repeat(self.name), *[args] * (self.argc - 1))

    def commands(self, start: int = 0) -> list:
        """The commands from the ``start``-th on, as the argument lists the parser hands
        out."""
        name = self.name
        if self.argc == 1:
            return [[name] for _ in range(start, self.count)]
        if self.argc == 2:
            return [[name, arg] for arg in self.args[start:]]
        per = self.argc - 1
        args = self.args
        return [[name, *args[index:index + per]]
                for index in range(start * per, len(args), per)]

    def command(self, index: int) -> list:
        """The ``index``-th command as an argument list."""
        per = self.argc - 1
        return [self.name, *self.args[per * index:per * index + per]]


class Framing:
    """One command's framing: its size, its regex (name as a literal), its name, the bytes
    every such command starts with, its argument count; and its tilings (see module)."""

    __slots__ = ("size", "pattern", "name", "prefix", "argc", "_spans", "_template",
                 "_tilings", "_single", "_stretch")

    def __init__(self, command: bytes, pattern, name: bytes, prefix: bytes, argc: int,
                 lengths: list):
        """``command`` is one whole command of this framing; ``lengths`` the lengths of
        its arguments (name included), as its ``$len`` headers give them."""
        self.size = len(command)
        self.pattern = pattern
        self.name = name
        self.prefix = prefix
        self.argc = argc
        # Where each argument after the name lies in one command, and the command as a
        # bytes-format template with those arguments as %s.
        spans = []
        position = len(b"*%d\r\n" % argc)
        for length in lengths:
            position += len(b"$%d\r\n" % length)
            spans.append((position, position + length))
            position += length + 2
        self._spans = spans[1:]
        template = []
        previous = 0
        for start, stop in self._spans:
            template.append(command[previous:start].replace(b"%", b"%%") + b"%s")
            previous = stop
        template.append(command[previous:].replace(b"%", b"%%"))
        self._template = b"".join(template)
        self._tilings = {}
        self._single = self._tiling(1)
        # The one Stretch this framing hands out, refilled for each chunk (making one
        # costs as much as splitting a GET): it holds until the parser's next chunk.
        self._stretch = Stretch(name, argc, 0, ())

    def one(self, data: bytes):
        """The command ``data`` is, as an argument list, if it is one command of this
        framing (``data`` has its size); else None."""
        unpack, expected = self._single
        if unpack is None:      # no argument to take (PING): the command is known whole
            return [self.name] if data == expected else None
        args = unpack(data)
        if expected % args != data:
            return None
        return [self.name, *args]

    def split(self, data: bytes):
        """The commands of ``data``, a chunk of two or more commands' size that starts
        with ``prefix``, if it is nothing but commands of this framing: a
        :class:`Stretch` when split by position (this framing's one, valid until the
        next chunk), a list when by regex; else None."""
        count = len(data) // self.size
        if count > MAX_TILED or count * self.argc > MAX_TILED_ARGS:
            matches = self.pattern.findall(data)
            if len(matches) * self.size != len(data):
                return None
            return named(self.name, self.argc, matches)
        unpack, expected = self._tilings.get(count) or self._tile(count)
        if unpack is None:      # no argument to take (PING): the chunk is known whole
            if data != expected:
                return None
            args = ()
        else:
            args = unpack(data)
            if expected % args != data:
                return None
        stretch = self._stretch
        stretch.count = count
        stretch.args = args
        return stretch

    def _tile(self, count: int) -> tuple:
        """(the unpack of a ``struct.Struct`` that takes every argument of ``count``
        commands, the template of ``count`` commands), built once per count; for a
        command without arguments, (None, the chunk)."""
        if len(self._tilings) >= _TILINGS_MAX:
            self._tilings.clear()
        tiling = self._tilings[count] = self._tiling(count)
        return tiling

    def _tiling(self, count: int) -> tuple:
        """:meth:`_tile`'s pair, built. The struct's format repeats one command's fields
        (``"<6x16s6x3s...6x3s"``: the bytes before an argument as padding, the argument
        as a field), with the padding before the first argument of each later command
        running on from the end of the last argument of the one before it."""
        if not self._spans:
            return None, self._template.replace(b"%%", b"%") * count
        spans = self._spans
        fields = []     # one command's, from its first argument to the end of its last
        for (_, stop), (start, end) in zip([(0, spans[0][0])] + spans, spans):
            if start > stop:
                fields.append(b"%dx" % (start - stop))
            fields.append(b"%ds" % (end - start))
        first, last = spans[0][0], spans[-1][1]
        one = b"".join(fields)
        between = b"%dx" % (self.size - last + first)
        tail = b"%dx" % (self.size - last) if self.size > last else b""
        head = b"%dx" % first if first else b""
        layout = b"<" + head + one + (between + one) * (count - 1) + tail
        return Struct(layout).unpack, self._template * count

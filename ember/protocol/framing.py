"""A framing a client repeats, and a pipeline of it split by position.

Clients repeat a framing: the same command with arguments of the same lengths (a
pipeline of GETs of fixed-size keys, an MSET of fixed-size keys and values).
``RequestParser`` learns one (``RequestParser._learn``) and keeps it as a
:class:`Framing`. In a chunk of N such commands every argument sits at a known offset, so
:meth:`Framing.split` takes them all with one ``itemgetter`` of slices and checks every
other byte (the ``*N``/``$len`` headers, the command name, the CRLFs) at once by
formatting the arguments back into the framing's template and comparing the result with
the chunk: equal means the chunk is exactly N commands of this framing, and a CRLF inside
an argument is just payload. Both steps run in C without scanning the chunk byte by byte,
as the regex the parser falls back to does (about a third of a pipelined GET's
instructions went to that scan).
"""

from itertools import repeat
from operator import itemgetter

# Chunks of more commands than this are split with the regex (no per-count tiling kept).
MAX_TILED = 256
# Commands of more arguments (name included) than this are split with the regex too:
# slicing and formatting cost more per argument than scanning a short one (a pipelined
# MSET of ten 16-byte keys and 3-byte values: 48k instructions per command by regex,
# 53k by tiling; a GET: 1.7k against 1.0k).
MAX_TILED_ARGC = 3
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
        pairs = iter(self.args)
        return zip(repeat(self.name), pairs, pairs)

    def commands(self, start: int = 0) -> list:
        """The commands from the ``start``-th on, as the argument lists the parser hands
        out."""
        name = self.name
        if self.argc == 1:
            return [[name] for _ in range(start, self.count)]
        if self.argc == 2:
            return [[name, arg] for arg in self.args[start:]]
        pairs = iter(self.args[2 * start:])
        return [[name, key, value] for key, value in zip(pairs, pairs)]

    def command(self, index: int) -> list:
        """The ``index``-th command as an argument list."""
        per = self.argc - 1
        return [self.name, *self.args[per * index:per * index + per]]


class Framing:
    """One command's framing: its size, its regex (name as a literal), its name, the bytes
    every such command starts with, its argument count; and its tilings (see module)."""

    __slots__ = ("size", "pattern", "name", "prefix", "argc", "_spans", "_template",
                 "_tilings")

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

    def split(self, data: bytes):
        """The commands of ``data``, a chunk of two or more commands' size that starts
        with ``prefix``, if it is nothing but commands of this framing: a
        :class:`Stretch` when split by position, a list when by regex; else None."""
        count = len(data) // self.size
        if count > MAX_TILED or self.argc > MAX_TILED_ARGC:
            matches = self.pattern.findall(data)
            if len(matches) * self.size != len(data):
                return None
            return named(self.name, self.argc, matches)
        take, expected = self._tilings.get(count) or self._tile(count)
        if take is None:        # no argument to take (PING): the chunk is known whole
            return Stretch(self.name, 1, count, ()) if data == expected else None
        args = take(data)
        if expected % args != data:
            return None
        return Stretch(self.name, self.argc, count, args)

    def _tile(self, count: int) -> tuple:
        """(an itemgetter of every argument's slice, the template of ``count`` commands),
        built once per count; for a command without arguments, (None, the chunk)."""
        if len(self._tilings) >= _TILINGS_MAX:
            self._tilings.clear()
        size = self.size
        if not self._spans:
            tiling = (None, self._template.replace(b"%%", b"%") * count)
        else:
            slices = [slice(i * size + start, i * size + stop)
                      for i in range(count) for start, stop in self._spans]
            tiling = (itemgetter(*slices), self._template * count)
        self._tilings[count] = tiling
        return tiling

"""Redis's glob patterns (KEYS, SCAN MATCH, PSUBSCRIBE ...), compiled to a linear-time matcher.

Redis's ``stringmatchlen`` walks the pattern byte by byte with recursion at every ``*``.
Its dialect, quirks included, is reproduced here exactly:

- ``*`` any run of bytes, ``?`` one byte, ``\\x`` the byte x (a lone trailing ``\\`` is
  a literal backslash);
- ``[...]`` a byte class: ``^`` first negates it, ``a-z`` is a range (reversed ranges are
  swapped; bytes compare as C's *signed* char, so ``[a-\\xff]`` spans -1..97), ``\\``
  escapes inside it, ``]`` right after the ``-`` of a range is the range's end (so the
  class goes on), and an unterminated class ends with the pattern;
- the empty string matches only the empty pattern (``*`` does not match it: KEYS and SCAN
  special-case the exact pattern ``*`` before calling the matcher);
- a match that has to go through more than 1000 ``*`` (not counting a final one) fails:
  Redis 7 stops its recursion at that depth.

Everything else is the plain language of the token sequence, so the pattern is compiled
(once, cached) to a Python regular expression. A backtracking regex of ``a*a*a*b`` is
polynomial in the subject's length, so the segments between stars are matched with the
greedy leftmost strategy, each inside an atomic lookahead ``(?=(?P<g>.*?SEG))(?P=g)``: a segment
placed at its leftmost position never has to move (whatever follows starts with ``*``),
which is the same argument as Redis's "skipLongerMatches" guard. Matching is linear in the
subject times the pattern.
"""

import re
from functools import lru_cache

_STAR = None
_MAX_STARS = 1000
_ALL_BYTES = frozenset(range(256))


def _signed(byte: int) -> int:
    """A byte as C's (signed) char."""
    return byte - 256 if byte >= 128 else byte


def _lower(value: int) -> int:
    """C's tolower in the "C" locale, on a (possibly negative) char value."""
    return value + 32 if 65 <= value <= 90 else value


def _class_members(items: list, negate: bool, nocase: bool) -> frozenset:
    """The bytes a ``[...]`` class accepts, evaluated exactly as stringmatchlen does."""
    members = set()
    for byte in range(256):
        char = _signed(byte)
        match = False
        for kind, first, last in items:
            if kind == "exact":                 # an escaped byte: never case-folded
                match = match or first == byte
            elif kind == "range":
                start, end = _signed(first), _signed(last)
                if start > end:
                    start, end = end, start
                c = char
                if nocase:
                    start, end, c = _lower(start), _lower(end), _lower(c)
                match = match or start <= c <= end
            elif nocase:
                match = match or _lower(_signed(first)) == _lower(char)
            else:
                match = match or first == byte
        if match != negate:
            members.add(byte)
    return frozenset(members)


def _parse_class(pattern: bytes, i: int, nocase: bool):
    """Parse the class whose ``[`` is at ``i``; return (member bytes, index after it)."""
    n = len(pattern)
    i += 1
    negate = i < n and pattern[i] == 0x5E            # '^'
    if negate:
        i += 1
    items = []
    while True:
        if i < n and pattern[i] == 0x5C and n - i >= 2:      # '\\' escapes one byte
            i += 1
            items.append(("exact", pattern[i], None))
        elif i < n and pattern[i] == 0x5D:                   # ']' closes the class
            break
        elif i >= n:                                         # unterminated: stop at end
            i -= 1
            break
        elif n - i >= 3 and pattern[i + 1] == 0x2D:          # 'x-y' range
            items.append(("range", pattern[i], pattern[i + 2]))
            i += 2
        else:
            items.append(("literal", pattern[i], None))
        i += 1
    return _class_members(items, negate, nocase), i + 1


def _literal(byte: int, nocase: bool) -> frozenset:
    if nocase and (65 <= byte <= 90 or 97 <= byte <= 122):
        return frozenset((byte | 0x20, byte & ~0x20))
    return frozenset((byte,))


def tokenize(pattern: bytes, nocase: bool = False) -> list:
    """The pattern as a list of tokens: None for ``*`` (runs collapsed), else the frozenset
    of bytes that one position accepts."""
    tokens = []
    n = len(pattern)
    i = 0
    while i < n:
        byte = pattern[i]
        if byte == 0x2A:                                     # '*'
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            tokens.append(_STAR)
            i += 1
        elif byte == 0x3F:                                   # '?'
            tokens.append(_ALL_BYTES)
            i += 1
        elif byte == 0x5B:                                   # '['
            members, i = _parse_class(pattern, i, nocase)
            tokens.append(members)
        else:
            if byte == 0x5C and n - i >= 2:                  # '\\x'
                i += 1
                byte = pattern[i]
            tokens.append(_literal(byte, nocase))
            i += 1
    return tokens


def _byte_class(members: frozenset) -> bytes:
    """A regex (bytes) accepting exactly ``members`` at one position."""
    if len(members) == 256:
        return b"."
    if not members:
        return rb"[^\x00-\xff]"
    if len(members) == 1:
        return re.escape(bytes(members))
    ranges = []
    start = prev = None
    for byte in sorted(members):
        if prev is not None and byte == prev + 1:
            prev = byte
            continue
        if start is not None:
            ranges.append((start, prev))
        start = prev = byte
    ranges.append((start, prev))
    parts = [b"\\x%02x-\\x%02x" % r if r[0] != r[1] else b"\\x%02x" % r[0] for r in ranges]
    return b"[" + b"".join(parts) + b"]"


def _segment(tokens: list) -> bytes:
    return b"".join(_byte_class(t) for t in tokens)


class Glob:
    """A compiled pattern: ``match(s)`` and ``filter(keys)`` with Redis's results."""

    __slots__ = ("pattern", "match_all", "never", "_fullmatch", "_empty_matches")

    def __init__(self, pattern: bytes, nocase: bool = False):
        self.pattern = pattern
        tokens = tokenize(pattern, nocase)
        stars = tokens.count(_STAR) - (1 if tokens and tokens[-1] is _STAR else 0)
        # The exact pattern "*" is what KEYS/SCAN treat as "everything" (empty key too).
        self.match_all = pattern == b"*"
        self.never = stars > _MAX_STARS
        self._empty_matches = pattern == b""
        segments = [[]]
        for token in tokens:
            if token is _STAR:
                segments.append([])
            else:
                segments[-1].append(token)
        if len(segments) == 1:
            regex = _segment(segments[0])
        else:
            parts = [_segment(segments[0])]
            for number, middle in enumerate(segments[1:-1], start=1):
                # Atomic leftmost placement: lookahead captures, the backreference eats it.
                parts.append(b"(?=(?P<g%d>.*?%s))(?P=g%d)" % (number, _segment(middle), number))
            parts.append(b".*" + _segment(segments[-1]))
            regex = b"".join(parts)
        self._fullmatch = None if self.never else re.compile(regex, re.DOTALL).fullmatch

    def match(self, subject: bytes) -> bool:
        """True if ``subject`` matches, exactly as Redis's stringmatchlen answers."""
        if not subject:
            return self._empty_matches
        if self.never:
            return False
        return self._fullmatch(subject) is not None

    def filter(self, subjects) -> list:
        """The subjects that match, in order (C-speed loop for big keyspaces)."""
        if self.never:
            return [s for s in subjects if not s and self._empty_matches]
        found = list(filter(self._fullmatch, subjects))
        if not self._empty_matches and found and b"" in found:
            found = [s for s in found if s]
        return found


@lru_cache(maxsize=512)
def compile_glob(pattern: bytes, nocase: bool = False) -> Glob:
    """The compiled, cached matcher for ``pattern``."""
    return Glob(bytes(pattern), nocase)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """One-off match of ``subject`` against ``pattern`` (Redis's stringmatchlen)."""
    return compile_glob(bytes(pattern), nocase).match(subject)

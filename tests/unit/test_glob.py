"""The glob matcher against a line-by-line port of Redis 7's stringmatchlen.

``redis_stringmatchlen`` below is the reference: the C function transcribed statement by
statement (recursion at '*', the shared skipLongerMatches flag, the 1000-deep nesting
guard, reads of the NUL terminator past the pattern's end, signed chars in ranges).
ember's compiled matcher must answer exactly as it does, on random patterns and subjects
over the hostile alphabet, case-sensitive and not, and must stay fast where naive
backtracking explodes. tests/compat/test_keys_compat.py checks the same against KEYS on
a real redis-server.
"""

import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.storage.glob import Glob, compile_glob, glob_match


def redis_stringmatchlen(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """Redis 7's stringmatchlen_impl, transcribed."""
    p = pattern + b"\0"              # C strings: reading one past the end sees NUL
    s = string + b"\0"
    skip_longer = [False]

    def signed(b):
        return b - 256 if b >= 128 else b

    def lower(v):
        return v + 32 if 65 <= v <= 90 else v

    def impl(pi, plen, si, slen, nesting):
        if nesting > 1000:
            return False
        while plen and slen:
            c = p[pi]
            if c == 0x2A:                                            # '*'
                while plen and p[pi + 1] == 0x2A:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if impl(pi + 1, plen - 1, si, slen, nesting + 1):
                        return True
                    if skip_longer[0]:
                        return False
                    si += 1
                    slen -= 1
                skip_longer[0] = True
                return False
            elif c == 0x3F:                                          # '?'
                si += 1
                slen -= 1
            elif c == 0x5B:                                          # '['
                pi += 1
                plen -= 1
                negate = p[pi] == 0x5E
                if negate:
                    pi += 1
                    plen -= 1
                match = False
                while True:
                    if p[pi] == 0x5C and plen >= 2:
                        pi += 1
                        plen -= 1
                        if p[pi] == s[si]:
                            match = True
                    elif p[pi] == 0x5D:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and p[pi + 1] == 0x2D:
                        start, end, ch = signed(p[pi]), signed(p[pi + 2]), signed(s[si])
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start, end, ch = lower(start), lower(end), lower(ch)
                        pi += 2
                        plen -= 2
                        if start <= ch <= end:
                            match = True
                    elif not nocase:
                        if p[pi] == s[si]:
                            match = True
                    elif lower(signed(p[pi])) == lower(signed(s[si])):
                        match = True
                    pi += 1
                    plen -= 1
                if negate:
                    match = not match
                if not match:
                    return False
                si += 1
                slen -= 1
            else:
                if c == 0x5C and plen >= 2:                          # '\\'
                    pi += 1
                    plen -= 1
                if not nocase:
                    if p[pi] != s[si]:
                        return False
                elif lower(signed(p[pi])) != lower(signed(s[si])):
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while p[pi] == 0x2A:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return impl(0, len(pattern), 0, len(string), 0)


HOSTILE = st.text(alphabet="ab[]^-\\*?", max_size=10).map(str.encode)
BYTES_PATTERN = st.lists(st.sampled_from(
    [b"*", b"?", b"[", b"]", b"^", b"-", b"\\", b"a", b"A", b"z", b"\xff", b"\x80", b"\x00"]),
    max_size=10).map(b"".join)
BYTES_SUBJECT = st.lists(st.sampled_from(
    [b"a", b"A", b"z", b"\xff", b"\x80", b"-", b"]", b"\\", b"\x00", b"^", b"*"]),
    max_size=8).map(b"".join)


@settings(max_examples=1500, deadline=None)
@given(HOSTILE, HOSTILE, st.booleans())
def test_hostile_alphabet_agrees_with_redis(pattern, subject, nocase):
    expected = redis_stringmatchlen(pattern, subject, nocase)
    assert Glob(pattern, nocase).match(subject) == expected
    assert Glob(pattern, nocase).filter([subject]) == ([subject] if expected else [])


@settings(max_examples=1000, deadline=None)
@given(BYTES_PATTERN, BYTES_SUBJECT, st.booleans())
def test_high_bytes_nul_and_case_agree_with_redis(pattern, subject, nocase):
    assert Glob(pattern, nocase).match(subject) == redis_stringmatchlen(pattern, subject,
                                                                        nocase)


@pytest.mark.parametrize("pattern, subject, expected", [
    (b"*", b"", False),                 # the matcher itself: KEYS special-cases "*"
    (b"", b"", True),
    (b"**", b"x", True),
    (b"h?llo", b"hello", True),
    (b"h[ae]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[b-a]llo", b"hbllo", True),       # reversed range is swapped
    (b"a\\*b", b"a*b", True),
    (b"a\\*b", b"axb", False),
    (b"a\\", b"a\\", True),               # a lone trailing backslash is literal
    (b"[", b"[", False),                  # unterminated empty class matches nothing
    (b"[^", b"x", True),                  # ... negated, anything
    (b"[a-]x", b"]", True),               # ']' ends the range; the class goes on
    (b"[]", b"]", False),
    (b"[a-\xff]", b"\xff", True),         # signed chars: the range is -1..97
    (b"[a-\xff]", b"\x00", True),
    (b"[a-\xff]", b"\x80", False),
    (b"[a-\xff]", b"b", False),
    (b"[\\]]", b"]", True),
])
def test_documented_quirks(pattern, subject, expected):
    assert glob_match(pattern, subject) is expected
    assert redis_stringmatchlen(pattern, subject) is expected


def test_nesting_guard_at_1000_stars():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        subject = b"a" * 2000
        for count, expected in ((1000, True), (1001, False)):
            pattern = b"*a" * count
            assert redis_stringmatchlen(pattern, subject) is expected
            assert glob_match(pattern, subject) is expected
        assert glob_match(b"a*" * 1001, subject) is True        # final '*' is free
        assert glob_match(b"a*" * 1002, subject) is False
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("pattern", [
    b"a*a*a*a*a*a*a*a*a*a*a*a*b", b"*a*b*c*d*e*f*g*h*z", b"?*" * 300 + b"b",
    b"*[ab]*[ab]*[ab]*[ab]*[ab]*c",
])
def test_hostile_patterns_are_linear(pattern):
    subject = b"ab" * 50_000 + b"a"
    started = time.perf_counter()
    assert not glob_match(pattern, subject)
    assert time.perf_counter() - started < 1.0


def test_filter_and_cache():
    glob = compile_glob(b"k:*")
    assert compile_glob(b"k:*") is glob
    assert glob.filter([b"k:1", b"x", b"k:", b"", b"k"]) == [b"k:1", b"k:"]
    assert compile_glob(b"**").filter([b"", b"a"]) == [b"a"]
    assert compile_glob(b"").filter([b"", b"a"]) == [b""]
    assert compile_glob(b"*a" * 1001).filter([b"a" * 2000, b""]) == []

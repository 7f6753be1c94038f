"""ZSet: the sorted-set type, a dict member -> score plus a SortedList of (score, member).

The dict answers ZSCORE and membership in O(1); the SortedList (sortedcontainers) keeps
the members in Redis's order -- by score, ties by member bytes compared as memcmp does
(Python's bytes ordering) -- and gives O(log N) insertion, removal, rank and positional
access, so ZADD, ZREM, ZRANK and ZSCORE stay O(log N) on millions of members. The score
object in a (score, member) pair is the very float the dict holds.

``encoding`` is Redis 7.2's OBJECT ENCODING for the same history of commands: "listpack"
while the set is small, "skiplist" once a limit was crossed (and never back, as in Redis;
only a rebuilt value, e.g. ZUNIONSTORE's result, may start small again). The limits come
from the caller (``limits``: any object with ``zset_max_listpack_entries`` and
``zset_max_listpack_value``, such as the server's Config), so that CONFIG SET applies to
the next write.

Ranges are half-open index pairs ``(lo, hi)`` into the sorted order. Score ranges are
found by bisection. Lex ranges (ZRANGEBYLEX ...) are only meaningful when every member
has the same score; then they are found by bisection too, otherwise they are walked the
way Redis walks a listpack (documented as unspecified by Redis, but deterministic).

Nothing here knows RESP.
"""

import random

from sortedcontainers import SortedList

LISTPACK = "listpack"
SKIPLIST = "skiplist"


class _Top:
    """A member placeholder greater than every bytes member (for bisection keys)."""

    __slots__ = ()

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return other is not self

    def __eq__(self, other):
        return other is self

    def __hash__(self):
        return 0


TOP = _Top()


class ScoreRange:
    """A parsed score interval (Redis's zrangespec): min/max with exclusivity flags."""

    __slots__ = ("min", "minex", "max", "maxex")

    def __init__(self, low: float, low_ex: bool, high: float, high_ex: bool):
        self.min, self.minex, self.max, self.maxex = low, low_ex, high, high_ex

    def empty(self) -> bool:
        """True for intervals that can hold nothing (min > max, or min == max open)."""
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def gte_min(self, score: float) -> bool:
        """score is not below the interval."""
        return score > self.min if self.minex else score >= self.min

    def lte_max(self, score: float) -> bool:
        """score is not above the interval."""
        return score < self.max if self.maxex else score <= self.max


class LexRange:
    """A parsed lex interval (Redis's zlexrangespec). ``min``/``max`` are bytes, or
    ``None`` for "-" (below everything) and ``TOP`` for "+" (above everything)."""

    __slots__ = ("min", "minex", "max", "maxex")

    def __init__(self, low, low_ex: bool, high, high_ex: bool):
        self.min, self.minex, self.max, self.maxex = low, low_ex, high, high_ex

    @staticmethod
    def _cmp(a, b) -> int:
        """Redis's sdscmplex: None is -inf, TOP is +inf, else memcmp order."""
        if a is b:
            return 0
        if a is None or b is TOP:
            return -1
        if a is TOP or b is None:
            return 1
        return (a > b) - (a < b)

    def empty(self) -> bool:
        """True for intervals that can hold nothing."""
        cmp = self._cmp(self.min, self.max)
        return cmp > 0 or (cmp == 0 and (self.minex or self.maxex))

    def gte_min(self, member: bytes) -> bool:
        """member is not below the interval."""
        cmp = self._cmp(member, self.min)
        return cmp > 0 if self.minex else cmp >= 0

    def lte_max(self, member: bytes) -> bool:
        """member is not above the interval."""
        cmp = self._cmp(member, self.max)
        return cmp < 0 if self.maxex else cmp <= 0


class ZSet:
    """A Redis sorted set; see the module docstring."""

    type_name = "zset"
    __slots__ = ("scores", "order", "big")

    def __init__(self, big: bool = False):
        self.scores = {}                 # member -> score
        self.order = SortedList()        # (score, member), Redis's order
        self.big = big                   # True once "skiplist"

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def create(cls, size_hint: int, first_len: int, limits) -> "ZSet":
        """An empty set fit to receive ``size_hint`` members, the first one
        ``first_len`` bytes long (Redis 7.2's zsetTypeCreate)."""
        return cls(big=size_hint > limits.zset_max_listpack_entries
                   or first_len > limits.zset_max_listpack_value)

    @classmethod
    def from_pairs(cls, pairs, limits) -> "ZSet":
        """A new value holding ``pairs`` (member, score) with distinct members, encoded as
        Redis encodes a freshly built result (ZUNIONSTORE, ZRANGESTORE ...): listpack if
        it fits the limits, else skiplist."""
        value = cls()
        scores = value.scores
        for member, score in pairs:
            scores[member] = score
        value.big = (len(scores) > limits.zset_max_listpack_entries
                     or any(len(m) > limits.zset_max_listpack_value for m in scores))
        if not value.big:
            for member, score in scores.items():
                if score == 0:
                    scores[member] = 0.0
        value.order = SortedList((score, member) for member, score in scores.items())
        return value

    def copy(self) -> "ZSet":
        """An independent copy with the same encoding (COPY)."""
        dup = ZSet(self.big)
        dup.scores = dict(self.scores)
        dup.order = SortedList(self.order)
        return dup

    @property
    def encoding(self) -> str:
        """Redis's OBJECT ENCODING name for this value."""
        return SKIPLIST if self.big else LISTPACK

    def maybe_convert(self, size_hint: int, limits) -> None:
        """ZADD of ``size_hint`` pairs to an existing set: a listpack that cannot hold
        that many becomes a skiplist first (Redis 7.2's zsetTypeMaybeConvert)."""
        if size_hint > limits.zset_max_listpack_entries:
            self.big = True

    # ---- reading -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, member) -> bool:
        return member in self.scores

    def __iter__(self):
        """(member, score) pairs in order."""
        return ((member, score) for score, member in self.order)

    def score(self, member: bytes):
        """The member's score, or None; O(1)."""
        return self.scores.get(member)

    def rank(self, member: bytes, reverse: bool = False):
        """0-based rank of ``member`` (from the highest score if ``reverse``), or None;
        O(log N)."""
        score = self.scores.get(member)
        if score is None:
            return None
        index = self.order.bisect_left((score, member))
        return len(self.scores) - 1 - index if reverse else index

    def at(self, index: int):
        """The (member, score) at sorted position ``index``; O(log N)."""
        score, member = self.order[index]
        return member, score

    def slice(self, lo: int, hi: int, reverse: bool = False) -> list:
        """(member, score) pairs at positions lo..hi-1, highest first if ``reverse``;
        O(log N + M)."""
        if lo >= hi:
            return []
        items = self.order.islice(lo, hi, reverse=reverse)
        return [(member, score) for score, member in items]

    def score_bounds(self, spec: ScoreRange):
        """``(lo, hi)``: the positions of the members whose score is in ``spec``."""
        if spec.empty():
            return 0, 0
        order = self.order
        lo = order.bisect_left((spec.min, TOP) if spec.minex else (spec.min, b""))
        hi = order.bisect_left((spec.max, b"") if spec.maxex else (spec.max, TOP))
        return lo, max(lo, hi)

    def uniform_score(self) -> bool:
        """True when every member has the same score (lex ranges are then exact)."""
        order = self.order
        return not order or order[0][0] == order[-1][0]

    def lex_bounds(self, spec: LexRange):
        """``(lo, hi)``: the positions a lex range selects (see the module docstring):
        by bisection when every score is equal, else as Redis walks a listpack: from
        the first member >= min, while members are <= max."""
        order = self.order
        if spec.empty() or not order or not spec.gte_min(order[-1][1]) \
                or not spec.lte_max(order[0][1]):
            return 0, 0
        if self.uniform_score():
            score = order[0][0]
            lo = self._lex_position(score, spec.min, spec.minex)
            hi = self._lex_position(score, spec.max, not spec.maxex)
            return lo, max(lo, hi)
        members = [member for _, member in order]
        lo = next(i for i, m in enumerate(members) if spec.gte_min(m))
        if not spec.lte_max(members[lo]):
            return 0, 0
        hi = lo
        while hi < len(members) and spec.lte_max(members[hi]):
            hi += 1
        return lo, hi

    def lex_bounds_reverse(self, spec: LexRange):
        """Like :meth:`lex_bounds` for a walk from the highest member (ZREVRANGEBYLEX):
        ``(lo, hi)`` where ``hi - 1`` is the first member returned."""
        order = self.order
        if self.uniform_score() or not order:
            return self.lex_bounds(spec)
        if spec.empty() or not spec.gte_min(order[-1][1]) or not spec.lte_max(order[0][1]):
            return 0, 0
        members = [member for _, member in order]
        hi = len(members)
        while hi > 0 and not spec.lte_max(members[hi - 1]):
            hi -= 1
        if hi == 0 or not spec.gte_min(members[hi - 1]):
            return 0, 0
        lo = hi - 1
        while lo > 0 and spec.gte_min(members[lo - 1]):
            lo -= 1
        return lo, hi

    def _lex_position(self, score: float, bound, after: bool) -> int:
        """Position of the first member above ``bound`` (``after``) or not below it."""
        if bound is None:
            return 0
        if bound is TOP:
            return len(self.order)
        key = (score, bound)
        return self.order.bisect_right(key) if after else self.order.bisect_left(key)

    def random_pairs(self, count: int) -> list:
        """``count`` random (member, score) pairs, repetitions allowed; O(count log N)."""
        order = self.order
        size = len(order)
        picks = [order[random.randrange(size)] for _ in range(count)]
        return [(member, score) for score, member in picks]

    def random_distinct(self, count: int) -> list:
        """``count`` distinct random (member, score) pairs (count < len), in sorted order
        as Redis samples a listpack; O(count log N)."""
        order = self.order
        picks = sorted(random.sample(range(len(order)), count))
        return [(order[i][1], order[i][0]) for i in picks]

    # ---- writing -----------------------------------------------------------------------

    def insert(self, member: bytes, score: float, limits) -> None:
        """Add a member that is not in the set; converts the encoding as Redis's
        zsetAdd does (too many entries, or a member too long for a listpack)."""
        if not self.big and (len(self.scores) + 1 > limits.zset_max_listpack_entries
                             or len(member) > limits.zset_max_listpack_value):
            self.big = True
        if score == 0 and not self.big:
            score = 0.0                 # a listpack stores -0 as the integer 0
        self.scores[member] = score
        self.order.add((score, member))

    def update(self, member: bytes, old: float, new: float) -> None:
        """Move an existing member from score ``old`` to ``new``."""
        if new == 0 and not self.big:
            new = 0.0
        order = self.order
        order.remove((old, member))
        self.scores[member] = new
        order.add((new, member))

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; False if it was not there. O(log N)."""
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        return True

    def remove_slice(self, lo: int, hi: int) -> int:
        """Remove the members at positions lo..hi-1; return how many."""
        if lo >= hi:
            return 0
        order = self.order
        scores = self.scores
        for _, member in order.islice(lo, hi):
            del scores[member]
        del order[lo:hi]
        return hi - lo

    def pop(self, count: int, highest: bool = False) -> list:
        """Remove and return up to ``count`` (member, score) pairs from the low end (or
        the high end), in pop order."""
        size = len(self.order)
        count = min(count, size)
        if highest:
            taken = self.slice(size - count, size, reverse=True)
            self.remove_slice(size - count, size)
        else:
            taken = self.slice(0, count)
            self.remove_slice(0, count)
        return taken

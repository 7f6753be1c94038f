"""SetValue: the set type, with O(1) membership, insertion, removal and random picks.

Members live in a dict (member -> its position in a list) plus that list. The dict
answers membership and keeps Redis's iteration order for small sets (a listpack set
replies in insertion order, and removals keep the order of the rest); the list gives a
uniformly random member in O(1), and a removal swaps the last list slot into the hole,
so SPOP and SRANDMEMBER cost O(1) per returned member, as Redis documents.

``encoding`` is Redis 7.2's OBJECT ENCODING for the same history of commands: "intset"
while every member is a canonical int64 (iterated in numeric order, as an intset is),
"listpack" for small sets, "hashtable" once a limit was crossed (never back, as in
Redis; only a rebuilt set, e.g. SINTERSTORE's result, may start small again). The limits
come from the caller (``limits``: any object with the attributes
``set_max_intset_entries``, ``set_max_listpack_entries`` and ``set_max_listpack_value``,
such as the server's Config), so that CONFIG SET applies to the next write.

Nothing here knows RESP.
"""

import random

from ember.protocol.numbers import parse_int

INTSET = "intset"
LISTPACK = "listpack"
HASHTABLE = "hashtable"

_INTSET_HARD_LIMIT = 1 << 30           # Redis caps intsets at 1G entries


def is_int_member(member: bytes) -> bool:
    """True when Redis would store ``member`` as an integer (string2ll accepts it)."""
    return parse_int(member) is not None


def intset_limit(limits) -> int:
    """set-max-intset-entries as Redis applies it (capped at 2**30)."""
    return min(limits.set_max_intset_entries, _INTSET_HARD_LIMIT)


class SetValue:
    """A Redis set: unique byte-string members, see the module docstring."""

    type_name = "set"
    __slots__ = ("_index", "_items", "encoding", "_removed")

    def __init__(self, encoding: str = INTSET):
        self._index = {}        # member -> position in _items (insertion-ordered)
        self._items = []        # members in arbitrary order, for random picks
        self.encoding = encoding
        self._removed = 0       # removals since the dict was last compacted

    # ---- construction ----------------------------------------------------------------

    @classmethod
    def create(cls, first: bytes, size_hint: int, limits) -> "SetValue":
        """An empty set fit to receive ``size_hint`` members, the first being ``first``
        (Redis's setTypeCreate: intset if it is an integer and the hint fits, listpack
        if the hint fits, else hashtable)."""
        if size_hint <= limits.set_max_intset_entries and is_int_member(first):
            return cls(INTSET)
        if size_hint <= limits.set_max_listpack_entries:
            return cls(LISTPACK)
        return cls(HASHTABLE)

    @classmethod
    def from_members(cls, members, limits, encoding: str = INTSET) -> "SetValue":
        """A new set holding ``members`` (an iterable), added one by one from an empty
        set of ``encoding``, with Redis's conversions on the way."""
        value = cls(encoding)
        add = value.add
        for member in members:
            add(member, limits)
        return value

    def copy(self) -> "SetValue":
        """An independent copy with the same encoding and order (COPY)."""
        dup = SetValue(self.encoding)
        dup._index = dict(self._index)
        dup._items = list(self._items)
        return dup

    # ---- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, member) -> bool:
        return member in self._index

    def __iter__(self):
        """Members in Redis's iteration order: numeric for an intset, insertion order
        for a listpack (and, unspecified in Redis, for a hashtable)."""
        if self.encoding == INTSET:
            return iter(sorted(self._index, key=int))
        return iter(self._index)

    def members(self) -> list:
        """Every member, in iteration order."""
        return list(self)

    def scan_container(self):
        """The dict SSCAN pages through (membership tests and a snapshot of its keys)."""
        return self._index

    def all_integers(self) -> bool:
        """True when every member is a canonical int64."""
        return self.encoding == INTSET or all(map(is_int_member, self._index))

    def random_member(self) -> bytes:
        """One uniformly random member (the set must not be empty); O(1)."""
        return random.choice(self._items)

    def random_members(self, count: int) -> list:
        """``count`` random members, repetitions allowed (SRANDMEMBER -count); O(count)."""
        return random.choices(self._items, k=count)

    def random_distinct(self, count: int) -> list:
        """``count`` distinct random members, ``count`` < len; O(count)."""
        return random.sample(self._items, count)

    # ---- writing ----------------------------------------------------------------------

    def add(self, member: bytes, limits) -> bool:
        """Add ``member``; False if it was already there. Converts the encoding as
        Redis's setTypeAdd does."""
        index = self._index
        if member in index:
            return False
        encoding = self.encoding
        if encoding != HASHTABLE:
            if encoding == LISTPACK:
                if (len(index) >= limits.set_max_listpack_entries
                        or len(member) > limits.set_max_listpack_value):
                    self.encoding = HASHTABLE
            elif is_int_member(member):
                if len(index) + 1 > intset_limit(limits):
                    self.encoding = HASHTABLE
            else:
                self._leave_intset(member, limits)
                index = self._index
        items = self._items
        index[member] = len(items)
        items.append(member)
        return True

    def _leave_intset(self, member: bytes, limits) -> None:
        """A non-integer arrives in an intset: listpack if everything would fit
        (members then in numeric order, as the conversion appends them), else
        hashtable."""
        index = self._index
        fits = (len(index) < limits.set_max_listpack_entries
                and len(member) <= limits.set_max_listpack_value)
        if fits and index:
            numbers = [int(m) for m in index]
            widest = max(len(b"%d" % max(numbers)), len(b"%d" % min(numbers)))
            fits = widest <= limits.set_max_listpack_value
        if fits:
            ordered = sorted(index, key=int)
            self._items = ordered
            self._index = {m: i for i, m in enumerate(ordered)}
            self.encoding = LISTPACK
        else:
            self.encoding = HASHTABLE

    def maybe_convert(self, size_hint: int, limits) -> None:
        """SADD of ``size_hint`` members to an existing set: a small encoding that cannot
        hold that many goes to hashtable first (Redis's setTypeMaybeConvert)."""
        if ((self.encoding == LISTPACK and size_hint > limits.set_max_listpack_entries)
                or (self.encoding == INTSET and size_hint > limits.set_max_intset_entries)):
            self.encoding = HASHTABLE

    def maybe_to_intset(self, limits) -> None:
        """Turn a set of integers back into an intset if it fits (SINTERSTORE's result)."""
        if (self.encoding != INTSET and len(self._items) <= intset_limit(limits)
                and self.all_integers()):
            self.encoding = INTSET

    def rebuild(self, limits) -> None:
        """Re-encode from scratch, as Redis 7.2 does when SPOP took most of a set and
        builds a new one from the few members left: an intset stays an intset, anything
        else restarts as a listpack (keeping a listpack's order) and converts as it
        fills."""
        members = list(self._index) if self.encoding == LISTPACK else list(self._items)
        fresh = SetValue.from_members(
            members, limits, INTSET if self.encoding == INTSET else LISTPACK)
        self._index, self._items, self.encoding = fresh._index, fresh._items, fresh.encoding
        self._removed = 0

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; False if it was not there. O(1)."""
        position = self._index.pop(member, None)
        if position is None:
            return False
        items = self._items
        last = items.pop()
        if position < len(items):
            items[position] = last
            self._index[last] = position
        self._removed += 1
        if self._removed > 1024 and self._removed > 4 * len(items):
            self._compact()
        return True

    def pop_random(self) -> bytes:
        """Remove and return one uniformly random member (the set must not be empty)."""
        member = self._items[random.randrange(len(self._items))]
        self.remove(member)
        return member

    def _compact(self) -> None:
        """Rebuild the dict after many removals: a Python dict never shrinks on delete,
        and iterating it walks every slot it ever used (Redis resizes its tables too)."""
        self._index = dict(self._index)
        self._removed = 0


# ---- set algebra, with the encodings Redis gives the results ------------------------------

def intersection(sets: list) -> list:
    """Members common to every set (all present), in the iteration order of the smallest
    (the first smallest when several tie), as Redis's SINTER walks it."""
    ordered = sorted(sets, key=len)
    first = ordered[0]
    others = [s._index for s in ordered[1:] if s is not first]
    if not others:
        return first.members()
    return [m for m in first if all(m in other for other in others)]


def intersection_card(sets: list, limit: int = 0) -> int:
    """How many members the sets have in common, counting stops at ``limit`` (0: none)."""
    ordered = sorted(sets, key=len)
    first = ordered[0]
    others = [s._index for s in ordered[1:] if s is not first]
    count = 0
    for member in first._index:
        if all(member in other for other in others):
            count += 1
            if count == limit:
                break
    return count


def intersection_value(sets: list, limits) -> SetValue:
    """SINTERSTORE's result: built from the smallest set's encoding (listpack when that
    is a hashtable), then an intset again if every member is an integer and fits."""
    first = min(sets, key=len)
    start = INTSET if first.encoding == INTSET else LISTPACK
    value = SetValue.from_members(intersection(sets), limits, start)
    value.maybe_to_intset(limits)
    return value


def union_value(sets: list, limits) -> SetValue:
    """SUNION's result (``sets`` may hold None for missing keys): every member added to
    a new intset in order, converting as it grows, as Redis builds it."""
    value = SetValue(INTSET)
    add = value.add
    for one in sets:
        if one is not None:
            for member in one:
                add(member, limits)
    return value


def difference_value(sets: list, limits) -> SetValue:
    """SDIFF's result (``sets`` may hold None): members of the first set in none of the
    others, built with the algorithm Redis picks for these sizes (the encoding of the
    result depends on it)."""
    value = SetValue(INTSET)
    first = sets[0]
    if first is None or any(s is first for s in sets[1:]):
        return value
    present = [s for s in sets if s is not None]
    algo_one = (len(first) * len(present)) // 2
    algo_two = sum(len(s) for s in present)
    others = [s._index for s in sets[1:] if s is not None]
    if algo_one <= algo_two:
        for member in first:
            if not any(member in other for other in others):
                value.add(member, limits)
        return value
    for member in first:
        value.add(member, limits)
    for other in sets[1:]:
        if other is None:
            continue
        for member in other:
            value.remove(member)
        if not value:
            break
    return value

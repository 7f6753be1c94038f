"""ListValue: the list type, a deque (O(1) pushes and pops at both ends).

Elements are byte strings in a ``collections.deque``: LPUSH/RPUSH/LPOP/RPOP are O(1),
LINDEX/LSET walk from the nearer end, ranges read from the nearer end too.

``encoding`` is Redis 7.2's OBJECT ENCODING: "listpack" for a small list, "quicklist"
once it outgrows one listpack node. Redis decides this from the listpack's byte size
(``lpBytes``), so the exact listpack size of every element is followed here
(:func:`entry_size`: integers take 1 to 9 bytes, strings their length plus a 1/2/5-byte
header, plus the back-length bytes):

* growing (before a push, LINSERT, LSET, or the push of LMOVE): a listpack becomes a
  quicklist when its bytes plus the *raw* lengths of the new elements pass the node limit
  of ``list-max-listpack-size`` (-1..-5: 4/8/16/32/64 KB; N >= 0: N entries and 8 KB),
  as listTypeTryConvertListpack does;
* shrinking (after a pop, LREM, LTRIM, LSET): a quicklist goes back to a listpack when it
  would fit in *half* a node (Redis 7.2's hysteresis, listTypeTryConvertQuicklist). Redis
  also requires the quicklist to be a single node at that moment; ember does not model
  quicklist nodes and treats any list that small as one node.

Sizes are only followed while they can matter: always for a listpack, and for a
quicklist while it is short enough to shrink back (recomputed when it gets that short).
The ``fill`` arguments are list-max-listpack-size, passed by the caller so that CONFIG
SET applies to the next write. Nothing here knows RESP.
"""

from collections import deque
from itertools import islice

from ember.protocol.numbers import parse_int

LISTPACK = "listpack"
QUICKLIST = "quicklist"

_SIZE_LEVELS = (4096, 8192, 16384, 32768, 65536)   # list-max-listpack-size -1 .. -5
_SAFETY_LIMIT = 8192            # a count-limited node stays under this many bytes
_LP_OVERHEAD = 7                # listpack header (6 bytes) and end marker (1)
_MIN_ENTRY = 2                  # the smallest element: 1 byte of data, 1 of back-length
_INT_START = frozenset(b"-0123456789")


def node_limits(fill: int):
    """(byte limit or None, count limit or None) of one node (quicklistNodeLimit)."""
    if fill >= 0:
        return None, fill or 1
    return _SIZE_LEVELS[min(-fill - 1, len(_SIZE_LEVELS) - 1)], None


def exceeds(fill: int, size: int, count: int) -> bool:
    """quicklistNodeExceedsLimit: would a node of ``size`` bytes, ``count`` entries be
    too big?"""
    size_limit, count_limit = node_limits(fill)
    if size_limit is not None:
        return size > size_limit
    return size > _SAFETY_LIMIT or count > count_limit


def _shrink_bound(fill: int) -> int:
    """The longest list that could fit in half a node: only those can shrink back."""
    size_limit, count_limit = node_limits(fill)
    if size_limit is not None:
        return (size_limit // 2 - _LP_OVERHEAD) // _MIN_ENTRY
    return min(count_limit // 2, (_SAFETY_LIMIT - _LP_OVERHEAD) // _MIN_ENTRY)


def entry_size(value: bytes) -> int:
    """Bytes ``value`` takes in a listpack: encoding header and data, then back-length."""
    n = len(value)
    if n <= 20 and n and value[0] in _INT_START and (number := parse_int(value)) is not None:
        if 0 <= number <= 127:
            size = 1
        elif -4096 <= number <= 4095:
            size = 2
        elif -32768 <= number <= 32767:
            size = 3
        elif -8388608 <= number <= 8388607:
            size = 4
        elif -2147483648 <= number <= 2147483647:
            size = 5
        else:
            size = 9
    elif n < 64:
        size = 1 + n
    elif n < 4096:
        size = 2 + n
    else:
        size = 5 + n
    if size <= 127:
        return size + 1
    if size < 16383:
        return size + 2
    if size < 2097151:
        return size + 3
    if size < 268435455:
        return size + 4
    return size + 5


def _sizes(values) -> int:
    return sum(map(entry_size, values))


class ListValue:
    """A Redis list of byte strings, see the module docstring."""

    type_name = "list"
    __slots__ = ("items", "quick", "size")

    def __init__(self, items=(), fill: int = -2):
        """A list holding ``items``, encoded as Redis encodes a freshly built list."""
        self.items = deque(items)
        self.quick = False
        # Sum of entry_size over the elements, or None while not followed (long quicklist).
        self.size = _sizes(self.items)
        if exceeds(fill, _LP_OVERHEAD + self.size, len(self.items)):
            self.quick = True
            if len(self.items) > 2 * _shrink_bound(fill) + 64:
                self.size = None

    @property
    def encoding(self) -> str:
        """OBJECT ENCODING: "listpack" or "quicklist"."""
        return QUICKLIST if self.quick else LISTPACK

    def copy(self) -> "ListValue":
        """An independent copy with the same elements and encoding (COPY)."""
        dup = ListValue.__new__(ListValue)
        dup.items = deque(self.items)
        dup.quick = self.quick
        dup.size = self.size
        return dup

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __repr__(self):
        return f"ListValue({list(self.items)!r}, {self.encoding})"

    # ---- encoding ----------------------------------------------------------------------

    def grow_check(self, values, fill: int) -> None:
        """Before adding ``values``: turn a listpack into a quicklist if they would not fit
        (counting their raw lengths, as Redis does, even if the add then fails)."""
        if not self.quick and exceeds(fill, _LP_OVERHEAD + self.size + sum(map(len, values)),
                                      len(self.items) + len(values)):
            self.quick = True

    def try_shrink(self, fill: int) -> None:
        """After a removal: back to a listpack if the list fits in half a node."""
        if not self.quick:
            return
        count = len(self.items)
        if count > _shrink_bound(fill):
            return
        if self.size is None:
            self.size = _sizes(self.items)
        total = _LP_OVERHEAD + self.size
        size_limit, count_limit = node_limits(fill)
        if size_limit is not None:
            fits = total <= size_limit // 2
        else:
            fits = count <= count_limit // 2 and total <= _SAFETY_LIMIT
        if fits:
            self.quick = False

    def _added(self, values, fill: int) -> None:
        if self.size is not None:
            self.size += _sizes(values)
            if self.quick and len(self.items) > 2 * _shrink_bound(fill) + 64:
                self.size = None            # too long to shrink back: stop following

    def _removed(self, values) -> None:
        if self.size is not None:
            self.size -= _sizes(values)

    # ---- ends ------------------------------------------------------------------------

    def push(self, values: list, left: bool, fill: int = -2) -> int:
        """LPUSH (``left``) or RPUSH ``values`` in order; return the new length."""
        self.grow_check(values, fill)
        if left:
            self.items.extendleft(values)
        else:
            self.items.extend(values)
        self._added(values, fill)
        return len(self.items)

    def pop(self, left: bool) -> bytes:
        """Remove and return the head (``left``) or tail element (the list is not empty).
        The caller calls :meth:`try_shrink` (or deletes the key) afterwards."""
        value = self.items.popleft() if left else self.items.pop()
        if self.size is not None:
            self.size -= entry_size(value)
        return value

    def pop_many(self, count: int, left: bool) -> list:
        """Remove up to ``count`` elements from one end, in the order they were popped."""
        items = self.items
        take = items.popleft if left else items.pop
        popped = [take() for _ in range(min(count, len(items)))]
        self._removed(popped)
        return popped

    # ---- reading ---------------------------------------------------------------------

    def range(self, start: int, end: int) -> list:
        """LRANGE: elements ``start``..``end`` inclusive, negative indexes from the end."""
        items = self.items
        n = len(items)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return []
        if end >= n:
            end = n - 1
        if start > n - 1 - end:      # nearer the tail: walk from there
            part = list(islice(reversed(items), n - 1 - end, n - start))
            part.reverse()
            return part
        return list(islice(items, start, end + 1))

    def index(self, index: int):
        """LINDEX: the element at ``index`` (negative from the end), or None."""
        n = len(self.items)
        if index < 0:
            index += n
        if 0 <= index < n:
            return self.items[index]
        return None

    def positions(self, value: bytes, rank: int, count, maxlen: int) -> list:
        """LPOS: indexes of the matches of ``value``, skipping the first |rank|-1 (from the
        tail if rank < 0), at most ``count`` of them (0: all; None: one), looking at no
        more than ``maxlen`` elements (0: all)."""
        items = self.items
        n = len(items)
        forward = rank > 0
        skip = abs(rank) - 1
        wanted = 1 if count is None else count
        scan = items if forward else reversed(items)
        if maxlen:
            scan = islice(scan, maxlen)
        found = []
        for i, element in enumerate(scan):
            if element == value:
                if skip:
                    skip -= 1
                    continue
                found.append(i if forward else n - 1 - i)
                if len(found) == wanted:
                    break
        return found

    # ---- changes in the middle -------------------------------------------------------

    def set(self, index: int, value: bytes, fill: int = -2) -> bool:
        """LSET: replace the element at ``index``; False if out of range."""
        self.grow_check([value], fill)
        n = len(self.items)
        if index < 0:
            index += n
        if not 0 <= index < n:
            return False
        if self.size is not None:
            self.size += entry_size(value) - entry_size(self.items[index])
        self.items[index] = value
        return True

    def insert(self, pivot: bytes, value: bytes, before: bool, fill: int = -2) -> int:
        """LINSERT: put ``value`` next to the first ``pivot``; the new length or -1."""
        self.grow_check([value], fill)
        items = self.items
        try:
            at = items.index(pivot)
        except ValueError:
            return -1
        items.insert(at if before else at + 1, value)
        self._added([value], fill)
        return len(items)

    def remove(self, count: int, value: bytes) -> int:
        """LREM: remove ``count`` occurrences of ``value`` from the head (count < 0: from
        the tail, 0: all); return how many were removed."""
        items = self.items
        if value not in items:
            return 0
        limit = abs(count) if count else len(items)
        kept = []
        removed = 0
        scan = items if count >= 0 else reversed(items)
        for element in scan:
            if removed < limit and element == value:
                removed += 1
            else:
                kept.append(element)
        if count < 0:
            kept.reverse()
        self.items = deque(kept)
        if self.size is not None:
            self.size -= removed * entry_size(value)
        return removed

    def trim(self, start: int, end: int) -> int:
        """LTRIM: keep ``start``..``end`` (LRANGE's indexes); return how many went."""
        items = self.items
        n = len(items)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            left, right = n, 0
        else:
            if end >= n:
                end = n - 1
            left, right = start, n - end - 1
        removed = self.pop_many(left, True) + self.pop_many(right, False)
        return len(removed)

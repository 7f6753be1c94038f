"""Cursor iteration over a dict (SCAN; later HSCAN, SSCAN, ZSCAN) with Redis's guarantee.

Redis walks its hash table with a reverse-binary bucket cursor, so that a key present for
the whole iteration is returned at least once however the table grows or shrinks. A
Python dict has no stable position a cursor could name, and SET/DEL must not pay for any
bookkeeping on behalf of scans. So a scan works on a *snapshot*:

- At cursor 0 the container's keys are copied into a list (one C-speed ``list(d)``: a few
  milliseconds for a million keys; 8 bytes per key, the key objects themselves are shared).
  A container no bigger than COUNT is returned whole with cursor 0, and takes no snapshot.
- The reply's cursor encodes ``(snapshot id << 32) | offset``; each later call slices the
  next COUNT keys of the snapshot, O(COUNT), and drops the ones no longer in the container.
  Every key present for the whole scan is in the snapshot, so it is returned exactly once;
  keys added during the scan may be missed, deleted ones are never returned.
- Live snapshots are bounded: at most 1024, holding at most 8M keys in all (64 MB of
  pointers) or four times the biggest one, evicted least recently used. A cursor naming an
  unknown snapshot (evicted, from another server, another container, or made up) restarts
  the scan from a fresh snapshot at offset 0: keys may repeat (which SCAN allows), none
  present throughout is missed, and the iteration goes on (it could only be starved if
  more than 1024 scans, or several of the biggest container, ran at once in lock step).
"""

import random
from collections import OrderedDict

_OFFSET_BITS = 32
_OFFSET_MASK = (1 << _OFFSET_BITS) - 1
_ID_LIMIT = 1 << 31          # cursors stay below 2**63: safe for signed-int64 clients
_ULONG = 1 << 64
_SPACES = b" \t\n\v\f\r"


def parse_cursor(data: bytes):
    """A cursor argument parsed as Redis does (C strtoul); None if invalid.

    Redis accepts what strtoul accepts in full: an optional sign ("-1" wraps to 2**64-1),
    digits, nothing after them (bytes after a NUL are ignored, as C stops there) and no
    leading space; the empty string is cursor 0.
    """
    end = data.find(b"\0")
    if end >= 0:
        data = data[:end]
    if not data:
        return 0
    if data[0] in _SPACES:
        return None
    sign = 1
    digits = data
    if data[:1] in (b"+", b"-"):
        sign = -1 if data[:1] == b"-" else 1
        digits = data[1:]
    if not digits or not digits.isdigit():
        return None
    value = int(digits)
    if value >= _ULONG:
        return None
    return (sign * value) % _ULONG


class _Snapshot:
    __slots__ = ("owner", "keys")

    def __init__(self, owner, keys: list):
        self.owner = owner
        self.keys = keys


class ScanCursors:
    """The live snapshots of every scan in progress, bounded and LRU-evicted."""

    def __init__(self, max_snapshots: int = 1024, max_keys: int = 8_000_000):
        self.max_snapshots = max_snapshots
        self.max_keys = max_keys
        self._snapshots = OrderedDict()
        self._total_keys = 0
        self._next_id = random.randrange(1, _ID_LIMIT)

    def __len__(self) -> int:
        return len(self._snapshots)

    def page(self, owner, container, cursor: int, count: int, whole_below: int = 0):
        """One SCAN step over ``container`` (a dict or anything with len/iter/in).

        ``owner`` identifies what is scanned (compared with ``is``: the Database, or the
        hash/set object); returns ``(next_cursor, keys)`` where ``keys`` are at most
        ``count`` keys still in ``container``. The caller filters further (expiry,
        MATCH, TYPE). A container of at most ``max(count, whole_below)`` keys is returned
        whole, in insertion order, with cursor 0: HSCAN/SSCAN/ZSCAN pass Redis's
        listpack/intset limits here, as Redis returns such small values in one reply.
        """
        snapshot_id = cursor >> _OFFSET_BITS
        offset = cursor & _OFFSET_MASK
        snapshot = self._snapshots.get(snapshot_id) if cursor else None
        if snapshot is None or snapshot.owner is not owner or offset > len(snapshot.keys):
            if len(container) <= count or len(container) <= whole_below:
                return 0, list(container)
            snapshot_id, snapshot = self._take(owner, container)
            offset = 0
        else:
            self._snapshots.move_to_end(snapshot_id)
        end = offset + count
        chunk = snapshot.keys[offset:end]
        if end >= len(snapshot.keys):
            self._drop(snapshot_id)
            next_cursor = 0
        else:
            next_cursor = (snapshot_id << _OFFSET_BITS) | end
        return next_cursor, [key for key in chunk if key in container]

    def _take(self, owner, container):
        snapshot = _Snapshot(owner, list(container))
        snapshot_id = self._next_id
        self._next_id = self._next_id + 1 if self._next_id + 1 < _ID_LIMIT else 1
        self._drop(snapshot_id)
        self._snapshots[snapshot_id] = snapshot
        self._total_keys += len(snapshot.keys)
        # Evict least recently used snapshots, never the one just taken. The key budget
        # always leaves room for a few concurrent scans of the biggest container.
        max_keys = max(self.max_keys, 4 * len(snapshot.keys))
        while len(self._snapshots) > 1 and (len(self._snapshots) > self.max_snapshots
                                            or self._total_keys > max_keys):
            oldest = next(iter(self._snapshots))
            self._drop(oldest)
        return snapshot_id, snapshot

    def _drop(self, snapshot_id: int) -> None:
        snapshot = self._snapshots.pop(snapshot_id, None)
        if snapshot is not None:
            self._total_keys -= len(snapshot.keys)

    def forget(self, owner) -> None:
        """Drop every snapshot of ``owner`` (e.g. a database being flushed)."""
        for snapshot_id in [i for i, s in self._snapshots.items() if s.owner is owner]:
            self._drop(snapshot_id)


# The process-wide registry the SCAN family shares.
CURSORS = ScanCursors()


def scan_page(owner, container, cursor: int, count: int, whole_below: int = 0):
    """One step of a scan over ``container`` with the shared registry (see ScanCursors)."""
    return CURSORS.page(owner, container, cursor, count, whole_below)

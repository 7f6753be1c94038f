"""The deadline-ordered expiry index that active expiry walks.

Redis samples random keys with a TTL; Python cannot sample dict keys cheaply, so ember
keeps an exact min-heap of (deadline, key). Entries are never removed when a TTL changes:
a popped entry whose deadline no longer matches the key's current one is stale and is
skipped. The heap is rebuilt when stale entries outnumber live ones, which bounds its
size to a small multiple of the number of keys with a TTL.
"""

import heapq
import time

# Keys examined between two looks at the clock in an expire cycle.
_CHUNK = 200


class ExpiryIndex:
    """A lazily cleaned min-heap of (deadline_ms, key)."""

    __slots__ = ("heap",)

    def __init__(self):
        self.heap = []

    def __len__(self) -> int:
        return len(self.heap)

    def add(self, deadline_ms: int, key: bytes) -> None:
        """Record that ``key`` expires at ``deadline_ms`` (older entries become stale)."""
        heapq.heappush(self.heap, (deadline_ms, key))

    def pop_due(self, now_ms: int, limit: int):
        """Pop and yield up to ``limit`` entries whose deadline has passed (Redis: now > when)."""
        heap = self.heap
        pop = heapq.heappop
        while limit > 0 and heap and heap[0][0] < now_ms:
            limit -= 1
            yield pop(heap)

    def next_deadline(self):
        """The earliest deadline in the index (possibly stale), or None."""
        return self.heap[0][0] if self.heap else None

    def compact_if_stale(self, expires: dict) -> None:
        """Rebuild from ``expires`` (key -> deadline) when most entries are stale."""
        if len(self.heap) > 2 * len(expires) + 1024:
            self.heap = [(deadline, key) for key, deadline in expires.items()]
            heapq.heapify(self.heap)


def has_due(db, now_ms: int) -> bool:
    """True if ``db``'s index holds an entry whose deadline has passed (maybe stale)."""
    deadline = db.index.next_deadline()
    return deadline is not None and deadline < now_ms


def expire_cycle(dbs, budget_seconds: float, start: int = 0):
    """Remove due keys from ``dbs`` for at most ``budget_seconds``, starting at db ``start``.

    Databases are visited round robin from ``start`` so that a busy database cannot
    starve the others across cycles (Redis keeps the same cursor). Returns
    ``(more_due, next_start)``: whether due keys remain because time ran out, and where
    the next cycle should begin.
    """
    deadline = time.perf_counter() + budget_seconds
    count = len(dbs)
    for step in range(count):
        index = (start + step) % count
        db = dbs[index]
        if not db.expires:
            continue
        now = db.time.ms
        while has_due(db, now):
            db.active_expire(_CHUNK)
            if time.perf_counter() >= deadline:
                return has_due(db, now) or index + 1 < count, index
    return False, 0

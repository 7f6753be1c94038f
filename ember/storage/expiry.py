"""The deadline-ordered expiry index that active expiry walks.

Redis samples random keys with a TTL; Python cannot sample dict keys cheaply, so ember
keeps an exact min-heap of (deadline, key). Entries are never removed when a TTL changes:
a popped entry whose deadline no longer matches the key's current one is stale and is
skipped. The heap is rebuilt when stale entries outnumber live ones, which bounds its
size to a small multiple of the number of keys with a TTL.
"""

import heapq


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

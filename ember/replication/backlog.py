"""The replication stream's identity and history: replid/replid2, offsets, backlog.

Redis's PSYNC2 state (replication.c): ``replid`` names the history this server's stream
belongs to and ``offset`` (master_repl_offset) counts every byte ever fed to it; after a
promotion the old id stays valid as ``replid2`` up to ``second_offset`` - 1, so replicas of
the old primary can continue with a partial resync. The backlog keeps the last
``size`` bytes of the stream; a replica asking for ``(replid, offset)`` gets a
``+CONTINUE`` when the id matches and the offset is inside what is kept.
"""

import os


def new_replid() -> str:
    """40 random hex characters, as Redis's changeReplicationId makes."""
    return os.urandom(20).hex()


class Backlog:
    """Replication ids, the stream offset and the circular backlog of recent bytes."""

    def __init__(self, size: int = 1 << 20, replid: str = None):
        self.replid = replid or new_replid()
        self.replid2 = "0" * 40
        self.offset = 0                 # master_repl_offset: bytes fed so far
        self.second_offset = -1         # replid2 is valid for offsets < second_offset
        self.size = max(int(size), 16 * 1024)
        self.active = False             # created with the first replica (Redis: same)
        self._buf = bytearray()         # the last bytes; trimmed lazily to ``size``
        self.limit = 2 * self.size      # trim when the buffer passes this
        self.idle_since = None          # time.monotonic() when the last replica left
        # Stream bytes counted in ``offset`` but not yet in the buffer nor sent to the
        # replicas: the writes of this event-loop iteration (Primary.flush settles them).
        self.pending = []

    # ---- the backlog ----------------------------------------------------------------

    def create(self) -> None:
        """Start keeping history (the first replica attached)."""
        if not self.active:
            self.active = True
            self._buf = bytearray()

    def free(self) -> None:
        """Drop the history (repl-backlog-ttl passed with no replica); a new replid
        follows, as Redis's freeReplicationBacklog + changeReplicationId on masters."""
        self.active = False
        self._buf = bytearray()

    def resize(self, size: int) -> None:
        """repl-backlog-size changed: keep at most the new size of history."""
        self.size = max(int(size), 16 * 1024)
        self.limit = 2 * self.size
        self.trim()

    def feed(self, data: bytes) -> None:
        """Append bytes of the stream: the offset moves at once, the buffer gets them
        with the rest of the iteration's bytes (:meth:`settle`)."""
        self.offset += len(data)
        self.pending.append(data)

    def settle(self) -> bytes:
        """Move the pending bytes into the buffer (one join, one append) and return
        them: what the replicas must be sent now."""
        pending = self.pending
        if not pending:
            return b""
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        if self.active:
            buf = self._buf
            buf += data
            if len(buf) > self.limit:
                self.trim()
        return data

    def trim(self) -> None:
        """Drop what is older than ``size`` bytes (done lazily, past twice the size)."""
        extra = len(self._buf) - self.size
        if extra > 0:
            del self._buf[:extra]

    @property
    def histlen(self) -> int:
        """Bytes of history held (repl_backlog_histlen)."""
        if not self.active:
            return 0
        held = len(self._buf)
        if self.pending:        # counted in the offset, in the buffer once settled
            held += sum(map(len, self.pending))
        return min(held, self.size)

    def memory(self) -> int:
        """Bytes the backlog holds in memory (INFO's mem_replication_backlog): the
        buffer, which is trimmed lazily, and this iteration's bytes not settled yet."""
        held = len(self._buf) if self.active else 0
        if self.pending:
            held += sum(map(len, self.pending))
        return held

    @property
    def first_byte_offset(self) -> int:
        """Offset of the oldest byte held (repl_backlog_first_byte_offset)."""
        return self.offset - self.histlen + 1

    def since(self, offset: int):
        """The bytes from stream offset ``offset`` (1-based: the next byte a replica that
        processed ``offset - 1`` bytes needs) to the end, or None if not held."""
        if not self.active:
            return None
        if offset == self.offset + 1:
            return b""
        if offset < self.first_byte_offset or offset > self.offset + 1:
            return None
        buf = self._buf
        if self.pending:        # not settled yet (this iteration's writes): read, keep
            buf = buf + b"".join(self.pending)
        start = len(buf) - (self.offset - offset + 1)
        return bytes(buf[start:])

    # ---- PSYNC ------------------------------------------------------------------------

    def can_continue(self, replid: str, psync_offset: int) -> bool:
        """Whether ``PSYNC replid psync_offset`` may be served from the backlog.

        ``psync_offset`` is the replica's processed offset + 1 (what it asks for next).
        """
        if replid != self.replid and (replid != self.replid2
                                      or psync_offset > self.second_offset):
            return False
        return self.since(psync_offset) is not None

    def shift_replid(self) -> None:
        """Start a new history (promotion): the current id stays valid as replid2."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = new_replid()

    def clear_replid2(self) -> None:
        """Forget the previous history id (a full resync from a new primary)."""
        self.replid2 = "0" * 40
        self.second_offset = -1

    def reset_to(self, replid: str, offset: int) -> None:
        """Adopt a primary's history after a full sync: its id and offset, empty backlog."""
        self.replid = replid
        self.offset = offset
        self.clear_replid2()
        self.pending.clear()
        self._buf = bytearray()

    def info_fields(self) -> list:
        """INFO replication's repl_backlog_* fields."""
        return [
            ("repl_backlog_active", int(self.active)),
            ("repl_backlog_size", self.size),
            ("repl_backlog_first_byte_offset",
             self.first_byte_offset if self.active else 0),
            ("repl_backlog_histlen", self.histlen if self.active else 0),
        ]

"""HashValue: the hash type (field -> value), with Redis 7.4's per-field deadlines.

Fields live in a dict, whose order is the order Redis replies in for small hashes (a
listpack keeps insertion order). ``encoding`` is Redis's OBJECT ENCODING for the same
history of commands: "listpack" while small, "listpackex" once a field-expiry command
touched a small hash, "hashtable" once hash-max-listpack-entries or
hash-max-listpack-value was crossed (never back, as in Redis). In a listpackex Redis
keeps the fields with a deadline first, ordered by deadline (a field given a deadline is
placed before those with the same or a later one), then the fields without one; ember
reorders the dict the same way, which costs O(n) for n <= hash-max-listpack-entries, as
Redis's listpack insertion does.

Deadlines are absolute Unix milliseconds in ``ttls`` (field -> deadline), mirrored in a
lazily cleaned min-heap so that the earliest one is found in O(log n). A field whose
deadline is in the past (deadline < now, as Redis compares) is logically gone; removing
it and telling the world (HDEL propagation, keyspace events) is the command layer's job.

:class:`HashExpiryIndex` is the per-server index of hashes that have fields with a
deadline, ordered by each hash's earliest one, which active expiry walks.

The encoding limits come from the caller (``limits``: any object with the attributes
``hash_max_listpack_entries`` and ``hash_max_listpack_value``, such as the server's
Config), so that CONFIG SET applies to the next write. Nothing here knows RESP.
"""

import heapq

LISTPACK = "listpack"
LISTPACK_EX = "listpackex"
HASHTABLE = "hashtable"


class HashValue:
    """A Redis hash: byte-string fields and values, see the module docstring."""

    type_name = "hash"
    __slots__ = ("fields", "ttls", "_heap", "big", "ex", "indexed_at", "_keys")

    def __init__(self):
        self.fields = {}          # field -> value, in Redis's reply order while small
        self.ttls = None          # field -> deadline (Unix ms), or None before any
        self._heap = None         # [(deadline, field)], stale entries skipped lazily
        self.big = False          # "hashtable" encoding
        self.ex = False           # "listpackex": a field-expiry command touched it
        self.indexed_at = None    # deadline of this hash's newest HashExpiryIndex entry
        self._keys = None         # list(fields) cached for random picks

    @property
    def encoding(self) -> str:
        """OBJECT ENCODING of this hash."""
        if self.big:
            return HASHTABLE
        return LISTPACK_EX if self.ex else LISTPACK

    def __len__(self) -> int:
        """Fields stored, including those whose deadline passed but are not removed yet
        (what HLEN reports in Redis 7.4)."""
        return len(self.fields)

    def copy(self) -> "HashValue":
        """An independent copy with the same fields, deadlines, order and encoding (COPY);
        it is not in any expiry index yet."""
        dup = HashValue()
        dup.fields = dict(self.fields)
        if self.ttls:
            dup.ttls = dict(self.ttls)
            dup._heap = [(when, field) for field, when in self.ttls.items()]
            heapq.heapify(dup._heap)
        dup.big = self.big
        dup.ex = self.ex
        return dup

    # ---- encoding -------------------------------------------------------------------

    def prepare(self, args: list, start: int, limits) -> None:
        """Redis's hashTypeTryConversion before writing the field/value pairs
        ``args[start:]``: more pairs than the listpack may hold, or one string over
        hash-max-listpack-value, converts to a hashtable first (Redis 7.2)."""
        if self.big:
            return
        if (len(args) - start) // 2 > limits.hash_max_listpack_entries:
            self.big = True
            return
        max_value = limits.hash_max_listpack_value
        for i in range(start, len(args)):
            if len(args[i]) > max_value:
                self.big = True
                return

    def extend_for_ttl(self) -> None:
        """A field-expiry command is about to run on this hash: a listpack becomes a
        listpackex (Redis converts at the start of HEXPIRE, whatever it then does)."""
        if not self.big:
            self.ex = True

    # ---- fields ---------------------------------------------------------------------

    def set(self, field: bytes, value: bytes, limits, keep_ttl: bool = False) -> bool:
        """Redis's hashTypeSet: store ``value`` at ``field``; True if the field is new.

        Overwriting drops the field's deadline unless ``keep_ttl`` (HINCRBY keeps it).
        A string over hash-max-listpack-value, or one field too many, converts the hash
        to a hashtable.
        """
        fields = self.fields
        if not self.big:
            max_value = limits.hash_max_listpack_value
            if len(field) > max_value or len(value) > max_value:
                self.big = True
        if field in fields:
            fields[field] = value
            ttls = self.ttls
            if not keep_ttl and ttls and field in ttls:
                del ttls[field]
                if self.ex and not self.big:
                    del fields[field]          # a listpackex moves it to the end
                    fields[field] = value
            return False
        fields[field] = value
        self._keys = None
        if not self.big and len(fields) > limits.hash_max_listpack_entries:
            self.big = True
        return True

    def delete(self, field: bytes) -> bool:
        """Remove ``field`` (expired or not) and its deadline; True if it was there."""
        if self.fields.pop(field, None) is None:
            return False
        self._keys = None
        if self.ttls:
            self.ttls.pop(field, None)
        return True

    def deadline(self, field: bytes):
        """The field's deadline in Unix ms, or None if it has none."""
        ttls = self.ttls
        return ttls.get(field) if ttls else None

    def is_expired(self, field: bytes, now_ms: int) -> bool:
        """True if ``field`` has a deadline that has passed (deadline < now)."""
        ttls = self.ttls
        if not ttls:
            return False
        when = ttls.get(field)
        return when is not None and when < now_ms

    def live_items(self, now_ms: int) -> list:
        """(field, value) pairs whose deadline has not passed, in reply order."""
        ttls = self.ttls
        first = self.next_deadline() if ttls else None
        if first is None or first >= now_ms:
            return list(self.fields.items())
        return [(f, v) for f, v in self.fields.items()
                if not (f in ttls and ttls[f] < now_ms)]

    def random_keys(self) -> list:
        """The fields as a list, for random picks (cached until a field is added or
        removed, so repeated HRANDFIELDs cost O(1) per returned field)."""
        keys = self._keys
        if keys is None:
            keys = self._keys = list(self.fields)
        return keys

    # ---- deadlines ------------------------------------------------------------------

    def set_deadline(self, field: bytes, when: int) -> None:
        """Give an existing ``field`` the absolute deadline ``when`` (Unix ms)."""
        if self.ttls is None:
            self.ttls = {}
            self._heap = []
        self.ttls[field] = when
        heapq.heappush(self._heap, (when, field))
        self._compact_heap()
        if self.ex and not self.big:
            self._place(field, when)

    def persist(self, field: bytes) -> bool:
        """Drop the field's deadline; True if it had one."""
        ttls = self.ttls
        if not ttls or ttls.pop(field, None) is None:
            return False
        if self.ex and not self.big:
            self._place(field, None)
        return True

    def next_deadline(self):
        """The earliest deadline of any field, or None."""
        ttls = self.ttls
        if not ttls:
            return None
        heap = self._heap
        while heap:
            when, field = heap[0]
            if ttls.get(field) == when:
                return when
            heapq.heappop(heap)
        return None

    def pop_expired(self, now_ms: int, limit: int) -> list:
        """Remove up to ``limit`` fields whose deadline has passed; return them."""
        ttls = self.ttls
        if not ttls:
            return []
        heap = self._heap
        fields = self.fields
        removed = []
        while heap and len(removed) < limit and heap[0][0] < now_ms:
            when, field = heapq.heappop(heap)
            if ttls.get(field) == when:
                del ttls[field]
                del fields[field]
                removed.append(field)
        if removed:
            self._keys = None
        return removed

    def _compact_heap(self) -> None:
        heap = self._heap
        if len(heap) > 2 * len(self.ttls) + 32:
            self._heap = [(when, field) for field, when in self.ttls.items()]
            heapq.heapify(self._heap)

    def _place(self, field: bytes, when) -> None:
        """Move ``field`` where a listpackex keeps it: before the first field with no
        deadline or one >= ``when``; at the end when ``when`` is None."""
        fields = self.fields
        value = fields.pop(field)
        if when is None:
            fields[field] = value
            return
        ttls = self.ttls
        items = list(fields.items())
        at = len(items)
        for i, (other, _) in enumerate(items):
            other_when = ttls.get(other)
            if other_when is None or other_when >= when:
                at = i
                break
        items.insert(at, (field, value))
        self.fields = dict(items)


class HashExpiryIndex:
    """Hashes with field deadlines, in a min-heap by each hash's earliest deadline.

    Entries are ``(deadline, seq, db_id, key, hash)``. They are never updated in place:
    a hash whose earliest deadline moves gets a new entry, and an entry is stale when the
    hash is no longer at ``key`` of database ``db_id`` (deleted, renamed, moved) or when
    its deadline is not the hash's ``indexed_at``. Whoever pops entries checks that.
    """

    __slots__ = ("heap", "_seq", "_kept")

    def __init__(self):
        self.heap = []
        self._seq = 0
        self._kept = 0            # entries left by the last compaction

    def __len__(self) -> int:
        return len(self.heap)

    def track(self, db_id: int, key: bytes, value: HashValue, force: bool = False) -> None:
        """Make sure ``value`` (at ``key`` of ``db_id``) is indexed by its earliest
        deadline. ``force`` adds an entry even if one exists (the hash moved)."""
        when = value.next_deadline()
        if when is None:
            return
        if not force and value.indexed_at is not None and value.indexed_at <= when:
            return
        self._seq += 1
        heapq.heappush(self.heap, (when, self._seq, db_id, key, value))
        value.indexed_at = when

    def pop_due(self, now_ms: int):
        """Pop the earliest entry if its deadline has passed, else return None."""
        heap = self.heap
        if heap and heap[0][0] < now_ms:
            return heapq.heappop(heap)
        return None

    def compact(self, alive) -> None:
        """Drop the entries ``alive(entry)`` rejects, once the heap has doubled since the
        last compaction (so the scans cost O(1) per entry added, amortized)."""
        if len(self.heap) > max(1024, 2 * self._kept):
            kept = [entry for entry in self.heap if alive(entry)]
            heapq.heapify(kept)
            self.heap = kept
            self._kept = len(kept)

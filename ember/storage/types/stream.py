"""StreamValue: the stream type (entries keyed by increasing IDs), without RESP.

An entry ID is Redis's pair of unsigned 64-bit integers ``ms-seq``; here it is packed
into one Python int, ``ms << 64 | seq``, so that IDs compare, sort and hash as ints
(:func:`pack`, :func:`unpack`, :func:`format_id`). Live entries are a dict ID -> the
entry's fields as one flat tuple ``(f1, v1, f2, v2 ...)`` plus a SortedList of the IDs
for ranges (O(log N) seeks), which keeps an entry to a few Python objects.

Redis stores entries in listpack *nodes* of at most ``stream-node-max-entries`` entries
(deleted ones included) and about ``stream-node-max-bytes`` bytes. Approximate trimming
(``MAXLEN ~`` / ``MINID ~``) only drops whole nodes, and what it propagates depends on
them, so the node boundaries are modelled too (:class:`_Node`: first ID, last ID,
entry and live counts, an estimate of the listpack's size); XDEL leaves tombstones in a
node and drops a node once it has no live entry, as Redis does.

Consumer groups (:class:`Group`, :class:`Consumer`, :class:`PendingEntry`) live in
``groups`` (an insertion-ordered dict name -> Group, as Redis's rax orders them by name
they are sorted when listed).
"""

from bisect import bisect_right

from sortedcontainers import SortedList

MAX64 = (1 << 64) - 1
MAX_ID = (MAX64 << 64) | MAX64
_MASK = MAX64


def pack(ms: int, seq: int) -> int:
    """The int form of ID ``ms-seq``."""
    return (ms << 64) | seq


def unpack(sid: int) -> tuple:
    """``(ms, seq)`` of a packed ID."""
    return sid >> 64, sid & _MASK


def format_id(sid: int) -> bytes:
    """The ``ms-seq`` text of a packed ID, as Redis replies it."""
    return b"%d-%d" % (sid >> 64, sid & _MASK)


def _int_size(n: int) -> int:
    if 0 <= n <= 127:
        return 1
    if -4096 <= n <= 4095:
        return 2
    if -32768 <= n <= 32767:
        return 3
    if -(1 << 23) <= n < (1 << 23):
        return 4
    if -(1 << 31) <= n < (1 << 31):
        return 5
    return 9


def _element_size(data) -> int:
    """Bytes of one listpack element (encoding + data + back length), as lpInsert."""
    if isinstance(data, int):
        size = _int_size(data) if -(1 << 63) <= data < (1 << 63) else 9
    else:
        n = len(data)
        if 0 < n <= 20 and (data[:1].isdigit() or data[:1] == b"-"):
            try:
                value = int(data)
                if str(value).encode() == data and -(1 << 63) <= value < (1 << 63):
                    size = _int_size(value)
                    return size + (1 if size <= 127 else 2)
            except ValueError:
                pass
        size = n + (1 if n < 64 else 2 if n < 4096 else 5)
    return size + (1 if size <= 127 else 2 if size < 16383 else 3)


class _Node:
    """One modelled listpack node: its first (master) ID, last ID, counts and size."""

    __slots__ = ("first", "last", "total", "live", "bytes", "fields")

    def __init__(self, first: int, fields: tuple):
        self.first = first
        self.last = first
        self.total = 0           # entries stored, tombstones included
        self.live = 0
        self.fields = fields[0::2]   # the master entry's field names
        self.bytes = 7 + 3 * 1 + sum(_element_size(f) for f in self.fields) + 1

    def entry_bytes(self, sid: int, fields: tuple) -> int:
        """Estimated listpack bytes of appending entry ``sid`` with ``fields``."""
        ms, seq = unpack(sid)
        master_ms, master_seq = unpack(self.first)
        size = _element_size(0) + _element_size(ms - master_ms) + \
            _element_size(seq - master_seq)
        values = fields[1::2]
        if fields[0::2] == self.fields:
            count = 3 + len(values)
            size += sum(_element_size(v) for v in values)
        else:
            count = 4 + len(fields)
            size += _element_size(len(values)) + sum(_element_size(x) for x in fields)
        return size + _element_size(count)


class PendingEntry:
    """A delivered, not yet acknowledged entry of a group (Redis's streamNACK)."""

    __slots__ = ("consumer", "delivery_time", "delivery_count")

    def __init__(self, consumer, delivery_time: int, delivery_count: int = 1):
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count


class Consumer:
    """A consumer of a group: its pending IDs and when it was last seen / active."""

    __slots__ = ("name", "pending", "seen_time", "active_time")

    def __init__(self, name: bytes, now: int):
        self.name = name
        self.pending = SortedList()
        self.seen_time = now
        self.active_time = -1


class Group:
    """A consumer group: last delivered ID, entries read, PEL and consumers."""

    __slots__ = ("last_id", "entries_read", "pel", "pel_ids", "consumers")

    def __init__(self, last_id: int, entries_read: int):
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = {}                 # ID -> PendingEntry
        self.pel_ids = SortedList()   # the PEL's IDs in order
        self.consumers = {}           # name -> Consumer


class StreamValue:
    """A Redis stream: see the module docstring."""

    type_name = "stream"
    encoding = "stream"
    __slots__ = ("entries", "ids", "nodes", "node_keys", "last_id", "first_id",
                 "max_deleted_id", "entries_added", "groups")

    def __init__(self):
        self.entries = {}             # ID -> flat fields tuple
        self.ids = SortedList()
        self.nodes = []               # _Node, in ID order
        self.node_keys = []           # their first IDs, for bisect
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups = {}

    def __len__(self):
        return len(self.entries)

    # ---- adding ----------------------------------------------------------------------

    def next_id(self, now_ms: int) -> int:
        """The ID ``*`` gives (streamNextID): now, or the last ID plus one; None when
        the last possible ID was reached."""
        ms, seq = unpack(self.last_id)
        if now_ms > ms:
            return pack(now_ms, 0)
        if seq == MAX64:
            if ms == MAX64:
                return None
            return pack(ms + 1, 0)
        return self.last_id + 1

    def append(self, sid: int, fields: tuple, max_entries: int, max_bytes: int) -> None:
        """Add entry ``sid`` (greater than ``last_id``) with its flat ``fields``."""
        node = self.nodes[-1] if self.nodes else None
        if node is not None:
            if max_bytes <= 0 or max_bytes > (1 << 30):
                max_bytes = 1 << 30
            if node.bytes + sum(len(x) for x in fields) >= max_bytes:
                node = None
            elif max_entries and node.total >= max_entries:
                node = None
        if node is None:
            node = _Node(sid, fields)
            self.nodes.append(node)
            self.node_keys.append(sid)
        node.bytes += node.entry_bytes(sid, fields)
        master = node.fields
        if len(fields) == 2 and fields[0] == master[0]:
            fields = (master[0], fields[1])         # share the field name's object
        elif len(fields) == 2 * len(master) and fields[0::2] == master:
            fields = tuple(x for pair in zip(master, fields[1::2]) for x in pair)
        node.total += 1
        node.live += 1
        node.last = sid
        if not self.entries:
            self.first_id = sid
        self.entries[sid] = fields
        self.ids.add(sid)
        self.last_id = sid
        self.entries_added += 1

    # ---- reading ---------------------------------------------------------------------

    def range(self, start: int, end: int, count: int = 0, reverse: bool = False):
        """Entries ``(id, fields)`` with start <= id <= end, at most ``count`` (0: all)."""
        if start > end:
            return []
        out = []
        entries = self.entries
        for sid in self.ids.irange(start, end, reverse=reverse):
            out.append((sid, entries[sid]))
            if count and len(out) >= count:
                break
        return out

    def first_entry(self):
        """``(id, fields)`` of the first live entry, or None."""
        return (self.ids[0], self.entries[self.ids[0]]) if self.ids else None

    def last_entry(self):
        """``(id, fields)`` of the last live entry, or None."""
        return (self.ids[-1], self.entries[self.ids[-1]]) if self.ids else None

    def first_id_with_tombstones(self) -> int:
        """streamGetEdgeID(first, keep tombstones): the first node's first ID, or the
        maximal ID when there is no node (what approximate MINID trimming propagates)."""
        return self.nodes[0].first if self.nodes else MAX_ID

    # ---- removing --------------------------------------------------------------------

    def _node_of(self, sid: int) -> int:
        return bisect_right(self.node_keys, sid) - 1

    def _drop_node(self, index: int) -> None:
        del self.nodes[index]
        del self.node_keys[index]

    def delete(self, sid: int) -> bool:
        """XDEL one ID: True if it was a live entry (its node goes once it is empty)."""
        if sid not in self.entries:
            return False
        del self.entries[sid]
        self.ids.remove(sid)
        index = self._node_of(sid)
        node = self.nodes[index]
        node.live -= 1
        if node.live == 0:
            self._drop_node(index)
        return True

    def _refresh_first(self) -> None:
        self.first_id = self.ids[0] if self.ids else 0

    def trim(self, maxlen: int = None, minid: int = None, approx: bool = False,
             limit: int = 0) -> int:
        """streamTrim: drop the oldest entries until at most ``maxlen`` remain or all
        are >= ``minid``; ``approx`` drops whole nodes only; ``limit`` (0: none) caps
        the entries removed. Returns how many were removed."""
        deleted = 0
        while self.nodes:
            if maxlen is not None and len(self.entries) <= maxlen:
                break
            node = self.nodes[0]
            if limit and deleted + node.live > limit:
                break
            if maxlen is not None:
                whole = len(self.entries) - node.live >= maxlen
            else:
                whole = node.last < minid
            if whole:
                removed = self._remove_front(node.last + 1 if node.last < MAX_ID else None)
                deleted += removed
                self._drop_node(0)
                continue
            if approx:
                break
            end = node.last
            for sid in list(self.ids.irange(node.first, end)):
                if maxlen is not None and len(self.entries) <= maxlen:
                    break
                if minid is not None and sid >= minid:
                    break
                del self.entries[sid]
                self.ids.remove(sid)
                node.live -= 1
                deleted += 1
            break
        self._refresh_first()
        return deleted

    def _remove_front(self, below) -> int:
        """Remove the live entries with ID < ``below`` (None: all); return how many."""
        ids = self.ids
        n = len(ids) if below is None else ids.bisect_left(below)
        for sid in ids.islice(0, n):
            del self.entries[sid]
        del ids[:n]
        return n

    # ---- copying ---------------------------------------------------------------------

    def copy(self) -> "StreamValue":
        """An independent deep copy (COPY)."""
        other = StreamValue()
        other.entries = dict(self.entries)
        other.ids = SortedList(self.ids)
        for node in self.nodes:
            twin = _Node.__new__(_Node)
            for name in _Node.__slots__:
                setattr(twin, name, getattr(node, name))
            other.nodes.append(twin)
        other.node_keys = list(self.node_keys)
        other.last_id = self.last_id
        other.first_id = self.first_id
        other.max_deleted_id = self.max_deleted_id
        other.entries_added = self.entries_added
        for name, group in self.groups.items():
            twin = Group(group.last_id, group.entries_read)
            consumers = {}
            for cname, consumer in group.consumers.items():
                c = Consumer(cname, consumer.seen_time)
                c.active_time = consumer.active_time
                c.pending = SortedList(consumer.pending)
                consumers[cname] = c
            twin.consumers = consumers
            for sid, nack in group.pel.items():
                twin.pel[sid] = PendingEntry(consumers[nack.consumer.name],
                                             nack.delivery_time, nack.delivery_count)
            twin.pel_ids = SortedList(group.pel_ids)
            other.groups[name] = twin
        return other

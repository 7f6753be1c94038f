"""Memory accounting: what each key costs, kept up to date as values change.

``used_memory`` is never a walk over the keyspace. Each :class:`Database` keeps ``used``,
the bytes of its keys' payloads, changed by every write:

* a string value is charged ``len(key) + len(value) + 2 * BYTES_OBJECT`` when it is
  stored, and an overwrite by another string adds only the difference of the lengths
  (the hot SET path: two ``len`` calls and one addition);
* any other value (hash, list, set, sorted set, stream, and strings made mutable as a
  ``bytearray``) is charged :func:`estimate` of it, remembered in ``db.charged[key]``.
  Such values change in place, so the lookup path notes the keys it handed out in
  ``db.stale``, and :func:`settle` re-estimates them (before an eviction decision, on
  INFO/MEMORY, and from the cron), adjusting ``used`` by the difference.

The per-key and per-TTL costs of the keyspace's own tables are counted from their
lengths when the total is read (:func:`dataset_bytes`), so they cost nothing per write.

The constants come from measurement (``benchmarks/eviction.py --calibrate`` prints them
again): tracemalloc deltas per element on CPython 3.11 with the real commands, for the
four datasets of the RSS comparison. A bytes object of n bytes takes 33 + n bytes
rounded up to pymalloc's 16-byte classes: on average 33 + n + 8 (``BYTES_OBJECT`` = 41
extra bytes); a dict entry costs ~40 bytes in a large table once its load factor is
averaged in.
"""

from itertools import islice

# What an empty server reports as used_memory (Redis's used_memory_startup is about
# this); the interpreter's own memory is not counted, as Redis does not count its code.
STARTUP_BYTES = 900 * 1024
# A bytes object's header (33) plus the average pymalloc rounding (8).
BYTES_OBJECT = 41
# Per key: its entries in ``data`` and ``access`` (hash, pointers, load factor).
KEY_ENTRY = 90
# Per key with a TTL: its ``expires`` entry, the deadline int, the heap tuple and slot.
TTL_ENTRY = 116
# Elements looked at to estimate a container's average element size (MEMORY USAGE's
# default SAMPLES is 5 too).
SAMPLES = 5

# Container costs: (fixed cost of the value, cost per element besides its byte strings).
_HASH = (200, 38)          # HashValue + dict; dict entry
_LIST = (760, 8)           # ListValue + deque blocks; one deque slot
_SET = (240, 56)           # SetValue + dict + list; dict entry, list slot, int position
_ZSET = (400, 112)         # ZSet + dict + SortedList; dict entry, float, tuple, list slot
_STREAM = (600, 96)        # StreamValue; dict entry, id int, sorted id, tuple


def bytes_size(n: int) -> int:
    """Bytes a bytes object of ``n`` bytes takes (header, pymalloc rounding or malloc)."""
    total = n + 33
    if total <= 512:
        return (total + 15) & ~15
    return total + 16


def _average(sample, count: int, per_item) -> float:
    """The mean of ``per_item`` over ``sample`` (an iterable of at most ``count``)."""
    total = 0
    seen = 0
    for item in sample:
        total += per_item(item)
        seen += 1
    return total / seen if seen else 0


def _pair_size(pair) -> int:
    return bytes_size(len(pair[0])) + bytes_size(len(pair[1]))


def _one_size(item) -> int:
    return bytes_size(len(item))


def estimate(value, samples: int = SAMPLES) -> int:
    """Bytes a value takes, in O(samples): fixed cost + elements x (per-element overhead +
    the mean size of up to ``samples`` of its byte strings). For strings, the exact size."""
    try:
        return _estimate(value, samples)
    except (AttributeError, TypeError):     # a value type this model does not know
        try:
            return 64 + 64 * len(value)
        except TypeError:
            return 64


def _estimate(value, samples: int) -> int:
    kind = type(value)
    if kind is bytes or kind is bytearray:
        return bytes_size(len(value)) if kind is bytes else len(value) + 57 + len(value) // 16
    name = getattr(value, "type_name", None)
    n = len(value)
    if name == "hash":
        base, per = _HASH
        avg = _average(islice(value.fields.items(), samples), samples, _pair_size)
        if value.ttls:
            per += 70
    elif name == "list":
        base, per = _LIST
        items = value.items
        avg = _average((items[i] for i in _spread(n, samples)), samples, _one_size)
    elif name == "set":
        base, per = _SET
        avg = _average(islice(value._items, samples), samples, _one_size)
    elif name == "zset":
        base, per = _ZSET
        avg = _average(islice(value.scores, samples), samples, _one_size)
    elif name == "stream":
        base, per = _STREAM
        avg = _average(islice(value.entries.values(), samples), samples,
                       lambda fields: 56 + 8 * len(fields)
                       + sum(bytes_size(len(f)) for f in fields))
        base += 400 * len(value.groups)
    else:
        return 64
    return int(base + n * (per + avg))


def _spread(n: int, samples: int):
    """Up to ``samples`` indexes spread over range(n) (first, last, and between)."""
    if n <= samples:
        return range(n)
    step = (n - 1) / (samples - 1)
    return (int(i * step) for i in range(samples))


def key_cost(key: bytes, value) -> int:
    """What ``db.used`` holds for ``key`` while it stores ``value`` (see module doc)."""
    if type(value) is bytes:
        return len(key) + len(value) + 2 * BYTES_OBJECT
    return len(key) + BYTES_OBJECT + estimate(value)


def settle(db) -> None:
    """Re-estimate the values the lookup path handed out since the last call (they may
    have changed in place) and adjust ``db.used`` by the differences."""
    stale = db.stale
    if not stale:
        return
    db.stale = set()
    charged = db.charged
    data = db.data
    for key in stale:
        old = charged.get(key)
        if old is None:
            continue
        value = data.get(key)
        if value is None:   # removed meanwhile (its charge went with it)
            continue
        new = estimate(value)
        if new != old:
            charged[key] = new
            db.used += new - old


def dataset_bytes(db) -> int:
    """The bytes ``db`` holds: payloads (``used``) plus its tables' per-entry costs."""
    settle(db)
    return db.used + KEY_ENTRY * len(db.data) + TTL_ENTRY * len(db.expires)


def value_usage(key: bytes, value, samples: int = SAMPLES, has_ttl: bool = False) -> int:
    """MEMORY USAGE of one key: its key object, value and table entries."""
    if samples <= 0:
        samples = 1 << 62
    if type(value) is bytes:
        size = bytes_size(len(value))
    else:
        size = estimate(value, samples)
    return KEY_ENTRY + bytes_size(len(key)) + size + (TTL_ENTRY if has_ttl else 0)


def recount(db) -> int:
    """``db.used`` recomputed from scratch by a walk (tests and benchmarks compare the
    incremental figure with it; nothing on a command path calls it)."""
    total = 0
    for key, value in db.data.items():
        total += key_cost(key, value)
    return total

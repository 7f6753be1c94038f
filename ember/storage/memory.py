"""Memory accounting: what each key costs, kept up to date as values change.

``used_memory`` is never a walk over the keyspace. Every :class:`Database` of a server
shares one :class:`Accounting` whose ``used`` is changed by every write:

* a new string key adds ``len(key) + len(value) + STRING_KEY`` (its two bytes objects and
  its table entries), and an overwrite by another string only the difference of the
  lengths (the hot SET path: two ``len`` calls and one addition);
* any other value (hash, list, set, sorted set, stream, and strings made mutable as a
  ``bytearray``) is charged :func:`estimate` of it, remembered in ``db.charged[key]``.
  Such values change in place, so the lookup path notes the (db, key) pairs it handed
  out in ``stale``, and :func:`settle` re-estimates them (before an eviction decision,
  on INFO/MEMORY, and from the cron), adjusting ``used`` by the difference;
* a TTL adds ``TTL_ENTRY`` while the key has one.

Reading the total is O(1), which is what lets maxmemory be checked before every command.
``keys`` counts the keys accounted for; the cron compares it with the databases' sizes
and recounts after anything that filled a database behind the keyspace's back (a loader).

The constants come from measurement on CPython 3.11: tracemalloc deltas per element with
the real commands (payload sizes varied to separate fixed and per-byte costs), then
checked against the growth of the server's RSS for the four datasets of the issue
(``benchmarks/eviction.py --mode rss``; the results are in benchmarks/README.md).
A bytes object of n bytes takes 33 + n bytes
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
KEY_ENTRY = 80
# A string key besides its bytes: two objects' headers and the table entries.
STRING_KEY = 2 * BYTES_OBJECT + KEY_ENTRY
# Per key with a TTL: its ``expires`` entry, the deadline int, the heap tuple and slot.
TTL_ENTRY = 116
# Elements looked at to estimate a container's average element size (MEMORY USAGE's
# default SAMPLES is 5 too).
SAMPLES = 5

# Container costs: (fixed cost of the value, cost per element besides its byte strings).
_HASH = (200, 38)          # HashValue + dict; dict entry
_LIST = (760, 8)           # ListValue + deque blocks; one deque slot
_SET = (240, 56)           # SetValue + dict + list; dict entry, list slot, int position
_ZSET = (400, 148)         # ZSet + dict + SortedList; dict entry, float, tuple, list slot
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


class Accounting:
    """The server's memory tally: bytes, keys counted, values to re-estimate."""

    __slots__ = ("used", "keys", "stale")

    def __init__(self):
        self.used = 0
        self.keys = 0
        self.stale = set()      # (db, key) whose value may have changed in place


def key_cost(key: bytes, value, charged: int = None) -> int:
    """What the tally holds for ``key`` while it stores ``value`` (without its TTL);
    ``charged`` is the value's remembered estimate when it is not a bytes object."""
    if type(value) is bytes:
        return len(key) + len(value) + STRING_KEY
    if charged is None:
        charged = estimate(value)
    return len(key) + BYTES_OBJECT + KEY_ENTRY + charged


def settle(mem: Accounting) -> None:
    """Re-estimate the values the lookup path handed out since the last call (they may
    have changed in place) and adjust the tally by the differences."""
    stale = mem.stale
    if not stale:
        return
    mem.stale = set()
    for db, key in stale:
        old = db.charged.get(key)
        if old is None:     # a string now, or removed meanwhile (its charge went too)
            continue
        value = db.data.get(key)
        if value is None:
            continue
        new = estimate(value)
        if new != old:
            db.charged[key] = new
            mem.used += new - old


def used_bytes(mem: Accounting) -> int:
    """The dataset's bytes (settled first)."""
    if mem.stale:
        settle(mem)
    return mem.used


def dataset_bytes(db) -> int:
    """The bytes one database holds, by a walk (MEMORY STATS, tests; not per command)."""
    return recount(db)


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
    """What ``db`` adds to the tally, recomputed by a walk with the remembered estimates
    (FLUSHDB takes it out; tests compare the incremental tally with it)."""
    charged = db.charged
    total = TTL_ENTRY * len(db.expires)
    for key, value in db.data.items():
        total += key_cost(key, value, charged.get(key))
    return total


def rebuild(dbs) -> None:
    """Recount every database into their shared tally from scratch (after a loader
    filled them directly); O(keys), so only when :func:`consistent` says so."""
    if not dbs:
        return
    mem = dbs[0].mem
    mem.stale = set()
    used = keys = 0
    for db in dbs:
        db.charged = {key: estimate(value) for key, value in db.data.items()
                      if type(value) is not bytes}
        used += recount(db)
        keys += len(db.data)
    mem.used = used
    mem.keys = keys


def consistent(dbs) -> bool:
    """True when the tally counts as many keys as the databases hold."""
    return sum(len(db.data) for db in dbs) == dbs[0].mem.keys if dbs else True

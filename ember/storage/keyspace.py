"""Database: one numbered keyspace (key -> value) with expiry deadlines.

Every read and write of a key goes through :meth:`Database.lookup` (or the typed helpers
built on it), which does in one place what Redis's lookupKey does: lazy expiry, the
access-time touch for OBJECT IDLETIME / LRU, and the keyspace hit/miss counters.

Values are plain Python objects: ``bytes`` (or ``bytearray`` once APPEND/SETRANGE made the
string mutable) for strings, and the classes in :mod:`ember.storage.types` for the rest.
Deadlines are absolute Unix milliseconds in ``expires``; :mod:`ember.storage.expiry`
keeps the deadline-ordered index that active expiry walks.

No RESP, no asyncio: the clock is injected (``clock()`` returns Unix ms) so that tests
can move time by hand.
"""

import sys

from ember.errors import WRONGTYPE, ReplyError
from ember.storage.expiry import ExpiryIndex
from ember.storage.memory import STRING_KEY, TTL_ENTRY, Accounting, estimate, key_cost, recount

_STRING_TYPES = (bytes, bytearray)
_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)


class TimeCache:
    """The server's cached clock, shared by the engine and every database.

    Redis reads the clock once per command and caches it; ember refreshes this once per
    batch of commands (``Engine.tick``). Reading two attributes is far cheaper on the hot
    path than calling a clock function.
    """

    __slots__ = ("ms", "s")

    def __init__(self, now_ms: int):
        self.ms = now_ms
        self.s = now_ms // 1000

    def set(self, now_ms: int) -> None:
        """Move the cached time to ``now_ms`` (Unix milliseconds)."""
        self.ms = now_ms
        self.s = now_ms // 1000


class KeyspaceStats:
    """Counters shared by every database of a server (INFO stats)."""

    __slots__ = ("hits", "misses", "expired", "expired_stale_perc", "expire_cycle_ms")

    def __init__(self):
        self.hits = 0
        self.misses = 0
        self.expired = 0
        self.expired_stale_perc = 0.0
        self.expire_cycle_ms = 0


class Database:
    """A numbered keyspace. ``data`` maps key -> value; ``expires`` maps key -> deadline ms."""

    __slots__ = ("id", "data", "expires", "access", "index", "clock", "stats",
                 "on_expire", "touching", "avg_ttl", "time", "keep_expired",
                 "mem", "charged", "fresh")

    def __init__(self, db_id: int, clock, stats: KeyspaceStats = None, on_expire=None,
                 time_cache: TimeCache = None):
        self.id = db_id
        # ``clock()`` returns Unix ms; ``time`` is the same clock cached (see TimeCache).
        self.time = time_cache or _LiveTime(clock)
        self.data = {}
        self.expires = {}
        # Last access time (Unix seconds) per key, for OBJECT IDLETIME and LRU.
        self.access = {}
        self.index = ExpiryIndex()
        self.clock = clock
        self.stats = stats or KeyspaceStats()
        # Called as on_expire(db, key) when a key is removed because its TTL passed, so
        # that the server can propagate a DEL and send the `expired` event.
        self.on_expire = on_expire
        # False while a client with CLIENT NO-TOUCH runs a command.
        self.touching = True
        self.avg_ttl = 0
        # Memory accounting (storage/memory.py): the server-wide tally (shared by every
        # database, so the maxmemory check is O(1)) and the charge of each value that can
        # change in place.
        self.mem = Accounting()
        self.charged = {}
        # The sign a new key's access time is stored with: -1 under the CLOCK (LRU) table,
        # where negative means "not used since it was queued" (storage/eviction.py).
        self.fresh = 1
        # True on a replica: keys past their deadline read as missing but stay until the
        # primary's DEL (Redis's replicas never expire keys themselves).
        self.keep_expired = False

    # ---- the lookup path -------------------------------------------------------------

    def peek(self, key: bytes):
        """The live value at ``key`` or None: lazy expiry only, no touch, no counting.

        The base of the lookup path (OBJECT, TYPE-free peeks use it directly).
        """
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires and key in self.expires and self.expires[key] < self.time.ms:
            self.expire_key(key)
            return None
        return value

    def lookup_write(self, key: bytes):
        """:meth:`peek` plus the access-time touch: for a command about to modify the key."""
        value = self.peek(key)
        if value is not None:
            if self.touching:
                self.access[key] = self.time.s
            if type(value) is not bytes:    # may change in place: re-estimate later
                self.mem.stale.add((self, key))
        return value

    def lookup(self, key: bytes):
        """:meth:`lookup_write` plus the keyspace hit/miss count: for reads.

        Written out rather than calling :meth:`lookup_write`: every typed read (HGET,
        LRANGE, ZSCORE ...) comes here, and the two saved calls are ~10% of such a read.
        """
        value = self.data.get(key)
        if value is None:
            self.stats.misses += 1
            return None
        if self.expires and key in self.expires and self.expires[key] < self.time.ms:
            self.expire_key(key)
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        if self.touching:
            self.access[key] = self.time.s
        if type(value) is not bytes:        # may change in place: re-estimate later
            self.mem.stale.add((self, key))
        return value

    def get_string(self, key: bytes):
        """The string at ``key`` (bytes/bytearray) or None; WRONGTYPE for other types.

        This is :meth:`lookup` plus the type check, written out in full because GET is
        the hottest path in the server (a saved call is ~5% of a pipelined GET).
        """
        value = self.data.get(key)
        if value is None:
            self.stats.misses += 1
            return None
        if self.expires and key in self.expires and self.expires[key] < self.time.ms:
            self.expire_key(key)
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        if self.touching:
            self.access[key] = self.time.s
        if type(value) is bytes or type(value) is bytearray:
            return value
        raise ReplyError(WRONGTYPE)

    def get_typed(self, key: bytes, cls, write: bool = False):
        """The value at ``key`` if it is a ``cls`` (None if absent); WRONGTYPE otherwise."""
        value = self.lookup_write(key) if write else self.lookup(key)
        if value is None or type(value) is cls:
            return value
        raise ReplyError(WRONGTYPE)

    def exists(self, key: bytes) -> bool:
        """True if ``key`` holds a live value (no hit/miss count, no touch)."""
        return self.peek(key) is not None

    # ---- writes ----------------------------------------------------------------------

    def set(self, key: bytes, value, keep_ttl: bool = False) -> None:
        """Store ``value`` at ``key``; any TTL is cleared unless ``keep_ttl``. A key past
        its deadline expires first (its event, its DEL to replicas, expired_keys), as
        Redis's setKey does through lookupKeyWrite."""
        expires = self.expires
        if expires and key in expires:
            if expires[key] < self.time.ms:
                self.expire_key(key)
            if not keep_ttl and key in expires:     # (a replica keeps an expired key)
                del expires[key]
                self.mem.used -= TTL_ENTRY
        data = self.data
        old = data.get(key)
        data[key] = value
        if self.touching:
            self.access[key] = self.time.s
        if type(old) is bytes and type(value) is bytes:     # a string overwrites a string
            self.mem.used += len(value) - len(old)
        elif old is None and type(value) is bytes and self.fresh > 0:   # a new string
            mem = self.mem
            mem.used += len(key) + len(value) + STRING_KEY
            mem.keys += 1
        else:
            self._charge(key, old, value)

    def set_pairs(self, argv: list) -> None:
        """MSET's stores in one call: ``argv[1]`` gets ``argv[2]``, ``argv[3]`` gets
        ``argv[4]`` ... (all ``bytes``), each as :meth:`set` stores it (TTL cleared),
        after expiring a key past its deadline (as Redis's lookupKeyWrite does)."""
        data = self.data
        data_get = data.get
        expires = self.expires
        access = self.access if self.touching else None
        now_s = self.time.s
        fresh = self.fresh > 0
        mem = self.mem
        used = keys = 0
        pairs = iter(argv)
        next(pairs)
        for key in pairs:
            value = next(pairs)
            if expires and key in expires:
                if expires[key] < self.time.ms:
                    self.expire_key(key)
                if key in expires:      # (a replica keeps an expired key)
                    del expires[key]
                    used -= TTL_ENTRY
            old = data_get(key)
            data[key] = value
            if access is not None:
                access[key] = now_s
            if type(old) is bytes:
                used += len(value) - len(old)
            elif old is None and fresh:
                used += len(key) + len(value) + STRING_KEY
                keys += 1
            else:
                self._charge(key, old, value)
        mem.used += used
        mem.keys += keys

    def incr_counter(self, key: bytes, delta: int):
        """INCR's usual case in one step: if ``key`` holds a live, canonical, non-negative
        integer string under 10**17 (what Redis keeps int-encoded) and adding ``delta``
        stays in int64, store the sum (TTL kept, access time touched) and return it.

        Returns None for anything else (missing key, another type, a bytearray, a sign,
        leading zeros, overflow, a deadline passed): the caller takes the general path,
        which gives Redis's answer for each.
        """
        data = self.data
        value = data.get(key)
        if type(value) is not bytes or not value.isdigit() or (size := len(value)) > 17 \
                or (value[0] == 48 and size > 1) \
                or (self.expires and key in self.expires and self.expires[key] < self.time.ms):
            return None
        result = int(value) + delta
        if not _INT64_MIN <= result <= _INT64_MAX:
            return None
        new = b"%d" % result
        data[key] = new
        if self.touching:
            self.access[key] = self.time.s
        self.mem.used += len(new) - size
        return result

    def delete(self, key: bytes) -> bool:
        """Remove ``key`` (live or logically expired); True if a live key was removed."""
        if key not in self.data:
            return False
        live = not (key in self.expires and self.expires[key] < self.time.ms)
        self._remove(key)
        return live

    def _charge(self, key: bytes, old, value) -> None:
        """Memory accounting for a store other than a string overwriting a string: a new
        key (which CLOCK also marks as not yet used again), or a value other than bytes
        on either side (see storage/memory.py)."""
        mem = self.mem
        if old is None:
            mem.keys += 1
            if self.fresh < 0 and self.touching:
                self.access[key] = -self.time.s
        else:
            mem.used -= key_cost(key, old, self.charged.pop(key, 0))
        if type(value) is bytes:
            mem.used += len(key) + len(value) + STRING_KEY
        else:
            size = estimate(value)
            self.charged[key] = size
            mem.stale.add((self, key))      # typically filled right after being stored
            mem.used += key_cost(key, value, size)

    def _remove(self, key: bytes) -> None:
        old = self.data.pop(key)
        mem = self.mem
        mem.used -= key_cost(key, old, self.charged.pop(key, 0) if self.charged else 0)
        mem.keys -= 1
        if self.expires.pop(key, None) is not None:
            mem.used -= TTL_ENTRY
        self.access.pop(key, None)

    def expire_key(self, key: bytes) -> None:
        """Remove a key whose deadline has passed, and report it as expired."""
        if self.keep_expired:       # a replica: the primary's DEL will remove it
            return
        self._remove(key)
        self.stats.expired += 1
        if self.on_expire is not None:
            self.on_expire(self, key)

    # ---- TTLs -----------------------------------------------------------------------

    def set_expire(self, key: bytes, deadline_ms: int) -> None:
        """Give a live key an absolute deadline (Unix ms)."""
        if key not in self.expires:
            self.mem.used += TTL_ENTRY
        self.expires[key] = deadline_ms
        self.index.add(deadline_ms, key)

    def get_expire(self, key: bytes):
        """The key's deadline in Unix ms, or None if it has none."""
        return self.expires.get(key)

    def persist(self, key: bytes) -> bool:
        """Drop the key's TTL; True if it had one."""
        if self.expires.pop(key, None) is None:
            return False
        self.mem.used -= TTL_ENTRY
        return True

    # ---- whole-keyspace operations ---------------------------------------------------

    def __len__(self) -> int:
        return len(self.data)

    def flush(self) -> None:
        """Remove every key."""
        self.mem.used -= recount(self)
        self.mem.keys -= len(self.data)
        self.data = {}
        self.expires = {}
        self.access = type(self.access)()
        self.index = ExpiryIndex()
        self.charged = {}

    def swap_contents(self, other: "Database") -> None:
        """Exchange keys, TTLs and indexes with ``other`` (SWAPDB)."""
        for name in ("data", "expires", "access", "index", "avg_ttl", "charged"):
            mine = getattr(self, name)
            setattr(self, name, getattr(other, name))
            setattr(other, name, mine)

    def active_expire(self, budget_keys: int) -> int:
        """Remove up to ``budget_keys`` keys whose deadline has passed; return how many."""
        if self.keep_expired:
            return 0
        now = self.time.ms
        removed = 0
        expires = self.expires
        for deadline, key in self.index.pop_due(now, budget_keys):
            if expires.get(key) == deadline:
                self.expire_key(key)
                removed += 1
        self.index.compact_if_stale(expires)
        return removed

    def shrink_if_sparse(self) -> None:
        """Rebuild dicts whose tables are mostly empty after deletions, returning memory."""
        for name in ("data", "expires", "access"):
            table = getattr(self, name)
            allocated = sys.getsizeof(table)
            if (type(table) is dict and allocated > 65536
                    and allocated > 8 * (64 * len(table) + 1024)):
                setattr(self, name, dict(table))

    def idle_seconds(self, key: bytes) -> int:
        """Seconds since the key was last read or written (OBJECT IDLETIME)."""
        last = self.access.get(key)
        if last is None:
            return 0
        return max(0, self.time.s - abs(last))     # negative: CLOCK's mark (eviction.py)


class _LiveTime:
    """A TimeCache stand-in that reads a clock function on every access (databases made
    without an engine, e.g. in unit tests)."""

    __slots__ = ("_clock",)

    def __init__(self, clock):
        self._clock = clock

    @property
    def ms(self) -> int:
        return self._clock()

    @property
    def s(self) -> int:
        return self._clock() // 1000

"""maxmemory policies: the per-key recency/frequency structures and the eviction loop.

Each database's ``access`` table (key -> what its last touch recorded) is the one the
lookup path already writes on every read and write (``access[key] = now_seconds``).
The policy picks its class, so that the default costs nothing more:

* :class:`dict` (noeviction, *-random, volatile-ttl): last access in Unix seconds.
* :class:`LRUAccess` (*-lru): the same values in an OrderedDict kept in CLOCK order (second
  chance, the classic approximation of LRU): the touch stays the plain C-level store,
  and each eviction is amortised O(1) (Redis samples maxmemory-samples keys with a
  1-second clock instead). An exact LRU (move to the end on every touch) was measured
  too: it costs a Python-level ``__setitem__`` on every read, +35% per GET, for no
  better hit ratio on the benchmark's traces (benchmarks/README.md).
* :class:`LFUAccess` (*-lfu): Redis's LFU word per key -- minutes of the last decrement
  << 8 | an 8-bit logarithmic counter (LFU_INIT_VAL 5, lfu-log-factor, lfu-decay-time)
  -- updated by a Python-level touch, and Redis's own sampled eviction (maxmemory-samples
  random keys into a pool of 16 candidates), which the benchmark preferred to an exact
  LFU on its scan mix.

:func:`perform_evictions` is Redis's performEvictions: called before each command while
maxmemory is set, it deletes keys chosen by the policy until the estimate is under the
limit, within maxmemory-eviction-tenacity's time budget (the cron continues the work),
counting ``evicted_keys``, firing the ``evicted`` event and propagating a DEL.
"""

import bisect
import heapq
import os
import random
import time
from collections import OrderedDict
from itertools import islice

from ember.storage.memory import STARTUP_BYTES, used_bytes

LFU_INIT_VAL = 5
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
# Keys CLOCK may pass over (second chances, keys without a TTL) to find one to evict.
_CLOCK_TURN = 4096
# Keys examined without a TTL before a volatile-* policy gives up on a database.
_VOLATILE_SCAN = 1024
# An LFUAccess value: slot << _SLOT_SHIFT | ldt minutes << 8 | counter.
_SLOT_SHIFT = 40
_WORD_MASK = (1 << _SLOT_SHIFT) - 1
_MINUTES_MASK = (1 << (_SLOT_SHIFT - 8)) - 1
# Redis's EVPOOL_SIZE.
_POOL_SIZE = 16
# Keys deleted between two looks at the clock (Redis checks every 16).
_CLOCK_EVERY = 16


class LFUParams:
    """lfu-log-factor, lfu-decay-time and maxmemory-samples, shared by every LFUAccess
    (set by the engine), and the clock of the current eviction in minutes."""

    log_factor = 10
    decay_time = 1
    samples = 5
    now_minutes = 0


class LRUAccess(OrderedDict):
    """key -> last access (Unix seconds), in CLOCK (second chance) order.

    The touch is the lookup path's plain ``access[key] = now`` (C code: no cost over a
    dict), which leaves the key where it is in the queue. A positive value means "used
    since the hand last passed"; when the hand (the queue's head) meets such a key it
    gives it a second chance: back to the tail, stored negated (still the same time for
    OBJECT IDLETIME, which reads ``abs``). A key met while negative has not been used
    for a whole turn of the queue: it is the one to evict. New keys come in negative
    (``db.fresh``): a key read once and never again leaves after one turn, which is what
    makes this beat exact LRU on Zipf traces and on scans (benchmarks/README.md).
    """

    __slots__ = ()

    def candidate(self, expires=None):
        """The key CLOCK evicts next (with a TTL if ``expires`` is given), or None."""
        popitem = self.popitem
        put = OrderedDict.__setitem__
        for _ in range(_CLOCK_TURN):
            if not self:
                return None
            key, last = popitem(False)
            if last > 0 or (expires is not None and key not in expires):
                put(self, key, -abs(last))      # second chance (or not evictable here)
                continue
            put(self, key, last)
            self.move_to_end(key, False)        # back at the head: the caller deletes it
            return key
        return next(iter(self)) if expires is None else None

    def rank(self, key) -> float:
        """Smaller is evicted first: the last access time."""
        return abs(self.get(key, 0))


class ExactLRUAccess(LRUAccess):
    """Exact LRU: every touch moves the key to the end (a Python-level ``__setitem__`` on
    each read). Kept to measure against CLOCK: EMBER_EXACT_LRU=1 selects it."""

    __slots__ = ()

    def __setitem__(self, key, seconds, _set=OrderedDict.__setitem__,
                    _move=OrderedDict.move_to_end):
        _set(self, key, seconds)
        _move(self, key)

    def candidate(self, expires=None):
        """The least recently used key (with a TTL if ``expires`` is given), or None."""
        if expires is None:
            return next(iter(self), None)
        for key in islice(self, _VOLATILE_SCAN):
            if key in expires:
                return key
        return None


_LRU_CLASS = ExactLRUAccess if os.environ.get("EMBER_EXACT_LRU") == "1" else LRUAccess


def lfu_decayed(word: int, now_minutes: int) -> int:
    """Redis's LFUDecrAndReturn: the counter less one per lfu-decay-time minutes idle."""
    counter = word & 255
    decay = LFUParams.decay_time
    if decay:
        periods = (now_minutes - (word >> 8)) // decay
        if periods > 0:
            counter = counter - periods if periods < counter else 0
    return counter


def lfu_log_incr(counter: int) -> int:
    """Redis's LFULogIncr: +1 with probability 1 / ((counter - 5) * lfu-log-factor + 1)."""
    if counter == 255:
        return 255
    base = counter - LFU_INIT_VAL
    if base < 0:
        base = 0
    if random.random() < 1.0 / (base * LFUParams.log_factor + 1):
        counter += 1
    return counter


class LFUAccess(dict):
    """key -> slot << 40 | (ldt minutes << 8 | counter), with Redis's sampled eviction.

    The low 40 bits are Redis's LFU word; the high bits the key's slot in ``keys``, a
    list that lets :meth:`candidate` pick random keys (a Python dict cannot), as Redis's
    evictionPoolPopulate does: maxmemory-samples random keys per call go into a pool of
    the 16 best candidates seen (highest ``255 - decayed counter``), and the best one
    still present is evicted. Slots of deleted keys are found stale when sampled (the
    key is gone or its value names another slot) and recycled then; the list is rebuilt
    when it holds twice as many slots as there are keys.

    An exact LFU (a heap ordered by decayed counter, oldest first among equals) was
    measured too: 0.3% better on the Zipf trace, 0.9% worse on the scan mix, and a heap
    entry per key (~100 bytes) instead of a list slot (8): benchmarks/README.md.
    """

    __slots__ = ("keys", "pool")

    def __init__(self):
        super().__init__()
        self.keys = []
        self.pool = []          # [(idle, key)], ascending idle, at most _POOL_SIZE

    def __setitem__(self, key, seconds, _get=dict.get, _set=dict.__setitem__,
                    _random=random.random):
        """The touch: Redis's updateLFU (decay, then a logarithmic increment), written out
        because it runs on every read and write of a key under an LFU policy."""
        minutes = seconds // 60
        value = _get(self, key)
        if value is None:
            self._add(key, (minutes << 8) | LFU_INIT_VAL)
            return
        counter = value & 255
        ldt = (value >> 8) & _MINUTES_MASK
        if ldt != minutes:
            decay = LFUParams.decay_time
            if decay:
                periods = (minutes - ldt) // decay
                if periods > 0:
                    counter = counter - periods if periods < counter else 0
        if counter < 255:
            base = counter - LFU_INIT_VAL
            if base <= 0 or _random() * (base * LFUParams.log_factor + 1) < 1.0:
                counter += 1
        new = (value >> _SLOT_SHIFT << _SLOT_SHIFT) | (minutes << 8) | counter
        if new != value:
            _set(self, key, new)

    def _add(self, key, word: int) -> None:
        keys = self.keys
        dict.__setitem__(self, key, (len(keys) << _SLOT_SHIFT) | word)
        keys.append(key)
        if len(keys) > 2 * len(self) + 1024:
            self.compact()

    def compact(self) -> None:
        """Rebuild the slot list from the live keys."""
        self.keys = list(self)
        for slot, key in enumerate(self.keys):
            dict.__setitem__(self, key, (slot << _SLOT_SHIFT) | (self[key] & _WORD_MASK))

    def load(self, keys, word: int) -> None:
        """Add ``keys`` (not present yet) with the same LFU word (a policy switch)."""
        for key in keys:
            self._add(key, word)

    def set_counter(self, key, counter: int, now_minutes: int) -> None:
        """Give ``key`` this counter as of now (RESTORE ... FREQ)."""
        value = self.get(key)
        word = (now_minutes << 8) | counter
        if value is None:
            self._add(key, word)
        else:
            dict.__setitem__(self, key, (value >> _SLOT_SHIFT << _SLOT_SHIFT) | word)

    def frequency(self, key, now_minutes: int) -> int:
        """OBJECT FREQ: the decayed counter, without touching the key."""
        value = self.get(key)
        return 0 if value is None else lfu_decayed(value & _WORD_MASK, now_minutes)

    def _drop_slot(self, slot: int) -> None:
        keys = self.keys
        last = keys.pop()
        if slot < len(keys):
            keys[slot] = last
            value = dict.get(self, last)
            if value is not None and value >> _SLOT_SHIFT == len(keys):
                dict.__setitem__(self, last, (slot << _SLOT_SHIFT) | (value & _WORD_MASK))

    def candidate(self, expires=None):
        """Redis's evictionPoolPopulate + pick: the pool's best key still present."""
        keys = self.keys
        pool = self.pool
        now = LFUParams.now_minutes
        get = dict.get
        randrange = random.randrange
        for _ in range(LFUParams.samples):
            if not keys:
                break
            slot = randrange(len(keys))
            key = keys[slot]
            value = get(self, key)
            if value is None or value >> _SLOT_SHIFT != slot:
                self._drop_slot(slot)
                continue
            if expires is not None and key not in expires:
                continue
            idle = 255 - lfu_decayed(value & _WORD_MASK, now)
            if any(entry[1] == key for entry in pool):
                continue
            if len(pool) < _POOL_SIZE:
                bisect.insort(pool, (idle, key))
            elif idle > pool[0][0]:
                pool[0] = (idle, key)
                pool.sort()
        while pool:
            idle, key = pool.pop()
            if key in self and (expires is None or key in expires):
                return key
        return None

    def rank(self, key) -> float:
        """Smaller is evicted first: the decayed counter."""
        value = self.get(key)
        return 0 if value is None else lfu_decayed(value & _WORD_MASK, LFUParams.now_minutes)


def access_class(policy: str):
    """The ``access`` table class a maxmemory-policy needs."""
    if policy.endswith("-lru"):
        return _LRU_CLASS
    if policy.endswith("-lfu"):
        return LFUAccess
    return dict


def convert_access(db, policy: str, now_seconds: int) -> None:
    """Give ``db`` the access table ``policy`` needs, keeping what can be kept: LRU times
    sorted oldest first; LFU counters start at LFU_INIT_VAL (Redis reinterprets the old
    bits instead; both take a while to adjust, as its OBJECT errors say)."""
    cls = access_class(policy)
    db.fresh = -1 if cls is LRUAccess else 1
    old = db.access
    if type(old) is cls:
        return
    if cls is LFUAccess:
        new = LFUAccess()
        new.load(db.data, ((now_seconds // 60) << 8) | LFU_INIT_VAL)
    else:
        if type(old) is LFUAccess:
            items = [(key, now_seconds) for key in old]
        else:
            items = sorted(old.items(), key=lambda item: abs(item[1]))
        new = cls()
        sign = -1 if cls is LRUAccess else 1    # queued oldest first, none used since
        for key, seconds in items:
            new[key] = sign * abs(seconds)
    db.access = new


# ---- choosing and deleting --------------------------------------------------------------

def _pick(dbs, policy: str, now_ms: int):
    """(db, key) the policy evicts next, across every database, or None."""
    volatile = policy.startswith("volatile-")
    best = None
    best_rank = None
    for db in dbs:
        if not db.data or (volatile and not db.expires):
            continue
        expires = db.expires if volatile else None
        if policy.endswith("-random"):
            table = db.expires if volatile else db.data
            skip = random.randrange(min(len(table), 64))
            key = next(islice(iter(table), skip, None))
            return db, key      # Redis too takes the first database that has keys
        if policy == "volatile-ttl":
            key, rank = _soonest(db)
        else:
            access = db.access
            key = access.candidate(expires) if hasattr(access, "candidate") else None
            if key is None:
                key = next(iter(expires if volatile else db.data), None)
                rank = 0
            else:
                rank = access.rank(key)
        if key is not None and (best_rank is None or rank < best_rank):
            best, best_rank = (db, key), rank
    return best


def _soonest(db):
    """volatile-ttl: the key with the nearest deadline (cleaning stale index entries)."""
    heap = db.index.heap
    expires = db.expires
    while heap:
        deadline, key = heap[0]
        if expires.get(key) == deadline:
            return key, deadline
        heapq.heappop(heap)
    return None, None


def evict_key(engine, db, key: bytes) -> None:
    """Delete one key for maxmemory: stats, ``evicted`` event, DEL (UNLINK) propagated."""
    db.delete(key)
    engine.stats.evicted_keys = getattr(engine.stats, "evicted_keys", 0) + 1
    name = b"UNLINK" if engine.config.lazyfree_lazy_eviction else b"DEL"
    engine.propagate(db.id, [name, key])
    for listener in engine.keyspace_listeners:
        listener(db, key, "evicted")


def time_limit_us(tenacity: int) -> float:
    """Redis's evictionTimeLimitUs: how long one call may keep evicting."""
    if tenacity <= 10:
        return 50.0 * tenacity
    if tenacity < 100:
        return 500.0 * 1.15 ** (tenacity - 10)
    return float("inf")


def used_memory(engine) -> int:
    """The memory estimate maxmemory is compared with (INFO's used_memory)."""
    return STARTUP_BYTES + used_bytes(engine.dbs[0].mem)


def perform_evictions(engine) -> int:
    """Evict until the estimate is under maxmemory: EVICT_OK, EVICT_RUNNING (time budget
    spent; the cron goes on) or EVICT_FAIL (over the limit and nothing can be evicted)."""
    maxmemory = engine.config.maxmemory
    if not maxmemory:
        return EVICT_OK
    used = used_memory(engine)
    if used <= maxmemory:
        return EVICT_OK
    config = engine.config
    policy = config.maxmemory_policy
    if policy == "noeviction":
        return EVICT_FAIL
    budget = time_limit_us(config.maxmemory_eviction_tenacity) / 1e6
    LFUParams.now_minutes = engine.now() // 60000
    started = time.perf_counter()
    dbs = engine.dbs
    now = engine.now()
    evicted = 0
    while used > maxmemory:
        choice = _pick(dbs, policy, now)
        if choice is None:
            return EVICT_FAIL
        db, key = choice
        evict_key(engine, db, key)
        used = used_memory(engine)
        evicted += 1
        if evicted % _CLOCK_EVERY == 0 and time.perf_counter() - started > budget:
            return EVICT_RUNNING if used > maxmemory else EVICT_OK
    return EVICT_OK

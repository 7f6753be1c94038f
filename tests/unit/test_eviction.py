"""Eviction policies on an engine without sockets: which keys go, which stay, OOM,
LFU counters under an injected clock, TTLs, MULTI, events and propagation."""

import pytest

from ember.errors import ReplyError
from ember.storage import eviction, memory
from tests.unit.harness import Harness

OOM = "OOM command not allowed when used memory > 'maxmemory'."
VALUE = "x" * 200
# Each key: "key:NNN" + 200-byte value, about 500 bytes in the estimate.


def _harness(policy: str, keys: int = 100, ttl: bool = False, **config) -> Harness:
    """An engine whose maxmemory holds ``keys`` of _fill's keys and a half (the write
    that goes over is let through: eviction runs before each command, as in Redis)."""
    h = Harness()
    for name, value in config.items():
        h("CONFIG", "SET", name.replace("_", "-"), value)
    h("CONFIG", "SET", "maxmemory-policy", policy)
    h.per_key = memory.key_cost(b"key:000", VALUE.encode())
    if ttl:
        h.per_key += memory.TTL_ENTRY
    h("CONFIG", "SET", "maxmemory", memory.STARTUP_BYTES + keys * h.per_key + h.per_key // 2)
    return h


def _used(h) -> int:
    return eviction.used_memory(h.engine)


def _fill(h, names, ttl=None):
    for name in names:
        if ttl is None:
            h("SET", name, VALUE)
        else:
            h("SET", name, VALUE, "EX", ttl)


def _evicted(h) -> list:
    return [key for event, key in h.events if event == "evicted"]


def _keys(h) -> set:
    return {k.decode() for k in h.db.data}


def test_noeviction_refuses_denyoom_and_serves_reads():
    h = _harness("noeviction", keys=10)
    _fill(h, ["key:%03d" % i for i in range(11)])      # the 11th goes over the limit
    with pytest.raises(ReplyError, match="^" + OOM.replace(".", r"\.") + "$"):
        h("SET", "key:999", VALUE)
    with pytest.raises(ReplyError, match="OOM"):
        h("LPUSH", "list", "a")
    assert h("GET", "key:000") == VALUE.encode()        # reads keep working
    assert h("EXISTS", "key:000") == 1
    assert h("DEL", "key:000", "key:001") == 2          # DEL is not denyoom ...
    assert h("SET", "key:999", VALUE) == "OK"           # ... and makes room
    assert getattr(h.engine.stats, "evicted_keys", 0) == 0


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru"])
def test_lru_evicts_keys_unused_for_a_turn_of_the_clock(policy):
    ttl = 1000 if policy.startswith("volatile") else None
    h = _harness(policy, keys=20, ttl=bool(ttl))
    _fill(h, ["key:%03d" % i for i in range(22)], ttl)
    # The first eviction turned the hand over every key (all used since they were
    # stored): all got their second chance, and the oldest went.
    assert _evicted(h) == [b"key:000"]
    h.advance(1000)
    for i in range(2, 7):                   # five of the oldest are used again (the
        h("GET", "key:%03d" % i)            # first GET's gate takes key:001 first) ...
    _fill(h, ["new:%03d" % i for i in range(10)], ttl)
    kept = _keys(h)
    assert {"key:%03d" % i for i in range(2, 7)} <= kept           # ... and stay
    assert _evicted(h) == [b"key:000", b"key:001"] + [
        b"key:%03d" % i for i in range(7, 16)]                      # oldest first
    assert {"new:%03d" % i for i in range(10)} <= kept
    assert _used(h) <= h.engine.config.maxmemory + h.per_key
    assert h("OBJECT", "IDLETIME", "key:019") == 1      # the CLOCK mark is not idle time


def test_volatile_policies_only_evict_keys_with_a_ttl():
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"):
        h = _harness(policy, keys=20)
        h("CONFIG", "SET", "maxmemory", h.engine.config.maxmemory + 10 * memory.TTL_ENTRY)
        _fill(h, ["keep:%03d" % i for i in range(10)])
        _fill(h, ["ttl:%03d" % i for i in range(10)], ttl=1000)
        assert not _evicted(h)
        _fill(h, ["more:%03d" % i for i in range(5)])
        kept = _keys(h)
        assert {"keep:%03d" % i for i in range(10)} <= kept, policy
        assert {"more:%03d" % i for i in range(5)} <= kept, policy
        assert 5 <= len([k for k in kept if k.startswith("ttl:")]) <= 7, policy
        with pytest.raises(ReplyError, match="OOM"):        # nothing left to evict
            _fill(h, ["late:%03d" % i for i in range(15)])
        assert not [k for k in _keys(h) if k.startswith("ttl:")], policy
        assert h("GET", "keep:000") == VALUE.encode()


def test_volatile_ttl_evicts_the_nearest_deadline_first():
    h = _harness("volatile-ttl", keys=10, ttl=True)
    for i in range(10):
        h("SET", "key:%03d" % i, VALUE, "EX", 1000 - i)    # key:009 expires first
    _fill(h, ["new:%03d" % i for i in range(3)], ttl=5000)
    assert not {"key:009", "key:008"} & _keys(h)
    assert {"key:000", "key:001"} <= _keys(h)


@pytest.mark.parametrize("policy", ["allkeys-random", "volatile-random"])
def test_random_policies_stay_under_the_limit(policy):
    ttl = 1000 if policy.startswith("volatile") else None
    h = _harness(policy, keys=30, ttl=bool(ttl))
    _fill(h, ["key:%03d" % i for i in range(100)], ttl)
    assert len(h.db.data) == 31
    assert _used(h) <= h.engine.config.maxmemory + h.per_key
    assert "key:099" in _keys(h)


def test_allkeys_lfu_keeps_the_frequently_used():
    h = _harness("allkeys-lfu", keys=20, lfu_log_factor=0, maxmemory_samples=64)
    _fill(h, ["key:%03d" % i for i in range(20)])
    for _ in range(3):
        for i in range(0, 20, 2):           # even keys: counter 5 -> 8
            h("GET", "key:%03d" % i)
    _fill(h, ["new:%03d" % i for i in range(10)])
    kept = _keys(h)
    assert {"key:%03d" % i for i in range(0, 20, 2)} <= kept       # counters 8 stay
    evicted = {key.decode() for key in _evicted(h)}
    assert len(evicted) == 9                                         # counters 5 go
    assert all(k.startswith("new:") or int(k[4:]) % 2 for k in evicted)


def test_lfu_counter_grows_logarithmically_and_decays_with_the_clock():
    h = Harness()
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    h("CONFIG", "SET", "lfu-log-factor", "0")           # every hit counts
    h("SET", "k", "v")
    assert h("OBJECT", "FREQ", "k") == eviction.LFU_INIT_VAL
    for _ in range(10):
        h("GET", "k")
    assert h("OBJECT", "FREQ", "k") == 15
    assert h("OBJECT", "FREQ", "k") == 15               # OBJECT does not touch
    h.advance(3 * 60_000)                                # three decay periods
    assert h("OBJECT", "FREQ", "k") == 12
    h("CONFIG", "SET", "lfu-decay-time", "2")
    assert h("OBJECT", "FREQ", "k") == 14                # 3 minutes / 2 = 1 period
    h("CONFIG", "SET", "lfu-decay-time", "0")
    h.advance(600 * 60_000)
    assert h("OBJECT", "FREQ", "k") == 15                # no decay at all
    h("CONFIG", "SET", "lfu-decay-time", "1")
    assert h("OBJECT", "FREQ", "k") == 0                 # 603 idle minutes
    h("GET", "k")                                         # decay, then +1
    assert h("OBJECT", "FREQ", "k") == 1
    h("CONFIG", "SET", "lfu-log-factor", "10")
    counts = []
    for _ in range(2000):
        h("GET", "k")
    counts.append(h("OBJECT", "FREQ", "k"))
    assert 10 < counts[0] < 40                           # logarithmic, not 2000


def test_lfu_idle_keys_decay_below_fresh_ones():
    h = _harness("allkeys-lfu", keys=10, lfu_log_factor=0, maxmemory_samples=64)
    _fill(h, ["old:%03d" % i for i in range(5)])
    for _ in range(4):
        for i in range(5):
            h("GET", "old:%03d" % i)                     # counters 9
    h.advance(10 * 60_000)                               # ... decayed to 0 by now
    _fill(h, ["fresh:%03d" % i for i in range(5)])       # counters 5
    for i in range(5):
        h("GET", "fresh:%03d" % i)                       # 6
    _fill(h, ["new:%03d" % i for i in range(3)])
    kept = _keys(h)
    assert {"fresh:%03d" % i for i in range(5)} <= kept
    assert len([k for k in kept if k.startswith("old:")]) == 3


def test_object_freq_and_idletime_errors():
    h = Harness()
    h("SET", "k", "v")
    with pytest.raises(ReplyError, match="^ERR An LFU maxmemory policy is not selected"):
        h("OBJECT", "FREQ", "k")
    h.advance(5000)
    assert h("OBJECT", "IDLETIME", "k") == 5
    h("CONFIG", "SET", "maxmemory-policy", "volatile-lfu")
    with pytest.raises(ReplyError, match="^ERR An LFU maxmemory policy is selected"):
        h("OBJECT", "IDLETIME", "k")
    assert h("OBJECT", "FREQ", "nokey") is None
    h("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    h.advance(3000)
    assert h("OBJECT", "IDLETIME", "k") == 3             # LFU data is not idle time


def test_evictions_fire_events_propagate_del_and_count():
    h = _harness("allkeys-lru", keys=5)
    _fill(h, ["key:%03d" % i for i in range(8)])
    evicted = [key for event, key in h.events if event == "evicted"]
    assert evicted == [b"key:000", b"key:001"]
    dels = [argv for argv in h.propagated if argv[0] == b"DEL"]
    assert dels == [[b"DEL", k] for k in evicted]
    info = h("INFO", "stats")
    info = info.decode() if isinstance(info, bytes) else str(info)
    assert "evicted_keys:3" in info     # INFO itself went through the gate
    h("CONFIG", "SET", "lazyfree-lazy-eviction", "yes")
    h("SET", "key:100", VALUE)
    h("SET", "key:101", VALUE)
    assert h.propagated[-2][0] == b"UNLINK"


def test_multi_is_refused_while_out_of_memory():
    h = _harness("noeviction", keys=5)
    other = h.engine.new_client()
    _fill(h, ["key:%03d" % i for i in range(5)])
    assert h("MULTI") == "OK"
    assert h("SET", "queued", "v") == "QUEUED"               # still under the limit
    assert h.engine.execute(other, [b"SET", b"filler", VALUE.encode()]).upper() == "OK"
    with pytest.raises(ReplyError, match="^EXECABORT Transaction discarded because of: OOM"):
        h("EXEC")                                            # holds a denyoom command
    assert h.db.peek(b"queued") is None
    assert h("MULTI") == "OK"
    with pytest.raises(ReplyError, match="OOM"):
        h("GET", "key:000")                # queuing anything is refused when over
    with pytest.raises(ReplyError, match="^EXECABORT Transaction discarded because of "
                                         "previous errors"):
        h("EXEC")
    assert h("MULTI") == "OK"
    h.engine.execute(other, [b"DEL", b"filler"])
    assert h("GET", "key:000") == "QUEUED"
    h.engine.execute(other, [b"SET", b"filler", VALUE.encode()])
    assert h("EXEC") == [VALUE.encode()]    # reads only: EXEC runs over the limit


def test_ttl_keys_expire_rather_than_count():
    h = _harness("volatile-ttl", keys=10, ttl=True)
    _fill(h, ["key:%03d" % i for i in range(10)], ttl=1)
    h.advance(2000)
    assert h.db.active_expire(100) == 10                    # what the cron does
    _fill(h, ["new:%03d" % i for i in range(10)])           # the expired made room
    assert getattr(h.engine.stats, "evicted_keys", 0) == 0
    assert {"new:%03d" % i for i in range(10)} <= _keys(h)


def test_eviction_work_is_bounded_per_command():
    h = _harness("allkeys-lru", keys=2000, maxmemory_eviction_tenacity=0)
    _fill(h, ["key:%04d" % i for i in range(2000)])
    h.engine.config.maxmemory = memory.STARTUP_BYTES + 100 * h.per_key     # far below
    before = len(h.db.data)
    assert eviction.perform_evictions(h.engine) == eviction.EVICT_RUNNING
    assert len(h.db.data) == before - 16        # one batch, then the budget is spent
    from ember.commands.memory import cron
    for _ in range(200):
        cron(h.engine)
    assert len(h.db.data) <= 100


def test_maxmemory_accepts_units():
    h = Harness()
    h("CONFIG", "SET", "maxmemory", "100mb")
    assert h.engine.config.maxmemory == 100 * 1024 * 1024
    h("CONFIG", "SET", "maxmemory", "0")
    assert h.engine.config.maxmemory == 0

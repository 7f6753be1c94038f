"""Runs: a stretch of one command in a pipeline, executed in one call.

A client that pipelines one command over and over (a page of GETs, a cache filled with
SETs, counters bumped with INCR) spends most of each command in the per-command work of
``Connection._run`` rather than in the command: the handler's call, a clock read, the
stats, the reply's dispatch. For the commands here a *run function* does the usual case
of a whole stretch of them in one loop, with the effects each would have had through its
handler: the same stores, memory tally, access times, keyspace hits and misses, dirty
count and reply bytes.

A run function is called as ``run(client, name, commands, append)``: ``commands`` is an
iterable of at most :data:`RUN_MAX` commands (argument lists, or the tuples of a
:class:`~ember.protocol.framing.Stretch`) whose first is one of its own, written as
``name`` (arity already checked); it appends the replies' pieces with ``append`` and
returns ``(done, size)``: how many commands it ran and the bytes of their bulk values. It
stops at the first command it does not do itself (another command, another arity, a
wrong type, a key past its deadline, a value other than a string being overwritten, a
value of 4 KB or more to reply with ...); the caller runs that command the usual way and
may start a run again from the next.

``Connection._run`` calls a run function only when nothing per command could tell the
difference (:func:`runs_allowed`): a plain client in the lane, the databases' plain
class (not the one that reports ``new`` and ``keymiss`` events) and a slow-log and
latency threshold of at least :data:`RUN_SLOW_FLOOR_NS`, since a run's time is measured as
a whole; for the writing runs also no keyspace listener (WATCH, blocked clients,
notifications, tracking) and no propagation (AOF, replicas). Command stats count every
command and the run's whole time; if that time reaches the threshold (a stall: none of
these commands takes a millisecond), the slow log records the run's last command with it.
"""

from ember.commands.registry import COMMANDS
from ember.protocol.encoder import BULK_HEADERS
from ember.storage.keyspace import Database
from ember.storage.memory import STRING_KEY, TTL_ENTRY

# A run's time is measured once, for all its commands: allowed only when the slow log
# and the latency monitor record nothing shorter than this (Redis's default is 10 ms).
RUN_SLOW_FLOOR_NS = 1_000_000
# At most this many commands per run, each with a reply under 4 KB (the bulk headers
# kept), so that a run adds at most a megabyte to the batch between Connection._run's
# flush checks.
RUN_MAX = 256
# What runs_allowed returns: no runs, the reading runs only, every run.
NO_RUNS, READ_RUNS, ALL_RUNS = 0, 1, 2
# The replies of a GET run are gathered without their line ends and joined with CRLF
# (two list appends per hit instead of three): a bulk's header and a null without it.
# Values of 4 KB or more have no header here: the handler replies to them.
_HEADS = [header[:-2] for header in BULK_HEADERS]
_NULL = {2: b"$-1", 3: b"_"}
# INCR's run: the digit after each of "0" to "8", indexed by its byte value.
_DIGIT_AFTER = (None,) * 48 + tuple(bytes([digit + 1]) for digit in b"012345678")
# MSET's run takes MSETs of at most this many pairs (name and pairs: this many
# arguments): a run of RUN_MAX of them stays far under RUN_SLOW_FLOOR_NS.
_MSET_RUN_PAIRS = 16
_MSET_RUN_ARGS = 1 + 2 * _MSET_RUN_PAIRS
_NOT_STORED = object()      # what incr_run's "last stored" starts as: no value is it


def runs_allowed(engine, client) -> int:
    """Which runs a plain client's batch may use now (NO_RUNS, READ_RUNS or ALL_RUNS)."""
    if engine.slow_ns < RUN_SLOW_FLOOR_NS or type(client.db) is not Database:
        return NO_RUNS
    if engine.keyspace_listeners or engine.propagators:
        return READ_RUNS
    return ALL_RUNS


def ping_run(client, name, commands, append):
    """PINGs without an argument: +PONG each."""
    done = 0
    for argv in commands:
        if len(argv) != 1 or (argv[0] is not name and argv[0] != name):
            break
        done += 1
    if done:
        append(b"+PONG\r\n" * done)
    return done, 0


def get_run(client, name, commands, append):
    """GETs: a hit is a bulk reply (access time touched), a missing key a null; stops at
    a key past its deadline, holding another type or a value of 4 KB or more."""
    db = client.db
    data_get = db.data.get
    expires = db.expires
    now_ms = db.time.ms
    now_s = db.time.s
    access = db.access if db.touching else None
    null = _NULL[client.resp]
    headers = _HEADS
    misses = 0
    pieces = []
    put = pieces.append
    try:
        for first, key in commands:   # another arity: ValueError
            if first is not name and first != name:
                break
            value = data_get(key)
            if value is None:
                misses += 1
                put(null)
            elif type(value) is not bytes or (expires and key in expires
                                              and expires[key] < now_ms):
                break
            else:
                put(headers[len(value)])    # 4 KB or more: IndexError, for the handler
                put(value)
                if access is not None:
                    access[key] = now_s
    except (ValueError, IndexError):
        pass
    done = (len(pieces) + misses) // 2     # a hit put two pieces, a miss one
    size = 0
    if done:
        put(b"")
        reply = b"\r\n".join(pieces)
        append(reply)
        size = len(reply)
    stats = db.stats
    stats.hits += done - misses
    stats.misses += misses
    return done, size


def set_run(client, name, commands, append):
    """Plain ``SET key value``s (Database.set's usual cases): stops at a key holding
    anything but a string (freeing a big value is a cost the slow log should see) and at
    one past its deadline."""
    db = client.db
    data = db.data
    data_get = data.get
    expires = db.expires
    now_ms = db.time.ms
    now_s = db.time.s
    access = db.access if db.touching else None
    fresh = db.fresh > 0
    used = keys = 0
    done = 0
    try:
        for first, key, value in commands:
            if first is not name and first != name:
                break
            if expires and key in expires and expires[key] < now_ms:
                break       # the handler expires it first
            old = data_get(key)
            if type(old) is bytes:
                used += len(value) - len(old)
            elif old is None and fresh:
                used += len(key) + len(value) + STRING_KEY
                keys += 1
            else:
                break
            data[key] = value
            if access is not None:
                access[key] = now_s
            if expires and key in expires:
                del expires[key]
                used -= TTL_ENTRY
            done += 1
    except ValueError:
        pass
    if done:
        append(b"+OK\r\n" * done)
    mem = db.mem
    mem.used += used
    mem.keys += keys
    client.engine.dirty += done
    return done, 0


def incr_run(client, name, commands, append):
    """INCRs of what Database.incr_counter takes in one step (a live, canonical,
    non-negative integer of at most 17 digits, which one more cannot overflow).

    The sum is made on the digits: a counter not ending in 9 gets its last digit
    bumped (a slice and a concatenation, cheaper than parsing and formatting the
    number, and its size, so its memory, does not change); one ending in 9 is parsed
    and formatted."""
    db = client.db
    data = db.data
    data_get = data.get
    expires = db.expires
    now_ms = db.time.ms
    now_s = db.time.s
    access = db.access if db.touching else None
    used = 0
    # The counter this run stored last: a key bumped again in the same run holds that
    # very object, whose digits were checked when it was made (bytes are immutable).
    last = _NOT_STORED
    numbers = []    # the replies, ":" n CRLF each, are joined from the new values
    put = numbers.append
    try:
        for first, key in commands:
            if first is not name and first != name:
                break
            value = data_get(key)
            if value is not last and (
                    type(value) is not bytes or not value.isdigit() or len(value) > 17
                    or (value[0] == 48 and len(value) > 1)):
                break
            if expires and key in expires and expires[key] < now_ms:
                break
            tail = value[-1]
            if tail != 57:
                new = value[:-1] + _DIGIT_AFTER[tail]
            else:   # (no overflow: under 10**17 when the run began, RUN_MAX at most)
                new = b"%d" % (int(value) + 1)
                used += len(new) - len(value)
            last = new
            data[key] = new
            if access is not None:
                access[key] = now_s
            put(new)
    except ValueError:  # a command of another argument count (from a list): the end
        pass
    done = len(numbers)
    if done:
        append(b":" + b"\r\n:".join(numbers) + b"\r\n")
    db.mem.used += used
    client.engine.dirty += done
    return done, 0


def mset_run(client, name, commands, append):
    """MSETs of at most :data:`_MSET_RUN_PAIRS` pairs, each stored as its handler
    stores it (``Database.set_pairs``); stops at a longer one (whose time the slow log
    should see on its own) and at a wrong argument count (the handler's error)."""
    set_pairs = client.db.set_pairs
    done = pairs = 0
    for argv in commands:
        if argv[0] is not name and argv[0] != name:
            break
        size = len(argv)
        if not size & 1 or size > _MSET_RUN_ARGS:
            break
        set_pairs(argv)
        pairs += size >> 1
        done += 1
    if done:
        append(b"+OK\r\n" * done)
    client.engine.dirty += pairs
    return done, 0


def install() -> None:
    """Give the specs of PING, GET, SET, INCR and MSET their run functions and the level
    each needs."""
    for name, run, level in (("ping", ping_run, READ_RUNS), ("get", get_run, READ_RUNS),
                             ("set", set_run, ALL_RUNS), ("incr", incr_run, ALL_RUNS),
                             ("mset", mset_run, ALL_RUNS)):
        spec = COMMANDS[name]
        spec.run = run
        spec.run_level = level

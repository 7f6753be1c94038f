"""Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE
SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.

The value type and the set algebra (with the encodings Redis gives results) are in
:mod:`ember.storage.types.set`; this module parses arguments, goes through the keyspace's
lookup path, and records each write (events, dirty counter, propagation). SPOP, being
random, propagates what it did: SREM of the popped members (in batches of 1024, wrapped
in MULTI/EXEC when there are several), or DEL when it took them all.
"""

from ember.commands.args import int_arg
from ember.commands.keys import parse_scan_options
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.protocol.numbers import LLONG_MIN, parse_int
from ember.protocol.replies import SetReply
from ember.storage.glob import compile_glob
from ember.storage.scan import parse_cursor, scan_page
from ember.storage.types.set import (
    HASHTABLE,
    SetValue,
    difference_value,
    intersection,
    intersection_card,
    intersection_value,
    union_value,
)

MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
SRANDMEMBER_RANGE = ("ERR value is out of range, value must between -9223372036854775807 "
                     "and 9223372036854775807")
# SRANDMEMBER with a negative count repeats members: Redis streams any number of them.
# ember builds the reply in memory, so it refuses counts whose reply could not fit.
RANDOM_REPLY_LIMIT = 1 << 24
TOO_MANY = "ERR value is out of range"
# SPOP with a count propagates SREMs of at most this many members each, as Redis does.
SPOP_BATCH = 1024
# SPOP with a count that leaves at most 1/5 of it behind rebuilds the set (Redis's
# SPOP_MOVE_STRATEGY_MUL).
SPOP_MOVE_STRATEGY_MUL = 5


def _set(ctx, key: bytes, write: bool = False):
    """The set at ``key`` or None; WRONGTYPE for another type."""
    return ctx.db.get_typed(key, SetValue, write)


def _sets(ctx, keys) -> list:
    """The sets at ``keys`` (None for missing ones), WRONGTYPE at the first other type."""
    get = ctx.db.get_typed
    return [get(key, SetValue) for key in keys]


# ---- adding and removing --------------------------------------------------------------

@command("sadd", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="set",
         since="1.0.0", complexity="O(1) for each element added")
def sadd(ctx, argv):
    """Add members to a set, creating it; reply with how many were new."""
    db = ctx.db
    key = argv[1]
    limits = ctx.engine.config
    value = db.get_typed(key, SetValue, True)
    if value is None:
        value = SetValue.create(argv[2], len(argv) - 2, limits)
        db.set(key, value)
    elif len(argv) > 3:
        value.maybe_convert(len(argv) - 2, limits)
    add = value.add
    added = 0
    for member in argv[2:]:
        if add(member, limits):
            added += 1
    if added:
        ctx.engine.key_modified(db, key, "sadd", added)
    return added


@command("srem", arity=-3, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         complexity="O(N) where N is the number of members to be removed")
def srem(ctx, argv):
    """Remove members from a set (deleting it when empty); reply with how many were."""
    db = ctx.db
    key = argv[1]
    value = _set(ctx, key, write=True)
    if value is None:
        return 0
    deleted = 0
    emptied = False
    for member in argv[2:]:
        if value.remove(member):
            deleted += 1
            if not value:
                db.delete(key)
                emptied = True
                break
    if deleted:
        ctx.engine.key_modified(db, key, "srem", deleted)
        if emptied:
            ctx.engine.key_modified(db, key, "del", 0)
    return deleted


@command("smove", arity=4, flags="write fast", keys=(1, 2, 1), group="set", since="1.0.0",
         complexity="O(1)")
def smove(ctx, argv):
    """Move a member from one set to another."""
    db = ctx.db
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    src = db.lookup_write(src_key)
    dst = db.lookup_write(dst_key)
    if src is None:
        return 0
    src = db.get_typed(src_key, SetValue, True)
    if dst is not None:
        dst = db.get_typed(dst_key, SetValue, True)
    if src is dst:
        return 1 if member in src else 0
    if not src.remove(member):
        return 0
    modified = ctx.engine.key_modified
    modified(db, src_key, "srem")
    if not src:
        db.delete(src_key)
        modified(db, src_key, "del", 0)
    limits = ctx.engine.config
    if dst is None:
        dst = SetValue.create(member, 1, limits)
        db.set(dst_key, dst)
    if dst.add(member, limits):
        modified(db, dst_key, "sadd")
    return 1


# ---- reading ------------------------------------------------------------------------

@command("scard", arity=2, flags="readonly fast", keys=(1, 1, 1), group="set",
         since="1.0.0", complexity="O(1)")
def scard(ctx, argv):
    """The number of members of a set."""
    value = _set(ctx, argv[1])
    return 0 if value is None else len(value)


@command("sismember", arity=3, flags="readonly fast", keys=(1, 1, 1), group="set",
         since="1.0.0", complexity="O(1)")
def sismember(ctx, argv):
    """1 if the value is a member of the set, else 0."""
    value = _set(ctx, argv[1])
    return 1 if value is not None and argv[2] in value else 0


@command("smismember", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="set",
         since="6.2.0", complexity="O(N) where N is the number of elements being checked "
         "for membership")
def smismember(ctx, argv):
    """For each value, 1 if it is a member of the set, else 0."""
    value = _set(ctx, argv[1])
    if value is None:
        return [0] * (len(argv) - 2)
    return [1 if member in value else 0 for member in argv[2:]]


@command("smembers", arity=2, flags="readonly", keys=(1, 1, 1), group="set",
         since="1.0.0", complexity="O(N) where N is the set cardinality.")
def smembers(ctx, argv):
    """Every member of a set (a set reply in RESP3)."""
    value = _set(ctx, argv[1])
    return SetReply() if value is None else SetReply(value)


@command("srandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group="set",
         since="1.0.0", tips="nondeterministic_output",
         complexity="Without the count argument O(1), otherwise O(N) where N is the "
         "absolute value of the passed count.")
def srandmember(ctx, argv):
    """One random member, or with a count that many distinct ones (repeats allowed
    when the count is negative)."""
    if len(argv) == 3:
        return _srandmember_count(ctx, argv)
    if len(argv) > 3:
        raise ReplyError(SYNTAX)
    value = _set(ctx, argv[1])
    return None if value is None else value.random_member()


def _srandmember_count(ctx, argv) -> list:
    count = int_arg(argv[2])
    if count == LLONG_MIN:
        raise ReplyError(SRANDMEMBER_RANGE)
    value = _set(ctx, argv[1])
    if value is None or count == 0:
        return []
    if count < 0 or count == 1:
        count = abs(count)
        if count > RANDOM_REPLY_LIMIT:
            raise ReplyError(TOO_MANY)
        return value.random_members(count)
    if count >= len(value):
        return value.members()
    return value.random_distinct(count)


# ---- SPOP ---------------------------------------------------------------------------

@command("spop", arity=-2, flags="write fast", keys=(1, 1, 1), group="set", since="1.0.0",
         tips="nondeterministic_output",
         complexity="Without the count argument O(1), otherwise O(N) where N is the value "
         "of the passed count.")
def spop(ctx, argv):
    """Remove and return a random member, or with a count up to that many."""
    if len(argv) == 3:
        return _spop_count(ctx, argv)
    if len(argv) > 3:
        raise ReplyError(SYNTAX)
    db = ctx.db
    key = argv[1]
    value = _set(ctx, key, write=True)
    if value is None:
        return None
    member = value.pop_random()
    modified = ctx.engine.key_modified
    modified(db, key, "spop")
    ctx.propagate_argv = [b"SREM", key, member]
    if not value:
        db.delete(key)
        modified(db, key, "del", 0)
    return member


def _spop_count(ctx, argv) -> SetReply:
    count = int_arg(argv[2], MUST_BE_POSITIVE)
    if count < 0:
        raise ReplyError(MUST_BE_POSITIVE)
    db = ctx.db
    key = argv[1]
    value = _set(ctx, key, write=True)
    if value is None or count == 0:
        return SetReply()
    size = len(value)
    modified = ctx.engine.key_modified
    if count >= size:
        # The whole set, in the order Redis's SUNION of it replies; propagated as DEL.
        members = union_value([value], ctx.engine.config).members()
        db.delete(key)
        modified(db, key, "spop", size)
        modified(db, key, "del", 0)
        lazy = ctx.engine.config.lazyfree_lazy_server_del
        ctx.propagate_argv = [b"UNLINK" if lazy else b"DEL", key]
        return SetReply(members)
    pop = value.pop_random
    popped = [pop() for _ in range(count)]
    if (size - count) * SPOP_MOVE_STRATEGY_MUL <= count:
        # Redis 7.2 keeps the few members left in a new set (and so a new encoding).
        value.rebuild(ctx.engine.config)
    modified(db, key, "spop", count)
    # SREMs of at most SPOP_BATCH members; several go out as one MULTI/EXEC, as Redis 7
    # wraps the commands one command propagates.
    batches = [[b"SREM", key, *popped[start:start + SPOP_BATCH]]
               for start in range(0, count, SPOP_BATCH)]
    ctx.propagate_argv = batches[0] if len(batches) == 1 else tuple(batches)
    return SetReply(popped)


# ---- algebra ------------------------------------------------------------------------

def _store(ctx, dst_key: bytes, value: SetValue, event: str) -> int:
    """Store a computed set at ``dst_key`` (replacing anything, TTL cleared), or delete
    ``dst_key`` when the result is empty; reply with the result's size."""
    db = ctx.db
    if value:
        db.set(dst_key, value)
        ctx.engine.key_modified(db, dst_key, event)
        return len(value)
    if db.delete(dst_key):
        ctx.engine.key_modified(db, dst_key, "del")
    return 0


@command("sinter", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N*M) worst case where N is the cardinality of the "
         "smallest set and M is the number of sets.")
def sinter(ctx, argv):
    """The members common to every set."""
    sets = _sets(ctx, argv[1:])
    if any(s is None for s in sets):
        return SetReply()
    return SetReply(intersection(sets))


@command("sinterstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N*M) worst case where N is the cardinality of the "
         "smallest set and M is the number of sets.")
def sinterstore(ctx, argv):
    """Store the intersection of sets at a key; reply with its size."""
    sets = _sets(ctx, argv[2:])
    if any(s is None for s in sets):
        return _store(ctx, argv[1], SetValue(), "sinterstore")
    return _store(ctx, argv[1], intersection_value(sets, ctx.engine.config), "sinterstore")


def _sintercard_keys(argv) -> list:
    """SINTERCARD's key positions: numkeys then that many keys (none if numkeys is bad)."""
    count = parse_int(argv[1]) if len(argv) > 1 else None
    if count is None or count < 1 or count > len(argv) - 2:
        return []
    return list(range(2, 2 + count))


@command("sintercard", arity=-3, flags="readonly movablekeys", group="set", since="7.0.0",
         getkeys=_sintercard_keys,
         key_specs=(KeySpec("RO access", index=1, keynum=(0, 1, 1)),),
         complexity="O(N*M) worst case where N is the cardinality of the smallest set and "
         "M is the number of sets.")
def sintercard(ctx, argv):
    """SINTERCARD numkeys key [key ...] [LIMIT limit]: the intersection's size."""
    numkeys = int_arg(argv[1], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise ReplyError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    while j < len(argv):
        if argv[j].lower() == b"limit" and j + 1 < len(argv):
            limit = int_arg(argv[j + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise ReplyError("ERR LIMIT can't be negative")
            j += 2
        else:
            raise ReplyError(SYNTAX)
    sets = _sets(ctx, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    return intersection_card(sets, limit)


@command("sunion", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N) where N is the total number of elements in all "
         "given sets.")
def sunion(ctx, argv):
    """The members of any of the sets."""
    return SetReply(union_value(_sets(ctx, argv[1:]), ctx.engine.config))


@command("sunionstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N) where N is the total number of elements in all "
         "given sets.")
def sunionstore(ctx, argv):
    """Store the union of sets at a key; reply with its size."""
    value = union_value(_sets(ctx, argv[2:]), ctx.engine.config)
    return _store(ctx, argv[1], value, "sunionstore")


@command("sdiff", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N) where N is the total number of elements in all "
         "given sets.")
def sdiff(ctx, argv):
    """The members of the first set that are in none of the others."""
    return SetReply(difference_value(_sets(ctx, argv[1:]), ctx.engine.config))


@command("sdiffstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         since="1.0.0", complexity="O(N) where N is the total number of elements in all "
         "given sets.")
def sdiffstore(ctx, argv):
    """Store the difference of sets at a key; reply with its size."""
    value = difference_value(_sets(ctx, argv[2:]), ctx.engine.config)
    return _store(ctx, argv[1], value, "sdiffstore")


# ---- SSCAN --------------------------------------------------------------------------

@command("sscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="set", since="2.8.0",
         tips="nondeterministic_output",
         complexity="O(1) for every call. O(N) for a complete iteration, including "
         "enough command calls for the cursor to return back to 0. N is the number of "
         "elements inside the collection.")
def sscan(ctx, argv):
    """SSCAN key cursor [MATCH pattern] [COUNT count]: iterate over a set's members."""
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise ReplyError("ERR invalid cursor")
    value = _set(ctx, argv[1])
    if value is None:
        return [b"0", []]
    count, pattern, _ = parse_scan_options(argv, 3)
    if value.encoding != HASHTABLE:
        # Redis returns an intset or listpack whole, whatever the cursor says.
        cursor, found = 0, value.members()
    else:
        cursor, found = scan_page(value, value.scan_container(), cursor, count)
    if pattern is not None and pattern != b"*":
        found = compile_glob(pattern).filter(found)
    return [b"%d" % cursor, found]

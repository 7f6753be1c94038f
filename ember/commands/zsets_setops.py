"""Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.

All seven go through :func:`setop_generic` (Redis's zunionInterDiffGenericCommand). Plain
sets are accepted as inputs, every member scoring 1, as Redis allows. Inputs are taken
smallest first for union and intersection (a stable sort, as glibc's qsort is), scores
are multiplied by the WEIGHTS, and a weight times an infinite score that gives NaN counts
as 0, as do SUM aggregates of +inf and -inf.
"""

from ember.commands.args import int_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.zsets import (
    GROUP,
    keynum_positions,
    ranged_long,
    score_arg,
    scored_reply,
)
from ember.commands.zsets_ranges import store_result
from ember.errors import SYNTAX, WRONGTYPE, ReplyError
from ember.protocol.numbers import LLONG_MAX
from ember.storage.types.zset import ZSet

UNION, INTER, DIFF = "union", "inter", "diff"
_SUM, _MIN, _MAX = b"sum", b"min", b"max"


class _Source:
    """One input: a ZSet, a plain set (scores 1), or nothing (a missing key)."""

    __slots__ = ("value", "weight")

    def __init__(self, value):
        self.value = value
        self.weight = 1.0

    def __len__(self):
        return len(self.value) if self.value is not None else 0

    def pairs(self):
        """(member, score) of every member: a sorted set from its highest member, as
        Redis walks it; a set in its own order."""
        value = self.value
        if value is None:
            return []
        if type(value) is ZSet:
            return value.slice(0, len(value), reverse=True)
        return [(member, 1.0) for member in value]

    def find(self, member):
        """The member's score here, or None."""
        value = self.value
        if value is None:
            return None
        if type(value) is ZSet:
            return value.scores.get(member)
        return 1.0 if member in value else None


def _aggregate(target: float, value: float, how: bytes) -> float:
    if how == _SUM:
        total = target + value
        return 0.0 if total != total else total
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


def _lookup_sources(ctx, keys) -> list:
    db = ctx.db
    sources = []
    for key in keys:
        value = db.lookup(key)
        if value is not None and type(value) is not ZSet \
                and getattr(value, "type_name", None) != "set":
            raise ReplyError(WRONGTYPE)
        sources.append(_Source(value))
    return sources


def setop_generic(ctx, argv, name: str, numkeys_index: int, op: str, store: bool = False,
                  cardinality_only: bool = False):
    """Parse and compute a sorted-set union, intersection or difference.

    Returns the reply: the stored size, the cardinality (ZINTERCARD), or the members
    (with scores if WITHSCORES) in score order.
    """
    setnum = int_arg(argv[numkeys_index])
    if setnum < 1:
        raise ReplyError(f"ERR at least 1 input key is needed for '{name}' command")
    first = numkeys_index + 1
    if setnum > len(argv) - first:
        raise ReplyError(SYNTAX)
    sources = _lookup_sources(ctx, argv[first:first + setnum])
    how, withscores, limit = _SUM, False, 0
    j = first + setnum
    n = len(argv)
    while j < n:
        option = argv[j].lower()
        remaining = n - j
        if op != DIFF and not cardinality_only and remaining >= setnum + 1 \
                and option == b"weights":
            for i in range(setnum):
                sources[i].weight = score_arg(argv[j + 1 + i], "ERR weight value is not a float")
            j += setnum + 1
        elif op != DIFF and not cardinality_only and remaining >= 2 and option == b"aggregate":
            how = argv[j + 1].lower()
            if how not in (_SUM, _MIN, _MAX):
                raise ReplyError(SYNTAX)
            j += 2
        elif not store and not cardinality_only and option == b"withscores":
            withscores = True
            j += 1
        elif cardinality_only and remaining >= 2 and option == b"limit":
            limit = ranged_long(argv[j + 1], 0, LLONG_MAX, "ERR LIMIT can't be negative")
            j += 2
        else:
            raise ReplyError(SYNTAX)
    if op != DIFF:
        sources.sort(key=len)
    if op == INTER:
        result = _intersection(sources, how, cardinality_only, limit)
    elif op == UNION:
        result = _union(sources, how)
    else:
        result = _difference(sources)
    if cardinality_only:
        return result
    if store:
        return store_result(ctx, argv[1], result, "z" + op + "store")
    result.sort(key=lambda pair: (pair[1], pair[0]))
    return scored_reply(ctx, result, withscores)


def _intersection(sources, how, cardinality_only: bool, limit: int):
    first = sources[0]
    if not len(first):
        return 0 if cardinality_only else []
    others = sources[1:]
    out = []
    count = 0
    for member, score in first.pairs():
        score *= first.weight
        if score != score:
            score = 0.0
        for other in others:
            value = other.find(member)
            if value is None:
                break
            score = _aggregate(score, value * other.weight, how)
        else:
            if cardinality_only:
                count += 1
                if limit and count >= limit:
                    break
            else:
                out.append((member, score))
    return count if cardinality_only else out


def _union(sources, how):
    scores = {}
    for source in sources:
        weight = source.weight
        for member, score in source.pairs():
            score *= weight
            if score != score:
                score = 0.0
            current = scores.get(member)
            scores[member] = score if current is None else _aggregate(current, score, how)
    return list(scores.items())


def _difference(sources):
    first, others = sources[0], sources[1:]
    if not len(first) or any(other.value is first.value for other in others):
        return []
    return [(member, score) for member, score in first.pairs()
            if all(other.find(member) is None for other in others)]


def _store_keys(argv):
    return keynum_positions(argv, 2, 3, store=1)


def _read_keys(argv):
    return keynum_positions(argv, 1, 2)


_STORE_SPECS = (KeySpec("OW update", index=1), KeySpec("RO access", index=2, keynum=(0, 1, 1)))
_READ_SPECS = (KeySpec("RO access", index=1, keynum=(0, 1, 1)),)


@command("zunionstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=GROUP, since="2.0.0", complexity="O(N)+O(M log(M))", getkeys=_store_keys,
         key_specs=_STORE_SPECS)
def zunionstore(ctx, argv):
    """Stores the union of sorted sets (WEIGHTS, AGGREGATE SUM|MIN|MAX)."""
    return setop_generic(ctx, argv, "zunionstore", 2, UNION, store=True)


@command("zinterstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=GROUP, since="2.0.0", complexity="O(N*K)+O(M*log(M))",
         getkeys=_store_keys, key_specs=_STORE_SPECS)
def zinterstore(ctx, argv):
    """Stores the intersection of sorted sets (WEIGHTS, AGGREGATE SUM|MIN|MAX)."""
    return setop_generic(ctx, argv, "zinterstore", 2, INTER, store=True)


@command("zdiffstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=GROUP, since="6.2.0", complexity="O(L + (N-K)log(N))",
         getkeys=_store_keys, key_specs=_STORE_SPECS)
def zdiffstore(ctx, argv):
    """Stores the members of the first sorted set that are in none of the others."""
    return setop_generic(ctx, argv, "zdiffstore", 2, DIFF, store=True)


@command("zunion", arity=-3, flags="readonly movablekeys", group=GROUP, since="6.2.0",
         complexity="O(N)+O(M*log(M))", getkeys=_read_keys, key_specs=_READ_SPECS)
def zunion(ctx, argv):
    """Returns the union of sorted sets [WEIGHTS] [AGGREGATE] [WITHSCORES]."""
    return setop_generic(ctx, argv, "zunion", 1, UNION)


@command("zinter", arity=-3, flags="readonly movablekeys", group=GROUP, since="6.2.0",
         complexity="O(N*K)+O(M*log(M))", getkeys=_read_keys, key_specs=_READ_SPECS)
def zinter(ctx, argv):
    """Returns the intersection of sorted sets [WEIGHTS] [AGGREGATE] [WITHSCORES]."""
    return setop_generic(ctx, argv, "zinter", 1, INTER)


@command("zdiff", arity=-3, flags="readonly movablekeys", group=GROUP, since="6.2.0",
         complexity="O(L + (N-K)log(N))", getkeys=_read_keys, key_specs=_READ_SPECS)
def zdiff(ctx, argv):
    """Returns the members of the first sorted set that are in none of the others."""
    return setop_generic(ctx, argv, "zdiff", 1, DIFF)


@command("zintercard", arity=-3, flags="readonly movablekeys", group=GROUP, since="7.0.0",
         complexity="O(N*K)", getkeys=_read_keys, key_specs=_READ_SPECS)
def zintercard(ctx, argv):
    """Counts the members common to sorted sets [LIMIT limit]."""
    return setop_generic(ctx, argv, "zintercard", 1, INTER, cardinality_only=True)

"""Sorted-set ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, the old
ZREVRANGE / Z[REV]RANGEBYSCORE / Z[REV]RANGEBYLEX forms, ZCOUNT, ZLEXCOUNT and
ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX.

Every range read goes through :func:`zrange_generic` (Redis's zrangeGenericCommand): one
parser for the options and the three kinds of range, one lookup, one selection; the
commands differ only in what they fix in advance (the kind, the direction) and in whether
the result is replied or stored.
"""

from ember.commands.args import int_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.zsets import (
    GROUP,
    limits,
    parse_lex_range,
    parse_score_range,
    remove_if_empty,
    scored_reply,
)
from ember.errors import SYNTAX, ReplyError
from ember.storage.types.zset import ZSet

RANK, SCORE, LEX = "rank", "score", "lex"


def _rank_bounds(zset: ZSet, start: int, end: int):
    """Redis's rank sanitising: negative indexes from the end; (lo, hi) positions."""
    size = len(zset)
    if start < 0:
        start += size
    if end < 0:
        end += size
    start = max(start, 0)
    if start > end or start >= size:
        return 0, 0
    return start, min(end, size - 1) + 1


def _window(zset: ZSet, lo: int, hi: int, offset: int, limit: int, reverse: bool) -> list:
    """LIMIT offset count over the in-range positions lo..hi-1 (from hi-1 if
    ``reverse``); a negative count means no limit."""
    if offset < 0 or (offset > 0 and offset >= len(zset)):
        return []
    if reverse:
        top = hi - offset
        bottom = lo if limit < 0 else max(lo, top - limit)
        return zset.slice(bottom, top, reverse=True)
    first = lo + offset
    last = hi if limit < 0 else min(hi, first + limit)
    return zset.slice(first, last)


def _lex_window(zset: ZSet, spec, offset: int, limit: int, reverse: bool) -> list:
    """A lex range with LIMIT. With equal scores the range is contiguous; otherwise
    Redis's walk is followed exactly: skip ``offset`` members unchecked, then take
    members while they are still in range."""
    if zset.uniform_score():
        lo, hi = zset.lex_bounds(spec)
        return _window(zset, lo, hi, offset, limit, reverse)
    if offset < 0 or (offset > 0 and offset >= len(zset)):
        return []
    if reverse:
        lo, hi = zset.lex_bounds_reverse(spec)
        if lo == hi:
            return []
        i, step, inside = hi - 1 - offset, -1, spec.gte_min
    else:
        lo, hi = zset.lex_bounds(spec)
        if lo == hi:
            return []
        i, step, inside = lo + offset, 1, spec.lte_max
    out = []
    while 0 <= i < len(zset) and limit != 0:
        member, score = zset.at(i)
        if not inside(member):
            break
        out.append((member, score))
        i += step
        limit -= 1
    return out


def zrange_generic(ctx, argv, first: int, store: bool, kind=None, reverse=None):
    """Parse and run a range read starting at ``argv[first]`` (the source key).

    Returns ``(pairs, withscores)`` where ``pairs`` are (member, score) in reply order.
    ``kind`` (RANK, SCORE, LEX) and ``reverse`` are fixed by the old command forms and
    left None for ZRANGE / ZRANGESTORE, whose options choose them.
    """
    n = len(argv)
    withscores = False
    offset, limit = 0, -1
    j = first + 3
    while j < n:
        option = argv[j].lower()
        if not store and option == b"withscores":
            withscores = True
        elif option == b"limit" and n - j - 1 >= 2:
            offset, limit = int_arg(argv[j + 1]), int_arg(argv[j + 2])
            j += 2
        elif reverse is None and option == b"rev":
            reverse = True
        elif kind is None and option == b"bylex":
            kind = LEX
        elif kind is None and option == b"byscore":
            kind = SCORE
        else:
            raise ReplyError(SYNTAX)
        j += 1
    reverse = bool(reverse)
    kind = kind or RANK
    if limit != -1 and kind == RANK:
        raise ReplyError("ERR syntax error, LIMIT is only supported in combination with "
                         "either BYSCORE or BYLEX")
    if withscores and kind == LEX:
        raise ReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    low, high = argv[first + 1], argv[first + 2]
    if reverse and kind != RANK:
        low, high = high, low                     # given as max, min
    if kind == RANK:
        start, end = int_arg(low), int_arg(high)
    elif kind == SCORE:
        spec = parse_score_range(low, high)
    else:
        spec = parse_lex_range(low, high)
    zset = ctx.db.get_typed(argv[first], ZSet)
    if zset is None:
        return [], withscores
    if kind == RANK:
        lo, hi = _rank_bounds(zset, start, end)
        if reverse:
            lo, hi = len(zset) - hi, len(zset) - lo
        return zset.slice(lo, hi, reverse), withscores
    if kind == SCORE:
        lo, hi = zset.score_bounds(spec)
        return _window(zset, lo, hi, offset, limit, reverse), withscores
    return _lex_window(zset, spec, offset, limit, reverse), withscores


def _reply(ctx, argv, kind=None, reverse=None):
    pairs, withscores = zrange_generic(ctx, argv, 1, False, kind, reverse)
    return scored_reply(ctx, pairs, withscores)


@command("zrange", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP, since="1.2.0",
         complexity="O(log(N)+M)")
def zrange(ctx, argv):
    """Returns members in a range of ranks, scores (BYSCORE) or members (BYLEX)."""
    return _reply(ctx, argv)


@command("zrevrange", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(log(N)+M)")
def zrevrange(ctx, argv):
    """Returns members in a range of ranks, highest score first."""
    return _reply(ctx, argv, RANK, True)


@command("zrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="1.0.5", complexity="O(log(N)+M)")
def zrangebyscore(ctx, argv):
    """Returns members with scores in a range (min max)."""
    return _reply(ctx, argv, SCORE, False)


@command("zrevrangebyscore", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="2.2.0", complexity="O(log(N)+M)")
def zrevrangebyscore(ctx, argv):
    """Returns members with scores in a range (max min), highest first."""
    return _reply(ctx, argv, SCORE, True)


@command("zrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="2.8.9", complexity="O(log(N)+M)")
def zrangebylex(ctx, argv):
    """Returns members in a lexicographical range (min max)."""
    return _reply(ctx, argv, LEX, False)


@command("zrevrangebylex", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="2.8.9", complexity="O(log(N)+M)")
def zrevrangebylex(ctx, argv):
    """Returns members in a lexicographical range (max min), highest first."""
    return _reply(ctx, argv, LEX, True)


@command("zrangestore", arity=-5, flags="write denyoom", keys=(1, 2, 1), group=GROUP,
         since="6.2.0", complexity="O(log(N)+M)",
         key_specs=(KeySpec("OW update", index=1), KeySpec("RO access", index=2)))
def zrangestore(ctx, argv):
    """Stores a range of a sorted set (as ZRANGE selects it) in another key."""
    pairs, _ = zrange_generic(ctx, argv, 2, True)
    return store_result(ctx, argv[1], pairs, "zrangestore")


def store_result(ctx, dst: bytes, pairs: list, event: str) -> int:
    """Store (member, score) pairs at ``dst`` as a new sorted set (TTL cleared), or
    delete ``dst`` when there are none; reply with the size."""
    db = ctx.db
    if pairs:
        db.set(dst, ZSet.from_pairs(pairs, limits(ctx)))
        ctx.engine.key_modified(db, dst, event)
        return len(pairs)
    if db.delete(dst):
        ctx.engine.key_modified(db, dst, "del")
    return 0


# ---- counting and removing ranges ------------------------------------------------------

@command("zcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="2.0.0", complexity="O(log(N))")
def zcount(ctx, argv):
    """Counts the members with scores in a range."""
    spec = parse_score_range(argv[2], argv[3])
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return 0
    lo, hi = zset.score_bounds(spec)
    return hi - lo


@command("zlexcount", arity=4, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="2.8.9", complexity="O(log(N))")
def zlexcount(ctx, argv):
    """Counts the members in a lexicographical range."""
    spec = parse_lex_range(argv[2], argv[3])
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return 0
    lo, hi = zset.lex_bounds(spec)
    return hi - lo


def zremrange_generic(ctx, argv, kind: str):
    """ZREMRANGEBYRANK/SCORE/LEX (Redis's zremrangeGenericCommand): parse the range,
    then remove it in one slice."""
    if kind == RANK:
        start, end = int_arg(argv[2]), int_arg(argv[3])
    elif kind == SCORE:
        spec = parse_score_range(argv[2], argv[3])
    else:
        spec = parse_lex_range(argv[2], argv[3])
    db = ctx.db
    key = argv[1]
    zset = db.get_typed(key, ZSet, write=True)
    if zset is None:
        return 0
    if kind == RANK:
        lo, hi = _rank_bounds(zset, start, end)
    elif kind == SCORE:
        lo, hi = zset.score_bounds(spec)
    else:
        lo, hi = zset.lex_bounds(spec)
    deleted = zset.remove_slice(lo, hi)
    if deleted:
        ctx.engine.key_modified(db, key, "zremrangeby" + kind, count=deleted)
        remove_if_empty(ctx, db, key, zset)
    return deleted


@command("zremrangebyrank", arity=4, flags="write", keys=(1, 1, 1), group=GROUP,
         since="2.0.0", complexity="O(log(N)+M)")
def zremrangebyrank(ctx, argv):
    """Removes the members in a range of ranks."""
    return zremrange_generic(ctx, argv, RANK)


@command("zremrangebyscore", arity=4, flags="write", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(log(N)+M)")
def zremrangebyscore(ctx, argv):
    """Removes the members with scores in a range."""
    return zremrange_generic(ctx, argv, SCORE)


@command("zremrangebylex", arity=4, flags="write", keys=(1, 1, 1), group=GROUP,
         since="2.8.9", complexity="O(log(N)+M)")
def zremrangebylex(ctx, argv):
    """Removes the members in a lexicographical range."""
    return zremrange_generic(ctx, argv, LEX)

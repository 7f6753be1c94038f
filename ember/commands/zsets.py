"""Sorted-set commands (Redis's t_zset.c): ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
ZRANK, ZREVRANK, the pops (ZPOPMIN, ZPOPMAX, ZMPOP), ZRANDMEMBER and ZSCAN, plus the
helpers the range and set-operation modules share (score and range parsing, reply
shapes).

The ranges (ZRANGE and its old forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*) are
in :mod:`ember.commands.zsets_ranges`; ZUNION/ZINTER/ZDIFF and their STORE forms and
ZINTERCARD in :mod:`ember.commands.zsets_setops`; the blocking pops (BZPOPMIN,
BZPOPMAX, BZMPOP) in :mod:`ember.commands.zsets_blocking`.
"""

import math

from ember.commands.args import int_arg
from ember.commands.engine import arity_error
from ember.commands.keys import parse_scan_options
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import NOT_FLOAT, SYNTAX, ReplyError
from ember.protocol.numbers import LLONG_MAX, format_float, parse_int
from ember.protocol.replies import NULL_ARRAY
from ember.storage.glob import compile_glob
from ember.storage.scan import parse_cursor, scan_page
from ember.storage.types.zset import TOP, LexRange, ScoreRange, ZSet

GROUP = "sorted-set"
NAN_SCORE = "ERR resulting score is not a number (NaN)"
NOT_FLOAT_RANGE = "ERR min or max is not a float"
NOT_LEX_RANGE = "ERR min or max not valid string range item"
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
_C_SPACES = b" \t\n\v\f\r"

# ZADD option flags (Redis's ZADD_IN_*, plus CH).
_NX, _XX, _GT, _LT, _INCR, _CH = (1 << i for i in range(6))
_ZADD_OPTIONS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT, b"incr": _INCR, b"ch": _CH}


# ---- numbers as t_zset.c parses them ----------------------------------------------------

def _strtod(text: bytes):
    """C strtod over the whole of ``text`` (decimal, hex, inf/infinity); None if any byte
    is left over. Returns the value, overflow giving +-inf as strtod does."""
    if not text or text[-1:] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r") or b"_" in text:
        return None
    body = text.lstrip(b"+-")
    try:
        if body[:2] in (b"0x", b"0X"):
            value = float.fromhex(text.decode("ascii"))
        else:
            value = float(text)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    return value


def parse_score(data: bytes):
    """A score or weight as Redis's string2d reads it, or None: the whole argument, no
    leading space, no NaN, no overflow to infinity and no underflow to zero."""
    if data.isdigit() and len(data) < 300:
        return float(data)                                  # the common case: digits
    if not data or data[0] in _C_SPACES:
        return None
    value = _strtod(data)
    if value is None or value != value:
        return None
    if math.isinf(value) and b"inf" not in data.lower():
        return None                                         # ERANGE overflow
    if value == 0.0:
        mantissa = data.lower().split(b"p" if b"x" in data.lower() else b"e")[0]
        if mantissa.lstrip(b"+-").startswith(b"0x"):
            mantissa = mantissa.lstrip(b"+-")[2:]
        if any(c in b"123456789abcdef" for c in mantissa):
            return None                                     # ERANGE underflow to zero
    return value


def score_arg(data: bytes, error: str = NOT_FLOAT) -> float:
    """A score argument (ZADD, ZINCRBY, WEIGHTS), or Redis's error."""
    value = parse_score(data)
    if value is None:
        raise ReplyError(error)
    return value


def _range_number(text: bytes):
    """A score range end as zslParseRange reads it: C strtod up to a NUL, leading
    spaces allowed, the empty string is 0, NaN refused; None if invalid."""
    end = text.find(b"\0")
    if end >= 0:
        text = text[:end]
    if not text:
        return 0.0
    stripped = text.lstrip(_C_SPACES)
    value = _strtod(stripped)
    if value is None or value != value:
        return None
    return value


def parse_score_range(low: bytes, high: bytes) -> ScoreRange:
    """``min``/``max`` of ZRANGEBYSCORE and friends: numbers, "(" for exclusive, inf."""
    bounds = []
    for text in (low, high):
        exclusive = text[:1] == b"("
        value = _range_number(text[1:] if exclusive else text)
        if value is None:
            raise ReplyError(NOT_FLOAT_RANGE)
        bounds += [value, exclusive]
    return ScoreRange(*bounds)


def _lex_item(text: bytes):
    first = text[:1]
    if first == b"+":
        return (TOP, True) if len(text) == 1 else None
    if first == b"-":
        return (None, True) if len(text) == 1 else None
    if first == b"(":
        return text[1:], True
    if first == b"[":
        return text[1:], False
    return None


def parse_lex_range(low: bytes, high: bytes) -> LexRange:
    """``min``/``max`` of ZRANGEBYLEX and friends: "-", "+", "[x" or "(x"."""
    low_item, high_item = _lex_item(low), _lex_item(high)
    if low_item is None or high_item is None:
        raise ReplyError(NOT_LEX_RANGE)
    return LexRange(low_item[0], low_item[1], high_item[0], high_item[1])


def ranged_long(data: bytes, low: int, high: int, error: str) -> int:
    """Redis's getRangeLongFromObjectOrReply with a message: an integer in [low, high],
    else ``error`` (also for a non-integer)."""
    value = parse_int(data)
    if value is None or value < low or value > high:
        raise ReplyError(error)
    return value


# ---- values and replies -----------------------------------------------------------------

def limits(ctx):
    """The object carrying zset-max-listpack-* (the server's config)."""
    return ctx.engine.config


def scored_reply(ctx, pairs, withscores: bool) -> list:
    """Members, or members with scores: a flat array in RESP2, [member, score] pairs in
    RESP3 (Redis's reply for ZRANGE WITHSCORES and its relatives)."""
    if not withscores:
        return [member for member, _ in pairs]
    if ctx.resp > 2:
        return [[member, score] for member, score in pairs]
    flat = []
    for member, score in pairs:
        flat += (member, score)
    return flat


def remove_if_empty(ctx, db, key: bytes, zset: ZSet) -> None:
    """Delete a key its command just emptied, with Redis's ``del`` event."""
    if not zset:
        db.delete(key)
        ctx.engine.key_modified(db, key, "del", count=0)


# ---- ZADD / ZINCRBY / ZREM -------------------------------------------------------------

def zadd_generic(ctx, argv, flags: int):
    """ZADD and ZINCRBY (Redis's zaddGenericCommand): options, then score/member pairs,
    all validated before anything changes."""
    i = 2
    n = len(argv)
    while i < n:
        option = _ZADD_OPTIONS.get(argv[i].lower())
        if option is None:
            break
        flags |= option
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        raise ReplyError(SYNTAX)
    elements //= 2
    nx, xx, gt, lt = flags & _NX, flags & _XX, flags & _GT, flags & _LT
    incr = flags & _INCR
    if nx and xx:
        raise ReplyError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 1:
        raise ReplyError("ERR INCR option supports a single increment-element pair")
    scores = [score_arg(argv[i + 2 * j]) for j in range(elements)]
    db = ctx.db
    key = argv[1]
    zset = db.get_typed(key, ZSet, write=True)
    added = updated = processed = 0
    score = None
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSet.create(elements, len(argv[i + 1]), limits(ctx))
        db.set(key, zset)
    else:
        zset.maybe_convert(elements, limits(ctx))
    members = zset.scores
    for j in range(elements):
        member = argv[i + 1 + 2 * j]
        new = scores[j]
        current = members.get(member)
        if current is not None:
            if nx:
                continue
            if incr:
                new += current
                if new != new:
                    raise ReplyError(NAN_SCORE)
            if (lt and new >= current) or (gt and new <= current):
                continue
            processed += 1
            score = new
            if new != current:
                zset.update(member, current, new)
                updated += 1
        elif not xx:
            zset.insert(member, new, limits(ctx))
            added += 1
            processed += 1
            score = new
    if added or updated:
        ctx.engine.key_modified(db, key, "zincr" if incr else "zadd", count=added + updated)
    if incr:
        return score if processed else None
    return added + updated if flags & _CH else added


@command("zadd", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(log(N)) for each item added")
def zadd(ctx, argv):
    """Adds members to a sorted set, or updates their scores (NX XX GT LT CH INCR)."""
    return zadd_generic(ctx, argv, 0)


@command("zincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(log(N))",
         key_specs=(KeySpec("RW access update", index=1),))
def zincrby(ctx, argv):
    """Increments the score of a member in a sorted set."""
    return zadd_generic(ctx, argv, _INCR)


@command("zrem", arity=-3, flags="write fast", keys=(1, 1, 1), group=GROUP, since="1.2.0",
         complexity="O(M*log(N))")
def zrem(ctx, argv):
    """Removes members from a sorted set; the key goes when it is empty."""
    db = ctx.db
    key = argv[1]
    zset = db.get_typed(key, ZSet, write=True)
    if zset is None:
        return 0
    deleted = 0
    for member in argv[2:]:
        if zset.remove(member):
            deleted += 1
        if not zset:
            break
    if deleted:
        ctx.engine.key_modified(db, key, "zrem", count=deleted)
        remove_if_empty(ctx, db, key, zset)
    return deleted


# ---- reads -------------------------------------------------------------------------------

@command("zcard", arity=2, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(1)", key_specs=(KeySpec("RO", index=1),))
def zcard(ctx, argv):
    """Returns the number of members in a sorted set."""
    zset = ctx.db.get_typed(argv[1], ZSet)
    return len(zset) if zset is not None else 0


@command("zscore", arity=3, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="1.2.0", complexity="O(1)")
def zscore(ctx, argv):
    """Returns the score of a member (a double in RESP3)."""
    zset = ctx.db.get_typed(argv[1], ZSet)
    return zset.scores.get(argv[2]) if zset is not None else None


@command("zmscore", arity=-3, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="6.2.0", complexity="O(N) where N is the number of members being requested.")
def zmscore(ctx, argv):
    """Returns the scores of several members (null for the missing ones)."""
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return [None] * (len(argv) - 2)
    get = zset.scores.get
    return [get(member) for member in argv[2:]]


def zrank_generic(ctx, argv, reverse: bool):
    """ZRANK and ZREVRANK, with 7.2's WITHSCORE: O(log N)."""
    if len(argv) > 4:
        raise arity_error("zrevrank" if reverse else "zrank")
    withscore = False
    if len(argv) == 4:
        if argv[3].lower() != b"withscore":
            raise ReplyError(SYNTAX)
        withscore = True
    missing = NULL_ARRAY if withscore else None
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return missing
    rank = zset.rank(argv[2], reverse)
    if rank is None:
        return missing
    return [rank, zset.scores[argv[2]]] if withscore else rank


@command("zrank", arity=-3, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="2.0.0", complexity="O(log(N))")
def zrank(ctx, argv):
    """Returns the rank of a member, lowest score first [WITHSCORE]."""
    return zrank_generic(ctx, argv, False)


@command("zrevrank", arity=-3, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="2.0.0", complexity="O(log(N))")
def zrevrank(ctx, argv):
    """Returns the rank of a member, highest score first [WITHSCORE]."""
    return zrank_generic(ctx, argv, True)


# ---- pops ---------------------------------------------------------------------------------

def zpop_generic(ctx, keys, highest: bool, emitkey: bool, count: int, nested: bool,
                 nil_when_empty: bool):
    """Redis's genericZpopCommand: pop from the first non-empty key of ``keys``.

    ``count`` -1 is the plain single pop. Reply shapes: flat member/score pairs (with
    the key in front when ``emitkey``), or with ``nested`` [member, score] pairs (and
    ``[key, pairs]`` when ``emitkey``). Returns ``(reply, key, popped)``; ``key`` is None
    when nothing was popped.
    """
    db = ctx.db
    zset = key = None
    for candidate in keys:
        zset = db.get_typed(candidate, ZSet, write=True)
        if zset is not None:
            key = candidate
            break
    if zset is None:
        return (NULL_ARRAY if nil_when_empty else []), None, 0
    if count == 0:
        return [], None, 0
    pairs = zset.pop(1 if count == -1 else count, highest)
    engine = ctx.engine
    engine.key_modified(db, key, "zpopmax" if highest else "zpopmin", count=len(pairs))
    remove_if_empty(ctx, db, key, zset)
    if nested:
        body = [[member, score] for member, score in pairs]
        reply = [key, body] if emitkey else body
    else:
        reply = [key] if emitkey else []
        for member, score in pairs:
            reply += (member, score)
    return reply, key, len(pairs)


def _zpop_minmax(ctx, argv, highest: bool):
    if len(argv) > 3:
        raise ReplyError(SYNTAX)
    count = -1
    if len(argv) == 3:
        count = ranged_long(argv[2], 0, LLONG_MAX, MUST_BE_POSITIVE)
    nested = ctx.resp > 2 and count != -1
    return zpop_generic(ctx, argv[1:2], highest, False, count, nested, False)[0]


@command("zpopmin", arity=-2, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", complexity="O(log(N)*M)",
         key_specs=(KeySpec("RW access delete", index=1),))
def zpopmin(ctx, argv):
    """Removes and returns the members with the lowest scores."""
    return _zpop_minmax(ctx, argv, False)


@command("zpopmax", arity=-2, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", complexity="O(log(N)*M)",
         key_specs=(KeySpec("RW access delete", index=1),))
def zpopmax(ctx, argv):
    """Removes and returns the members with the highest scores."""
    return _zpop_minmax(ctx, argv, True)


def parse_mpop(argv, numkeys_index: int):
    """ZMPOP/BZMPOP arguments: (keys, highest, count) with Redis's errors."""
    numkeys = ranged_long(argv[numkeys_index], 1, LLONG_MAX,
                          "ERR numkeys should be greater than 0")
    where = numkeys_index + numkeys + 1
    if where >= len(argv):
        raise ReplyError(SYNTAX)
    side = argv[where].lower()
    if side not in (b"min", b"max"):
        raise ReplyError(SYNTAX)
    count = -1
    j = where + 1
    while j < len(argv):
        if count == -1 and argv[j].lower() == b"count" and j + 1 < len(argv):
            count = ranged_long(argv[j + 1], 1, LLONG_MAX, "ERR count should be greater than 0")
            j += 2
        else:
            raise ReplyError(SYNTAX)
    return argv[numkeys_index + 1:where], side == b"max", (1 if count == -1 else count)


def mpop_keys(first: int):
    """getkeys for ZMPOP (``first`` 1) and BZMPOP (``first`` 2): numkeys then the keys."""
    def keys(argv):
        return keynum_positions(argv, first, first + 1)
    return keys


def keynum_positions(argv, count_index: int, first_key: int, store: int = 0) -> list:
    """Key positions of a command with a key count (Redis's key specs, then its
    getkeys procedure when the count is not a plain integer: atoi, store key last)."""
    if count_index >= len(argv):
        return []
    strict = parse_int(argv[count_index])
    available = len(argv) - first_key
    if strict is not None and 0 <= strict <= available and (strict or store):
        return ([store] if store else []) + list(range(first_key, first_key + strict))
    loose = _atoi(argv[count_index])
    if loose < 1 or loose > available:
        return []
    return list(range(first_key, first_key + loose)) + ([store] if store else [])


def _atoi(data: bytes) -> int:
    """C's atoi: optional spaces and sign, then digits; 0 if none."""
    text = data.lstrip(_C_SPACES)
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = b""
    for byte in text:
        if 48 <= byte <= 57:
            digits += bytes((byte,))
        else:
            break
    return sign * int(digits) if digits else 0


@command("zmpop", arity=-4, flags="write movablekeys", group=GROUP, since="7.0.0",
         complexity="O(K) + O(M*log(N))", getkeys=mpop_keys(1),
         key_specs=(KeySpec("RW access delete", index=1, keynum=(0, 1, 1)),))
def zmpop(ctx, argv):
    """Pops members with the lowest or highest scores from the first non-empty key."""
    keys, highest, count = parse_mpop(argv, 1)
    reply, key, popped = zpop_generic(ctx, keys, highest, True, count, True, True)
    if key is not None:
        ctx.propagate_argv = [b"ZPOPMAX" if highest else b"ZPOPMIN", key, b"%d" % popped]
    return reply


# ---- ZRANDMEMBER -----------------------------------------------------------------------

@command("zrandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="6.2.0", complexity="O(N) where N is the number of members returned",
         tips="nondeterministic_output")
def zrandmember(ctx, argv):
    """Returns random members [count [WITHSCORES]]; a negative count may repeat."""
    if len(argv) < 3:
        zset = ctx.db.get_typed(argv[1], ZSet)
        return zset.random_pairs(1)[0][0] if zset is not None else None
    count = int_arg(argv[2])
    if count < -LLONG_MAX:
        raise ReplyError("ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807")
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise ReplyError(SYNTAX)
    withscores = len(argv) == 4
    if withscores and not -(LLONG_MAX // 2) <= count <= LLONG_MAX // 2:
        raise ReplyError("ERR value is out of range")
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None or count == 0:
        return []
    size = len(zset)
    if count < 0 or count == 1:
        pairs = zset.random_pairs(abs(count))
    elif count >= size:
        pairs = zset.slice(0, size, reverse=True)      # Redis walks a zset from its tail
    else:
        pairs = zset.random_distinct(count)
    return scored_reply(ctx, pairs, withscores)


# ---- ZSCAN -------------------------------------------------------------------------------

def _listpack_score(score: float) -> bytes:
    """A score as a listpack stores it: integral values as integers (so -0 is "0")."""
    return b"0" if score == 0 else format_float(score)


def _skiplist_score(score: float) -> bytes:
    """A score as SCAN prints a skiplist's (ld2string's %.17Lg)."""
    if math.isinf(score):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


@command("zscan", arity=-3, flags="readonly", keys=(1, 1, 1), group=GROUP, since="2.8.0",
         complexity="O(1) for every call. O(N) for a complete iteration.",
         tips="nondeterministic_output")
def zscan(ctx, argv):
    """Iterates over members and scores: ZSCAN key cursor [MATCH pattern] [COUNT n]."""
    cursor = parse_cursor(argv[2])
    if cursor is None:
        raise ReplyError("ERR invalid cursor")
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return [b"0", []]
    count, pattern, _ = parse_scan_options(argv, 3)
    if zset.big:
        cursor, members = scan_page(zset, zset.scores, cursor, count)
        scores = zset.scores
        pairs = [(member, _skiplist_score(scores[member])) for member in members]
    else:
        cursor = 0
        pairs = [(member, _listpack_score(score)) for member, score in zset]
    if pattern is not None and pattern != b"*":
        matcher = compile_glob(pattern)
        pairs = [pair for pair in pairs if matcher.match(pair[0])]
    flat = []
    for member, score in pairs:
        flat += (member, score)
    return [b"%d" % cursor, flat]

"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST (hyperloglog.c).

An HLL is an ordinary string in Redis's format (see :mod:`ember.storage.hyperloglog`),
so GET/SET move it between ember and redis-server unchanged. Commands that modify one
turn a stored ``bytes`` into a ``bytearray`` first (Redis's dbUnshareStringValue) and
then update it in place.
"""

import random

from ember.commands.registry import command
from ember.errors import WRONGTYPE, ReplyError
from ember.protocol.replies import OK, Status
from ember.storage import hyperloglog as hll

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
INVALID_HLL = "INVALIDOBJ Corrupted HLL object detected"
_STRING_TYPES = (bytes, bytearray)


def _check_hll(value) -> None:
    """isHLLObjectOrReply: a string in HLL format, or the matching WRONGTYPE error."""
    if type(value) not in _STRING_TYPES:
        raise ReplyError(WRONGTYPE)
    if not hll.is_valid(value):
        raise ReplyError(NOT_HLL)


def _unshare(db, key: bytes, value) -> bytearray:
    """The stored HLL as a bytearray that can be changed in place (kept at ``key``)."""
    if type(value) is bytearray:
        return value
    buf = bytearray(value)
    db.set(key, buf, keep_ttl=True)
    return buf


def _sparse_max(ctx) -> int:
    return ctx.engine.config.hll_sparse_max_bytes


@command("pfadd", arity=-2, flags="write denyoom fast", keys=(1, 1, 1),
         group="hyperloglog", since="2.8.9")
def pfadd(ctx, argv):
    """Add elements to a HyperLogLog; 1 if its estimate may have changed, else 0."""
    db, key = ctx.db, argv[1]
    value = db.lookup_write(key)
    updated = 0
    if value is None:
        buf = hll.new_sparse()
        db.set(key, buf)
        updated = 1
    else:
        _check_hll(value)
        buf = _unshare(db, key, value)
    max_bytes = _sparse_max(ctx)
    if buf[4] == hll.DENSE:
        # The common case, inlined: O(1) per element on the packed registers.
        pattern, get, put = hll.pattern, hll.dense_get, hll.dense_set
        for element in argv[2:]:
            index, count = pattern(element)
            if count > get(buf, index):
                put(buf, index, count)
                updated += 1
    else:
        for element in argv[2:]:
            result = hll.add(buf, element, max_bytes)
            if result < 0:
                raise ReplyError(INVALID_HLL)
            updated += result
    if updated:
        hll.invalidate_cache(buf)
        ctx.engine.key_modified(db, key, "pfadd", count=updated)
    return 1 if updated else 0


def _union(ctx, keys):
    """(raw registers of the union of ``keys``, whether any of them is dense)."""
    merged = bytes(hll.HLL_REGISTERS)
    dense = False
    for key in keys:
        value = ctx.db.lookup(key)
        if value is None:
            continue
        _check_hll(value)
        if value[4] == hll.DENSE:
            dense = True
        try:
            merged = hll.raw_max(merged, hll.registers(value))
        except hll.CorruptedHLL:
            raise ReplyError(INVALID_HLL) from None
    return merged, dense


@command("pfcount", arity=-2, flags="readonly", keys=(1, -1, 1), group="hyperloglog",
         since="2.8.9")
def pfcount(ctx, argv):
    """The estimated cardinality of an HLL, or of the union of several (not stored).

    With one key the cached cardinality is returned when valid; otherwise it is
    computed and written back into the string, which counts as a change of the key
    (dirty, WATCH, tracking) and is propagated, as in Redis.
    """
    if len(argv) > 2:
        merged, _dense = _union(ctx, argv[1:])
        return hll.estimate(hll.raw_histogram(merged))
    db, key = ctx.db, argv[1]
    value = db.lookup(key)
    if value is None:
        return 0
    _check_hll(value)
    if hll.cache_valid(value):
        return hll.cached_card(value)
    try:
        card = hll.count(value)
    except hll.CorruptedHLL:
        raise ReplyError(INVALID_HLL) from None
    buf = _unshare(db, key, value)
    hll.set_cached_card(buf, card)
    ctx.engine.key_modified(db, key, None)
    ctx.engine.propagate(db.id, list(argv))
    return card


@command("pfmerge", arity=-2, flags="write denyoom", keys=(1, -1, 1),
         group="hyperloglog", since="2.8.9")
def pfmerge(ctx, argv):
    """Store the union of the source HLLs (and the destination's own) at the destination."""
    merged, dense = _union(ctx, argv[1:])
    db, key = ctx.db, argv[1]
    value = db.lookup_write(key)
    if value is None:
        buf = hll.new_sparse()
        db.set(key, buf)
    else:
        buf = _unshare(db, key, value)      # already checked as one of the sources
    if dense and buf[4] == hll.SPARSE:
        try:
            hll.to_dense(buf)
        except hll.CorruptedHLL:
            raise ReplyError(INVALID_HLL) from None
    if buf[4] == hll.SPARSE:
        max_bytes = _sparse_max(ctx)
        hint = [None, 0, None]
        for index, count in enumerate(merged):
            if count:
                hll.sparse_set(buf, index, count, max_bytes, hint)
                if buf[4] == hll.DENSE:
                    break
    if buf[4] == hll.DENSE:
        # Every register of the destination is already <= the union (it is a source).
        buf[hll.HDR_SIZE:] = hll.raw_to_dense_body(merged)
    hll.invalidate_cache(buf)
    ctx.engine.key_modified(db, key, "pfadd")
    return OK


@command("pfdebug", arity=3, flags="write denyoom admin", keys=(2, 2, 1),
         group="hyperloglog", since="2.8.9")
def pfdebug(ctx, argv):
    """Internal state of an HLL: GETREG, DECODE, ENCODING, TODENSE."""
    db, key = ctx.db, argv[2]
    value = db.lookup_write(key)
    if value is None:
        raise ReplyError("ERR The specified key does not exist")
    _check_hll(value)
    buf = _unshare(db, key, value)
    sub = argv[1].lower()
    if sub == b"getreg":
        if buf[4] == hll.SPARSE:
            _to_dense_or_error(buf)
            ctx.engine.dirty += 1       # force propagation of the encoding change
        return list(hll.dense_to_raw(buf))
    if sub == b"decode":
        if buf[4] != hll.SPARSE:
            raise ReplyError("ERR HLL encoding is not sparse")
        return hll.decode(buf).encode()
    if sub == b"encoding":
        return Status("dense" if buf[4] == hll.DENSE else "sparse")
    if sub == b"todense":
        if buf[4] == hll.SPARSE:
            _to_dense_or_error(buf)
            ctx.engine.dirty += 1
            return 1
        return 0
    raise ReplyError("ERR Unknown PFDEBUG subcommand '%s'"
                     % argv[1].decode("utf-8", "replace"))


def _to_dense_or_error(buf: bytearray) -> None:
    try:
        hll.to_dense(buf)
    except hll.CorruptedHLL:
        raise ReplyError(INVALID_HLL) from None


@command("pfselftest", arity=1, flags="admin", keys=(0, 0, 0), group="hyperloglog",
         since="2.8.9")
def pfselftest(ctx, argv):
    """Redis's PFSELFTEST, scaled down for Python: register access, then the error of
    dense and sparse estimates (and their agreement) at cardinalities 1 .. 100000."""
    rng = random.Random()
    buf = bytearray(hll.DENSE_SIZE)
    buf[0:4] = hll.MAGIC
    for _ in range(3):
        expected = [rng.randrange(64) for _ in range(hll.HLL_REGISTERS)]
        for i, value in enumerate(expected):
            hll.dense_set(buf, i, value)
        for i, value in enumerate(expected):
            got = hll.dense_get(buf, i)
            if got != value:
                raise ReplyError("TESTFAILED Register %d should be %d but is %d"
                                 % (i, value, got))
        if list(hll.dense_to_raw(buf)) != expected:
            raise ReplyError("TESTFAILED raw register decoding")
    buf[hll.HDR_SIZE:] = bytes(hll.DENSE_BYTES)
    sparse = hll.new_sparse()
    max_bytes = _sparse_max(ctx)
    relerr = 1.04 / hll.HLL_REGISTERS ** 0.5
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, 100001):
        element = (j ^ seed).to_bytes(8, "little")
        index, count = hll.pattern(element)
        hll.dense_set_max(buf, index, count)
        hll.add(sparse, element, max_bytes)
        if j != checkpoint:
            continue
        if j < max_bytes // 2 and sparse[4] != hll.SPARSE:
            raise ReplyError("TESTFAILED sparse encoding not used")
        card = hll.count(buf)
        if card != hll.count(sparse):
            raise ReplyError("TESTFAILED dense/sparse disagree")
        maxerr = 1 if j == 10 else -(-relerr * 6 * checkpoint // 1)
        if abs(checkpoint - card) > maxerr:
            raise ReplyError("TESTFAILED Too big error. card:%d abserr:%d"
                             % (checkpoint, abs(checkpoint - card)))
        checkpoint *= 10
    return OK

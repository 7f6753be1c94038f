"""Geospatial commands (Redis's geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
GEOSEARCHSTORE, GEORADIUS, GEORADIUS_RO, GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO.

A geo index is an ordinary sorted set whose scores are 52-bit geohashes
(:mod:`ember.storage.geohash`); GEOADD is ZADD with computed scores (and propagates as
that ZADD, as Redis rewrites it). Searches visit the 9 cells Redis visits, in its order,
each as a score range of the sorted set, so that even unsorted results come back in
Redis's order; ASC/DESC sort stably as glibc's qsort does, and COUNT without ANY uses
Redis's partial quicksort. Replies format numbers as Redis does: distances with 4
decimals (fixedpoint_d2string), coordinates as ld2string's human mode (17 decimals,
trailing zeros removed), a RESP3 double carrying the same digits.
"""

from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.zsets import limits, parse_score, zadd_generic
from ember.errors import NOT_FLOAT, NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import NULL_ARRAY, Raw
from ember.storage import geohash
from ember.storage.pqsort import pqsort
from ember.storage.types.zset import ZSet

GROUP = "geo"
UNIT_ERROR = "ERR unsupported unit provided. please use M, KM, FT, MI"
MEMBER_ERROR = "ERR could not decode requested zset member"
_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

# georadiusGeneric's flags.
RADIUS_COORDS, RADIUS_MEMBER, RADIUS_NOSTORE, GEOSEARCH, GEOSEARCHSTORE = (
    1 << i for i in range(5))
SORT_NONE, SORT_ASC, SORT_DESC = 0, 1, 2


# ---- arguments -----------------------------------------------------------------------------

def double_arg(data: bytes, error: str = NOT_FLOAT) -> float:
    """getDoubleFromObjectOrReply: the whole argument as strtod reads it, no NaN."""
    value = parse_score(data)
    if value is None:
        raise ReplyError(error)
    return value


def lonlat_args(lon: bytes, lat: bytes):
    """extractLongLatOrReply: a longitude/latitude pair within Redis's limits."""
    x, y = double_arg(lon), double_arg(lat)
    if (x < geohash.GEO_LONG_MIN or x > geohash.GEO_LONG_MAX
            or y < geohash.GEO_LAT_MIN or y > geohash.GEO_LAT_MAX):
        raise ReplyError("ERR invalid longitude,latitude pair %f,%f" % (x, y))
    return x, y


def unit_arg(data: bytes) -> float:
    """extractUnitOrReply: meters per unit (m, km, ft, mi, any case)."""
    factor = _UNITS.get(data.lower())
    if factor is None:
        raise ReplyError(UNIT_ERROR)
    return factor


def _member_lonlat(zset: ZSet, member: bytes):
    """longLatFromMember: the decoded position of a member, or Redis's error."""
    score = zset.scores.get(member)
    xy = geohash.decode_score(score) if score is not None else None
    if xy is None:
        raise ReplyError(MEMBER_ERROR)
    return xy


# ---- number formatting ---------------------------------------------------------------------

def distance_text(value: float) -> bytes:
    """addReplyDoubleDistance (fixedpoint_d2string with 4 digits): llrint(d * 10000)
    laid out with 4 decimals."""
    if value == 0:
        return b"0.0000"
    scaled = geohash.llrint(value * 10000.0)
    sign = b"-" if scaled < 0 else b""
    digits = b"%d" % abs(scaled)
    if len(digits) < 5:
        digits = b"0" * (5 - len(digits)) + digits
    return sign + digits[:-4] + b"." + digits[-4:]


def human_text(value: float) -> bytes:
    """ld2string's human mode: %.17Lf with the trailing zeros (and dot) removed."""
    if value != value:
        return b"nan"
    if value in (float("inf"), float("-inf")):
        return b"inf" if value > 0 else b"-inf"
    text = b"%.17f" % value
    if b"." in text:
        text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


def human_reply(ctx, value: float):
    """addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3."""
    text = human_text(value)
    return Raw(b",%s\r\n" % text) if ctx.resp > 2 else text


# ---- GEOADD ------------------------------------------------------------------------------

@command("geoadd", arity=-5, flags="write denyoom", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", complexity="O(log(N)) for each item added",
         key_specs=(KeySpec("RW update", index=1),))
def geoadd(ctx, argv):
    """Adds members with their longitude/latitude to a geo index (NX, XX, CH): ZADD with
    the points' geohashes as scores."""
    longidx = 2
    nx = xx = False
    while longidx < len(argv):
        option = argv[longidx].lower()
        if option == b"nx":
            nx = True
        elif option == b"xx":
            xx = True
        elif option != b"ch":
            break
        longidx += 1
    if (len(argv) - longidx) % 3 or (nx and xx):
        raise ReplyError(SYNTAX)
    zargv = [b"zadd"] + argv[1:longidx]
    for i in range(longidx, len(argv), 3):
        x, y = lonlat_args(argv[i], argv[i + 1])
        zargv += (b"%d" % geohash.score_of(x, y), argv[i + 2])
    ctx.propagate_argv = zargv
    return zadd_generic(ctx, zargv, 0)


# ---- GEOPOS / GEOHASH / GEODIST ----------------------------------------------------------

@command("geopos", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", complexity="O(1) for each member requested.")
def geopos(ctx, argv):
    """Returns the longitude/latitude of members (a null array for missing ones)."""
    zset = ctx.db.get_typed(argv[1], ZSet)
    out = []
    for member in argv[2:]:
        score = zset.scores.get(member) if zset is not None else None
        xy = geohash.decode_score(score) if score is not None else None
        if xy is None:
            out.append(NULL_ARRAY)
        else:
            out.append([human_reply(ctx, xy[0]), human_reply(ctx, xy[1])])
    return out


@command("geohash", arity=-2, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", complexity="O(1) for each member requested.")
def geohash_cmd(ctx, argv):
    """Returns members' positions as standard 11-character geohash strings."""
    zset = ctx.db.get_typed(argv[1], ZSet)
    out = []
    for member in argv[2:]:
        score = zset.scores.get(member) if zset is not None else None
        out.append(geohash.geohash_string(score) if score is not None else None)
    return out


@command("geodist", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.0", complexity="O(1)")
def geodist(ctx, argv):
    """Returns the distance between two members (m, km, ft or mi)."""
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = unit_arg(argv[4])
    elif len(argv) > 5:
        raise ReplyError(SYNTAX)
    zset = ctx.db.get_typed(argv[1], ZSet)
    if zset is None:
        return None
    score1, score2 = zset.scores.get(argv[2]), zset.scores.get(argv[3])
    if score1 is None or score2 is None:
        return None
    a, b = geohash.decode_score(score1), geohash.decode_score(score2)
    return distance_text(geohash.distance(a[0], a[1], b[0], b[1]) / to_meter)


# ---- the searches ------------------------------------------------------------------------

def _radius_args(argv, i: int):
    """extractDistanceOrReply: (radius, meters per unit) from argv[i], argv[i + 1]."""
    radius = double_arg(argv[i], "ERR need numeric radius")
    if radius < 0:
        raise ReplyError("ERR radius cannot be negative")
    return radius, unit_arg(argv[i + 1])


def _box_args(argv, i: int):
    """extractBoxOrReply: (width, height, meters per unit)."""
    width = double_arg(argv[i], "ERR need numeric width")
    height = double_arg(argv[i + 1], "ERR need numeric height")
    if height < 0 or width < 0:
        raise ReplyError("ERR height or width cannot be negative")
    return width, height, unit_arg(argv[i + 2])


def search_points(zset: ZSet, shape, limit: int) -> list:
    """membersOfAllNeighbors: [member, score, lon, lat, dist] for the points inside the
    shape, cell after cell in Redis's order, stopping at ``limit`` (ANY) if not 0."""
    step, cells = geohash.areas_for_shape(shape)
    found = []
    order = zset.order
    contains = shape.contains
    decode = geohash.decode_score
    last = 0
    for i, bits in enumerate(cells):
        if bits is None:
            continue
        if last and bits == cells[last]:
            continue
        if found and limit and len(found) >= limit:
            break
        low, high = geohash.cell_score_range(bits, step)
        start = order.bisect_left((float(low), b""))
        for score, member in order.islice(start):
            if not score < high:
                break
            x, y = decode(score)
            dist = contains(x, y)
            if dist is not None:
                found.append([member, score, x, y, dist])
            if found and limit and len(found) >= limit:
                break
        last = i
    return found


def _compare_asc(a, b) -> int:
    da, db_ = a[4], b[4]
    if da > db_:
        return 1
    return 0 if da == db_ else -1


def _compare_desc(a, b) -> int:
    return -_compare_asc(a, b)


class _Options:
    """georadiusGeneric's parsed arguments."""

    __slots__ = ("withdist", "withhash", "withcoord", "any", "sort", "count", "store",
                 "storedist", "frommember", "fromloc", "byradius", "bybox", "shape")


def _parse(ctx, argv, zset, flags: int, base: int, opts: _Options) -> None:
    """The optional arguments, in Redis's order of checks (errors included)."""
    opts.withdist = opts.withhash = opts.withcoord = opts.any = False
    opts.frommember = opts.fromloc = opts.byradius = opts.bybox = False
    opts.sort, opts.count, opts.storedist = SORT_NONE, 0, False
    shape = opts.shape
    remaining = len(argv) - base
    i = 0
    while i < remaining:
        arg = argv[base + i].lower()
        if arg == b"withdist":
            opts.withdist = True
        elif arg == b"withhash":
            opts.withhash = True
        elif arg == b"withcoord":
            opts.withcoord = True
        elif arg == b"any":
            opts.any = True
        elif arg == b"asc":
            opts.sort = SORT_ASC
        elif arg == b"desc":
            opts.sort = SORT_DESC
        elif arg == b"count" and i + 1 < remaining:
            count = parse_int(argv[base + i + 1])
            if count is None:
                raise ReplyError(NOT_INTEGER)
            if count <= 0:
                raise ReplyError("ERR COUNT must be > 0")
            opts.count = count
            i += 1
        elif arg in (b"store", b"storedist") and i + 1 < remaining \
                and not flags & RADIUS_NOSTORE and not flags & GEOSEARCH:
            opts.store = argv[base + i + 1]
            opts.storedist = arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            opts.storedist = True
        elif arg == b"frommember" and i + 1 < remaining and flags & GEOSEARCH \
                and not opts.fromloc:
            if zset is not None:
                shape.x, shape.y = _member_lonlat(zset, argv[base + i + 1])
            opts.frommember = True
            i += 1
        elif arg == b"fromlonlat" and i + 2 < remaining and flags & GEOSEARCH \
                and not opts.frommember:
            shape.x, shape.y = lonlat_args(argv[base + i + 1], argv[base + i + 2])
            opts.fromloc = True
            i += 2
        elif arg == b"byradius" and i + 2 < remaining and flags & GEOSEARCH \
                and not opts.bybox:
            shape.radius, shape.conversion = _radius_args(argv, base + i + 1)
            shape.kind = geohash.CIRCULAR
            opts.byradius = True
            i += 2
        elif arg == b"bybox" and i + 3 < remaining and flags & GEOSEARCH \
                and not opts.byradius:
            shape.width, shape.height, shape.conversion = _box_args(argv, base + i + 1)
            shape.kind = geohash.RECTANGLE
            opts.bybox = True
            i += 3
        else:
            raise ReplyError(SYNTAX)
        i += 1


def georadius_generic(ctx, argv, src_index: int, flags: int):
    """Redis's georadiusGeneric: every search command, replying or storing."""
    zset = ctx.db.get_typed(argv[src_index], ZSet)
    opts = _Options()
    opts.store = None
    opts.shape = shape = geohash.Shape(0, 0.0, 0.0, 1.0)
    if flags & RADIUS_COORDS:
        base = 6
        shape.kind = geohash.CIRCULAR
        shape.x, shape.y = lonlat_args(argv[2], argv[3])
        shape.radius, shape.conversion = _radius_args(argv, 4)
    elif flags & RADIUS_MEMBER and zset is None:
        base = 5
    elif flags & RADIUS_MEMBER:
        base = 5
        shape.kind = geohash.CIRCULAR
        shape.x, shape.y = _member_lonlat(zset, argv[2])
        shape.radius, shape.conversion = _radius_args(argv, 3)
    else:
        base = 2
        if flags & GEOSEARCHSTORE:
            base = 3
            opts.store = argv[1]
    _parse(ctx, argv, zset, flags, base, opts)
    name = argv[0].decode("utf-8", "surrogateescape")
    if opts.store is not None and (opts.withdist or opts.withhash or opts.withcoord):
        what = "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"
        raise ReplyError(f"ERR {what} is not compatible with WITHDIST, WITHHASH and "
                         "WITHCOORD options")
    if flags & GEOSEARCH and not (opts.frommember or opts.fromloc):
        raise ReplyError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified "
                         f"for {name}")
    if flags & GEOSEARCH and not (opts.byradius or opts.bybox):
        raise ReplyError(f"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    if opts.any and not opts.count:
        raise ReplyError("ERR the ANY argument requires COUNT argument")
    db = ctx.db
    if zset is None:
        if opts.store is None:
            return []
        if db.delete(opts.store):
            ctx.engine.key_modified(db, opts.store, "del")
        return 0
    count = opts.count
    sort = opts.sort
    if count and sort == SORT_NONE and not opts.any:
        sort = SORT_ASC
    found = search_points(zset, shape, count if opts.any else 0)
    if not found and opts.store is None:
        return []
    total = len(found)
    returned = total if not count or total < count else count
    if sort != SORT_NONE:
        if returned == total:
            found.sort(key=lambda p: p[4], reverse=sort == SORT_DESC)
        else:
            pqsort(found, _compare_asc if sort == SORT_ASC else _compare_desc,
                   0, returned - 1)
    conversion = shape.conversion
    if opts.store is None:
        return _reply(ctx, found[:returned], conversion, opts)
    return _store(ctx, opts.store, found[:returned], conversion, opts.storedist,
                  "geosearchstore" if flags & GEOSEARCH else "georadiusstore")


def _reply(ctx, points, conversion: float, opts) -> list:
    """The members, or [member, dist?, hash?, [lon, lat]?] for each when WITH* given."""
    if not (opts.withdist or opts.withhash or opts.withcoord):
        return [p[0] for p in points]
    out = []
    for member, score, x, y, dist in points:
        item = [member]
        if opts.withdist:
            item.append(distance_text(dist / conversion))
        if opts.withhash:
            # addReplyLongLong(c, gp->score): C's double -> long long conversion.
            item.append(int(score) if score == score and abs(score) < 2 ** 63
                        else -(1 << 63))
        if opts.withcoord:
            item.append([human_reply(ctx, x), human_reply(ctx, y)])
        out.append(item)
    return out


def _store(ctx, key: bytes, points, conversion: float, storedist: bool, event: str) -> int:
    """STORE/STOREDIST: the results as a new sorted set (scores: geohashes or distances
    in the unit), or the destination deleted when there are none."""
    db = ctx.db
    if points:
        pairs = [(p[0], p[4] / conversion if storedist else p[1]) for p in points]
        db.set(key, ZSet.from_pairs(pairs, limits(ctx)))
        ctx.engine.key_modified(db, key, event, count=len(points))
    elif db.delete(key):
        ctx.engine.key_modified(db, key, "del")
    return len(points)


# ---- key positions -------------------------------------------------------------------------

def _store_specs(startfrom: int) -> tuple:
    return (KeySpec("RO access", index=1),
            KeySpec("OW update", keyword=b"STORE", startfrom=startfrom),
            KeySpec("OW update", keyword=b"STOREDIST", startfrom=startfrom))


_GEORADIUS_SPECS = _store_specs(6)
_BYMEMBER_SPECS = _store_specs(5)


def _spec_keys(specs):
    def getkeys(argv):
        positions = []
        for spec in specs:
            positions += spec.positions(argv) or []
        return positions
    return getkeys


@command("georadius", arity=-6, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=GROUP, since="3.2.0", key_specs=_GEORADIUS_SPECS,
         getkeys=_spec_keys(_GEORADIUS_SPECS),
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box")
def georadius(ctx, argv):
    """Queries a geo index for members within a distance of a point (STORE/STOREDIST)."""
    return georadius_generic(ctx, argv, 1, RADIUS_COORDS)


@command("georadius_ro", arity=-6, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.10",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box")
def georadius_ro(ctx, argv):
    """Queries a geo index for members within a distance of a point (read-only)."""
    return georadius_generic(ctx, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@command("georadiusbymember", arity=-5, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group=GROUP, since="3.2.0", key_specs=_BYMEMBER_SPECS,
         getkeys=_spec_keys(_BYMEMBER_SPECS),
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box")
def georadiusbymember(ctx, argv):
    """Queries a geo index for members within a distance of a member (STORE/STOREDIST)."""
    return georadius_generic(ctx, argv, 1, RADIUS_MEMBER)


@command("georadiusbymember_ro", arity=-5, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="3.2.10",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box")
def georadiusbymember_ro(ctx, argv):
    """Queries a geo index for members within a distance of a member (read-only)."""
    return georadius_generic(ctx, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@command("geosearch", arity=-7, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="6.2.0",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned "
                    "bounding box area")
def geosearch(ctx, argv):
    """Queries a geo index for members inside a circle or a box."""
    return georadius_generic(ctx, argv, 1, GEOSEARCH)


@command("geosearchstore", arity=-8, flags="write denyoom", keys=(1, 2, 1), group=GROUP,
         since="6.2.0", key_specs=(KeySpec("OW update", index=1),
                                   KeySpec("RO access", index=2)),
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned "
                    "bounding box area")
def geosearchstore(ctx, argv):
    """GEOSEARCH whose result is stored as a sorted set (STOREDIST for distances)."""
    return georadius_generic(ctx, argv, 2, GEOSEARCH | GEOSEARCHSTORE)

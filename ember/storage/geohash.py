"""Redis's geohash arithmetic (geohash.c and geohash_helper.c), ported operation for
operation so that scores, cells, distances and search areas match redis-server bit for
bit and digit for digit.

A point is stored as a sorted-set score: the 52-bit interleaved geohash (step 26) of its
longitude/latitude over Redis's ranges (longitude -180..180, latitude
-85.05112878..85.05112878, the Web-Mercator limits). Decoding returns the centre of the
step-26 cell. A search covers the centre cell of an estimated step and its 8 neighbours
(:func:`areas_for_shape`); each cell is a score range [min, max) of the sorted set.

Floating-point operations follow the C code's order exactly; libm functions are the same
glibc ones Python calls, wrapped so that a domain error gives NaN as in C instead of an
exception. Nothing here knows RESP.
"""

import math

GEO_STEP_MAX = 26
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0

D_R = math.pi / 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37

_U64 = (1 << 64) - 1
_NAN = float("nan")

LONG_RANGE = (GEO_LONG_MIN, GEO_LONG_MAX)
LAT_RANGE = (GEO_LAT_MIN, GEO_LAT_MAX)
STANDARD_LAT_RANGE = (-90.0, 90.0)

# Search shapes.
CIRCULAR, RECTANGLE = 1, 2


# ---- C semantics helpers ----------------------------------------------------------------

def _libm(fn, x: float) -> float:
    """``fn(x)`` as C's libm returns it: NaN instead of Python's ValueError."""
    try:
        return fn(x)
    except (ValueError, OverflowError):
        return _NAN


def _div(a: float, b: float) -> float:
    """IEEE division (inf/NaN for a zero divisor instead of ZeroDivisionError)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return _NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def double_to_u64(value: float) -> int:
    """C's ``(uint64_t)value`` as gcc compiles it on x86-64 (out-of-range values give
    the "integer indefinite" results the hardware gives)."""
    two63 = 9223372036854775808.0
    if value != value:
        return 1 << 63
    if value >= two63:
        value -= two63
        if value >= two63:
            return 0
        return int(value) ^ (1 << 63)
    if value <= -two63:
        return 1 << 63
    return int(value) & _U64


def llrint(value: float) -> int:
    """C's llrint: round half to even; NaN and out-of-range give LLONG_MIN (x86)."""
    if value != value or math.isinf(value) or abs(value) >= 9223372036854775808.0:
        return -(1 << 63)
    return round(value)


def deg_rad(ang: float) -> float:
    """Degrees to radians (``ang * D_R``)."""
    return ang * D_R


def rad_deg(ang: float) -> float:
    """Radians to degrees (``ang / D_R``)."""
    return ang / D_R


# ---- interleaving -------------------------------------------------------------------------

def interleave64(xlo: int, ylo: int) -> int:
    """Bits of ``xlo`` in the even positions, ``ylo`` in the odd ones (32-bit inputs)."""
    x, y = xlo & 0xFFFFFFFF, ylo & 0xFFFFFFFF
    x = (x | (x << 16)) & 0x0000FFFF0000FFFF
    y = (y | (y << 16)) & 0x0000FFFF0000FFFF
    x = (x | (x << 8)) & 0x00FF00FF00FF00FF
    y = (y | (y << 8)) & 0x00FF00FF00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x << 2)) & 0x3333333333333333
    y = (y | (y << 2)) & 0x3333333333333333
    x = (x | (x << 1)) & 0x5555555555555555
    y = (y | (y << 1)) & 0x5555555555555555
    return (x | (y << 1)) & _U64


def deinterleave64(interleaved: int) -> int:
    """The inverse of :func:`interleave64`: even bits in the low word, odd in the high."""
    x = interleaved & _U64
    y = x >> 1
    x = x & 0x5555555555555555
    y = y & 0x5555555555555555
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & 0x00000000FFFFFFFF
    y = (y | (y >> 16)) & 0x00000000FFFFFFFF
    return x | (y << 32)


# ---- encode / decode ----------------------------------------------------------------------

def encode(longitude: float, latitude: float, step: int = GEO_STEP_MAX,
           long_range=LONG_RANGE, lat_range=LAT_RANGE):
    """geohashEncode: the ``step``-bit-per-axis hash of a point, or None outside the
    Redis limits or the given ranges."""
    if step > 32 or step == 0:
        return None
    if (longitude > GEO_LONG_MAX or longitude < GEO_LONG_MIN
            or latitude > GEO_LAT_MAX or latitude < GEO_LAT_MIN):
        return None
    if (latitude < lat_range[0] or latitude > lat_range[1]
            or longitude < long_range[0] or longitude > long_range[1]):
        return None
    lat_offset = (latitude - lat_range[0]) / (lat_range[1] - lat_range[0])
    long_offset = (longitude - long_range[0]) / (long_range[1] - long_range[0])
    lat_offset *= float(1 << step)
    long_offset *= float(1 << step)
    return interleave64(int(lat_offset), int(long_offset))


def score_of(longitude: float, latitude: float) -> int:
    """The sorted-set score GEOADD stores (geohashAlign52Bits of the step-26 hash)."""
    return encode(longitude, latitude)


def align52(bits: int, step: int) -> int:
    """geohashAlign52Bits: a ``step`` hash shifted to 52 bits."""
    return (bits << (52 - step * 2)) & _U64


def decode_area(bits: int, step: int, long_range=LONG_RANGE, lat_range=LAT_RANGE):
    """geohashDecode: ``(long_min, long_max, lat_min, lat_max)`` of a cell, or None for
    the zero hash."""
    if bits == 0 and step == 0:
        return None
    hash_sep = deinterleave64(bits)
    lat_scale = lat_range[1] - lat_range[0]
    long_scale = long_range[1] - long_range[0]
    ilato = hash_sep & 0xFFFFFFFF
    ilono = (hash_sep >> 32) & 0xFFFFFFFF
    div = float(1 << step)
    lat_min = lat_range[0] + (ilato * 1.0 / div) * lat_scale
    lat_max = lat_range[0] + ((ilato + 1) * 1.0 / div) * lat_scale
    long_min = long_range[0] + (ilono * 1.0 / div) * long_scale
    long_max = long_range[0] + ((ilono + 1) * 1.0 / div) * long_scale
    return long_min, long_max, lat_min, lat_max


def decode_score(score: float):
    """decodeGeohash: the ``(longitude, latitude)`` a score stands for (the centre of
    its step-26 cell, clamped to the Redis limits)."""
    area = decode_area(double_to_u64(score), GEO_STEP_MAX)
    if area is None:
        return None
    long_min, long_max, lat_min, lat_max = area
    x = (long_min + long_max) / 2
    x = min(max(x, GEO_LONG_MIN), GEO_LONG_MAX) if x == x else x
    y = (lat_min + lat_max) / 2
    y = min(max(y, GEO_LAT_MIN), GEO_LAT_MAX) if y == y else y
    return x, y


_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"


def geohash_string(score: float):
    """GEOHASH's 11-character string: the point decoded and re-encoded over the standard
    latitude range -90..90, 52 bits in ten characters and a final ``0``."""
    xy = decode_score(score)
    if xy is None:
        return None
    bits = encode(xy[0], xy[1], 26, LONG_RANGE, STANDARD_LAT_RANGE)
    if bits is None:
        bits = 0
    out = bytearray()
    for i in range(11):
        idx = 0 if i == 10 else (bits >> (52 - (i + 1) * 5)) & 0x1F
        out.append(_ALPHABET[idx])
    return bytes(out)


# ---- neighbours ---------------------------------------------------------------------------

def _move_x(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0x5555555555555555 >> (64 - step * 2)
    if d > 0:
        x = x + (zz + 1)
    else:
        x = x | zz
        x = x - (zz + 1)
    x &= 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    return (x | y) & _U64


def _move_y(bits: int, step: int, d: int) -> int:
    if d == 0:
        return bits
    x = bits & 0xAAAAAAAAAAAAAAAA
    y = bits & 0x5555555555555555
    zz = 0xAAAAAAAAAAAAAAAA >> (64 - step * 2)
    if d > 0:
        y = y + (zz + 1)
    else:
        y = y | zz
        y = y - (zz + 1)
    y &= 0x5555555555555555 >> (64 - step * 2)
    return (x | y) & _U64


# The 8 neighbours as (dx, dy), in the order Redis visits them after the centre cell:
# north, south, east, west, north-east, north-west, south-east, south-west.
_NEIGHBOUR_MOVES = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def neighbors(bits: int, step: int) -> list:
    """geohashNeighbors in visiting order: [N, S, E, W, NE, NW, SE, SW] hash bits."""
    return [_move_y(_move_x(bits, step, dx), step, dy) for dx, dy in _NEIGHBOUR_MOVES]


# ---- distances ----------------------------------------------------------------------------

def lat_distance(lat1d: float, lat2d: float) -> float:
    """geohashGetLatDistance: the distance along a meridian."""
    return EARTH_RADIUS_IN_METERS * abs(deg_rad(lat2d) - deg_rad(lat1d))


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """geohashGetDistance: Redis's haversine great-circle distance in meters."""
    lon1r = deg_rad(lon1d)
    lon2r = deg_rad(lon2d)
    v = _libm(math.sin, (lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1d, lat2d)
    lat1r = deg_rad(lat1d)
    lat2r = deg_rad(lat2d)
    u = _libm(math.sin, (lat2r - lat1r) / 2)
    a = u * u + _libm(math.cos, lat1r) * _libm(math.cos, lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * _libm(math.asin, _libm(math.sqrt, a))


def distance_if_in_radius(x1, y1, x2, y2, radius):
    """geohashGetDistanceIfInRadius: the distance, or None when beyond ``radius``."""
    dist = distance(x1, y1, x2, y2)
    if dist > radius:
        return None
    return dist


def distance_if_in_rectangle(width_m, height_m, x1, y1, x2, y2):
    """geohashGetDistanceIfInRectangle: the distance from the box centre (x1, y1), or
    None when (x2, y2) is outside the width x height box."""
    if lat_distance(y2, y1) > height_m / 2:
        return None
    if distance(x2, y2, x1, y2) > width_m / 2:
        return None
    return distance(x1, y1, x2, y2)


# ---- search areas -------------------------------------------------------------------------

class Shape:
    """A search area (Redis's GeoShape): a centre, a radius or a width/height, and the
    unit's factor to meters."""

    __slots__ = ("kind", "x", "y", "radius", "width", "height", "conversion")

    def __init__(self, kind, x, y, conversion, radius=0.0, width=0.0, height=0.0):
        self.kind, self.x, self.y, self.conversion = kind, x, y, conversion
        self.radius, self.width, self.height = radius, width, height

    def contains(self, lon: float, lat: float):
        """geoWithinShape's test: the distance in meters, or None if outside."""
        if self.kind == CIRCULAR:
            return distance_if_in_radius(self.x, self.y, lon, lat,
                                         self.radius * self.conversion)
        return distance_if_in_rectangle(self.width * self.conversion,
                                        self.height * self.conversion,
                                        self.x, self.y, lon, lat)


def estimate_steps(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the cell step for a search of this size."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


def bounding_box(shape: Shape):
    """geohashBoundingBox: ``(min_lon, min_lat, max_lon, max_lat)`` of the search."""
    longitude, latitude = shape.x, shape.y
    circular = shape.kind == CIRCULAR
    height = shape.conversion * (shape.radius if circular else shape.height / 2)
    width = shape.conversion * (shape.radius if circular else shape.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(_div(width / EARTH_RADIUS_IN_METERS,
                                  _libm(math.cos, deg_rad(latitude + lat_delta))))
    long_delta_bottom = rad_deg(_div(width / EARTH_RADIUS_IN_METERS,
                                     _libm(math.cos, deg_rad(latitude - lat_delta))))
    southern = latitude < 0
    delta = long_delta_bottom if southern else long_delta_top
    return longitude - delta, latitude - lat_delta, longitude + delta, latitude + lat_delta


def areas_for_shape(shape: Shape):
    """geohashCalculateAreasByShapeWGS84: ``(step, cells)`` where cells are the 9 hash
    bits [centre, N, S, E, W, NE, NW, SE, SW], None for the ones excluded as useless."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(shape)
    longitude, latitude = shape.x, shape.y
    if shape.kind == CIRCULAR:
        radius_meters = shape.radius
    else:
        half_w, half_h = shape.width / 2, shape.height / 2
        radius_meters = _libm(math.sqrt, half_w * half_w + half_h * half_h)
    radius_meters *= shape.conversion
    steps = estimate_steps(radius_meters, latitude)
    bits = encode(longitude, latitude, steps)
    around = neighbors(bits, steps)
    north = decode_area(around[0], steps)
    south = decode_area(around[1], steps)
    east = decode_area(around[2], steps)
    west = decode_area(around[3], steps)
    decrease = (north[3] < max_lat or south[2] > min_lat
                or east[1] < max_lon or west[0] > min_lon)
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(longitude, latitude, steps)
        around = neighbors(bits, steps)
    area = decode_area(bits, steps)
    cells = [bits] + around
    if steps >= 2:
        long_min, long_max, lat_min, lat_max = area
        if lat_min < min_lat:
            cells[2] = cells[7] = cells[8] = None        # south, south-east, south-west
        if lat_max > max_lat:
            cells[1] = cells[5] = cells[6] = None        # north, north-east, north-west
        if long_min < min_lon:
            cells[4] = cells[8] = cells[6] = None        # west, south-west, north-west
        if long_max > max_lon:
            cells[3] = cells[7] = cells[5] = None        # east, south-east, north-east
    return steps, cells


def cell_score_range(bits: int, step: int):
    """scoresOfGeoHashBox: the scores [min, max) of the points inside a cell."""
    return align52(bits, step), align52(bits + 1, step)

"""ember.storage.geohash: Redis's geohash arithmetic, checked against values redis-server
computes (scores, positions, hashes, distances) and against its own invariants."""

import math

from hypothesis import given
from hypothesis import strategies as st

from ember.commands.geo import distance_text, human_text
from ember.storage import geohash
from ember.storage.pqsort import pqsort

# (longitude, latitude, score, GEOPOS longitude, GEOPOS latitude, GEOHASH) from
# redis-server 7.0.15 (GEOADD / ZSCORE / GEOPOS / GEOHASH).
KNOWN = [
    (13.361389, 38.115556, 3479099956230698, b"13.36138933897018433",
     b"38.11555639549629859", b"sqc8b49rny0"),
    (15.087269, 37.502669, 3479447370796909, b"15.08726745843887329",
     b"37.50266842333162032", b"sqdtr74hyu0"),
    (180, 85.05112878, 13510798882111488, b"180", b"85.0511287799999991", b"bp05b5048p0"),
    (-180, -85.05112878, 0, b"-179.99999731779098511", b"-85.05112751263942528",
     b"00bh0hbj200"),
]


def test_scores_positions_and_hashes_match_redis():
    for lon, lat, score, x, y, text in KNOWN:
        assert geohash.score_of(lon, lat) == score
        px, py = geohash.decode_score(float(score))
        assert (human_text(px), human_text(py)) == (x, y)
        assert geohash.geohash_string(float(score)) == text


def test_distance_matches_redis():
    a = geohash.decode_score(3479099956230698.0)
    b = geohash.decode_score(3479447370796909.0)
    meters = geohash.distance(a[0], a[1], b[0], b[1])
    assert distance_text(meters) == b"166274.1516"
    assert distance_text(meters / 1000) == b"166.2742"
    assert geohash.distance(a[0], a[1], a[0], a[1]) == 0.0


def test_distance_text_is_llrint_of_ten_thousandths():
    assert distance_text(0.0) == b"0.0000"
    assert distance_text(0.00004) == b"0.0000"
    assert distance_text(0.00005) == b"0.0000"     # 0.5 after scaling: half to even
    assert distance_text(0.00015) == b"0.0001"     # 1.4999999999999998 after scaling
    assert distance_text(12.34565) == b"12.3456"
    assert distance_text(1.5) == b"1.5000"
    assert distance_text(-0.5) == b"-0.5000"
    assert distance_text(float("nan")) == b"-922337203685477.5808"


def test_human_text_trims_zeros_and_negative_zero():
    assert human_text(180.0) == b"180"
    assert human_text(-0.0) == b"0"
    assert human_text(0.5) == b"0.5"
    assert human_text(-1e-18) == b"0"


def test_c_conversions():
    assert geohash.double_to_u64(-1.0) == (1 << 64) - 1
    assert geohash.double_to_u64(1.9) == 1
    assert geohash.double_to_u64(float("nan")) == 1 << 63
    assert geohash.double_to_u64(1e30) == 0
    assert geohash.double_to_u64(2.0 ** 63) == 1 << 63
    assert geohash.llrint(2.5) == 2 and geohash.llrint(3.5) == 4
    assert geohash.llrint(float("inf")) == -(1 << 63)


def test_neighbours_of_a_cell():
    bits = geohash.encode(13.361389, 38.115556, 10)
    north, south, east, west, ne, nw, se, sw = geohash.neighbors(bits, 10)
    lo_min, lo_max, la_min, la_max = geohash.decode_area(bits, 10)
    n_area = geohash.decode_area(north, 10)
    e_area = geohash.decode_area(east, 10)
    assert n_area[2] == la_max and n_area[0] == lo_min
    assert e_area[0] == lo_max and e_area[2] == la_min
    assert geohash.decode_area(sw, 10)[1] == lo_min
    assert geohash.decode_area(sw, 10)[3] == la_min
    assert len({north, south, east, west, ne, nw, se, sw, bits}) == 9


def test_estimate_steps():
    assert geohash.estimate_steps(0, 0) == 26
    assert geohash.estimate_steps(1, 0) == 24
    assert geohash.estimate_steps(1000, 0) == 14
    assert geohash.estimate_steps(1000, 70) == 13
    assert geohash.estimate_steps(1000, -85) == 12
    assert geohash.estimate_steps(1e8, 0) == 1
    assert geohash.estimate_steps(math.inf, 0) == 1


def test_areas_cover_the_search_and_drop_useless_cells():
    shape = geohash.Shape(geohash.CIRCULAR, 15.0, 37.0, 1000.0, radius=200)
    step, cells = geohash.areas_for_shape(shape)
    assert 1 <= step <= 26 and len(cells) == 9 and cells[0] is not None
    box = geohash.Shape(geohash.RECTANGLE, 15.0, 37.0, 1.0, width=10, height=10)
    step, cells = geohash.areas_for_shape(box)
    assert sum(c is None for c in cells) >= 5     # a tiny box needs few neighbours


def test_rectangle_test():
    assert geohash.distance_if_in_rectangle(2000, 2000, 0, 0, 0.005, 0.005) is not None
    assert geohash.distance_if_in_rectangle(2000, 2000, 0, 0, 0.01, 0) is None
    assert geohash.distance_if_in_rectangle(2000, 2000, 0, 0, 0, 0.01) is None


def test_pqsort_orders_the_window():
    values = [[0, 0, 0, 0, d] for d in (5, 3, 3, 9, 1, 3, 7, 2, 8, 3, 6, 4, 0, 3, 5) * 5]

    def cmp(a, b):
        return (a[4] > b[4]) - (a[4] < b[4])

    expected = sorted(p[4] for p in values)[:10]
    pqsort(values, cmp, 0, 9)
    assert [p[4] for p in values[:10]] == expected


@given(st.floats(-180, 179.9999), st.floats(geohash.GEO_LAT_MIN, 85.0511))
def test_decode_is_within_a_cell_of_the_point(lon, lat):
    # (Points within a rounding of the maximum longitude/latitude overflow into bits
    # 52/53, as in Redis: see KNOWN.)
    score = geohash.score_of(lon, lat)
    assert 0 <= score <= 3 << 52
    x, y = geohash.decode_score(float(score))
    assert abs(x - lon) <= 360 / 2 ** 26 and abs(y - lat) <= 171 / 2 ** 26
    assert geohash.distance(lon, lat, x, y) < 1.0
    assert geohash.score_of(x, y) == score


@given(st.integers(1, 26), st.integers(0, (1 << 52) - 1))
def test_interleave_round_trip(step, bits):
    bits &= (1 << (2 * step)) - 1
    sep = geohash.deinterleave64(bits)
    assert geohash.interleave64(sep & 0xFFFFFFFF, sep >> 32) == bits
    low, high = geohash.cell_score_range(bits, step)
    assert high - low == 1 << (52 - 2 * step)

"""Geo commands compared with a real redis-server, byte for byte.

ember visits the search cells in Redis's order and sorts as Redis does (stable qsort,
pqsort for COUNT), so even unsorted GEOSEARCH/GEORADIUS replies are compared exactly.
The geo code did not change between 7.0.15 and 7.2 in anything these tests reach, except
scores written by STOREDIST, which ZRANGE WITHSCORES prints with 7.2's shortest-digits
formatting (asserted explicitly below).
"""

import random

import pytest

from tests.compat.test_sets_compat import redis_version

PLACES = ("13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
          "2.349014", "48.864716", "Paris", "-0.118092", "51.509865", "London")


def add_places(compat, key="Sicily"):
    compat.check("GEOADD", key, *PLACES)


# ---- GEOADD -------------------------------------------------------------------------------

def test_geoadd_options_and_errors(compat):
    compat.script([
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "g", "CH", "13.4", "38.1", "Palermo", "1", "1", "one"),
        ("GEOADD", "g", "NX", "14", "38", "Palermo", "2", "2", "two"),
        ("GEOADD", "g", "XX", "14", "38", "Palermo", "3", "3", "three"),
        ("GEOADD", "g", "XX", "CH", "15", "38", "Palermo", "3", "3", "three"),
        ("GEOADD", "g", "ch", "nx", "16", "38", "Palermo"),
        ("GEOADD", "g", "NX", "XX", "1", "1", "x"),
        ("GEOADD", "g", "1", "1"),
        ("GEOADD", "g", "1", "1", "a", "2"),
        ("GEOADD", "g", "ch", "ch", "ch"),
        ("GEOADD", "g", "200", "100", "x"),
        ("GEOADD", "g", "-180.000001", "0", "x"),
        ("GEOADD", "g", "0", "85.05112879", "x"),
        ("GEOADD", "g", "0", "-85.05112879", "x"),
        ("GEOADD", "g", "inf", "0", "x"),
        ("GEOADD", "g", "0", "-inf", "x"),
        ("GEOADD", "g", "1e300", "0", "x"),
        ("GEOADD", "g", "abc", "0", "x"),
        ("GEOADD", "g", "0", "nan", "x"),
        ("GEOADD", "g", " 1", "0", "x"),
        ("GEOADD", "g", "1", "1", "ok", "500", "0", "bad"),
        ("EXISTS", "ok"), ("ZSCORE", "g", "ok"),
        ("GEOADD", "g", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw",
         "0", "0", "origin", "0x10", "1e1", "hex"),
        ("ZRANGE", "g", "0", "-1", "WITHSCORES"),
        ("GEOADD", "g"), ("GEOADD", "g", "1", "2"),
        ("SET", "str", "x"), ("GEOADD", "str", "1", "1", "a"),
        ("GEOADD", "str", "1", "1"),
        ("TYPE", "g"), ("OBJECT", "ENCODING", "g"),
    ])


def test_geoadd_big_index_encoding(compat):
    args = []
    for i in range(200):
        args += [str(i % 360 - 179), str(i % 170 - 84), f"m{i}"]
    compat.check("GEOADD", "big", *args)
    compat.script([("ZCARD", "big"), ("OBJECT", "ENCODING", "big"),
                   ("GEOPOS", "big", "m0", "m199"), ("ZRANGE", "big", "0", "4", "WITHSCORES")])


# ---- GEOPOS / GEOHASH / GEODIST -----------------------------------------------------------

def test_geopos_geohash_geodist(compat):
    add_places(compat)
    compat.script([
        ("GEOPOS", "Sicily", "Palermo", "nonex", "Catania", "Paris", "London"),
        ("GEOPOS", "nokey", "a", "b"), ("GEOPOS", "Sicily"), ("GEOPOS", "nokey"),
        ("GEOHASH", "Sicily", "Palermo", "nonex", "Catania", "Paris", "London"),
        ("GEOHASH", "nokey", "a"), ("GEOHASH", "Sicily"),
        ("GEODIST", "Sicily", "Palermo", "Catania"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "KM"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "mi"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "Ft"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "m"),
        ("GEODIST", "Sicily", "Palermo", "London", "km"),
        ("GEODIST", "Sicily", "Palermo", "Palermo"),
        ("GEODIST", "Sicily", "Palermo", "nonex"),
        ("GEODIST", "Sicily", "nonex", "Palermo"),
        ("GEODIST", "nokey", "a", "b"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "yards"),
        ("GEODIST", "nokey", "a", "b", "yards"),
        ("GEODIST", "Sicily", "Palermo", "Catania", "km", "extra"),
        ("GEODIST", "Sicily", "Palermo"),
        ("SET", "str", "x"), ("GEOPOS", "str", "a"), ("GEOHASH", "str", "a"),
        ("GEODIST", "str", "a", "b"), ("GEODIST", "str", "a", "b", "bad"),
    ])


def test_positions_of_scores_not_written_by_geoadd(compat):
    compat.script([
        ("ZADD", "z", "0", "zero", "-1", "neg", "1.5", "frac", "4503599627370495", "max",
         "4503599627370496", "over", "1e30", "huge", "-1e30", "neghuge", "inf", "inf",
         "-inf", "ninf", "123456789", "mid"),
        ("GEOPOS", "z", "zero", "neg", "frac", "max", "over", "huge", "neghuge", "inf",
         "ninf", "mid"),
        ("GEOHASH", "z", "zero", "neg", "frac", "max", "over", "huge", "neghuge", "inf",
         "ninf", "mid"),
        ("GEODIST", "z", "zero", "max"), ("GEODIST", "z", "neg", "huge", "km"),
        ("GEODIST", "z", "inf", "mid"),
        ("GEOSEARCH", "z", "FROMMEMBER", "zero", "BYRADIUS", "100", "km", "WITHHASH"),
        ("GEOSEARCH", "z", "FROMMEMBER", "max", "BYBOX", "500", "500", "km", "ASC",
         "WITHCOORD", "WITHHASH", "WITHDIST"),
    ])


def test_resp3_replies(compat):
    add_places(compat)
    for client in (compat.ember, compat.redis):
        client.call("HELLO", "3")
    compat.script([
        ("GEOPOS", "Sicily", "Palermo", "nonex"), ("GEOPOS", "nokey", "a"),
        ("GEOHASH", "Sicily", "Palermo", "nonex"),
        ("GEODIST", "Sicily", "Palermo", "Catania"), ("GEODIST", "Sicily", "a", "b"),
        ("GEODIST", "nokey", "a", "b"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
         "WITHCOORD", "WITHDIST", "WITHHASH", "ASC"),
        ("GEORADIUS", "Sicily", "15", "37", "2000", "km", "WITHCOORD", "DESC"),
        ("GEOSEARCH", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ])


# ---- GEOSEARCH / GEOSEARCHSTORE ------------------------------------------------------------

def test_geosearch_options(compat):
    add_places(compat)
    base = ("GEOSEARCH", "Sicily")
    center = ("FROMLONLAT", "15", "37")
    compat.script([
        base + center + ("BYRADIUS", "200", "km"),
        base + center + ("BYRADIUS", "200", "km", "ASC"),
        base + center + ("BYRADIUS", "200", "km", "DESC"),
        base + center + ("BYRADIUS", "3000", "km", "COUNT", "2"),
        base + center + ("BYRADIUS", "3000", "km", "COUNT", "2", "DESC"),
        base + center + ("BYRADIUS", "3000", "km", "COUNT", "2", "ANY"),
        base + center + ("BYRADIUS", "3000", "km", "COUNT", "1", "ANY", "DESC"),
        base + center + ("BYRADIUS", "3000", "km", "COUNT", "10"),
        base + center + ("BYBOX", "400", "400", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
        base + center + ("BYBOX", "2000", "3000", "mi", "ASC", "WITHDIST"),
        base + ("FROMMEMBER", "Palermo", "BYRADIUS", "2000", "km", "ASC", "WITHDIST"),
        base + ("FROMMEMBER", "Paris", "BYBOX", "1000", "1000", "km", "withdist", "asc"),
        base + ("frommember", "Paris", "bybox", "0", "0", "km", "withdist"),
        base + ("FROMMEMBER", "Paris", "BYRADIUS", "0", "m", "WITHDIST"),
        base + center + ("BYRADIUS", "1", "m"),
        base + center + ("BYRADIUS", "1e300", "km", "ASC"),
        base + center + ("BYRADIUS", "inf", "km", "ASC"),
        base + center + ("BYBOX", "inf", "1", "km", "ASC"),
        base + center + ("BYRADIUS", "20000", "km", "ASC", "WITHDIST"),
        base + ("FROMLONLAT", "15", "84", "BYRADIUS", "5000", "km", "ASC"),
        base + ("FROMLONLAT", "179.9", "-84", "BYBOX", "20000", "20000", "km", "ASC"),
        base + center + ("BYRADIUS", "200", "km", "COUNT", "1", "COUNT", "2"),
        base + center + center + ("BYRADIUS", "200", "km"),
    ])


def test_geosearch_errors(compat):
    add_places(compat)
    base = ("GEOSEARCH", "Sicily")
    center = ("FROMLONLAT", "15", "37")
    compat.script([
        base + center + ("ASC", "WITHDIST"),
        base + ("BYRADIUS", "1", "km", "ASC"),
        base + ("BYBOX", "1", "1", "km"),
        base + ("FROMMEMBER", "Palermo") + center + ("BYRADIUS", "1", "km"),
        base + center + ("FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
        base + center + ("BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"),
        base + center + ("BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"),
        base + ("FROMMEMBER", "nonex", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "nonex", "BYRADIUS", "1", "km"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "nonex", "BYRADIUS", "-1", "km"),
        ("GEOSEARCH", "nokey", "FROMLONLAT", "200", "0", "BYRADIUS", "1", "km"),
        base + center + ("BYRADIUS", "-1", "km"),
        base + center + ("BYRADIUS", "x", "km"),
        base + center + ("BYRADIUS", "1", "yd"),
        base + center + ("BYBOX", "x", "1", "km"),
        base + center + ("BYBOX", "1", "x", "km"),
        base + center + ("BYBOX", "-1", "1", "km"),
        base + center + ("BYBOX", "1", "-1", "km"),
        base + center + ("BYBOX", "1", "1", "yd"),
        base + center + ("BYRADIUS", "1", "km", "ANY"),
        base + center + ("BYRADIUS", "1", "km", "COUNT", "0"),
        base + center + ("BYRADIUS", "1", "km", "COUNT", "-3"),
        base + center + ("BYRADIUS", "1", "km", "COUNT", "x"),
        base + center + ("BYRADIUS", "1", "km", "COUNT"),
        base + center + ("BYRADIUS", "1", "km", "STORE", "x"),
        base + center + ("BYRADIUS", "1", "km", "STOREDIST"),
        base + center + ("BYRADIUS", "1", "km", "foo"),
        base + ("FROMLONLAT", "200", "0", "BYRADIUS", "1", "km"),
        base + ("FROMLONLAT", "x", "0", "BYRADIUS", "1", "km"),
        ("geosearch", "Sicily", "BYBOX", "1", "1", "km", "asc"),
        ("GeoSearch", "Sicily", "FROMLONLAT", "1", "1", "withdist", "asc"),
        ("SET", "str", "x"), ("GEOSEARCH", "str", "FROMLONLAT", "1", "1", "foo", "bar"),
        ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "1"),
    ])


def test_geosearchstore(compat):
    add_places(compat)
    compat.script([
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
         "km"),
        ("ZRANGE", "dst", "0", "-1", "WITHSCORES"), ("TYPE", "dst"),
        ("OBJECT", "ENCODING", "dst"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "3000",
         "km", "COUNT", "3", "DESC"),
        ("ZRANGE", "dst", "0", "-1"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "3000",
         "km", "STOREDIST", "ASC"),
        ("ZRANGE", "dst", "0", "-1"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1",
         "km"),
        ("EXISTS", "dst"),
        ("SET", "dst", "x"), ("EXPIRE", "dst", "100"),
        ("GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
        ("EXISTS", "dst"),
        ("SET", "dst", "x"), ("EXPIRE", "dst", "100"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Paris", "BYBOX", "10", "10",
         "km"),
        ("TTL", "dst"), ("TYPE", "dst"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
         "km", "WITHDIST"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200",
         "km", "STORE", "x"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "ASC", "COUNT",
         "1"),
        ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37"),
        ("GEOSEARCHSTORE", "Sicily", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS",
         "200", "km"),
        ("ZRANGE", "Sicily", "0", "-1"),
    ])


def test_storedist_scores(compat):
    """STOREDIST scores are distances as doubles; 7.2 prints them shortest-first."""
    add_places(compat)
    compat.check("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS",
                 "200", "km", "STOREDIST")
    compat.check("ZRANGE", "d", "0", "-1")
    if redis_version(compat) >= (7, 2):
        compat.check("ZRANGE", "d", "0", "-1", "WITHSCORES")
    assert compat.ember.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == [
        b"Catania", b"56.4412578701582", b"Palermo", b"190.44242984775784"]
    # The reference prints the same doubles with %.17g (7.0) or shortest digits (7.2).
    theirs = compat.redis.call("ZRANGE", "d", "0", "-1", "WITHSCORES")
    assert [float(x) for x in theirs[1::2]] == [56.441257870158204, 190.44242984775784]


# ---- GEORADIUS family -------------------------------------------------------------------

def test_georadius_family(compat):
    add_places(compat)
    compat.script([
        ("GEORADIUS", "Sicily", "15", "37", "200", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "ASC"),
        ("GEORADIUS", "Sicily", "15", "37", "3000", "km", "COUNT", "2", "WITHHASH"),
        ("GEORADIUS", "Sicily", "15", "37", "3000", "km", "COUNT", "2", "ANY"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "st"),
        ("ZRANGE", "st", "0", "-1", "WITHSCORES"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "sd", "STORE", "st2"),
        ("EXISTS", "sd", "st2"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "st", "WITHDIST"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "km", "BYRADIUS", "1", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "-200", "km"),
        ("GEORADIUS", "Sicily", "15", "97", "200", "km"),
        ("GEORADIUS", "Sicily", "15", "37", "200", "parsecs"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "st"),
        ("EXISTS", "st"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "st"),
        ("GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "st3"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"),
        ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STOREDIST", "x"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "300", "km", "WITHDIST", "DESC"),
        ("GEORADIUSBYMEMBER", "Sicily", "Paris", "2000", "km", "COUNT", "3"),
        ("GEORADIUSBYMEMBER", "Sicily", "nonex", "300", "km"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "nonex", "-300", "bogus"),
        ("GEORADIUSBYMEMBER", "nokey", "nonex", "300", "km", "STORE", "st"),
        ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "300", "km", "STOREDIST", "sd"),
        ("ZRANGE", "sd", "0", "-1"),
        ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "300", "km", "WITHCOORD"),
        ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "300", "km", "STORE", "x"),
        ("SET", "str", "x"), ("GEORADIUS", "str", "1", "1", "1", "km"),
        ("GEORADIUSBYMEMBER", "str", "a", "1", "km"),
    ])


def test_command_info_and_keys(compat):
    for name in ("GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEORADIUS", "GEORADIUS_RO",
                 "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO", "GEOSEARCH",
                 "GEOSEARCHSTORE"):
        compat.check("COMMAND", "INFO", name)
    compat.script([
        ("COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "2", "3", "km", "STORE", "a",
         "STOREDIST", "b"),
        ("COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "k", "1", "2", "3", "km", "STORE", "a"),
        ("COMMAND", "GETKEYS", "GEORADIUSBYMEMBER", "k", "m", "3", "km", "STOREDIST", "b",
         "STORE", "c"),
        ("COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "2", "3", "km"),
        ("COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "1", "2",
         "BYRADIUS", "1", "km"),
    ])


# ---- differential tests on random points ---------------------------------------------------

UNITS = ("m", "km", "ft", "mi", "KM")


def _random_points(rng, count):
    args = []
    for i in range(count):
        if rng.random() < 0.3:      # clusters, to get dense cells and equal distances
            lon = round(rng.uniform(-10, 10), rng.choice((0, 1, 2, 6)))
            lat = round(rng.uniform(40, 50), rng.choice((0, 1, 2, 6)))
        else:
            lon = rng.uniform(-180, 180)
            lat = rng.uniform(-85.05112878, 85.05112878)
        args += [repr(lon), repr(lat), f"p{i}"]
    return args


@pytest.fixture
def ten_thousand(compat):
    rng = random.Random(20261121)
    args = _random_points(rng, 10000)
    for i in range(0, len(args), 3000):
        compat.check("GEOADD", "pts", *args[i:i + 3000])
    return rng


def _random_query(rng):
    """A random GEOSEARCH or GEORADIUS* command."""
    unit = rng.choice(UNITS)
    factor = {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34}[unit.lower()]
    meters = rng.choice((1e3, 1e4, 1e5, 5e5, 2e6))
    size = f"{rng.uniform(0, meters) / factor:.{rng.choice((0, 3, 6))}f}"
    if rng.random() < 0.3:
        lon, lat = f"{rng.uniform(-10, 10):.4f}", f"{rng.uniform(40, 50):.4f}"
    else:
        lon = f"{rng.uniform(-180, 180):.6f}"
        lat = f"{rng.uniform(-85.05, 85.05):.6f}"
    member = f"p{rng.randrange(10000)}"
    options = []
    for word in ("WITHCOORD", "WITHDIST", "WITHHASH"):
        if rng.random() < 0.4:
            options.append(word)
    order = rng.choice((None, "ASC", "DESC"))
    if order:
        options.append(order)
    if rng.random() < 0.4:
        options += ["COUNT", str(rng.choice((1, 2, 5, 20, 100)))]
        if rng.random() < 0.3:
            options.append("ANY")
    rng.shuffle(options)
    kind = rng.randrange(5)
    if kind == 0:
        return ["GEORADIUS", "pts", lon, lat, size, unit] + options
    if kind == 1:
        return ["GEORADIUSBYMEMBER_RO", "pts", member, size, unit] + options
    origin = ["FROMMEMBER", member] if rng.random() < 0.4 else ["FROMLONLAT", lon, lat]
    if rng.random() < 0.5:
        width = f"{rng.uniform(0, 2 * meters) / factor:.3f}"
        shape = ["BYBOX", width, size, unit]
    else:
        shape = ["BYRADIUS", size, unit]
    return ["GEOSEARCH", "pts"] + origin + shape + options


def test_random_searches_on_10000_points(compat, ten_thousand):
    rng = ten_thousand
    for _ in range(600):
        compat.check(*_random_query(rng))


def test_random_store_searches_on_10000_points(compat, ten_thousand):
    rng = ten_thousand
    for _ in range(120):
        query = [w for w in _random_query(rng) if w not in ("WITHCOORD", "WITHDIST",
                                                              "WITHHASH")]
        if query[0] == "GEOSEARCH":
            query = ["GEOSEARCHSTORE", "dst"] + query[1:]
            if rng.random() < 0.5:
                query.append("STOREDIST")
        else:
            query[0] = "GEORADIUSBYMEMBER" if query[0].startswith("GEORADIUSBY") else \
                "GEORADIUS"
            query += [rng.choice(("STORE", "STOREDIST")), "dst"]
        compat.check(*query)
        compat.check("ZRANGE", "dst", "0", "-1")
        compat.check("ZCARD", "dst")


def test_random_positions_hashes_distances(compat, ten_thousand):
    rng = ten_thousand
    members = [f"p{rng.randrange(10000)}" for _ in range(300)]
    for i in range(0, 300, 50):
        compat.check("GEOPOS", "pts", *members[i:i + 50])
        compat.check("GEOHASH", "pts", *members[i:i + 50])
    compat.check("ZRANGE", "pts", "0", "200", "WITHSCORES")
    for i in range(300):
        compat.check("GEODIST", "pts", members[i], members[-i - 1], rng.choice(UNITS))

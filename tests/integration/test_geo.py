"""Geo commands over TCP with redis-py (RESP2 and RESP3), plus what rides on the write
path: keyspace events, WATCH, MULTI/EXEC, scripts, and GEOADD propagated as ZADD."""

import pytest
import redis

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.server.config import Config

SICILY = (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(request, ember_server):
    """redis-py on a flushed ember, in each protocol version."""
    conn = redis.Redis(port=ember_server.port, protocol=request.param)
    conn.flushall()
    yield conn
    conn.close()


def test_add_position_hash_distance(client):
    assert client.geoadd("Sicily", SICILY) == 2
    assert client.geoadd("Sicily", SICILY) == 0
    assert client.geoadd("Sicily", (13.4, 38.1, "Palermo"), ch=True) == 1
    assert client.geoadd("Sicily", (1, 1, "x"), xx=True) == 0
    assert client.geoadd("Sicily", SICILY, nx=True) == 0
    assert client.zcard("Sicily") == 2 and client.type("Sicily") in (b"zset", "zset")
    lon, lat = client.geopos("Sicily", "Catania")[0]
    assert (lon, lat) == (15.08726745843887329, 37.50266842333162032)
    assert client.geopos("Sicily", "nope") == [None]
    hashes = client.geohash("Sicily", "Catania", "nope")
    assert [h.encode() if isinstance(h, str) else h for h in hashes] == [b"sqdtr74hyu0", None]
    assert client.geodist("Sicily", "Palermo", "Catania", "km") == 162.4846
    assert client.geodist("Sicily", "Palermo", "nope") is None
    assert client.zscore("Sicily", "Catania") == 3479447370796909.0
    with pytest.raises(redis.ResponseError, match="invalid longitude,latitude pair"):
        client.geoadd("Sicily", (200, 100, "bad"))
    with pytest.raises(redis.ResponseError, match="unsupported unit"):
        client.execute_command("GEODIST", "Sicily", "Palermo", "Catania", "yd")


def test_searches(client):
    client.geoadd("Sicily", SICILY)
    assert client.geosearch("Sicily", longitude=15, latitude=37, radius=200, unit="km",
                            sort="ASC") == [b"Catania", b"Palermo"]
    found = client.geosearch("Sicily", member="Palermo", width=400, height=400, unit="km",
                             sort="DESC", withdist=True, withcoord=True, withhash=True)
    assert [row[0] for row in found] == [b"Catania", b"Palermo"]
    assert found[0][1] == 166.2742 and found[0][2] == 3479447370796909
    assert found[1][3] == pytest.approx((13.361389, 38.115556), abs=1e-5)
    assert client.georadius("Sicily", 15, 37, 100, unit="km") == [b"Catania"]
    assert client.georadiusbymember("Sicily", "Palermo", 1, unit="km") == [b"Palermo"]
    assert client.georadius("Sicily", 15, 37, 200, unit="km", count=1, any=True) in (
        [b"Catania"], [b"Palermo"])
    assert client.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200,
                                 unit="km", storedist=True) == 2
    assert client.zscore("dst", "Catania") == pytest.approx(56.4413, abs=1e-4)
    assert client.georadius("Sicily", 15, 37, 200, unit="km", store="st") == 2
    assert client.zrange("st", 0, -1) == [b"Palermo", b"Catania"]
    assert client.geosearch("nokey", longitude=1, latitude=1, radius=1) == []
    with pytest.raises(redis.ResponseError, match="could not decode requested zset member"):
        client.geosearch("Sicily", member="nope", radius=1)


def test_keyspace_events_watch_and_transactions(ember_server):
    conn = redis.Redis(port=ember_server.port)
    conn.flushall()
    conn.config_set("notify-keyspace-events", "KEA")
    try:
        pubsub = conn.pubsub()
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=2)["type"] == "psubscribe"
        conn.geoadd("g", SICILY)
        conn.georadius("g", 15, 37, 200, unit="km", store="s1")
        conn.geosearchstore("s2", "g", longitude=15, latitude=37, radius=200, unit="km")
        conn.geosearchstore("s2", "g", longitude=0, latitude=0, radius=1, unit="km")
        events = []
        for _ in range(4):
            events.append(pubsub.get_message(timeout=2)["channel"])
        assert events == [b"__keyevent@0__:zadd", b"__keyevent@0__:georadiusstore",
                          b"__keyevent@0__:geosearchstore", b"__keyevent@0__:del"]
        pubsub.close()
    finally:
        conn.config_set("notify-keyspace-events", "")
    pipe = conn.pipeline()
    pipe.watch("g")
    conn.geoadd("g", (1, 1, "other"))
    pipe.multi()
    pipe.geopos("g", "other")
    with pytest.raises(redis.WatchError):
        pipe.execute()
    with conn.pipeline() as tx:
        tx.geoadd("h", (2, 2, "a"))
        tx.geodist("h", "a", "a")
        assert tx.execute() == [1, 0.0]
    script = "return redis.call('GEOPOS', KEYS[1], 'a')"
    assert conn.eval(script, 1, "h") == [[b"2.00000256299972534", b"2.0000001856465488"]]


def test_geoadd_propagates_as_zadd():
    load_all()
    engine = Engine(Config())
    seen = []
    engine.propagators.append(lambda db, argv: seen.append(argv))
    client = engine.new_client()
    engine.execute(client, [b"GEOADD", b"g", b"CH", b"13.361389", b"38.115556", b"Palermo"])
    engine.execute(client, [b"GEOADD", b"g", b"NX", b"13.361389", b"38.115556", b"Palermo"])
    engine.execute(client, [b"GEORADIUS_RO", b"g", b"13", b"38", b"100", b"km"])
    assert seen == [[b"zadd", b"g", b"CH", b"3479099956230698", b"Palermo"]]

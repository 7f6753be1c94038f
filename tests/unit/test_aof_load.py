"""AOF command stream: encoding, parsing, torn tails, unfinished MULTI, corruption, and
replay through the engine's dispatcher."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.persistence import aof_load
from ember.persistence.aof import encode_command, select_command, write_commands_base
from ember.persistence.loading import aof_client
from ember.server.config import Config


def engine() -> Engine:
    load_all()
    return Engine(Config())


def stream(*commands) -> bytes:
    return b"".join(encode_command(list(c)) for c in commands)


def replay_into(eng, data, pos=0):
    client = aof_client(eng)
    return aof_load.replay(data, lambda argv: eng.execute(client, argv), pos)


def test_encoding_is_redis_multibulk():
    assert encode_command([b"SET", b"k", b"v"]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    assert select_command(3) == b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
    assert encode_command([b"X", 12]) == b"*2\r\n$1\r\nX\r\n$2\r\n12\r\n"


def test_parse_gives_every_command_and_offsets():
    data = stream([b"SET", b"a", b"1"], [b"DEL", b"a\r\nb"])
    parsed = list(aof_load.parse_commands(data))
    assert [argv for argv, _ in parsed] == [[b"SET", b"a", b"1"], [b"DEL", b"a\r\nb"]]
    assert parsed[-1][1] == len(data)


def test_annotations_are_skipped():
    data = b"#TS:1700000000\r\n" + stream([b"SET", b"a", b"1"])
    assert [a for a, _ in aof_load.parse_commands(data)] == [[b"SET", b"a", b"1"]]


@pytest.mark.parametrize("cut", range(1, 27))
def test_every_torn_tail_reports_the_last_whole_command(cut):
    first = stream([b"SET", b"a", b"1"])
    data = first + stream([b"SET", b"bb", b"22"])[:cut]
    if cut == len(stream([b"SET", b"bb", b"22"])):
        return
    with pytest.raises(aof_load.AofTruncated) as info:
        list(aof_load.parse_commands(data))
    assert info.value.valid_up_to == len(first)


def test_corruption_in_the_middle_is_a_format_error():
    data = bytearray(stream([b"SET", b"a", b"1"], [b"SET", b"b", b"2"], [b"SET", b"c", b"3"]))
    second = data.index(b"*3", 1)
    data[second] = ord("X")
    with pytest.raises(aof_load.AofFormatError) as info:
        list(aof_load.parse_commands(bytes(data)))
    assert info.value.offset == second
    data = bytearray(stream([b"SET", b"a", b"1"], [b"SET", b"b", b"2"]))
    data[data.index(b"$1", 20)] = ord("?")
    with pytest.raises(aof_load.AofFormatError):
        list(aof_load.parse_commands(bytes(data)))


def test_replay_runs_commands_through_the_engine():
    eng = engine()
    data = stream([b"SET", b"a", b"1"], [b"SELECT", b"2"], [b"RPUSH", b"l", b"x", b"y"],
                  [b"PEXPIREAT", b"l", b"99999999999999"])
    assert replay_into(eng, data) == 4
    assert eng.dbs[0].data[b"a"] == b"1"
    assert list(eng.dbs[2].data[b"l"]) == [b"x", b"y"]
    assert eng.dbs[2].expires[b"l"] == 99999999999999


def test_unfinished_multi_is_rolled_back():
    eng = engine()
    head = stream([b"SET", b"a", b"1"])
    data = head + stream([b"MULTI"], [b"SET", b"b", b"2"], [b"INCR", b"a"])
    with pytest.raises(aof_load.AofTruncated) as info:
        replay_into(eng, data)
    assert info.value.valid_up_to == len(head) and info.value.in_multi
    assert eng.dbs[0].data[b"a"] == b"1" and b"b" not in eng.dbs[0].data


def test_finished_multi_is_applied():
    eng = engine()
    data = stream([b"MULTI"], [b"SET", b"b", b"2"], [b"INCR", b"b"], [b"EXEC"])
    assert replay_into(eng, data) == 4
    assert eng.dbs[0].data[b"b"] == b"3"


def test_unknown_command_stops_loading():
    with pytest.raises(aof_load.AofUnknownCommand):
        replay_into(engine(), stream([b"NOSUCHCMD", b"x"]))


def test_check_commands_reports_the_valid_prefix():
    good = stream([b"SET", b"a", b"1"])
    assert aof_load.check_commands(good) == (len(good), None, False)
    assert aof_load.check_commands(good + b"*3\r\n$3") == (len(good), "truncated", False)
    assert aof_load.check_commands(good + stream([b"MULTI"])) == (len(good), "truncated", True)
    assert aof_load.check_commands(good + b"junk\r\n") == (len(good), "format", False)


def test_command_base_rebuilds_every_plain_type():
    eng = engine()
    client = eng.new_client()
    for argv in ([b"SET", b"s", b"v"], [b"RPUSH", b"l", *[b"%d" % i for i in range(150)]],
                 [b"SADD", b"set", b"a", b"b"], [b"ZADD", b"z", b"1.5", b"m", b"-inf", b"n"],
                 [b"HSET", b"h", b"f", b"v", b"g", b"w"], [b"SELECT", b"5"],
                 [b"SET", b"t", b"x", b"PXAT", b"99999999999999"],
                 [b"XADD", b"x", b"1-1", b"f", b"v"]):
        eng.execute(client, argv)
    chunks = []
    write_commands_base(chunks.append, eng.dbs, eng.now())
    other = engine()
    replay_into(other, b"".join(chunks))
    for db, copy in zip(eng.dbs, other.dbs):
        assert set(db.data) == set(copy.data)
        assert db.expires == copy.expires
    assert list(other.dbs[0].data[b"l"]) == [b"%d" % i for i in range(150)]
    assert dict(other.dbs[0].data[b"z"]) == {b"m": 1.5, b"n": float("-inf")}
    assert other.dbs[0].data[b"h"].fields == {b"f": b"v", b"g": b"w"}
    assert other.dbs[5].data[b"x"].last_id == eng.dbs[5].data[b"x"].last_id


# ---- any cut of a valid stream ----------------------------------------------------------

_ARGS = st.lists(st.binary(max_size=12), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ARGS, min_size=1, max_size=8), st.data())
def test_any_cut_keeps_exactly_the_whole_commands_before_it(commands, data):
    encoded = [encode_command(argv) for argv in commands]
    stream_bytes = b"".join(encoded)
    cut = data.draw(st.integers(0, len(stream_bytes)))
    ends, total = [], 0
    for chunk in encoded:
        total += len(chunk)
        ends.append(total)
    whole = [argv for argv, end in zip(commands, ends) if end <= cut]
    got = []
    try:
        for argv, _ in aof_load.parse_commands(stream_bytes[:cut]):
            got.append(argv)
        assert cut in [0] + ends
    except aof_load.AofTruncated as exc:
        assert exc.valid_up_to == max([0] + [e for e in ends if e <= cut])
    assert got == whole

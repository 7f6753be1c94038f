"""The optional hiredis request parser gives exactly what the pure parser gives.

The pure RequestParser is the reference (its own tests compare it with redis-server); for
any input, split anyhow, HiredisRequestParser must return the same commands and the same
protocol error, whether hiredis handled a chunk or handed it back.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.protocol.hiredis_parser import HiredisRequestParser
from ember.protocol.parser import RequestParser
from tests.unit.test_parser import argv_st, multibulk, split_at

# Pieces of valid and invalid framing, so that random concatenations hit every branch.
fragments = st.sampled_from([
    b"*0\r\n", b"*-1\r\n", b"*1\r\n$-1\r\n", b"*1\r\n:5\r\n", b"*1\r\n+OK\r\n",
    b"*1\r\n*1\r\n$1\r\na\r\n", b"*1\r\n$03\r\nabc\r\n", b"*1\r\n$3\r\nabcXY", b"PING\r\n",
    b'SET "a b" c\r\n', b"*x\r\n", b"*2\r\n$3\r\nGET\r\n", b"$3\r\n", b"\r\n", b"*1\r\n",
    b"*1\r\n$70000\r\n" + b"v" * 70000 + b"\r\n",
])
request = st.one_of(argv_st.map(multibulk), fragments)
stream = st.lists(request, min_size=1, max_size=12).map(b"".join)


def run(parser, chunks):
    """Commands and error after feeding ``chunks`` one by one."""
    commands = []
    for chunk in chunks:
        commands.extend(parser.feed(chunk))
    return commands, parser.error


@settings(max_examples=400, deadline=None)
@given(stream, st.lists(st.integers(min_value=0), max_size=6))
def test_same_commands_and_errors_as_the_pure_parser(data, cuts):
    chunks = split_at(data, cuts)
    assert run(HiredisRequestParser(), chunks) == run(RequestParser(), chunks)


@settings(max_examples=200, deadline=None)
@given(st.lists(argv_st, min_size=1, max_size=20))
def test_whole_pipelines_of_valid_commands(commands):
    data = b"".join(map(multibulk, commands))
    parsed, error = run(HiredisRequestParser(), [data])
    assert error is None and parsed == commands


def test_limits_still_apply():
    limit = 1024 * 1024   # proto-max-bulk-len cannot be set lower than 1mb
    big = multibulk([b"SET", b"k", b"v" * (limit + 1)])
    parser = HiredisRequestParser(max_bulk=limit)
    assert parser.feed(big) == []
    assert parser.error == "Protocol error: invalid bulk length"
    parser = HiredisRequestParser()
    parser.unauthenticated = True
    assert parser.feed(multibulk([b"a"] * 11)) == []
    assert parser.error == "Protocol error: unauthenticated multibulk length"


def test_state_carries_across_feeds_after_a_partial_chunk():
    data = multibulk([b"SET", b"key", b"value"]) * 3
    parser = HiredisRequestParser()
    assert parser.feed(data[:20]) == []
    assert parser.feed(data[20:]) == [[b"SET", b"key", b"value"]] * 3
    assert parser.feed(multibulk([b"GET", b"key"])) == [[b"GET", b"key"]]


def test_status_element_cannot_hide_behind_a_longer_one():
    # Found by Hypothesis: "+OK" (3 bytes shorter than a bulk) and "*\r\n" in one chunk
    # with framing longer than canonical, adding up to the right total size.
    data = (b"*4\r\n$6\r\n\x00\x00\x00\x00\x00\x00\r\n$6\r\n\x00\x00\x00\x00\x00\x00\r\n"
            b"$7\r\n\x00\x00\x00\x00\x00\x00\x00\r\n$5\r\n\r\n\r\n*\r\n*1\r\n+OK\r\n"
            b"*8\r\n$0\r\n\r\n$0\r\n\r\n$1\r\n\x00\r\n$4\r\n\x00\x00\x00\x00\r\n"
            b"$2\r\n\r\n\r\n$2\r\n\r\n\r\n$4\r\n*1\r\n\r\n$4\r\n*1\r\n\r\n"
            b"*1\r\n$0\r\n\r\n*1\r\n$0\r\n\r\n*1\r\n$0\r\n\r\n*1\r\n$0\r\n\r\n"
            b"*1\r\n$03\r\nabc\r\n*1\r\n$3\r\nabcXY")
    for cut in range(len(data) + 1):
        chunks = [data[:cut], data[cut:]]
        assert run(HiredisRequestParser(), chunks) == run(RequestParser(), chunks), cut

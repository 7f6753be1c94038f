"""RequestParser: same commands however the input is split; Redis's exact protocol errors.

The byte-exact comparison with a real redis-server is in
tests/integration/test_protocol.py; here the parser is driven directly (sans-IO).
"""

import tracemalloc

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ember.protocol.framing import MAX_TILED_ARGS
from ember.protocol.parser import INLINE_MAX, RequestParser, split_inline

# ---- helpers ---------------------------------------------------------------------------


def multibulk(argv) -> bytes:
    """The RESP multibulk request for ``argv``."""
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def feed_chunks(chunks, parser=None):
    """Feed every chunk; return (commands, parser). Drains a pre-AUTH parser too."""
    parser = parser or RequestParser()
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
        if parser.unauthenticated:
            while True:  # before AUTH the parser hands over one command per call
                more = parser.feed(b"")
                if not more:
                    break
                out.extend(more)
    return out, parser


def split_at(data: bytes, cuts) -> list:
    """``data`` cut at the given offsets."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for p in points:
        pieces.append(data[start:p])
        start = p
    pieces.append(data[start:])
    return pieces


def byte_by_byte(data: bytes) -> list:
    return [data[i:i + 1] for i in range(len(data))]


def parse_error(data: bytes, **kwargs):
    """Feed ``data`` whole; return (commands, error)."""
    parser = RequestParser(**kwargs)
    commands = parser.feed(data)
    return commands, parser.error


# ---- strategies ------------------------------------------------------------------------

tricky = st.sampled_from([b"", b"\r\n", b"*", b"$", b"*1\r\n", b"$3\r\n", b"\r", b"\n",
                          b"\x00", b" ", b'"', b"'", b"\\"])
arg = st.one_of(st.binary(max_size=40), tricky,
                st.lists(st.one_of(tricky, st.binary(max_size=4)), max_size=6).map(b"".join))
argv_st = st.lists(arg, min_size=1, max_size=8)


def _quote_double(value: bytes) -> bytes:
    """A double-quoted inline token that sdssplitargs turns back into ``value``."""
    out = bytearray(b'"')
    for byte in value:
        ch = bytes((byte,))
        if ch == b'"':
            out += b'\\"'
        elif ch == b"\\":
            out += b"\\\\"
        elif ch == b"\n":
            out += b"\\n"
        elif ch == b"\r":
            out += b"\\r"
        elif ch == b"\t":
            out += b"\\t"
        elif 0x20 <= byte < 0x7F:
            out += ch
        else:
            out += b"\\x%02x" % byte
    return bytes(out + b'"')


plain_token = st.binary(min_size=1, max_size=10).map(
    lambda b: bytes(c for c in b if c > 0x20 and c not in b"\"'\x7f") or b"x")
single_token = st.text(alphabet="abc xyz*$'", max_size=10).map(
    lambda t: t.encode())


@st.composite
def inline_command(draw):
    """(line, argv): an inline request line and the argv Redis makes of it."""
    argv = []
    tokens = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["plain", "double", "single"]))
        if kind == "plain":
            value = draw(plain_token)
            token = value
        elif kind == "double":
            value = draw(st.binary(max_size=12))
            token = _quote_double(value)
        else:
            value = draw(single_token)
            token = b"'" + value.replace(b"'", b"\\'") + b"'"
        argv.append(value)
        tokens.append(token)
    sep = draw(st.sampled_from([b" ", b"  ", b"\t", b" \t "]))
    line = sep.join(tokens)
    if line.startswith(b"*"):  # a leading '*' makes it a multibulk request
        line = b" " + line
    ending = draw(st.sampled_from([b"\r\n", b"\n"]))
    return line + ending, argv


request = st.one_of(argv_st.map(lambda a: (multibulk(a), a)), inline_command())


# ---- same commands however the input is split ------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(request, min_size=1, max_size=12), st.lists(st.integers(0, 10_000), max_size=12))
def test_split_invariance(requests, cuts):
    data = b"".join(r[0] for r in requests)
    expected = [r[1] for r in requests]
    whole, parser = feed_chunks([data])
    assert parser.error is None
    assert whole == expected
    assert parser.buffered == 0
    assert feed_chunks(split_at(data, cuts))[0] == expected
    assert feed_chunks(byte_by_byte(data))[0] == expected


@st.composite
def same_shape_pipeline(draw):
    """Commands that all have the same argument count (the fast path's column check)."""
    argc = draw(st.integers(1, 5))
    return draw(st.lists(st.lists(arg, min_size=argc, max_size=argc), min_size=2,
                         max_size=30))


@settings(max_examples=150, deadline=None)
@given(same_shape_pipeline(), st.lists(st.integers(0, 10_000), max_size=6))
def test_same_shape_pipelines(argvs, cuts):
    data = b"".join(multibulk(a) for a in argvs)
    assert feed_chunks([data])[0] == argvs
    assert feed_chunks(split_at(data, cuts))[0] == argvs
    # A truncated pipeline gives the whole commands and keeps the rest.
    commands, parser = feed_chunks([data[:-1]])
    assert commands == argvs[:-1] and parser.error is None
    assert parser.feed(data[-1:]) == [argvs[-1]]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(request, min_size=1, max_size=8), st.lists(st.integers(0, 10_000), max_size=8))
def test_split_invariance_before_auth(requests, cuts):
    """Pre-AUTH parsing (one command per call, slow path only) gives the same commands."""
    data = b"".join(r[0] for r in requests)
    expected = [r[1] for r in requests]
    # Multibulk requests of more than 10 arguments would be refused before AUTH.
    assume(all(len(r[1]) <= 10 for r in requests))
    for chunks in ([data], split_at(data, cuts)):
        parser = RequestParser()
        parser.unauthenticated = True
        got, parser = feed_chunks(chunks, parser)
        assert parser.error is None
        assert got == expected


def test_multibulk_whole_and_partial():
    data = multibulk([b"SET", b"key", b"a\r\nb"]) + multibulk([b"GET", b"key"])
    parser = RequestParser()
    assert parser.feed(data[:7]) == []
    assert parser.buffered > 0
    assert parser.feed(data[7:]) == [[b"SET", b"key", b"a\r\nb"], [b"GET", b"key"]]
    assert parser.buffered == 0


def test_pipeline_of_many_commands():
    argvs = [[b"SET", b"k%d" % i, b"v" * (i % 50)] for i in range(20_000)]
    data = b"".join(multibulk(a) for a in argvs)
    assert feed_chunks([data])[0] == argvs
    assert feed_chunks([data[i:i + 4096] for i in range(0, len(data), 4096)])[0] == argvs


def test_empty_and_negative_multibulk_count_is_no_command():
    assert feed_chunks([b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"])[0] == [[b"PING"]]


def test_mixed_inline_and_multibulk():
    data = b"PING\r\n" + multibulk([b"ECHO", b"x y"]) + b'ECHO "a b"\n\r\n   \n'
    expected = [[b"PING"], [b"ECHO", b"x y"], [b"ECHO", b"a b"]]
    assert feed_chunks([data])[0] == expected
    assert feed_chunks(byte_by_byte(data))[0] == expected


def test_bulk_payload_is_taken_by_length_not_by_crlf():
    # Redis takes exactly $len bytes and skips the next two, whatever they are.
    assert feed_chunks([b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"])[0] == [[b"PING"], [b"PING"]]


# ---- inline: sdssplitargs --------------------------------------------------------------


@pytest.mark.parametrize("line, argv", [
    (b"set a b", [b"set", b"a", b"b"]),
    (b"  set \t a   b  ", [b"set", b"a", b"b"]),
    (b'"a b" c', [b"a b", b"c"]),
    (b'"\\x41\\x4a\\x4A\\xzz"', [b"AJJxzz"]),  # \xzz is not hex: plain x
    (b'"a\\nb\\rc\\td\\be\\af\\"\\\\q"', [b"a\nb\rc\td\be\af\"\\q"]),
    (b"'a\\'b'", [b"a'b"]),
    (b"'a\\nb'", [b"a\\nb"]),
    (b'a"b c"d', None),              # closing quote must be followed by a space
    (b'a"b c" d', [b"ab c", b"d"]),  # a quote may open in the middle of a token
    (b"'x'y", None),
    (b'"abc', None),
    (b"'abc", None),
    (b'""', [b""]),
    (b"''", [b""]),
    (b"a\x0bb", [b"a\x0bb"]),        # \v and \f end no token...
    (b"\x0b\x0ca", [b"a"]),          # ...but are skipped as blanks between tokens
    (b'"a"\x0b', [b"a"]),
    (b"back\\slash", [b"back\\slash"]),
    (b"", []),
    (b"   ", []),
    (b'"\\x4"', [b"x4"]),
    (b'"trailing\\"', None),
])
def test_split_inline_follows_sdssplitargs(line, argv):
    assert split_inline(line) == argv


def test_inline_nul_is_not_a_line_end():
    """Redis finds line ends with strchr, which stops at NUL: such a line never completes."""
    parser = RequestParser()
    assert parser.feed(b"PING\x00\r\n") == []
    assert parser.error is None
    assert parser.buffered == 7


def test_inline_nul_line_becomes_too_big():
    commands, error = parse_error(b"PING\r\nPING\x00\r\n" + b"x" * INLINE_MAX)
    assert commands == [[b"PING"]]
    assert error == "Protocol error: too big inline request"


def test_nul_in_multibulk_header_waits():
    parser = RequestParser()
    assert parser.feed(b"*1\x00\r\n") == []
    assert parser.error is None
    parser = RequestParser()
    assert parser.feed(b"*1\r\n$4\x00\r\nPING\r\n") == []
    assert parser.error is None


def test_nul_inside_bulk_payload_is_data():
    assert feed_chunks([multibulk([b"a\x00\r\nb"])])[0] == [[b"a\x00\r\nb"]]


def test_unbalanced_quotes_error_keeps_earlier_commands():
    commands, error = parse_error(b'PING\r\nECHO "abc\r\nPING\r\n')
    assert commands == [[b"PING"]]
    assert error == "Protocol error: unbalanced quotes in request"


# ---- protocol errors -------------------------------------------------------------------

ERRORS = [
    (b"*x\r\n", "Protocol error: invalid multibulk length"),
    (b"*\r\n", "Protocol error: invalid multibulk length"),
    (b"*01\r\n", "Protocol error: invalid multibulk length"),
    (b"*+1\r\n", "Protocol error: invalid multibulk length"),
    (b"*2147483648\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\nx3\r\n", "Protocol error: expected '$', got 'x'"),
    (b"*1\r\n\r3\r\n", "Protocol error: expected '$', got ' '"),
    (b"*1\r\n\n3\r\n", "Protocol error: expected '$', got ' '"),
    (b"*1\r\n\xff3\r\n", "Protocol error: expected '$', got '\udcff'"),
    (b'ECHO "a\r\n', "Protocol error: unbalanced quotes in request"),
    (b"x" * (INLINE_MAX + 1), "Protocol error: too big inline request"),
    (b"*" + b"1" * INLINE_MAX, "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * INLINE_MAX, "Protocol error: too big bulk count string"),
]


@pytest.mark.parametrize("bad, message", ERRORS)
def test_protocol_error_texts(bad, message):
    good = multibulk([b"SET", b"k", b"v"]) + b"PING\r\n"
    commands, error = parse_error(good + bad)
    assert error == message
    assert commands == [[b"SET", b"k", b"v"], [b"PING"]]


@pytest.mark.parametrize("bad, message", ERRORS)
def test_protocol_error_split_byte_by_byte(bad, message):
    got, parser = feed_chunks(byte_by_byte(b"PING\r\n" + bad))
    assert got == [[b"PING"]]
    assert parser.error == message


def test_after_an_error_nothing_more_is_parsed():
    parser = RequestParser()
    parser.feed(b"*x\r\n")
    assert parser.error is not None
    assert parser.feed(b"PING\r\n") == []


def test_inline_limit_is_exclusive():
    parser = RequestParser()
    assert parser.feed(b"x" * INLINE_MAX) == []
    assert parser.error is None
    parser.feed(b"y")
    assert parser.error == "Protocol error: too big inline request"


def test_proto_max_bulk_len_is_honoured():
    limit = 1024 * 1024
    assert parse_error(b"*1\r\n$%d\r\n" % (limit + 1), max_bulk=limit)[1] == \
        "Protocol error: invalid bulk length"
    parser = RequestParser(max_bulk=limit)
    value = b"v" * limit
    assert parser.feed(multibulk([value])) == [[value]]
    assert parser.error is None


def test_unauthenticated_limits():
    for data, message in [
        (b"*11\r\n", "Protocol error: unauthenticated multibulk length"),
        (b"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"),
    ]:
        parser = RequestParser()
        parser.unauthenticated = True
        assert parser.feed(data) == []
        assert parser.error == message
    parser = RequestParser()
    parser.unauthenticated = True
    ok = multibulk([b"x" * 16384] + [b"a"] * 9)
    assert parser.feed(ok) == [[b"x" * 16384] + [b"a"] * 9]
    assert parser.error is None


def test_unauthenticated_parser_hands_over_one_command_at_a_time():
    """The connection runs AUTH before the next command is checked against the limits."""
    parser = RequestParser()
    parser.unauthenticated = True
    data = multibulk([b"AUTH", b"pw"]) + multibulk([b"a"] * 11)
    assert parser.feed(data) == [[b"AUTH", b"pw"]]
    parser.unauthenticated = False  # AUTH succeeded
    assert parser.feed(b"") == [[b"a"] * 11]
    assert parser.error is None


def test_invalid_count_is_checked_before_auth_limit():
    parser = RequestParser()
    parser.unauthenticated = True
    parser.feed(b"*2147483648\r\n")
    assert parser.error == "Protocol error: invalid multibulk length"


# ---- memory ----------------------------------------------------------------------------


def test_declared_but_unsent_bulk_allocates_nothing():
    size = 100 * 1024 * 1024
    parser = RequestParser()
    tracemalloc.start()
    try:
        assert parser.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % size) == []
        assert parser.feed(b"x" * 1000) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parser.error is None
    assert parser.buffered == 1000
    assert peak < 1024 * 1024


def test_big_bulk_in_pieces_is_assembled_once():
    size = 8 * 1024 * 1024
    parser = RequestParser()
    assert parser.feed(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % size) == []
    chunk = b"z" * 65536
    for _ in range(size // len(chunk) - 1):
        assert parser.feed(chunk) == []
    assert parser.buffered == size - len(chunk)
    assert parser.feed(chunk + b"\r\n") == [[b"GET", b"z" * size]]
    assert parser.buffered == 0


# ---- the C-speed shortcut for plain inline lines ----------------------------------------

from ember.protocol.parser import split_inline_full  # noqa: E402

inline_alphabet = st.sampled_from([b"a", b"b", b" ", b"\t", b"\r", b"\n", b"\x0b", b"\x0c",
                                   b'"', b"'", b"\\", b"x", b"\xff"])


@settings(max_examples=500, deadline=None)
@given(st.lists(inline_alphabet, max_size=30).map(b"".join))
def test_inline_shortcut_splits_exactly_like_sdssplitargs(line):
    assert split_inline(line) == split_inline_full(line)


def _multibulk(argv) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


@pytest.mark.parametrize("argv", [
    [b"PI\r\nNG"],
    [b"GET", b"k\r\n"],
    [b"GET", b"\r\n\r\n"],
    [b"SET", b"k", b"v\r\n$1\r\nx"],
    [b"SET", b"\r\n", b""],
    [b"MSET", b"a", b"1\r\n", b"b", b"2"],
])
def test_one_command_with_crlf_inside_a_bulk(argv):
    """The single-command fast path checks every header against its piece, so a CRLF
    inside a bulk (which adds pieces) never yields a wrong command."""
    assert RequestParser().feed(_multibulk(argv)) == [argv]


@pytest.mark.parametrize("data, expected", [
    (b"PING\r\n", [[b"PING"]]),
    (b"\r\n", []),
    (b"  SET  k   v \r\n", [[b"SET", b"k", b"v"]]),
    (b"PING\r\r\n", [[b"PING"]]),
    (b"ECHO \"a b\"\r\n", [[b"ECHO", b"a b"]]),
])
def test_one_inline_request(data, expected):
    assert RequestParser().feed(data) == expected


def test_one_inline_request_unbalanced_quotes():
    parser = RequestParser()
    assert parser.feed(b"ECHO \"a\r\n") == []
    assert parser.error == "Protocol error: unbalanced quotes in request"


@given(st.integers(1, 4), st.integers(0, 6), st.integers(2, 12), st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_same_shaped_pipeline(argc, length, count, data):
    """Requests framed alike (same argument count and lengths) are parsed by one cached
    regex; arguments made of CRLF, '*' and '$' are payload, never framing."""
    alphabet = st.sampled_from([b"\r", b"\n", b"*", b"$", b"1", b"a", b"\r\n"])
    piece = st.lists(alphabet, min_size=length, max_size=length).map(
        lambda chunks: b"".join(chunks)[:length].ljust(length, b"x"))
    commands = [[data.draw(piece) for _ in range(argc)] for _ in range(count)]
    chunk = b"".join(_multibulk(argv) for argv in commands)
    assert RequestParser().feed(chunk) == commands
    # The same chunk cut short: the whole commands come out, the rest waits.
    parser = RequestParser()
    cut = len(chunk) - 1
    assert parser.feed(chunk[:cut]) == commands[:-1]
    assert parser.feed(chunk[cut:]) == commands[-1:]


def test_same_shaped_then_a_different_shape():
    chunk = _multibulk([b"GET", b"k"]) * 3 + _multibulk([b"SET", b"k", b"v"])
    assert RequestParser().feed(chunk) == [[b"GET", b"k"]] * 3 + [[b"SET", b"k", b"v"]]


def test_same_shaped_smuggled_command_stays_payload():
    value = b"x\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk"
    chunk = _multibulk([b"SET", b"k", value]) * 4
    assert RequestParser().feed(chunk) == [[b"SET", b"k", value]] * 4


@pytest.mark.parametrize("argc", [9, 10, 21, 99, 100])
def test_requests_of_many_arguments(argc):
    argv = [b"MSET"] + [b"k%d" % i for i in range(argc - 1)]
    assert RequestParser().feed(_multibulk(argv)) == [argv]
    assert RequestParser().feed(_multibulk(argv) * 3) == [argv] * 3


# ---- pipelines of inline requests (redis-benchmark's PING_INLINE -P 16) -----------------

@settings(max_examples=150, deadline=None)
@given(st.lists(inline_command(), min_size=2, max_size=12),
       st.lists(st.sampled_from([b"", b"  ", b"\t"]), max_size=3))
def test_inline_pipelines(requests, blanks):
    """Whole CRLF-ended inline lines in one chunk (the one-split path) give what the
    byte-at-a-time state machine gives; blank lines are no command."""
    lines = [line if line.endswith(b"\r\n") else line[:-1] + b"\r\n" for line, _ in requests]
    data = b"".join(lines) + b"".join(blank + b"\r\n" for blank in blanks)
    expected = [argv for _, argv in requests]
    whole, parser = feed_chunks([data])
    assert (whole, parser.error, parser.buffered) == (expected, None, 0)
    assert feed_chunks(byte_by_byte(data))[0] == expected


def test_inline_pipeline_with_unbalanced_quotes_keeps_the_commands_before():
    parser = RequestParser()
    assert parser.feed(b'PING\r\nECHO "a b"\r\nECHO "x\r\nPING\r\n') == [
        [b"PING"], [b"ECHO", b"a b"]]
    assert parser.error == "Protocol error: unbalanced quotes in request"


def test_inline_pipeline_then_a_partial_line():
    parser = RequestParser()
    assert parser.feed(b"PING\r\nPING\r\nEC") == [[b"PING"], [b"PING"]]
    assert parser.feed(b"HO x\r\n") == [[b"ECHO", b"x"]]


@pytest.mark.parametrize("data, expected", [
    (b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n",
     [[b"GET", b"a"], [b"DEL", b"b"]]),                 # one framing, two names
    (b"*2\r\n$3\r\nG.T\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
     [[b"G.T", b"a"], [b"GET", b"a"]]),                 # a name is no regex
    (b"*1\r\n$2\r\n\r\n\r\n" * 2, [[b"\r\n"], [b"\r\n"]]),  # a CRLF as the name
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" * 3, [[b"SET", b"k", b"v"]] * 3),
])
def test_same_shaped_names(data, expected):
    commands, parser = feed_chunks([data])
    assert (commands, parser.error, parser.buffered) == (expected, None, 0)
    assert len({id(argv) for argv in commands}) == len(commands)    # one list each


# ---- the learned framing of long single commands (an unpipelined MSET) -----------------

def test_learned_framing_gives_the_same_commands():
    """A framing seen twice in a row is learned; later requests of that framing are
    matched whole, and anything else (another name or length, a cut, an error) still
    comes out as the split path gives it."""
    parser = RequestParser()
    mset = [b"MSET"] + [b"key:%012d" % i for i in range(20)]
    for round_ in range(4):
        argv = [mset[0]] + [arg[:-2] + b"%02d" % round_ for arg in mset[1:]]
        assert parser.feed(_multibulk(argv)) == [argv]
    assert parser._framing is not None
    same_size = [b"MSEX"] + mset[1:]
    other_lengths = [b"MSET", b"k" * 15] + mset[2:] + [b"xx"]
    with_crlf = [b"MSET"] + [b"ab\r\n" + arg[4:] for arg in mset[1:]]
    for argv in (same_size, other_lengths, with_crlf, mset):
        assert parser.feed(_multibulk(argv)) == [argv]
    assert len(_multibulk(with_crlf)) == len(_multibulk(mset))
    data = _multibulk(mset)
    assert parser.feed(data[:-1]) == []            # a partial request waits ...
    assert parser.feed(data[-1:]) == [mset]        # ... and completes
    bad = data.replace(b"$16\r\n", b"$1x\r\n", 1)    # same size, a header is not a number
    assert len(bad) == len(data)
    commands, error = parser.feed(bad), parser.error
    assert (commands, error) == ([], "Protocol error: invalid bulk length")


@given(st.lists(st.integers(0, 40), min_size=4, max_size=12), st.data())
@settings(max_examples=100, deadline=None)
def test_learned_framing_property(lengths, data):
    """Random requests of four or more arguments, some repeating a framing: each is
    parsed to exactly its arguments, learned framing or not."""
    parser = RequestParser()
    alphabet = st.sampled_from([b"\r", b"\n", b"*", b"$", b"1", b"a", b"\r\n"])
    for _ in range(6):
        if data.draw(st.booleans()):
            lengths = [length + data.draw(st.integers(0, 1)) for length in lengths]
        argv = [b"MSET"] + [data.draw(st.lists(alphabet, min_size=n, max_size=n).map(
            lambda chunks, n=n: b"".join(chunks)[:n].ljust(n, b"x"))) for n in lengths[1:]]
        assert parser.feed(_multibulk(argv)) == [argv]


@given(st.lists(st.tuples(st.sampled_from([b"GET", b"SET", b"G\r\nT"]),
                          st.lists(st.integers(0, 3), min_size=0, max_size=3),
                          st.integers(1, 5), st.booleans()),
                min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_one_parser_across_changing_framings(chunks):
    """One connection's parser fed chunk after chunk: pipelines and single commands whose
    framing repeats, changes, or changes only after the first command (same start, same
    size); each chunk gives exactly its commands, whatever framing was learned before."""
    parser = RequestParser()
    for name, lengths, count, vary in chunks:
        commands = []
        for i in range(count):
            sizes = list(lengths)
            if vary and i == count - 1 and sizes:     # the last command framed otherwise
                sizes[-1] = 3 - sizes[-1]
            commands.append([name] + [b"\r\n*$"[:n].ljust(n, b"v") for n in sizes])
        assert parser.feed(b"".join(_multibulk(argv) for argv in commands)) == commands
        assert (parser.error, parser.buffered) == (None, 0)


def test_learned_pipeline_framing_then_a_tail_of_another():
    """A chunk that starts like the learned framing and is a multiple of its size, but
    whose later commands are framed otherwise, is not taken for the learned framing."""
    parser = RequestParser()
    get = _multibulk([b"GET", b"ab"])
    assert parser.feed(get * 4) == [[b"GET", b"ab"]] * 4
    tail = _multibulk([b"GET", b"a"]) + _multibulk([b"GET", b"abc"])
    assert len(tail) == 2 * len(get)
    assert parser.feed(get * 2 + tail) == [[b"GET", b"ab"]] * 2 + [
        [b"GET", b"a"], [b"GET", b"abc"]]
    assert parser.feed(get) == [[b"GET", b"ab"]]


# ---- a learned pipeline split by position (protocol/framing.py) ------------------------

@pytest.mark.parametrize("argv", [[b"PING"], [b"GET", b"%s%%d"], [b"SET", b"k%", b"%s"],
                                  [b"G%T", b"key"], [b"HSET", b"h", b"f", b"v"]])
def test_learned_pipelines_of_every_depth_split_by_position(argv):
    """Once learned, pipelines of the framing at many depths (more than the tilings kept,
    and past the depth split by position) give their commands, with '%' in any
    argument or the name taken as payload; a chunk differing in one byte anywhere is
    never taken for the framing."""
    parser = RequestParser()
    one = _multibulk(argv)
    assert parser.feed(one * 2) == [argv] * 2
    assert parser._framing is not None
    for depth in (2, 3, 5, 16, 7, 9, 11, 13, 17, 19, 300, 16):
        assert parser.feed(one * depth) == [argv] * depth
    data = one * 4
    for position in range(len(one), len(data)):   # the commands after the first
        changed = data[:position] + bytes([data[position] ^ 1]) + data[position + 1:]
        expected, reference = feed_chunks([changed], RequestParser())
        learned = RequestParser()
        assert learned.feed(one * 2) == [argv] * 2
        assert (learned.feed(changed), learned.error, learned.buffered) == (
            expected, reference.error, reference.buffered), position


# ---- a learned pipeline handed over as a Stretch (RequestParser.parse) -----------------

def _parsed(parser, data):
    """``parser.parse(data)`` as (whether it was a Stretch, the commands)."""
    commands = parser.parse(data)
    if type(commands) is list:
        return False, commands
    return True, commands.commands()


@pytest.mark.parametrize("argv", [[b"PING"], [b"GET", b"%s%%d"], [b"SET", b"k%", b"%s"],
                                  [b"HSET", b"h", b"f", b"v"],
                                  [b"MSET", b"k1", b"%", b"k22", b"", b"k", b"v\r\n"]])
def test_a_learned_pipeline_is_a_stretch_of_the_same_commands(argv):
    """A pipeline of the learned framing comes out of ``parse`` as a Stretch of exactly
    the commands ``feed`` gives (from any start, and one at a time); a single command, a
    chunk after buffered bytes, before AUTH or after an error is not a stretch."""
    parser = RequestParser()
    one = _multibulk(argv)
    assert _parsed(parser, one * 2) == (False, [argv] * 2)     # learned here
    for depth in (2, 5, 16, 256):
        if depth * len(argv) > MAX_TILED_ARGS:  # too many arguments to tile: the regex
            assert _parsed(parser, one * depth) == (False, [argv] * depth)
            continue
        stretch = parser.parse(one * depth)
        assert (stretch.name, stretch.argc, stretch.count) == (argv[0], len(argv), depth)
        assert stretch.commands() == [argv] * depth
        assert stretch.commands(depth - 1) == [argv]
        assert stretch.command(depth - 1) == argv
        assert [list(command) for command in stretch.items()] == [argv] * depth
    assert _parsed(parser, one * 257) == (False, [argv] * 257)  # past the position split
    assert _parsed(parser, one) == (False, [argv])
    other = one + b"+" + one[1:]    # the second is not "*": inline, then the rest
    assert _parsed(parser, other) == (False, feed_chunks([other], RequestParser())[0])
    parser = RequestParser()
    assert parser.feed(one * 2) == [argv] * 2
    assert parser.feed(one[:3]) == []
    assert _parsed(parser, one[3:] + one) == (False, [argv] * 2)   # after buffered bytes
    parser.unauthenticated = True
    assert _parsed(parser, one * 2) == (False, [argv])    # one at a time before AUTH
    assert _parsed(parser, b"") == (False, [argv])
    parser.unauthenticated = False
    assert _parsed(parser, b"*1\r\n$x\r\n") == (False, []) and parser.error is not None
    assert _parsed(parser, one * 2) == (False, [])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.lists(st.binary(min_size=1, max_size=6), min_size=6,
                                    max_size=6), st.integers(2, 20), st.data())
def test_stretch_commands_match_a_fresh_parse(argc, words, depth, data):
    """For random framings (arguments made of CRLF, '*', '$' and '%' included) a learned
    pipeline comes out of ``parse`` as a Stretch of what a fresh parser gives for the
    same chunk; a chunk of the same size changed in one byte gives what a fresh parser
    gives for it, Stretch or not."""
    alphabet = st.sampled_from([b"a", b"\r", b"\n", b"*", b"$", b"%", b"s"])
    # The framing is learned from arguments without CR or LF (one with them is split at
    # CRLF first and is not learned); the pipeline's arguments may hold anything.
    argv = [word.replace(b"\r", b"r").replace(b"\n", b"n") for word in words[:argc]]
    parser = RequestParser()
    one = _multibulk(argv)
    assert parser.feed(one * 2) == [argv] * 2
    commands = [[argv[0]] + [b"".join(data.draw(st.lists(alphabet, min_size=len(word),
                                                          max_size=len(word))))
                             for word in argv[1:]] for _ in range(depth)]
    chunk = b"".join(map(_multibulk, commands))
    assert _parsed(parser, chunk) == (True, RequestParser().feed(chunk))
    other = bytearray(chunk)
    position = data.draw(st.integers(0, len(chunk) - 1))
    other[position] ^= 1
    expected, reference = feed_chunks([bytes(other)], RequestParser())
    learned = RequestParser()
    assert learned.feed(one * 2) == [argv] * 2
    assert _parsed(learned, bytes(other))[1] == expected
    assert (learned.error, learned.buffered) == (reference.error, reference.buffered)


@pytest.mark.parametrize("line", [b"PING", b"ping", b"GET foo", b'SET "a b" \'c\\\'d\'',
                                  b"  ECHO   x  ", b"HSET h f v extra", b"GET \"x", b"   "])
def test_a_repeated_inline_line_is_a_stretch(line):
    """A pipeline of one inline line repeated comes out of ``parse`` as a Stretch of the
    commands the byte-by-byte path gives; unbalanced quotes and blank lines are not."""
    chunk = (line + b"\r\n") * 16
    expected, reference = feed_chunks([chunk[i:i + 1] for i in range(len(chunk))])
    parser = RequestParser()
    stretch, commands = _parsed(parser, chunk)
    assert commands == expected
    assert (parser.error, parser.buffered) == (reference.error, reference.buffered)
    assert stretch == (bool(expected) and reference.error is None)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.lists(st.lists(st.binary(max_size=8), min_size=4, max_size=4),
                                   min_size=2, max_size=12),
       st.sampled_from([b"GET", b"SET", b"x"]))
def test_one_command_of_several_lengths_is_a_stretch(argc, rows, name):
    """A pipeline of one command with the same argument count but arguments of several
    lengths (a redis-py pipeline) comes out of ``parse`` as a Stretch of the commands the
    byte-by-byte path gives; another name in it (even another case) makes it a list."""
    commands = [[name, *row[:argc - 1]] for row in rows]
    chunk = b"".join(map(_multibulk, commands))
    expected, _ = feed_chunks([chunk[i:i + 1] for i in range(len(chunk))])
    assert expected == commands
    assert _parsed(RequestParser(), chunk)[1] == commands
    stretch = RequestParser().parse(chunk)
    if type(stretch) is not list:
        assert (stretch.name, stretch.argc, stretch.count) == (name, argc, len(rows))
    mixed = commands[:-1] + [[name.lower() if name.isupper() else name.upper(),
                              *commands[-1][1:]]]
    chunk = b"".join(map(_multibulk, mixed))
    assert _parsed(RequestParser(), chunk) == (False, mixed)


def test_a_redis_py_pipeline_of_one_command_is_a_stretch():
    """GETs of keys of several lengths: one Stretch, not a list per command."""
    commands = [[b"GET", b"user:%d" % i] for i in (1, 22, 333, 4444, 5)]
    chunk = b"".join(map(_multibulk, commands))
    assert _parsed(RequestParser(), chunk) == (True, commands)
    chunk += _multibulk([b"GET", b"a", b"b"])      # another argument count: a list
    assert _parsed(RequestParser(), chunk) == (False, commands + [[b"GET", b"a", b"b"]])

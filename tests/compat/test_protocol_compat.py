"""The same request bytes to ember and to redis-server: replies and closing compared exactly."""

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.integration.test_protocol import PROTOCOL_ERRORS, exchange, send_in_pieces
from tests.rawclient import encode_command


def both(ember_server, redis_reference, data: bytes, sentinel: bool = True):
    """Exchange ``data`` with each server; assert the same replies and the same closing."""
    got = exchange(ember_server.port, data, sentinel=sentinel)
    expected = exchange(redis_reference.port, data, sentinel=sentinel)
    assert got == expected, f"{data[:80]!r}:\n ember {got!r}\n redis {expected!r}"
    return got


@pytest.mark.parametrize("bad", [b for b, _ in PROTOCOL_ERRORS],
                         ids=[repr(b[:20]) for b, _ in PROTOCOL_ERRORS])
def test_protocol_errors_match(ember_server, redis_reference, bad):
    got, closed = both(ember_server, redis_reference,
                       encode_command("SET", "pc", "v") + b"GET pc\r\n" + bad,
                       sentinel=len(bad) < 1000)
    assert closed and got.startswith(b"+OK\r\n$1\r\nv\r\n-ERR Protocol error: ")


@pytest.mark.parametrize("data", [
    b"*-1\r\n*0\r\nPING\r\n",
    b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",   # the two bytes after a bulk are skipped
    b"*1\n$4\r\nPING\r\n",
    b"*1\r$4\r\nPING\r\n",
    b"*01\r\n$4\r\nPING\r\n",
    b"*1\r\n$04\r\nPING\r\n",
    b"*1\r\n$+4\r\nPING\r\n",
    b"*1\r\n\n3\r\n",
    b"\r\n\r\n\n  \t \r\nPING\n",
    b"PING\r\r\n",
    b'ECHO "\\x41\\x4a\\xzz\\n\\r\\t\\b\\a\\\\\\""\r\n',
    b"ECHO 'a\\'b\\nc'\r\n",
    b'ECHO a"b c"\r\n',
    b'ECHO a"b c"d\r\n',
    b'ECHO ""\r\n',
    b"ECHO ''\r\n",
    b"ECHO \x0bx\x0c\r\n",
    b"ECHO a\x0bb\r\n",
    b'ECHO "a"\x0b\r\n',
    b"ECHO \xc3\xa9\xff\r\n",
    b"ECHO back\\slash\r\n",
    b'ECHO "trailing\\"\r\n',
    b"SET k v\r\nGET k\r\nDEL k\r\n",
])
def test_edge_requests_match(ember_server, redis_reference, data):
    both(ember_server, redis_reference, data)


@pytest.mark.parametrize("data", [
    b"PING\x00\r\n",             # strchr stops at NUL: the line never completes...
    b"*1\x00\r\n",
    b"*1\r\n$4\x00\r\nPING\r\n",
    b"\x00PING\r\n",
])
def test_nul_hides_line_end_until_the_inline_limit(ember_server, redis_reference, data):
    # ...until the buffer passes 64 KB, which gives the same "too big" error in both.
    got, closed = both(ember_server, redis_reference, data + b"q" * (64 * 1024 + 10),
                       sentinel=False)
    assert closed and b"too big" in got


def test_split_writes_match(ember_server, redis_reference):
    data = (b"PING\r\n" + encode_command("SET", "sw", "a\r\nb") + encode_command("GET", "sw")
            + b'ECHO "x y"\r\n*1\r\n$x\r\n')
    pieces = [data[i:i + 1] for i in range(len(data))]
    got = send_in_pieces(ember_server.port, pieces)
    assert got == send_in_pieces(redis_reference.port, pieces)
    assert got[1]


def test_pipeline_of_10000_commands_matches(ember_server, redis_reference):
    data = (encode_command("INCR", "pc:n") + encode_command("GET", "pc:n")) * 5000
    both(ember_server, redis_reference, encode_command("DEL", "pc:n") + data)


# ---- inline parsing, differential ---------------------------------------------------------

inline_chars = st.sampled_from(list(b"ab x\t\x0b\"'\\\\n4*$\xff"))


@settings(max_examples=80, deadline=None)
@given(st.lists(inline_chars, min_size=1, max_size=16).map(bytes))
def test_random_inline_lines_match(ember_server, redis_reference, text):
    """Inline ``ECHO <text>`` and ``NOSUCH <text>``: the single argument, or the list of
    arguments quoted in the unknown-command error, shows what sdssplitargs made of the
    text (or the same protocol error closes both connections)."""
    both(ember_server, redis_reference, b"ECHO " + text + b"\r\nNOSUCH " + text + b"\r\n")


# ---- redis-cli -------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
@pytest.mark.parametrize("args", [
    ["PING"], ["SET", "cc", "hello world"], ["GET", "cc"], ["--no-raw", "GET", "cc"],
    ["INCR", "cn"], ["--no-raw", "INCR", "cn"], ["GET"], ["NOSUCH", "x"],
    ["--no-raw", "GET", "missing"], ["DEL", "cc", "cn"],
])
def test_redis_cli_output_matches(ember_server, redis_reference, args):
    def run(port):
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                              text=True, timeout=30).stdout
    assert run(ember_server.port) == run(redis_reference.port)

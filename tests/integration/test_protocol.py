"""The request protocol over real sockets against ember-server: errors, inline, pipelining.

The same bytes are compared with a real redis-server in
tests/compat/test_protocol_compat.py; here the expected bytes are written out, so these
tests run (and say what Redis sends) even where no redis-server is installed.
"""

import shutil
import socket
import subprocess

import pytest

from tests.rawclient import encode_command

SENTINEL = b"end-of-exchange-5f3a"
SENTINEL_COMMAND = encode_command("ECHO", SENTINEL)
SENTINEL_REPLY = b"$%d\r\n%s\r\n" % (len(SENTINEL), SENTINEL)


def exchange(port: int, data: bytes, timeout: float = 10.0, sentinel: bool = True):
    """Send ``data`` then an ECHO sentinel on a new connection.

    Returns (reply bytes before the sentinel's reply, closed): ``closed`` is True when
    the server closed the connection instead of answering the sentinel (after a protocol
    error the sentinel is never read). Without the sentinel, read until the server closes:
    for the "too big" errors, whose line end must not arrive in the same read (Redis reads
    16 KB at a time, so where a late line end lands decides whether it errs).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(data + SENTINEL_COMMAND if sentinel else data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed early; what it answered is still readable
        got = bytearray()
        while not got.endswith(SENTINEL_REPLY):
            try:
                chunk = sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return bytes(got), True
            got += chunk
        return bytes(got[:-len(SENTINEL_REPLY)]), False


def send_in_pieces(port: int, pieces, timeout: float = 10.0):
    """Like :func:`exchange` but with one send() per piece (TCP_NODELAY)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in list(pieces) + [SENTINEL_COMMAND]:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered an error and closed, as Redis does
        got = bytearray()
        while not got.endswith(SENTINEL_REPLY):
            try:
                chunk = sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return bytes(got), True
            got += chunk
        return bytes(got[:-len(SENTINEL_REPLY)]), False


def err(text: str) -> bytes:
    return b"-ERR Protocol error: " + text.encode("latin-1") + b"\r\n"


# (bad request, Redis's reply) -- each is sent after a good command in the same packet.
PROTOCOL_ERRORS = [
    (b"*x\r\n", err("invalid multibulk length")),
    (b"*2147483648\r\n", err("invalid multibulk length")),
    (b"*-\r\n", err("invalid multibulk length")),
    (b"*1\r\n$x\r\n", err("invalid bulk length")),
    (b"*1\r\n$-1\r\n", err("invalid bulk length")),
    (b"*1\r\n$536870913\r\n", err("invalid bulk length")),
    (b"*1\r\nx3\r\n", err("expected '$', got 'x'")),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", err("expected '$', got ':'")),
    (b"*1\r\n\r3\r\n", err("expected '$', got ' '")),
    (b"*1\r\n\xff3\r\n", err("expected '$', got '\xff'")),
    (b'ECHO "abc\r\n', err("unbalanced quotes in request")),
    (b"ECHO 'a'b\r\n", err("unbalanced quotes in request")),
    (b"x" * (64 * 1024 + 1), err("too big inline request")),
    (b"*" + b"1" * (64 * 1024 + 1), err("too big mbulk count string")),
    (b"*1\r\n$" + b"1" * (64 * 1024 + 1), err("too big bulk count string")),
    (b"PING\x00\r\n" + b"y" * (64 * 1024), err("too big inline request")),
]


@pytest.mark.parametrize("bad, reply", PROTOCOL_ERRORS,
                         ids=[repr(b[:20]) for b, _ in PROTOCOL_ERRORS])
def test_protocol_error_is_answered_and_connection_closed(ember_server, bad, reply):
    good = encode_command("SET", "proto-k", "v") + b"GET proto-k\r\n"
    got, closed = exchange(ember_server.port, good + bad, sentinel=len(bad) < 1000)
    assert got == b"+OK\r\n$1\r\nv\r\n" + reply
    assert closed


def test_protocol_error_after_split_writes(ember_server):
    data = b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n"
    got, closed = send_in_pieces(ember_server.port, [data[i:i + 1] for i in range(len(data))])
    assert (got, closed) == (b"+PONG\r\n+PONG\r\n" + err("invalid bulk length"), True)


def test_server_keeps_serving_after_protocol_errors(ember_server, raw):
    for bad, _ in PROTOCOL_ERRORS[:4]:
        exchange(ember_server.port, bad)
    assert raw.call_raw("PING") == b"+PONG\r\n"


def test_inline_commands_with_quoting(ember_server):
    data = (b'SET inl "hello world"\r\nGET inl\r\n'
            b"SET inl2 'it\\'s'\nGET inl2\n"
            b'ECHO "\\x41\\x42\\n\\t\\"q\\""\r\n'
            b"  \r\n\r\n"
            b'ECHO a"b c"\r\n'
            b"ECHO \x0bx\r\n")
    got, closed = exchange(ember_server.port, data)
    assert not closed
    assert got == (b"+OK\r\n$11\r\nhello world\r\n+OK\r\n$4\r\nit's\r\n"
                   b'$7\r\nAB\n\t"q"\r\n$4\r\nab c\r\n$1\r\nx\r\n')


def test_inline_line_with_nul_waits_like_redis(ember_server):
    """Redis finds the line end with strchr: a NUL hides it until the 64 KB limit."""
    with socket.create_connection(("127.0.0.1", ember_server.port), timeout=10) as sock:
        sock.sendall(b"PING\x00\r\n" + SENTINEL_COMMAND)
        sock.sendall(b"z" * (64 * 1024))
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    assert got == err("too big inline request")


def test_multibulk_and_inline_mixed_in_one_write(ember_server):
    data = (encode_command("SET", "mix", "1") + b"INCR mix\r\n"
            + encode_command("INCRBY", "mix", "10") + b"GET mix\n")
    assert exchange(ember_server.port, data) == (b"+OK\r\n:2\r\n:12\r\n$2\r\n12\r\n", False)


def test_binary_arguments(ember_server):
    value = bytes(range(256)) + b"\r\n*1\r\n$3\r\n"
    data = encode_command("SET", b"bin\x00\r\n", value) + encode_command("GET", b"bin\x00\r\n")
    got, closed = exchange(ember_server.port, data)
    assert (got, closed) == (b"+OK\r\n$%d\r\n%s\r\n" % (len(value), value), False)


def test_empty_arguments_and_empty_multibulk(ember_server):
    data = b"*0\r\n*-1\r\n" + encode_command("SET", "", "") + encode_command("GET", "")
    assert exchange(ember_server.port, data) == (b"+OK\r\n$0\r\n\r\n", False)


def test_pipeline_of_10000_commands_in_one_write(ember_server):
    n = 10_000
    data = b"".join(encode_command("SET", f"p{i}", f"v{i}") for i in range(n))
    data += b"".join(encode_command("GET", f"p{i}") for i in range(n))
    data += b"".join(b"INCR pipecount\r\n" for _ in range(n))
    got, closed = exchange(ember_server.port, data, timeout=60)
    expected = (b"+OK\r\n" * n
                + b"".join(b"$%d\r\nv%d\r\n" % (len(b"v%d" % i), i) for i in range(n))
                + b"".join(b":%d\r\n" % (i + 1) for i in range(n)))
    assert not closed
    assert got == expected


def test_big_value_sent_in_pieces(ember_server):
    value = b"\r\n" + b"x" * (4 * 1024 * 1024) + b"\r\n"
    data = encode_command("SET", "big", value) + encode_command("STRLEN", "big")
    pieces = [data[i:i + 100_000] for i in range(0, len(data), 100_000)]
    assert send_in_pieces(ember_server.port, pieces) == (b"+OK\r\n:%d\r\n" % len(value), False)


# ---- redis-cli ---------------------------------------------------------------------------

needs_cli = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")


def redis_cli(port: int, *args: str, stdin: str = None) -> str:
    result = subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_cli
def test_redis_cli_commands(ember_server):
    port = ember_server.port
    assert redis_cli(port, "PING") == "PONG\n"
    assert redis_cli(port, "SET", "cli:k", "hello world") == "OK\n"
    assert redis_cli(port, "GET", "cli:k") == "hello world\n"
    assert redis_cli(port, "--no-raw", "GET", "cli:k") == '"hello world"\n'
    assert redis_cli(port, "INCR", "cli:n") == "1\n"
    assert redis_cli(port, "--no-raw", "INCR", "cli:n") == "(integer) 2\n"
    assert redis_cli(port, "--no-raw", "GET", "cli:missing") == "(nil)\n"
    assert "wrong number of arguments" in redis_cli(port, "GET")


@needs_cli
def test_redis_cli_reads_commands_from_stdin(ember_server):
    out = redis_cli(ember_server.port, stdin='SET cli:s "a b"\nGET cli:s\nDEL cli:s\n')
    assert out == "OK\na b\n1\n"

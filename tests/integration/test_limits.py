"""Connection limits: pre-AUTH request limits, query buffer limit, a client that never
reads, maxclients and the open-files limit, and a handler that crashes.

Each test starts its own ember-server with the options it needs.
"""

import resource
import shutil
import socket
import tempfile

import pytest

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.commands.registry import CommandSpec
from ember.errors import ReplyError
from ember.server.config import Config
from tests.integration.test_protocol import exchange
from tests.rawclient import RawClient, encode_command
from tests.servers import (
    ServerProcess,
    ember_command,
    free_port,
    start_ember,
    start_redis,
    wait_until,
)

MB = 1024 * 1024
MAX_CLIENTS_REPLY = b"-ERR max number of clients reached\r\n"


@pytest.fixture
def server_factory():
    """Start servers with options; stop them all at the end of the test."""
    started = []

    def start(*options, starter=start_ember):
        server = starter(*options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def vm_rss(pid: int) -> int:
    """Resident memory of a process, in bytes (/proc/<pid>/status VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def read_until_closed(sock: socket.socket) -> bytes:
    got = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk


# ---- before AUTH: 10 arguments, 16 KB bulks --------------------------------------------

AUTH = encode_command("AUTH", "s3cret")
PRE_AUTH_CASES = [
    # (request, reply, closed)
    (encode_command("DEL", *["k"] * 9), b"-NOAUTH Authentication required.\r\n", False),
    (encode_command("DEL", *["k"] * 10),
     b"-ERR Protocol error: unauthenticated multibulk length\r\n", True),
    (encode_command("ECHO", "v" * 16384), b"-NOAUTH Authentication required.\r\n", False),
    (encode_command("ECHO", "v" * 16385),
     b"-ERR Protocol error: unauthenticated bulk length\r\n", True),
    (encode_command("PING") + encode_command("DEL", *["k"] * 10),
     b"-NOAUTH Authentication required.\r\n"
     b"-ERR Protocol error: unauthenticated multibulk length\r\n", True),
    # A failed AUTH leaves the limits in force.
    (encode_command("AUTH", "wrong") + encode_command("DEL", *["k"] * 10),
     b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
     b"-ERR Protocol error: unauthenticated multibulk length\r\n", True),
    # AUTH lifts them for the very next command of the same packet.
    (AUTH + encode_command("DEL", *["k"] * 10) + encode_command("ECHO", "v" * 20000),
     b"+OK\r\n:0\r\n$20000\r\n" + b"v" * 20000 + b"\r\n", False),
    # Inline requests have no argument-count limit of their own.
    (b"DEL" + b" k" * 20 + b"\r\n", b"-NOAUTH Authentication required.\r\n", False),
]




def exchange_pre_auth(port: int, data: bytes):
    """:func:`exchange` for a server with a password: AUTH before the ECHO sentinel."""
    got, closed = exchange(port, data + AUTH)
    if not closed:
        assert got.endswith(b"+OK\r\n")
        got = got[:-5]
    return got, closed


@pytest.mark.parametrize("request_bytes, reply, closed", PRE_AUTH_CASES,
                         ids=[f"case{i}" for i in range(len(PRE_AUTH_CASES))])
def test_pre_auth_limits(server_factory, request_bytes, reply, closed):
    server = server_factory("--requirepass", "s3cret")
    assert exchange_pre_auth(server.port, request_bytes) == (reply, closed)


def test_pre_auth_limits_match_redis(server_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    ember = server_factory("--requirepass", "s3cret")
    redis = server_factory("--requirepass", "s3cret", starter=start_redis)
    for request_bytes, _, _ in PRE_AUTH_CASES:
        assert exchange_pre_auth(ember.port, request_bytes) == \
            exchange_pre_auth(redis.port, request_bytes)


def test_limits_lifted_after_auth_on_a_later_packet(server_factory):
    server = server_factory("--requirepass", "s3cret")
    client = RawClient(server.port)
    assert client.call_raw("AUTH", "s3cret") == b"+OK\r\n"
    assert client.call_raw("DEL", *["k"] * 20) == b":0\r\n"
    assert client.call_raw("SET", "big", "x" * 100_000) == b"+OK\r\n"
    assert client.call_raw("STRLEN", "big") == b":100000\r\n"
    client.close()


# ---- client-query-buffer-limit ----------------------------------------------------------


def test_query_buffer_over_limit_closes_connection(server_factory):
    server = server_factory("--client-query-buffer-limit", "1mb")
    other = RawClient(server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (4 * MB))
        assert sock.recv(7) == b"+PONG\r\n"
        try:
            for _ in range(3):  # 1.5 MB of a 4 MB bulk that never completes
                sock.sendall(b"x" * (MB // 2))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_until_closed(sock) == b""
    assert other.call_raw("PING") == b"+PONG\r\n"
    assert other.call_raw("GET", "k") == b"$-1\r\n"
    other.close()


def test_big_pipeline_of_complete_commands_is_not_over_limit(server_factory):
    """The limit is on what waits to be parsed, not on what one write carries."""
    server = server_factory("--client-query-buffer-limit", "1mb")
    n = 3000
    data = b"".join(encode_command("SET", f"k{i}", "v" * 1000) for i in range(n))
    assert exchange(server.port, data, timeout=30) == (b"+OK\r\n" * n, False)


def test_bulk_up_to_the_limit_is_accepted(server_factory):
    server = server_factory("--client-query-buffer-limit", "1mb")
    value = b"y" * (MB - 100)
    assert exchange(server.port, encode_command("SET", "k", value)
                    + encode_command("STRLEN", "k")) == (b"+OK\r\n:%d\r\n" % len(value), False)


# ---- a client that sends and never reads ------------------------------------------------


def test_client_that_never_reads_does_not_grow_the_server(server_factory):
    server = server_factory()
    pid = server.proc.pid
    setup = RawClient(server.port)
    value = b"v" * MB
    assert setup.call_raw("SET", "big", value) == b"+OK\r\n"
    baseline = vm_rss(pid)

    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    slow.setblocking(False)
    request = encode_command("GET", "big")
    batch = request * 1000
    sent_requests = 0
    while sent_requests < 200_000:  # replies worth up to 200 GB; stop when it blocks
        try:
            sent = slow.send(batch)
        except BlockingIOError:
            break
        sent_requests += sent // len(request)
        if sent < len(batch):
            break
    assert sent_requests >= 200, "the server should have read 200 MB worth of GETs"

    # Meanwhile other clients are served, and the server's memory stays bounded.
    peak = baseline
    for _ in range(50):
        assert setup.call_raw("PING") == b"+PONG\r\n"
        peak = max(peak, vm_rss(pid))
    assert peak - baseline < 300 * MB, \
        f"{sent_requests} GETs sent: RSS grew by {(peak - baseline) // MB} MB"

    # The slow client still gets correct replies when it starts reading.
    slow.setblocking(True)
    slow.settimeout(30)
    expected = b"$%d\r\n%s\r\n" % (len(value), value) * 5
    got = bytearray()
    while len(got) < len(expected):
        chunk = slow.recv(len(expected) - len(got))
        assert chunk, "the server closed the slow client"
        got += chunk
    assert got == expected
    slow.close()
    assert setup.call_raw("PING") == b"+PONG\r\n"
    setup.close()


# ---- maxclients ----------------------------------------------------------------------


def connect_and_ping(port: int):
    """A connection and what the server answers to PING on it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"PING\r\n")
    got = b""
    while not got.endswith(b"\r\n"):
        chunk = sock.recv(100)
        if not chunk:
            break
        got += chunk
    return sock, got


def open_clients(port: int, count: int) -> list:
    """``count`` admitted connections (each answered a PING), opened in batches."""
    socks = []
    while len(socks) < count:
        batch = [socket.create_connection(("127.0.0.1", port), timeout=30)
                 for _ in range(min(200, count - len(socks)))]
        for sock in batch:
            sock.sendall(b"PING\r\n")
        for sock in batch:
            assert sock.recv(7) == b"+PONG\r\n"
        socks += batch
    return socks


def test_maxclients_refuses_one_more(server_factory):
    server = server_factory("--maxclients", "100")
    socks = open_clients(server.port, 100)
    extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    assert read_until_closed(extra) == MAX_CLIENTS_REPLY
    extra.close()
    socks.pop().close()

    def admitted():
        sock, reply = connect_and_ping(server.port)
        if reply == b"+PONG\r\n":
            socks.append(sock)
            return True
        sock.close()
        return False

    assert wait_until(admitted)
    for sock in socks:
        sock.close()


def test_maxclients_reply_matches_redis(server_factory):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    replies = []
    for starter in (start_ember, start_redis):
        server = server_factory("--maxclients", "20", starter=starter)
        socks = open_clients(server.port, 20)
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        replies.append(read_until_closed(extra))
        extra.close()
        for sock in socks:
            sock.close()
    assert replies[0] == replies[1] == MAX_CLIENTS_REPLY


def test_ten_thousand_idle_clients(server_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 10_000 + 200
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"hard open-files limit {hard} < {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    socks = []
    try:
        server = server_factory()  # maxclients 10000, Redis's default
        socks = open_clients(server.port, 10_000)
        extra = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        assert read_until_closed(extra) == MAX_CLIENTS_REPLY
        extra.close()
        # Idle clients are still served.
        for sock in socks[::1000]:
            sock.sendall(b"PING\r\n")
            assert sock.recv(7) == b"+PONG\r\n"
    finally:
        for sock in socks:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def start_limited(nofile: str, *options, redis: bool = False) -> ServerProcess:
    """Start a server under ``prlimit --nofile=soft:hard``."""
    port = free_port()
    base = ([shutil.which("redis-server"), "--port", str(port), "--save", "",
             "--appendonly", "no"] if redis else
            ember_command() + ["--port", str(port), "--save", "", "--appendonly", "no"])
    argv = ["prlimit", f"--nofile={nofile}", "--"] + base + list(options)
    return ServerProcess(argv, port, tempfile.mkdtemp(prefix="ember-limit-")).start()


def maxclients_of(port: int) -> bytes:
    client = RawClient(port)
    try:
        return client.call_raw("CONFIG", "GET", "maxclients")
    finally:
        client.close()


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit not installed")
def test_server_raises_its_open_files_limit(server_factory):
    server = server_factory("--maxclients", "1000",
                            starter=lambda *o: start_limited("256:4096", *o))
    with open(f"/proc/{server.proc.pid}/limits") as limits:
        line = next(x for x in limits if x.startswith("Max open files"))
    assert line.split()[3] == "1032"
    assert maxclients_of(server.port) == b"*2\r\n$10\r\nmaxclients\r\n$4\r\n1000\r\n"


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit not installed")
def test_maxclients_reduced_to_fit_hard_limit_like_redis(server_factory):
    ember = server_factory("--maxclients", "10000",
                           starter=lambda *o: start_limited("256:2000", *o))
    got = maxclients_of(ember.port)
    assert got == b"*2\r\n$10\r\nmaxclients\r\n$4\r\n1968\r\n"
    if shutil.which("redis-server"):
        redis = server_factory("--maxclients", "10000",
                               starter=lambda *o: start_limited("256:2000", *o, redis=True))
        assert maxclients_of(redis.port) == got


# ---- a handler that raises ----------------------------------------------------------------


def test_handler_exception_answers_err_and_engine_keeps_serving():
    load_all()
    engine = Engine(Config())
    client = engine.new_client()

    def broken(ctx, argv):
        raise ZeroDivisionError("bug")

    spec = CommandSpec(name="broken", arity=1, flags=("fast",), handler=broken)
    reply = engine.call(client, spec, [b"BROKEN"])
    assert isinstance(reply, ReplyError)
    assert reply.message.startswith("ERR ")
    assert spec.failed_calls == 1
    assert engine.stats.total_error_replies >= 1
    assert engine.execute(client, [b"SET", b"k", b"v"]) == "OK"
    assert engine.execute(client, [b"GET", b"k"]) == b"v"


# ---- limits that change while clients are connected ----------------------------------------


def test_reset_brings_back_pre_auth_limits(server_factory):
    """RESET de-authenticates the connection (requirepass): the pre-AUTH limits apply again."""
    server = server_factory("--requirepass", "s3cret")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(AUTH)
        assert sock.recv(100) == b"+OK\r\n"
        sock.sendall(encode_command("RESET"))
        assert sock.recv(100) == b"+RESET\r\n"
        sock.sendall(encode_command("DEL", *["k"] * 10))
        assert read_until_closed(sock) == \
            b"-ERR Protocol error: unauthenticated multibulk length\r\n"


def test_config_set_proto_max_bulk_len_applies_to_connected_clients(server_factory):
    server = server_factory()
    client = RawClient(server.port)
    assert client.call_raw("CONFIG", "SET", "proto-max-bulk-len", "1mb") == b"+OK\r\n"
    assert client.call_raw("SET", "k", "x" * MB) == b"+OK\r\n"
    client.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (MB + 1))
    assert client.read_raw() == b"-ERR Protocol error: invalid bulk length\r\n"
    assert client.closed_by_server()
    client.close()

"""Start real server processes for the tests: ember-server and the reference redis-server.

Both are started on a free port and waited for by reading their log until the
"Ready to accept connections" line appears (an event, not a sleep).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

READY_MARK = "Ready to accept connections"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A server process started with arguments and stopped at the end."""

    def __init__(self, argv: list, port: int, cwd: str, env: dict = None):
        self.argv = argv
        self.port = port
        self.cwd = cwd
        self.env = env
        self.proc = None
        self.log_lines = []
        self._ready = threading.Event()
        self._pumping = None

    def start(self, timeout: float = 20.0) -> "ServerProcess":
        """Start the process and wait until it says it accepts connections."""
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, env=None if self.env is None else {**os.environ, **self.env})
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log_lines))
        if self.proc.poll() is not None:
            raise RuntimeError("server exited:\n" + "".join(self.log_lines))
        return self

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.log_lines.append(line)
            if READY_MARK in line:
                self._ready.set()
        self._ready.set()

    @property
    def log(self) -> str:
        return "".join(self.log_lines)

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._pumping is not None:   # every line the process wrote is in log_lines
            self._pumping.join(5)


def ember_command() -> list:
    """How to run ember-server: the installed script, or the module."""
    exe = shutil.which("ember-server")
    return [exe] if exe else [sys.executable, "-m", "ember"]


def start_ember(*extra: str, port: int = None, env: dict = None) -> ServerProcess:
    """Start ember-server on a free port with persistence off (``env`` adds variables)."""
    port = port or free_port()
    cwd = tempfile.mkdtemp(prefix="ember-test-")
    argv = ember_command() + ["--port", str(port), "--save", "", "--appendonly", "no",
                              *extra]
    return ServerProcess(argv, port, cwd, env).start()


def redis_server_path():
    """Path of the reference redis-server, or None."""
    return shutil.which("redis-server")


def start_redis(*extra: str, port: int = None) -> ServerProcess:
    """Start the reference redis-server on a free port with persistence off."""
    port = port or free_port()
    cwd = tempfile.mkdtemp(prefix="redis-ref-")
    argv = [redis_server_path(), "--port", str(port), "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", *extra]
    return ServerProcess(argv, port, cwd).start()


def require_redis() -> bool:
    """True when a missing redis-server must fail the run (CI sets EMBER_REQUIRE_REDIS=1)."""
    return os.environ.get("EMBER_REQUIRE_REDIS") == "1"


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or timeout (for state we can only observe by asking)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class LatencyProbe:
    """PINGs a server from a thread for the duration of a ``with`` block.

    ``worst`` is the slowest answer in seconds: it shows whether the server kept
    answering other clients while the block's work ran.
    """

    def __init__(self, port: int):
        self.port = port
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import redis

        client = redis.Redis(port=self.port)
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.ping()
                self.worst = max(self.worst, time.perf_counter() - started)
        finally:
            client.close()

    def __enter__(self) -> "LatencyProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

"""The ember-server command line: config files, options, stdin, fatal errors, daemonize,
pidfile, log format, and clean exits on SHUTDOWN and SIGTERM (real processes)."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading

import redis

from ember import __version__
from tests.servers import READY_MARK, ServerProcess, ember_command, free_port, wait_until

LOG_LINE = re.compile(r"^\d+:[CMS] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] \S")


def run(args, **kw):
    return subprocess.run(ember_command() + args, capture_output=True, text=True,
                          timeout=30, **kw)


def start(args, tmp_path, port) -> ServerProcess:
    return ServerProcess(ember_command() + args, port, str(tmp_path)).start()


def test_config_file_then_options(tmp_path):
    port = free_port()
    conf = tmp_path / "redis.conf"
    conf.write_text(f"# my server\nport {port}\nhz 20\nmaxmemory 1mb\n"
                    "maxmemory-policy allkeys-lru\nsave \"\"\n")
    server = start([str(conf), "--hz", "25", "--notify-keyspace-events", "KEA"], tmp_path,
                   port)
    try:
        client = redis.Redis(port=port)
        assert client.config_get("hz") == {"hz": "25"}
        assert client.config_get("maxmemory") == {"maxmemory": "1048576"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert client.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("dir") == {"dir": str(tmp_path)}
        client.close()
    finally:
        server.stop()
    assert server.proc.returncode == 0
    lines = server.log.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), server.log
    assert any("Configuration loaded" in line for line in lines)
    assert any(f"port={port}, pid={server.proc.pid}" in line and __version__ in line
               for line in lines)


def test_unknown_directive_is_fatal():
    result = run(["--foo", "bar"])
    assert result.returncode == 1
    assert result.stderr == (
        f"\n*** FATAL CONFIG FILE ERROR (ember {__version__}) ***\n"
        "Reading the configuration file, at line 2\n>>> 'foo \"bar\"'\n"
        "Bad directive or wrong number of arguments\n")


def test_bad_file_line_is_fatal(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 1234\n# comment\nmaxmemory 10x\n")
    result = run([str(conf)])
    assert result.returncode == 1
    assert result.stderr.endswith("Reading the configuration file, at line 3\n"
                                  ">>> 'maxmemory 10x'\nargument must be a memory value\n")
    missing = run([str(tmp_path / "missing.conf")])
    assert missing.returncode == 1
    assert "Fatal error, can't open config file" in missing.stdout


def test_version_and_help():
    result = run(["--version"])
    assert result.returncode == 0
    assert result.stdout.startswith(f"ember-server v={__version__} redis_version=7.2")
    assert run(["-v"]).stdout == result.stdout
    usage = run(["--help"])
    assert usage.returncode == 1 and usage.stderr.startswith("Usage: ./ember-server")


def test_python_dash_m_is_the_same_program():
    result = subprocess.run([sys.executable, "-m", "ember", "-v"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and "v=" + __version__ in result.stdout


def test_config_from_stdin(tmp_path):
    port = free_port()
    proc = subprocess.Popen(ember_command() + ["--save", "", "-"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    output = []

    def pump():
        for line in proc.stdout:
            output.append(line)
            if READY_MARK in line:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    proc.stdin.write(f"port {port}\nhz 33\n")
    proc.stdin.close()
    try:
        assert ready.wait(20), "".join(output)
        client = redis.Redis(port=port)
        assert client.config_get("hz") == {"hz": "33"}
        client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_shutdown_closes_without_reply_and_exits_zero(tmp_path):
    port = free_port()
    pidfile = tmp_path / "ember.pid"
    server = start(["--port", str(port), "--save", "", "--pidfile", str(pidfile)],
                   tmp_path, port)
    assert pidfile.read_text().strip() == str(server.proc.pid)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"SHUTDOWN foo\r\n")
        assert sock.recv(100) == b"-ERR syntax error\r\n"
        sock.sendall(b"SHUTDOWN NOSAVE\r\nPING\r\n")
        assert sock.recv(100) == b""
    assert server.proc.wait(10) == 0
    assert "User requested shutdown..." in server.log
    assert "Removing the pid file." in server.log
    assert not pidfile.exists()


def test_sigterm_exits_zero(tmp_path):
    port = free_port()
    server = start(["--port", str(port), "--save", ""], tmp_path, port)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    wait_until(lambda: "bye bye" in server.log)
    assert "Received SIGTERM scheduling shutdown..." in server.log


def test_daemonize_writes_and_removes_pidfile(tmp_path):
    port = free_port()
    pidfile = tmp_path / "d.pid"
    logfile = tmp_path / "d.log"
    result = run(["--port", str(port), "--daemonize", "yes", "--pidfile", str(pidfile),
                  "--logfile", str(logfile), "--save", ""], cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == ""
    assert wait_until(lambda: pidfile.exists() and READY_MARK in logfile.read_text(), 20)
    pid = int(pidfile.read_text())
    assert pid != os.getpid()
    client = redis.Redis(port=port)
    try:
        assert client.config_get("daemonize") == {"daemonize": "yes"}
        assert client.config_get("pidfile") == {"pidfile": str(pidfile)}
        try:
            client.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        assert wait_until(lambda: not pidfile.exists(), 10)
        assert wait_until(lambda: not _alive(pid), 10)
    finally:
        client.close()
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    log = logfile.read_text().splitlines()
    assert all(LOG_LINE.match(line) for line in log), log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

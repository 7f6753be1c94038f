"""kill -9 tests: no acknowledged write is lost in any appendfsync mode, and a crash
during BGSAVE leaves the old or the new snapshot, never a torn one (real processes)."""

import os
import random
import signal
import socket
import threading
import time

import pytest
import redis

from tests.servers import ServerProcess, ember_command, free_port, wait_until

ROUNDS = int(os.environ.get("EMBER_CRASH_ROUNDS", "5"))
PIPELINE = 200


def start(tmp_path, *args) -> ServerProcess:
    port = free_port()
    argv = ember_command() + ["--port", str(port), "--save", "", *args]
    return ServerProcess(argv, port, str(tmp_path)).start()


class Writer(threading.Thread):
    """Pipelines SET k<i> <i> and counts the +OK replies received (acknowledged)."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.acked = 0
        self.sent = 0

    def run(self) -> None:
        received = b""
        try:
            while True:
                batch = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$%d\r\n%d\r\n" % (
                    len(b"k%d" % i), i, len(b"%d" % i), i)
                    for i in range(self.sent, self.sent + PIPELINE))
                self.sock.sendall(batch)
                self.sent += PIPELINE
                while self.acked < self.sent:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        return
                    received += chunk
                    count = len(received) // 5
                    assert received[:count * 5] == b"+OK\r\n" * count
                    self.acked += count
                    received = received[count * 5:]
        except OSError:
            return


@pytest.mark.parametrize("fsync", ["always", "everysec", "no"])
def test_kill_9_under_write_load_loses_no_acknowledged_write(tmp_path, fsync):
    acked = None
    for round_number in range(ROUNDS + 1):
        server = start(tmp_path, "--appendonly", "yes", "--appendfsync", fsync)
        client = redis.Redis(port=server.port)
        if acked is not None:       # the previous round's acknowledged writes are all here
            size = client.dbsize()
            assert size >= acked, f"round {round_number}: {acked} acknowledged, {size} kept"
            missing = [i for i in random.sample(range(acked), min(acked, 200))
                       if client.get(b"k%d" % i) != b"%d" % i]
            assert not missing
            assert client.get(b"k%d" % (acked - 1)) == b"%d" % (acked - 1)
        if round_number == ROUNDS:
            server.stop()
            break
        already = client.dbsize()
        client.close()
        writer = Writer(server.port)
        writer.sent = writer.acked = already     # continue after the previous rounds
        writer.start()
        assert wait_until(lambda w=writer, n=already: w.acked > n + 2 * PIPELINE, timeout=10)
        time.sleep(random.uniform(0.0, 0.15))
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        writer.join(5)
        acked = writer.acked


def test_kill_9_during_bgsave_leaves_old_or_new_snapshot(tmp_path):
    server = start(tmp_path)
    client = redis.Redis(port=server.port)
    pipe = client.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(b"old%d" % i, b"x" * 20)
    pipe.execute()
    client.save()
    outcomes = set()
    delays = (0.0, 0.1, None)
    try:
        for delay in delays:
            # one server per round: it checks the previous crash, then crashes in its turn
            client.set("new", "1")
            client.execute_command("BGSAVE")
            if delay is None:           # the last time, once the child has finished
                assert wait_until(lambda c=client: _saved(c.info("persistence")))
            else:
                time.sleep(delay)
            child = _children(server.proc.pid)
            os.kill(server.proc.pid, signal.SIGKILL)    # the machine dies: parent and child
            for pid in child:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            server.proc.wait()
            server = start(tmp_path)
            client = redis.Redis(port=server.port)
            size = client.dbsize()
            assert size in (20000, 20001)               # the old or the new, never torn
            outcomes.add(size)
            assert not list(tmp_path.glob("temp-*.rdb"))
            client.delete("new")
            client.save()
    finally:
        server.stop()
    assert 20001 in outcomes        # at least the slowest kill saw the new snapshot


def _saved(fields: dict) -> bool:
    return (fields["rdb_bgsave_in_progress"] == 0
            and fields["rdb_changes_since_last_save"] == 0)


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def test_a_bgsave_child_outliving_its_parent_holds_no_socket(tmp_path):
    server = start(tmp_path)
    client = redis.Redis(port=server.port)
    pipe = client.pipeline(transaction=False)
    for i in range(100000):
        pipe.set(b"k%d" % i, b"v")
    pipe.execute()
    other = socket.create_connection(("127.0.0.1", server.port))
    client.execute_command("BGSAVE")
    children = _children(server.proc.pid)
    assert children                                  # the child is still writing
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()
    try:
        other.settimeout(5)
        assert other.recv(10) == b""                 # the client sees the close at once
        with socket.socket() as sock:                # and the port is free again
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", server.port))
            sock.listen()
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

"""RDB snapshots in a running ember-server: SAVE, BGSAVE, LASTSAVE, INFO persistence,
save points, MISCONF, restart, DEBUG RELOAD, SHUTDOWN SAVE, temp-file cleanup, a corrupt
file refusing to start, and -LOADING while the dataset loads (real processes)."""

import os
import shutil
import socket
import subprocess
import time

import pytest
import redis

from tests.servers import READY_MARK, ServerProcess, ember_command, free_port, wait_until

MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
           "to persist to disk. Commands that may modify the data set are disabled, "
           "because this instance is configured to report errors during writes if RDB "
           "snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
           "Redis logs for details about the RDB error.")


def start(tmp_path, *args) -> ServerProcess:
    port = free_port()
    argv = ember_command() + ["--port", str(port), "--appendonly", "no",
                              "--enable-debug-command", "yes", *args]
    if "--save" not in args:
        argv += ["--save", ""]
    return ServerProcess(argv, port, str(tmp_path)).start()


def info(client) -> dict:
    return client.info("persistence")


def test_save_restart_and_lastsave(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        client.set("s", "v")
        client.rpush("l", *range(10))
        client.set("ttl", "x", px=600000)
        client.execute_command("SELECT", "3")
        client.execute_command("SET", "in3", "y")
        before = client.lastsave()
        assert info(client)["rdb_changes_since_last_save"] == 13   # RPUSH of 10: 10
        time.sleep(1.05)     # LASTSAVE has one-second resolution
        assert client.save() is True
        assert client.lastsave() > before
        fields = info(client)
        assert fields["rdb_changes_since_last_save"] == 0
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert (tmp_path / "dump.rdb").exists()
        assert not list(tmp_path.glob("temp-*.rdb"))
        client.close()
    finally:
        server.stop()
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.get("s") == b"v"
        assert client.lrange("l", 0, -1) == [b"%d" % i for i in range(10)]
        assert 590000 < client.pttl("ttl") <= 600000
        assert info(client)["rdb_last_load_keys_loaded"] == 3 + 1
        client.execute_command("SELECT", "3")
        assert client.get("in3") == b"y"
    finally:
        server.stop()


def test_bgsave_forks_and_reports(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        client.mset({f"k{i}": i for i in range(1000)})
        client.set_response_callback("BGSAVE", lambda reply, **kw: reply)
        assert client.execute_command("BGSAVE") == b"Background saving started"
        assert wait_until(lambda: info(client)["rdb_bgsave_in_progress"] == 0
                          and info(client)["rdb_saves"] == 1)
        fields = info(client)
        assert fields["rdb_last_bgsave_status"] == "ok"
        assert fields["rdb_changes_since_last_save"] == 0
        assert wait_until(lambda: "Background saving started by pid" in server.log)
        with pytest.raises(redis.ResponseError, match="syntax error"):
            client.execute_command("BGSAVE", "NOW")
        assert client.execute_command("DEBUG", "RELOAD") == b"OK"
        assert client.dbsize() == 1000 and client.get("k999") == b"999"
    finally:
        server.stop()


def test_bgsave_schedule_waits_for_the_running_rewrite(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        for name in ("BGSAVE", "BGREWRITEAOF"):
            client.set_response_callback(name, lambda reply, **kw: reply)
        client.mset({f"k{i}": i for i in range(20000)})
        assert client.execute_command("BGREWRITEAOF") == (
            b"Background append only file rewriting started")
        assert client.execute_command("BGSAVE", "SCHEDULE") == b"Background saving scheduled"
        assert wait_until(lambda: info(client)["rdb_saves"] == 1
                          and info(client)["rdb_bgsave_in_progress"] == 0, timeout=10)
        assert info(client)["rdb_last_bgsave_status"] == "ok"
    finally:
        server.stop()


def test_bgsave_inside_exec_is_scheduled(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"MULTI\r\nSET a 1\r\nBGSAVE\r\nBGREWRITEAOF\r\nEXEC\r\n")
        expected = (b"+OK\r\n" + b"+QUEUED\r\n" * 3 + b"*3\r\n+OK\r\n"
                    b"+Background saving scheduled\r\n"
                    b"+Background append only file rewriting scheduled\r\n")  # redis 7.0's
        reply = b""
        while len(reply) < len(expected):
            reply += sock.recv(4096)
        sock.close()
        assert reply == expected
        assert wait_until(lambda: info(client)["rdb_saves"] == 1
                          and info(client)["rdb_bgsave_in_progress"] == 0)
        assert info(client)["rdb_changes_since_last_save"] == 0
    finally:
        server.stop()


def test_save_point_triggers_bgsave(tmp_path):
    server = start(tmp_path, "--save", "1", "3")
    try:
        client = redis.Redis(port=server.port)
        client.set("a", 1)
        client.set("b", 2)
        client.set("c", 3)
        assert wait_until(lambda: info(client)["rdb_saves"] >= 1, timeout=5)
        # The log is read from the server's output by a thread: wait for the line too.
        assert wait_until(lambda: "3 changes in 1 seconds. Saving..." in server.log, timeout=5)
    finally:
        server.stop()


def test_bgsave_error_refuses_writes_with_misconf(tmp_path):
    sub = tmp_path / "gone"
    sub.mkdir()
    server = start(tmp_path, "--save", "3600", "1", "--enable-protected-configs", "yes")
    try:
        client = redis.Redis(port=server.port)
        client.config_set("dir", str(sub))
        sub.rmdir()
        client.set("a", 1)
        client.execute_command("BGSAVE")
        assert wait_until(lambda: info(client)["rdb_last_bgsave_status"] == "err")
        assert wait_until(lambda: _refused(client))
        with pytest.raises(redis.ResponseError) as exc:
            client.set("b", 2)
        assert str(exc.value) == MISCONF
        assert client.info("errorstats")["errorstat_MISCONF"]["count"] >= 1
        assert client.get("a") == b"1"                  # reads still work
        client.config_set("stop-writes-on-bgsave-error", "no")
        assert wait_until(lambda: not _refused(client))
        assert client.set("b", 2) is True
    finally:
        server.stop()


def _refused(client) -> bool:
    try:
        client.set("probe", 1)
    except redis.ResponseError as exc:
        return str(exc).startswith("MISCONF")
    return False


def test_shutdown_save_writes_the_snapshot(tmp_path):
    server = start(tmp_path)
    client = redis.Redis(port=server.port)
    client.set("kept", "yes")
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass
    server.proc.wait(10)
    assert server.proc.returncode == 0
    assert (tmp_path / "dump.rdb").exists()
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).get("kept") == b"yes"
    finally:
        server.stop()


def test_sigterm_saves_when_save_points_are_set(tmp_path):
    server = start(tmp_path, "--save", "3600", "1")
    redis.Redis(port=server.port).set("kept", "by-sigterm")
    server.stop()                                   # SIGTERM
    assert server.proc.returncode == 0
    assert "Saving the final RDB snapshot before exiting." in server.log
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).get("kept") == b"by-sigterm"
    finally:
        server.stop()


def test_shutdown_nosave_does_not_save(tmp_path):
    server = start(tmp_path, "--save", "3600", "1")
    client = redis.Redis(port=server.port)
    client.set("lost", "1")
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    server.proc.wait(10)
    assert not (tmp_path / "dump.rdb").exists()


def test_flushall_saves_the_empty_dataset_with_save_points(tmp_path):
    server = start(tmp_path, "--save", "3600", "1")
    try:
        client = redis.Redis(port=server.port)
        client.set("a", 1)
        client.save()
        client.set("b", 2)
        client.flushall()
        fields = info(client)
        assert fields["rdb_changes_since_last_save"] == 0   # as redis-server 7.0
        assert fields["rdb_saves"] == 1                     # FLUSHALL's save not counted
        os.kill(server.proc.pid, 9)
        server.proc.wait()
    finally:
        server.stop()
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).dbsize() == 0
    finally:
        server.stop()


def test_flushall_dirty_count_without_save_points(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        client.set("a", 1)
        client.config_resetstat()
        before = info(client)["rdb_changes_since_last_save"]
        client.flushall()
        assert info(client)["rdb_changes_since_last_save"] == before + 2
    finally:
        server.stop()


def test_temp_files_are_removed_at_start(tmp_path):
    (tmp_path / "temp-12345.rdb").write_bytes(b"REDIS0010 torn")
    (tmp_path / "temp-rewriteaof-bg-777.aof").write_bytes(b"x")
    (tmp_path / "temp-notmine.txt").write_bytes(b"x")
    server = start(tmp_path)
    server.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["temp-notmine.txt"]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_rdb_refuses_to_start(tmp_path, damage):
    server = start(tmp_path)
    client = redis.Redis(port=server.port)
    client.mset({f"key{i}": "v" * 50 for i in range(200)})
    client.save()
    server.stop()
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    port = free_port()
    result = subprocess.run(ember_command() + ["--port", str(port), "--save", ""],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert READY_MARK not in result.stdout
    assert "Fatal error loading the DB" in result.stdout or "Short read" in result.stdout


def test_clients_get_loading_while_the_dataset_loads(tmp_path):
    server = start(tmp_path)
    client = redis.Redis(port=server.port)
    pipe = client.pipeline(transaction=False)
    for i in range(300000):
        pipe.set(b"k%d" % i, b"v")
    pipe.execute()
    client.save()
    server.stop()
    port = free_port()
    proc = subprocess.Popen(ember_command() + ["--port", str(port), "--save", ""],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        sock = _connect(port)
        sock.sendall(b"PING\r\nINFO persistence\r\n")
        reply = b""
        while b"loading:" not in reply:
            reply += sock.recv(65536)
        while not reply.endswith(b"\r\n\r\n"):
            reply += sock.recv(65536)
        assert reply.startswith(b"-LOADING Redis is loading the dataset in memory\r\n")
        assert b"loading:1" in reply
        total = (tmp_path / "dump.rdb").stat().st_size
        assert b"loading_total_bytes:%d\r\n" % total in reply
        assert b"loading_loaded_perc:" in reply
        sock.close()
        client = redis.Redis(port=port)
        assert wait_until(lambda: _dbsize(client) == 300000, timeout=60)
    finally:
        proc.terminate()
        proc.wait(10)


def _connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 20
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _dbsize(client):
    try:
        return client.dbsize()
    except redis.ResponseError:
        return -1


def test_ember_loads_a_redis_dump(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    port = free_port()
    ref = ServerProcess(["redis-server", "--port", str(port), "--save", "",
                         "--appendonly", "no"], port, str(tmp_path)).start()
    try:
        client = redis.Redis(port=port)
        client.set("from", "redis")
        client.zadd("z", {"a": 1.5})
        client.save()
    finally:
        ref.stop()
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.get("from") == b"redis"
        assert client.zscore("z", "a") == 1.5
    finally:
        server.stop()
    assert os.path.exists(tmp_path / "dump.rdb")

"""The multi-part AOF in a running ember-server: what is logged, restarts, BGREWRITEAOF,
automatic rewrites, torn tails (aof-load-truncated), an unfinished MULTI, corruption in
the middle, turning the AOF on at runtime, the command-form BASE, and ember-check-aof."""

import subprocess
import sys

import pytest
import redis

from tests.servers import READY_MARK, ServerProcess, ember_command, free_port, wait_until

MANIFEST = "appendonly.aof.manifest"


def start(tmp_path, *args) -> ServerProcess:
    port = free_port()
    argv = ember_command() + ["--port", str(port), "--save", "", "--appendonly", "yes",
                              "--enable-debug-command", "yes", *args]
    return ServerProcess(argv, port, str(tmp_path)).start()


def run_fail(tmp_path, *args):
    port = free_port()
    return subprocess.run(ember_command() + ["--port", str(port), "--save", "",
                                             "--appendonly", "yes", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)


def aof_dir(tmp_path):
    return tmp_path / "appendonlydir"


def incr_file(tmp_path):
    return sorted(aof_dir(tmp_path).glob("*.incr.aof"))[-1]


def test_fresh_start_creates_redis_layout(tmp_path):
    server = start(tmp_path)
    server.stop()
    assert sorted(p.name for p in aof_dir(tmp_path).iterdir()) == [
        "appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", MANIFEST]
    assert (aof_dir(tmp_path) / MANIFEST).read_bytes() == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n")


def test_writes_are_logged_in_absolute_form_and_survive_restart(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        client.set("a", "1")
        client.expire("a", 1000)
        client.set("b", "2", ex=500)
        client.rpush("l", "x", "y")
        client.sadd("s", "m1", "m2", "m3")
        client.spop("s")
        client.execute_command("SELECT", "4")
        client.hset("h", mapping={"f": "v"})
        client.get("a")                                   # reads are not logged
        data = incr_file(tmp_path).read_bytes()          # written before the replies
    finally:
        server.stop()
    assert data.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n")
    assert b"PEXPIREAT" in data and b"PXAT" in data and b"expire" not in data
    assert b"SREM" in data and b"spop" not in data
    assert b"$6\r\nSELECT\r\n$1\r\n4\r\n" in data and b"\nGET\r" not in data.upper()
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.get("a") == b"1" and 990 < client.ttl("a") <= 1000
        assert 490 < client.ttl("b") <= 500
        assert client.lrange("l", 0, -1) == [b"x", b"y"]
        assert client.scard("s") == 2
        client.execute_command("SELECT", "4")
        assert client.hgetall("h") == {b"f": b"v"}
    finally:
        server.stop()


def test_bgrewriteaof_switches_to_a_new_base(tmp_path):
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        client.set_response_callback("BGREWRITEAOF", lambda reply, **kw: reply)
        for _ in range(100):
            client.incr("counter")
        client.set("before", "1")
        assert client.execute_command("BGREWRITEAOF") == (
            b"Background append only file rewriting started")
        client.set("during", "2")
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] == 1)
        client.set("after", "3")
        fields = client.info("persistence")
        assert fields["aof_last_bgrewrite_status"] == "ok"
        assert fields["aof_rewrite_in_progress"] == 0
        assert fields["aof_base_size"] > 0
    finally:
        server.stop()
    assert sorted(p.name for p in aof_dir(tmp_path).iterdir()) == [
        "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
    assert b"counter" not in (aof_dir(tmp_path) / "appendonly.aof.2.incr.aof").read_bytes()
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.get("counter") == b"100"
        assert client.mget("before", "during", "after") == [b"1", b"2", b"3"]
    finally:
        server.stop()


def test_automatic_rewrite_on_growth(tmp_path):
    server = start(tmp_path, "--auto-aof-rewrite-min-size", "20kb",
                   "--auto-aof-rewrite-percentage", "100")
    try:
        client = redis.Redis(port=server.port)
        pipe = client.pipeline(transaction=False)
        for _ in range(2000):
            pipe.set("k", "x" * 20)
        pipe.execute()
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] >= 1)
        assert wait_until(lambda: "Starting automatic rewriting of AOF" in server.log)
        assert wait_until(lambda: client.info("persistence")["aof_current_size"] < 20 * 1024)
    finally:
        server.stop()


def _write_some(tmp_path, *args):
    server = start(tmp_path, *args)
    try:
        client = redis.Redis(port=server.port)
        for i in range(10):
            client.set(f"k{i}", i)
    finally:
        server.stop()


def test_torn_tail_is_cut_with_aof_load_truncated(tmp_path):
    _write_some(tmp_path)
    path = incr_file(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole + b"*3\r\n$3\r\nSET\r\n$2\r\nk1")
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.dbsize() == 10
    finally:
        server.stop()
    assert "Truncating the AOF" in server.log
    assert path.read_bytes() == whole


def test_torn_tail_refuses_to_start_without_aof_load_truncated(tmp_path):
    _write_some(tmp_path)
    path = incr_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-3])
    result = run_fail(tmp_path, "--aof-load-truncated", "no")
    assert result.returncode == 1 and READY_MARK not in result.stdout
    assert "Unexpected end of file reading the append only file" in result.stdout


def test_unfinished_multi_at_the_tail_is_rolled_back(tmp_path):
    _write_some(tmp_path)
    path = incr_file(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole + b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nk0\r\n$1\r\nX\r\n")
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).get("k0") == b"0"
    finally:
        server.stop()
    assert "Revert incomplete MULTI/EXEC transaction" in server.log
    assert path.read_bytes() == whole


def test_corruption_in_the_middle_refuses_to_start(tmp_path):
    _write_some(tmp_path)
    path = incr_file(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 4] = b"!!!!"
    path.write_bytes(bytes(data))
    result = run_fail(tmp_path)
    assert result.returncode == 1 and READY_MARK not in result.stdout
    assert "Bad file format reading the append only file" in result.stdout
    check = subprocess.run([sys.executable, "-m", "ember.persistence.check_aof",
                            str(aof_dir(tmp_path) / MANIFEST)], capture_output=True,
                           text=True)
    assert check.returncode == 1 and "is not valid" in check.stdout


def test_a_file_missing_from_the_manifest_refuses_to_start(tmp_path):
    _write_some(tmp_path)
    incr_file(tmp_path).unlink()
    result = run_fail(tmp_path)
    assert result.returncode == 1 and READY_MARK not in result.stdout
    assert "Unable to obtain the AOF file appendonly.aof.1.incr.aof length" in result.stdout


def test_old_style_single_aof_is_upgraded(tmp_path):
    (tmp_path / "appendonly.aof").write_bytes(
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$2\r\nv6\r\n")
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.get("old") == b"v6"
        client.set("new", "v7")
    finally:
        server.stop()
    assert not (tmp_path / "appendonly.aof").exists()
    assert (aof_dir(tmp_path) / MANIFEST).read_bytes() == (
        b"file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).mget("old", "new") == [b"v6", b"v7"]
    finally:
        server.stop()


def test_bad_manifest_refuses_to_start(tmp_path):
    _write_some(tmp_path)
    (aof_dir(tmp_path) / MANIFEST).write_bytes(b"file x seq 1 type z\n")
    result = run_fail(tmp_path)
    assert result.returncode == 1
    assert "Unknown AOF file type" in result.stdout


def test_appendonly_turned_on_at_runtime(tmp_path):
    port = free_port()
    server = ServerProcess(ember_command() + ["--port", str(port), "--save", ""], port,
                           str(tmp_path)).start()
    try:
        client = redis.Redis(port=port)
        client.set("old", "1")
        client.config_set("appendonly", "yes")
        client.set("new", "2")
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] == 1)
        assert client.info("persistence")["aof_enabled"] == 1
    finally:
        server.stop()
    server = start(tmp_path)
    try:
        assert redis.Redis(port=server.port).mget("old", "new") == [b"1", b"2"]
    finally:
        server.stop()


@pytest.mark.parametrize("fsync", ["always", "everysec", "no"])
def test_command_form_base_and_fsync_modes(tmp_path, fsync):
    server = start(tmp_path, "--aof-use-rdb-preamble", "no", "--appendfsync", fsync)
    try:
        client = redis.Redis(port=server.port)
        client.zadd("z", {"a": 1.5, "b": -2})
        client.set("t", "v", px=900000)
        client.execute_command("BGREWRITEAOF")
        assert wait_until(lambda: client.info("persistence")["aof_rewrites"] == 1)
        client.set("x", "y")
    finally:
        server.stop()
    base = aof_dir(tmp_path) / "appendonly.aof.2.base.aof"
    assert base.read_bytes().startswith(b"*2\r\n$6\r\nSELECT\r\n")
    check = subprocess.run([sys.executable, "-m", "ember.persistence.check_aof",
                            str(aof_dir(tmp_path) / MANIFEST)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout
    assert "All AOF files and manifest are valid" in check.stdout
    server = start(tmp_path)
    try:
        client = redis.Redis(port=server.port)
        assert client.zrange("z", 0, -1, withscores=True) == [(b"b", -2.0), (b"a", 1.5)]
        assert 890000 < client.pttl("t") <= 900000
        assert client.get("x") == b"y"
    finally:
        server.stop()


def test_check_aof_fix_truncates_a_torn_tail(tmp_path):
    _write_some(tmp_path)
    path = incr_file(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole + b"*2\r\n$3\r\nDEL")
    check = subprocess.run([sys.executable, "-m", "ember.persistence.check_aof", "--fix",
                            str(aof_dir(tmp_path) / MANIFEST)], capture_output=True,
                           text=True, input="y\n")
    assert check.returncode == 0, check.stdout
    assert "Successfully truncated AOF" in check.stdout
    assert path.read_bytes() == whole

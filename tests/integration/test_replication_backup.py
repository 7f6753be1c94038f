"""``redis-cli --rdb`` against a running ember (REPLCONF rdb-only + SYNC): the file it
writes loads in ember and in redis-server with the same keyspace."""

import os
import shutil
import subprocess
import tempfile

import pytest

from tests.integration.test_replication_common import client, ember, snapshot
from tests.servers import redis_server_path, start_ember, start_redis

pytestmark = pytest.mark.skipif(shutil.which("redis-cli") is None,
                                reason="redis-cli is not installed")


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_cli_rdb_backup_loads_everywhere(diskless):
    source = ember("--repl-diskless-sync", diskless)
    c = client(source)
    c.set("s", "v")
    c.set("ttl", "v", px=800_000)
    c.rpush("l", *range(50))
    c.hset("h", mapping={"a": 1, "b": 2})
    c.sadd("set", 1, 2, 3)
    c.zadd("z", {"a": 1.5, "b": 2})
    client(source, 3).set("db3", "x")
    expected = snapshot(source)
    workdir = tempfile.mkdtemp(prefix="ember-backup-")
    path = os.path.join(workdir, "backup.rdb")
    try:
        done = subprocess.run(["redis-cli", "-p", str(source.port), "--rdb", path],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Transfer finished with success" in done.stdout + done.stderr
        # The source keeps serving, and nothing of the backup client stays behind.
        assert c.get("s") == b"v"
        loaded = start_ember("--dir", workdir, "--dbfilename", "backup.rdb")
        try:
            assert snapshot(loaded) == expected
        finally:
            loaded.stop()
        if redis_server_path() is not None:
            reference = start_redis("--dir", workdir, "--dbfilename", "backup.rdb")
            try:
                assert snapshot(reference) == expected
            finally:
                reference.stop()
    finally:
        c.close()
        source.stop()
        shutil.rmtree(workdir, ignore_errors=True)

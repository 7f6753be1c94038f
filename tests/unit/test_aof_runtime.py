"""The AOF writer and the snapshot helpers without a server: SELECT tracking, flushing,
the files open() creates, a rewrite run in the foreground (the no-fork fallback), the
crash-safe file writer and the start-up clean-up of temp files."""

import os

import pytest

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.persistence import snapshot
from ember.persistence.aof import AppendOnlyFile, encode_command, write_commands_base
from ember.persistence.aof_manifest import Manifest, parse_manifest
from ember.persistence.loading import load_aof
from ember.server.config import Config


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_engine() -> Engine:
    load_all()
    return Engine(Config())


def make_aof(engine, preamble=False) -> AppendOnlyFile:
    engine.config.set("aof-use-rdb-preamble", ["yes" if preamble else "no"])
    return AppendOnlyFile(engine.config, "appendonlydir", Manifest(), snapshot.ChildRunner(),
                          lambda write: write_commands_base(write, engine.dbs, engine.now()))


def test_open_creates_base_incr_and_manifest(workdir):
    aof = make_aof(make_engine())
    aof.open()
    aof.close()
    assert sorted(os.listdir("appendonlydir")) == [
        "appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]


def test_propagate_writes_select_only_when_the_db_changes(workdir):
    aof = make_aof(make_engine())
    aof.open()
    aof.propagate(0, [b"SET", b"a", b"1"])
    aof.propagate(0, [b"SET", b"b", b"2"])
    aof.propagate(3, [b"DEL", b"c"])
    assert len(aof.buf) == 5
    path = "appendonlydir/appendonly.aof.1.incr.aof"
    assert os.path.getsize(path) == 0          # nothing written before the flush
    aof.flush()
    assert aof.buf == []
    with open(path, "rb") as handle:
        assert handle.read() == b"".join([
            encode_command([b"SELECT", b"0"]), encode_command([b"SET", b"a", b"1"]),
            encode_command([b"SET", b"b", b"2"]), encode_command([b"SELECT", b"3"]),
            encode_command([b"DEL", b"c"])])
    aof.close()


@pytest.mark.parametrize("always", [False, True])
def test_flush_in_both_fsync_modes(workdir, always):
    engine = make_engine()
    engine.config.set("appendfsync", ["always" if always else "everysec"])
    aof = make_aof(engine)
    aof.open()
    aof.propagate(0, [b"SET", b"a", b"1"])
    aof.flush()
    assert aof._unsynced is not always
    assert aof.current_size > 0
    aof.close()


def test_foreground_rewrite_replaces_base_and_old_incrs(workdir):
    engine = make_engine()
    client = engine.new_client()
    aof = make_aof(engine)
    aof.open()
    engine.propagators.append(aof.propagate)
    for _ in range(50):
        engine.execute(client, [b"INCR", b"counter"])
    assert aof.start_rewrite(fork=False) == 0      # no fork: done before it returns
    engine.execute(client, [b"SET", b"after", b"1"])
    aof.flush()
    aof.close()
    assert aof.rewrites == 1
    manifest = parse_manifest(open("appendonlydir/appendonly.aof.manifest", "rb").read())
    assert [i.name for i in manifest.files()] == ["appendonly.aof.2.base.aof",
                                                  "appendonly.aof.2.incr.aof"]
    assert sorted(os.listdir("appendonlydir")) == [
        "appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    fresh = make_engine()
    load_aof(fresh, "appendonlydir", manifest, False)
    assert fresh.dbs[0].data == {b"counter": b"50", b"after": b"1"}


def test_write_file_atomically_keeps_the_old_file_on_error(workdir):
    (workdir / "dump.rdb").write_bytes(b"old")

    def broken(write):
        write(b"partial")
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        snapshot.write_file_atomically("dump.rdb", broken)
    assert (workdir / "dump.rdb").read_bytes() == b"old"
    assert os.listdir(workdir) == ["dump.rdb"]
    assert snapshot.write_file_atomically("dump.rdb", lambda write: write(b"new")) == 3
    assert (workdir / "dump.rdb").read_bytes() == b"new"


def test_remove_temp_files_only_removes_ours(workdir):
    for name in ("temp-1.rdb", "temp-rewriteaof-bg-22.aof", "temp-rewriteaof-3.aof",
                 "temp-x.rdb", "dump.rdb", "temp-1.rdb.bak"):
        (workdir / name).write_bytes(b"")
    assert sorted(snapshot.remove_temp_files(".")) == [
        "temp-1.rdb", "temp-rewriteaof-3.aof", "temp-rewriteaof-bg-22.aof"]
    assert sorted(os.listdir(workdir)) == ["dump.rdb", "temp-1.rdb.bak", "temp-x.rdb"]


def test_child_runner_foreground_and_forked():
    runner = snapshot.ChildRunner()
    results = []
    assert runner.start("rdb", lambda: True, lambda ok, s: results.append(ok), fork=False) == 0
    assert results == [True] and not runner.busy
    pid = runner.start("rdb", lambda: False, lambda ok, s: results.append(ok))
    assert pid > 0 and runner.busy and runner.kind == "rdb"
    assert runner.poll(block=True)
    assert results == [True, False] and not runner.busy


def test_timestamp_annotations_when_enabled(workdir):
    engine = make_engine()
    engine.config.set("aof-timestamp-enabled", ["yes"])
    aof = make_aof(engine)
    aof.open()
    assert aof.propagator == aof.propagate_timestamped
    aof.propagator(0, [b"SET", b"a", b"1"])
    aof.propagator(0, [b"SET", b"b", b"2"])
    aof.flush()
    aof.close()
    with open("appendonlydir/appendonly.aof.1.incr.aof", "rb") as handle:
        data = handle.read()
    assert data.startswith(b"#TS:") and 1 <= data.count(b"#TS:") <= 2   # a second may tick
    fresh = make_engine()
    load_aof(fresh, "appendonlydir", aof.manifest, False)
    assert fresh.dbs[0].data == {b"a": b"1", b"b": b"2"}

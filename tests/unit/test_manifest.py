"""The AOF manifest: Redis 7's exact text, and Redis's errors for bad manifests."""

import pytest

from ember.persistence.aof_manifest import (
    AofInfo,
    Manifest,
    ManifestError,
    format_manifest,
    parse_manifest,
)

REDIS_EXAMPLE = (b"file appendonly.aof.2.base.rdb seq 2 type b\n"
                 b"file appendonly.aof.1.incr.aof seq 1 type h\n"
                 b"file appendonly.aof.2.incr.aof seq 2 type h\n"
                 b"file appendonly.aof.3.incr.aof seq 3 type h\n"
                 b"file appendonly.aof.4.incr.aof seq 4 type i\n"
                 b"file appendonly.aof.5.incr.aof seq 5 type i\n")


def test_redis_example_round_trips():
    manifest = parse_manifest(REDIS_EXAMPLE)
    assert manifest.base == AofInfo("appendonly.aof.2.base.rdb", 2, "b")
    assert [i.seq for i in manifest.history] == [1, 2, 3]
    assert [i.name for i in manifest.incrs] == ["appendonly.aof.4.incr.aof",
                                                "appendonly.aof.5.incr.aof"]
    assert manifest.incr_seq == 5 and manifest.base_seq == 2
    assert format_manifest(manifest) == REDIS_EXAMPLE


def test_fresh_manifest_is_what_redis_writes_on_start():
    manifest = Manifest()
    assert manifest.new_base("appendonly.aof", True) == "appendonly.aof.1.base.rdb"
    assert manifest.new_incr("appendonly.aof") == "appendonly.aof.1.incr.aof"
    # byte for byte what redis-server 7.0.15 wrote in a fresh appendonlydir
    assert format_manifest(manifest) == (b"file appendonly.aof.1.base.rdb seq 1 type b\n"
                                         b"file appendonly.aof.1.incr.aof seq 1 type i\n")


def test_rewrite_moves_old_files_to_history():
    manifest = parse_manifest(b"file a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type i\n")
    manifest.new_incr("a")                       # opened when the rewrite starts
    assert manifest.new_base("a", False) == "a.2.base.aof"
    manifest.incrs_to_history(1)
    assert format_manifest(manifest) == (b"file a.2.base.aof seq 2 type b\n"
                                         b"file a.1.base.rdb seq 1 type h\n"
                                         b"file a.1.incr.aof seq 1 type h\n"
                                         b"file a.2.incr.aof seq 2 type i\n")
    assert [i.name for i in manifest.files()] == ["a.2.base.aof", "a.2.incr.aof"]


def test_keys_in_any_order_comments_and_unknown_keys():
    manifest = parse_manifest(b"# comment\nseq 3 type i file x.3.incr.aof future 1\n")
    assert manifest.incrs == [AofInfo("x.3.incr.aof", 3, "i")]


def test_names_needing_quotes_are_quoted_and_read_back():
    manifest = Manifest(incrs=[AofInfo("my file.1.incr.aof", 1, "i")], incr_seq=1)
    text = format_manifest(manifest)
    assert text == b'file "my file.1.incr.aof" seq 1 type i\n'
    assert parse_manifest(text).incrs[0].name == "my file.1.incr.aof"


@pytest.mark.parametrize("data, message", [
    (b"", "Found an empty AOF manifest"),
    (b"file a seq 1 type i", "The AOF manifest file contains too long line"),
    (b"\n", "Invalid AOF manifest file format"),
    (b"file a seq 1\n", "Invalid AOF manifest file format"),
    (b"file a seq 0 type i\n", "Invalid AOF manifest file format"),
    (b"file dir/a seq 1 type i\n", "File can't be a path, just a filename"),
    (b"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
    (b"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
    (b"file a seq 1 type x\n", "Unknown AOF file type"),
    (b"file " + b"a" * 1100 + b" seq 1 type i\n", "The AOF manifest file contains too long line"),
])
def test_bad_manifests_give_redis_errors(data, message):
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert info.value.message == message

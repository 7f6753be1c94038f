"""ember-check-rdb, and the RDB fixtures made by redis-server 7.0 (tests/data/rdb/):
the report's format, and the first bad offset equal to redis-check-rdb's on truncations."""

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ember.persistence.check_rdb import check, main
from ember.persistence.functions_io import library_codes, load_libraries
from ember.persistence.rdb import load_rdb, write_rdb
from tests.servers import require_redis
from tests.unit.harness import Harness

DATA = Path(__file__).resolve().parent.parent / "data" / "rdb"
FIXTURES = sorted(DATA.glob("redis-7.0-*.rdb"))


def report(path) -> str:
    out = io.StringIO()
    code = check(str(path), out)
    return code, out.getvalue()


def error_offset(text: str):
    found = re.search(r"--- RDB ERROR DETECTED ---\n\[offset (\d+)\]", text)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_checks_ok_and_loads(path):
    code, text = report(path)
    assert code == 0, text
    assert "\\o/ RDB looks OK! \\o/" in text
    assert "AUX FIELD redis-ver = '7.0.15'" in text
    assert "[info] 24 keys read" in text and "[info] 1 expires" in text
    h = Harness()
    codes = []
    load_rdb(path.open("rb").read, h.engine.dbs, functions=codes)
    load_libraries(h.engine, codes)
    assert h("FCALL", "myfunc", "0") in (1, b":1\r\n")
    assert h("LRANGE", "list", "0", "-1") == [b"a", b"1", b"-2", b"300000", b"b" * 70]
    assert h("GET", "compressible") == b"abc" * 200
    assert h("OBJECT", "ENCODING", "intset") == b"intset"
    assert h("XLEN", "stream") == 297
    assert h("PEXPIRETIME", "farfuture") == 4102444800000
    # and back: ember writes the libraries too
    out = io.BytesIO()
    write_rdb(out.write, h.engine.dbs, functions=library_codes(h.engine))
    again = []
    load_rdb(io.BytesIO(out.getvalue()).read, Harness().engine.dbs, functions=again)
    assert again == codes


def test_errors_report_offset_and_context(tmp_path):
    data = FIXTURES[0].read_bytes()
    bad = tmp_path / "bad.rdb"
    bad.write_bytes(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
    code, text = report(bad)
    assert code == 1
    assert f"[offset {len(data)}] RDB CRC error" in text
    assert "While doing: check-sum" in text
    bad.write_bytes(data[:2000])
    code, text = report(bad)
    assert code == 1 and "Unexpected EOF reading RDB file" in text
    assert "[additional info] Reading key" in text
    assert main([str(tmp_path / "missing.rdb")]) == 1
    assert main([]) == 1


def test_first_bad_offset_matches_redis_check_rdb(tmp_path):
    tool = shutil.which("redis-check-rdb")
    if tool is None:
        if require_redis():
            pytest.fail("EMBER_REQUIRE_REDIS=1 but redis-check-rdb is not installed")
        pytest.skip("redis-check-rdb is not installed")
    cut = tmp_path / "cut.rdb"
    for path in FIXTURES:
        data = path.read_bytes()
        for size in [*range(0, len(data), 211), len(data) - 1, len(data) - 8, len(data) - 9]:
            cut.write_bytes(data[:size])
            theirs = subprocess.run([tool, str(cut)], capture_output=True, text=True).stdout
            code, ours = report(cut)
            assert code == 1
            assert error_offset(ours) == error_offset(theirs), (path.name, size, theirs)

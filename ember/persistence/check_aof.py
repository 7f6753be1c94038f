"""`ember-check-aof [--fix] <file.manifest|file.aof>`: redis-check-aof for ember.

Checks a multi-part AOF (given its manifest: the BASE, then every INCR file) or a single
AOF file, reports the first bad offset as redis-check-aof does (``AOF analyzed:
filename=..., size=..., ok_up_to=..., ok_up_to_line=..., diff=...``) and, with ``--fix``,
truncates a torn or unfinished tail of the last file at the last valid command (after
asking, unless stdin answers). Exit code 0 when valid (or fixed), 1 otherwise.
"""

import os
import sys

from ember.persistence import aof_load
from ember.persistence.aof_manifest import ManifestError, parse_manifest
from ember.persistence.rdb import RdbError
from ember.persistence.rdb_load import load_into
from ember.persistence.reader import Reader
from ember.storage.keyspace import Database

USAGE = "Usage: ember-check-aof [--fix] <file.manifest|file.aof>\n"


class Result:
    """What checking one file found."""

    def __init__(self, name: str, size: int, ok_up_to: int, lines: int, error):
        self.name = name
        self.size = size
        self.ok_up_to = ok_up_to
        self.lines = lines
        self.error = error            # None, "truncated", "format", "rdb"


def check_file(path: str, out=print) -> Result:
    """Check one AOF file (an RDB preamble, then commands)."""
    with open(path, "rb") as handle:
        data = handle.read()
    pos = 0
    if aof_load.has_rdb_preamble(data):
        reader = Reader(data=data, track_crc=True)
        dbs = [Database(i, lambda: 0) for i in range(16)]
        try:
            load_into(reader, dbs)
        except RdbError as exc:
            out("RDB preamble of AOF file is not sane, aborting (%s at offset %d)."
                % (exc.message, exc.offset))
            return Result(path, len(data), 0, 0, "rdb")
        pos = reader.offset
        out("RDB preamble is OK, proceeding with AOF tail...")
    valid, error, in_multi = aof_load.check_commands(data, pos)
    if error == "truncated" and valid < len(data) and not in_multi:
        out("0x%16x: Expected to read more bytes, got %d bytes" % (valid, len(data) - valid))
    elif error == "truncated" and in_multi:
        out("Reached EOF before reading EXEC for MULTI")
    elif error == "format":
        out("AOF %s format error" % path)
    elif error == "nested-multi":
        out("Unexpected MULTI")
        error = "format"
    lines = data.count(b"\n", 0, valid) if valid else 0
    out("AOF analyzed: filename=%s, size=%d, ok_up_to=%d, ok_up_to_line=%d, diff=%d"
        % (path, len(data), valid, lines + (1 if pos and not lines else 0),
           len(data) - valid))
    return Result(path, len(data), valid, lines, error)


def fix(result: Result, confirm) -> bool:
    """Truncate the file at its last valid command, if the user agrees."""
    print("This will shrink the AOF %s from %d bytes, with %d bytes, to %d bytes"
          % (result.name, result.size, result.size - result.ok_up_to, result.ok_up_to))
    if not confirm():
        print("Aborting...")
        return False
    os.truncate(result.name, result.ok_up_to)
    print("Successfully truncated AOF %s" % result.name)
    return True


def _ask() -> bool:
    sys.stdout.write("Continue? [y/N]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer[:1].lower() == "y"


def check_manifest(path: str, do_fix: bool, confirm=_ask) -> int:
    """Check every file the manifest lists; 0 when all are valid."""
    print("Start checking Multi Part AOF")
    directory = os.path.dirname(path) or "."
    try:
        with open(path, "rb") as handle:
            manifest = parse_manifest(handle.read())
    except ManifestError as exc:
        print("Invalid AOF manifest file format: %s" % exc.message)
        return 1
    except OSError as exc:
        print("Cannot open file %s: %s" % (path, exc.strerror))
        return 1
    files = manifest.files()
    for number, info in enumerate(files):
        last = number == len(files) - 1
        kind = "BASE" if info.type == "b" else "INCR"
        if info.type == "b":
            fmt = "RDB" if info.name.endswith(".rdb") else "AOF"
            print("Start to check BASE AOF (%s format)." % fmt)
        elif number == (1 if manifest.base else 0):
            print("Start to check INCR files.")
        file_path = os.path.join(directory, info.name)
        try:
            result = check_file(file_path)
        except OSError as exc:
            print("Cannot open file %s: %s" % (info.name, exc.strerror))
            return 1
        if result.error is None:
            print("%s AOF %s is valid" % (kind, info.name))
            continue
        if result.error == "truncated" and last and do_fix:
            if fix(result, confirm):
                continue
            return 1
        if result.error == "truncated" and not last:
            print("%s AOF %s is not the last file: it cannot be truncated." % (kind, info.name))
        else:
            print("%s AOF %s is not valid. Use the --fix option to try fixing it."
                  % (kind, info.name))
        return 1
    print("All AOF files and manifest are valid")
    return 0


def check_single(path: str, do_fix: bool, confirm=_ask) -> int:
    """Check one AOF file (old style or with an RDB preamble)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        print("Cannot open file %s: %s" % (path, exc.strerror))
        return 1
    print("Start checking %s AOF" % ("RDB-preamble" if head == b"REDIS" else "Old-Style"))
    result = check_file(path)
    if result.error is None:
        print("AOF %s is valid" % path)
        return 0
    if do_fix and result.error == "truncated":
        return 0 if fix(result, confirm) else 1
    print("AOF %s is not valid. Use the --fix option to try fixing it." % path)
    return 1


def main(argv: list = None) -> int:
    """Entry point of ``ember-check-aof``."""
    argv = sys.argv[1:] if argv is None else argv
    do_fix = False
    if len(argv) == 2 and argv[0] == "--fix":
        do_fix = True
        argv = argv[1:]
    if len(argv) != 1:
        sys.stderr.write(USAGE)
        return 1
    path = argv[0]
    if path.endswith(".manifest"):
        return check_manifest(path, do_fix)
    return check_single(path, do_fix)


if __name__ == "__main__":
    raise SystemExit(main())

"""ember-check-rdb: check an RDB file the way redis-check-rdb does.

    ember-check-rdb <rdb-file>

It loads the whole file with ember's RDB reader (every version up to 12), printing the
AUX fields and databases as it goes, and either ``\\o/ RDB looks OK! \\o/`` (exit 0) or
``--- RDB ERROR DETECTED ---`` with the offset of the first bad byte, what was being read
and the key being read (exit 1), in redis-check-rdb's format.
"""

import sys
import time

from ember.persistence.rdb import RdbError, load_rdb
from ember.persistence.rdb_format import OPCODE_FUNCTION2
from ember.storage.keyspace import Database

_TYPE_NAMES = {
    0: "string", 1: "list-linked", 2: "set-hashtable", 3: "zset-v1", 4: "hash-hashtable",
    5: "zset-v2", 6: "module-pre-release", 7: "module-value", 9: "hash-zipmap",
    10: "list-ziplist", 11: "set-intset", 12: "zset-ziplist", 13: "hash-ziplist",
    14: "quicklist", 15: "stream", 16: "hash-listpack", 17: "zset-listpack",
    18: "quicklist-v2", 19: "stream-v2", 20: "set-listpack", 21: "stream-v3",
    22: "hash-hashtable-md-prega", 23: "hash-listpack-md-prega", 24: "hash-hashtable-md",
    25: "hash-listpack-md",
}
_MAX_DBS = 1 << 14


class _LazyDbs:
    """As many databases as a file may select, made when first selected."""

    def __init__(self):
        self.made = {}

    def __len__(self):
        return _MAX_DBS

    def __getitem__(self, index):
        if index not in self.made:
            self.made[index] = Database(index, lambda: 0)
        return self.made[index]

    def __iter__(self):
        return iter(self.made.values())


class _Tracer:
    """Follows the load (trace callback) and prints redis-check-rdb's lines."""

    def __init__(self, out):
        self.out = out
        self.doing = "read-type"
        self.key = None
        self.type = None

    def __call__(self, event, offset, data):
        if event == "doing":
            self.doing = data
            if data != "read-type":
                return
            self.key = self.type = None
        elif event == "aux":
            name, value = data
            self.say(offset, "AUX FIELD %s = '%s'" % (name.decode("latin-1"),
                                                      value.decode("latin-1")))
            self.doing = "read-type"
        elif event == "selectdb":
            self.say(offset, "Selecting DB ID %d" % data)
        elif event == "key":
            self.key, self.type = data
            self.doing = "read-object-value"

    def say(self, offset, text):
        """One ``[offset N] text`` line."""
        print("[offset %d] %s" % (offset, text), file=self.out)


def check(path: str, out=sys.stdout) -> int:
    """Check the RDB at ``path``; print the report; return the exit code (0 or 1)."""
    tracer = _Tracer(out)
    tracer.say(0, "Checking RDB file %s" % path)
    dbs = _LazyDbs()
    stats = {}
    functions = []
    try:
        with open(path, "rb") as f:
            load_rdb(f.read, dbs, stats=stats, functions=functions, trace=tracer)
            end = f.tell()
    except OSError as exc:
        print("Cannot check RDB file %s: %s" % (path, exc.strerror or exc), file=out)
        return 1
    except RdbError as exc:
        print("--- RDB ERROR DETECTED ---", file=out)
        if "checksum" in exc.message:          # Redis reports it after the trailer
            tracer.say(exc.offset + 8, "RDB CRC error")
        else:
            tracer.say(exc.offset, exc.message)
        print("[additional info] While doing: %s" % tracer.doing, file=out)
        if tracer.key is not None:
            print("[additional info] Reading key '%s'"
                  % tracer.key.decode("latin-1"), file=out)
        if tracer.type is not None:
            print("[additional info] Reading type %d (%s)"
                  % (tracer.type, _TYPE_NAMES.get(tracer.type, "unknown")), file=out)
        _summary(dbs, out)
        return 1
    tracer.say(end, "Checksum OK")
    tracer.say(end, "\\o/ RDB looks OK! \\o/")
    if functions:
        print("[info] %d function libraries (opcode %d)" % (len(functions), OPCODE_FUNCTION2),
              file=out)
    _summary(dbs, out)
    return 0


def _summary(dbs, out) -> None:
    now = int(time.time() * 1000)
    keys = sum(len(db.data) for db in dbs)
    expires = sum(len(db.expires) for db in dbs)
    expired = sum(1 for db in dbs for when in db.expires.values() if when < now)
    print("[info] %d keys read" % keys, file=out)
    print("[info] %d expires" % expires, file=out)
    print("[info] %d already expired" % expired, file=out)


def main(argv=None) -> int:
    """Console entry point: ``ember-check-rdb <rdb-file>``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("Usage: ember-check-rdb <rdb-file-name>", file=sys.stderr)
        return 1
    return check(args[0])


if __name__ == "__main__":
    sys.exit(main())

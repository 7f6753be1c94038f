"""Reading a whole RDB file: header, opcodes, AUX fields, databases, EOF and CRC-64."""

from ember.persistence import rdb_format as F
from ember.persistence.rdb_read import DEFAULT_LIMITS, is_object_type, load_object
from ember.persistence.reader import RdbError, Reader
from ember.storage.types.hash import HashValue


def read_header(reader: Reader) -> int:
    """Check the ``REDIS`` magic and return the format version (1..12)."""
    magic = reader.read(9)
    if magic[:5] != b"REDIS":
        raise RdbError("Wrong signature trying to load DB from file", 0)
    digits = magic[5:]
    if not digits.isdigit():
        raise RdbError("Wrong signature trying to load DB from file", 5)
    version = int(digits)
    if version < 1 or version > F.MAX_VERSION:
        raise RdbError("Can't handle RDB format version %d" % version, 5)
    return version


def load_into(reader: Reader, dbs, now_ms=None, limits=None, functions=None,
              stats=None, trace=None) -> dict:
    """Load every key of the file behind ``reader`` into ``dbs``; return the AUX fields
    (str -> bytes). ``functions``, a list, receives each function library's code;
    ``stats``, a dict, receives counts (keys loaded, expired keys skipped) and
    ``hash_ttl_keys``: (db index, key) of hashes with field deadlines, which the server
    must hand to active expiry (``ember.commands.hash_ttl.track_hash``). ``trace``
    (ember-check-rdb) is called as ``trace(event, offset, data)`` for "aux", "selectdb",
    "key" (before its value is read), "doing" (what is being read) and "checksum"."""
    limits = limits or DEFAULT_LIMITS
    version = read_header(reader)
    aux = {}
    db = dbs[0] if dbs else None
    data = db.data if db is not None else None
    expire = None
    idle = None
    loaded = skipped = expiring = 0
    hash_ttl_keys = [] if stats is not None else None
    string = reader.string
    byte = reader.byte
    while True:
        # The common entry written out: a short string key and value, no TTL/IDLE, read
        # straight from the buffer (a third of the load time of 1M small keys).
        buf = reader.buf
        pos = reader.pos
        if pos + 130 <= len(buf) and buf[pos] == 0 and expire is None and idle is None \
                and trace is None and data is not None:
            size = buf[pos + 1]
            if size < 64:
                at = pos + 2 + size
                vsize = buf[at]
                if vsize < 64:
                    key = buf[pos + 2:at]
                    if key not in data:
                        data[key] = buf[at + 1:at + 1 + vsize]
                        reader.pos = at + 1 + vsize
                        loaded += 1
                        continue
        op_at = reader.base + pos
        t = byte()
        if t == 0 and trace is None:
            key = string()
            value = string()
        elif t >= 244:
            if t == F.OPCODE_EXPIRETIME_MS:
                expire = reader.i64le()
            elif t == F.OPCODE_EXPIRETIME:
                expire = int.from_bytes(reader.read(4), "little", signed=True) * 1000
            elif t == F.OPCODE_SELECTDB:
                index = reader.length()
                if trace is not None:
                    trace("selectdb", reader.offset, index)
                if index >= len(dbs):
                    raise RdbError("FATAL: Data file was created with a Redis server "
                                   "configured to handle more than %d databases"
                                   % len(dbs), op_at)
                db = dbs[index]
                data = db.data
            elif t == F.OPCODE_RESIZEDB:
                reader.length()
                reader.length()
            elif t == F.OPCODE_AUX:
                if trace is not None:
                    trace("doing", reader.offset, "read-aux")
                name = string()
                aux[name.decode("latin-1")] = value = string()
                if trace is not None:
                    trace("aux", reader.offset, (name, value))
            elif t == F.OPCODE_IDLE:
                idle = reader.length()
            elif t == F.OPCODE_FREQ:
                idle = -1 - byte()              # negative: an LFU counter, see below
            elif t == F.OPCODE_FUNCTION2:
                code = string()
                if functions is not None:
                    functions.append(code)
            elif t == F.OPCODE_SLOT_INFO:
                reader.length()
                reader.length()
                reader.length()
            elif t == F.OPCODE_EOF:
                break
            elif t == F.OPCODE_FUNCTION_PRE_GA:
                raise RdbError("Pre-release function format not supported", op_at)
            elif t == F.OPCODE_MODULE_AUX:
                raise RdbError("The RDB file contains AUX module data (RDB_OPCODE_MODULE_AUX)"
                               " that ember cannot load: it has no modules", op_at)
            else:
                raise RdbError("Unknown RDB opcode %d" % t, op_at)
            continue
        elif is_object_type(t):
            if trace is not None:
                trace("doing", reader.offset, "read-key")
            key = string()
            if trace is not None:
                trace("key", reader.offset, (key, t))
            value = load_object(reader, t, limits, now_ms or 0)
            if trace is not None:
                trace("doing", reader.offset, "read-type")
        else:
            raise RdbError("Unknown RDB value type %d" % t, op_at)
        if data is None:
            raise RdbError("A key before any database was selected", op_at)
        if key in data:
            raise RdbError("Duplicate key '%s' found in RDB file"
                           % key.decode("utf-8", "replace"), op_at)
        if value is None:               # an empty collection: Redis skips it too
            expire = idle = None
            continue
        if expire is not None:
            expiring += 1
            if now_ms is not None and expire < now_ms:
                skipped += 1
                expire = idle = None
                continue
            data[key] = value
            db.expires[key] = expire
            db.index.add(expire, key)
            expire = None
        else:
            data[key] = value
        if type(value) is HashValue and value.ttls and hash_ttl_keys is not None:
            hash_ttl_keys.append((db.id, key))
        if idle is not None:
            _set_lru_or_lfu(db, key, idle)
            idle = None
        loaded += 1
    if version >= 5:
        if trace is not None:
            trace("doing", reader.offset, "check-sum")
        expected = reader.crc_now()
        at = reader.offset
        checksum = reader.u64le()
        if checksum and checksum != expected:
            raise RdbError("Wrong RDB checksum expected: (%016x) got: (%016x)"
                           % (checksum, expected), at)
    if stats is not None:
        stats["keys"] = loaded
        stats["expired_skipped"] = skipped
        stats["expires"] = expiring
        stats["version"] = version
        stats["bytes"] = reader.offset        # where the RDB ended (an AOF tail follows)
        stats["hash_ttl_keys"] = hash_ttl_keys
    return aux


def _set_lru_or_lfu(db, key: bytes, idle: int) -> None:
    """objectSetLRUOrLFU: an IDLE (idle >= 0, seconds) sets the access time unless the
    databases keep LFU counters; a FREQ (idle = -1 - counter) sets the counter only then."""
    set_counter = getattr(db.access, "set_counter", None)
    if idle >= 0:
        if set_counter is None:
            db.access[key] = db.time.s - idle
    elif set_counter is not None:
        set_counter(key, -1 - idle, db.time.ms // 60000)

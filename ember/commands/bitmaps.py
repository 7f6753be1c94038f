"""Bitmap commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
BITFIELD_RO (Redis's bitops.c). The bit arithmetic lives in
:mod:`ember.storage.types.bitfield`; this module parses arguments in Redis's order and
applies Redis's errors and limits.
"""

from ember.commands.args import int_arg
from ember.commands.registry import command
from ember.errors import SYNTAX, WRONGTYPE, ReplyError
from ember.protocol.numbers import parse_int
from ember.storage.types import bitfield as bf

_STRING_TYPES = (bytes, bytearray)
BIT_OFFSET_ERROR = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERROR = "ERR bit is not an integer or out of range"
BITFIELD_TYPE_ERROR = ("ERR Invalid bitfield type. Use something like i16 u8. "
                       "Note that u64 is not supported but i64 is.")
_U64 = (1 << 64) - 1


def bit_offset(ctx, arg: bytes, hash_bits: int = 0) -> int:
    """A bit offset argument (Redis's getBitOffsetFromArgument).

    With ``hash_bits`` (BITFIELD), ``#N`` means N fields of that width. Offsets whose
    byte is at or past proto-max-bulk-len are refused before anything is allocated.
    """
    use_hash = hash_bits > 0 and arg[:1] == b"#"
    value = parse_int(arg[1:] if use_hash else arg)
    if value is None:
        raise ReplyError(BIT_OFFSET_ERROR)
    if use_hash:
        value = (value * hash_bits) & _U64          # C's wrapping int64 multiply
        if value >> 63:
            value -= 1 << 64
    if value < 0 or (value >> 3) >= ctx.engine.config.proto_max_bulk_len:
        raise ReplyError(BIT_OFFSET_ERROR)
    return value


def _read_string(db, key: bytes):
    """The string at ``key`` for reading, None if missing; WRONGTYPE for other types."""
    value = db.lookup(key)
    if value is None or type(value) in _STRING_TYPES:
        return value
    raise ReplyError(WRONGTYPE)


def string_for_bit_write(db, key: bytes, max_bit: int):
    """(bytearray grown to hold ``max_bit``, whether the key was created or grew).

    Redis's lookupStringForBitCommand: a missing key becomes zero bytes, a stored
    string becomes a mutable copy, zero-padded as needed.
    """
    size = (max_bit >> 3) + 1
    current = db.lookup_write(key)
    if current is None:
        buf = bytearray(size)
        db.set(key, buf)
        return buf, True
    kind = type(current)
    if kind is bytearray:
        buf = current
    elif kind is bytes:
        buf = bytearray(current)
        db.set(key, buf, keep_ttl=True)
    else:
        raise ReplyError(WRONGTYPE)
    if len(buf) < size:
        buf.extend(bytes(size - len(buf)))
        return buf, True
    return buf, False


@command("setbit", arity=4, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         since="2.2.0")
def setbit(ctx, argv):
    """Set or clear the bit at offset in the string value stored at key."""
    offset = bit_offset(ctx, argv[2])
    on = parse_int(argv[3])
    if on is None or on & ~1:
        raise ReplyError(BIT_VALUE_ERROR)
    db = ctx.db
    buf, grew = string_for_bit_write(db, argv[1], offset)
    byte = offset >> 3
    mask = 1 << (7 - (offset & 7))
    old = 1 if buf[byte] & mask else 0
    if grew or old != on:
        buf[byte] = (buf[byte] | mask) if on else (buf[byte] & ~mask)
        ctx.engine.key_modified(db, argv[1], "setbit")
    return old


@command("getbit", arity=3, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         since="2.2.0")
def getbit(ctx, argv):
    """Return the bit value at offset in the string value stored at key."""
    offset = bit_offset(ctx, argv[2])
    value = _read_string(ctx.db, argv[1])
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


def _bit_unit(arg: bytes) -> bool:
    """True for BIT, False for BYTE; anything else is a syntax error."""
    unit = arg.lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise ReplyError(SYNTAX)


def _clamp_range(start: int, end: int, total: int):
    """Redis's negative-index conversion: (start, end) clamped into ``0..total-1``."""
    if start < 0:
        start = max(total + start, 0)
    if end < 0:
        end = max(total + end, 0)
    if end >= total:
        end = total - 1
    return start, end


@command("bitcount", arity=-2, flags="readonly", keys=(1, 1, 1), group="bitmap",
         since="2.6.0")
def bitcount(ctx, argv):
    """Count set bits in a string, optionally in a byte or bit range."""
    value = _read_string(ctx.db, argv[1])
    if value is None:
        return 0
    n = len(argv)
    if n == 2:
        return int.from_bytes(value, "big").bit_count()
    if n not in (4, 5):
        raise ReplyError(SYNTAX)
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    is_bit = _bit_unit(argv[4]) if n == 5 else False
    total = len(value) << 3 if is_bit else len(value)
    start, end = _clamp_range(start, end, total)
    if start > end:
        return 0
    if not is_bit:
        return bf.bit_count(value, start, end)
    first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
    last_mask = (1 << (7 - (end & 7))) - 1
    return bf.bit_count(value, start >> 3, end >> 3, first_mask, last_mask)


@command("bitpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="bitmap",
         since="2.8.7")
def bitpos(ctx, argv):
    """Find the first bit set or clear in a string, optionally in a range."""
    bit = int_arg(argv[2])
    if bit not in (0, 1):
        raise ReplyError("ERR The bit argument must be 1 or 0.")
    value = _read_string(ctx.db, argv[1])
    if value is None:
        return -1 if bit else 0
    n = len(argv)
    size = len(value)
    end_given = False
    if n == 3:
        start_bit, end_bit = 0, (size << 3) - 1
    elif n in (4, 5, 6):
        start = int_arg(argv[3])
        is_bit = _bit_unit(argv[5]) if n == 6 else False
        if n >= 5:
            end = int_arg(argv[4])
            end_given = True
        else:
            end = (size << 3) + 7 if is_bit else size - 1
        total = size << 3 if is_bit else size
        start, end = _clamp_range(start, end, total)
        if start > end:
            return -1
        start_bit, end_bit = (start, end) if is_bit else (start << 3, (end << 3) + 7)
    else:
        raise ReplyError(SYNTAX)
    if start_bit > end_bit:
        return -1
    found = bf.first_bit(value, bit, start_bit, end_bit)
    if found >= 0 or bit:
        return found
    # No clear bit: without an explicit end the string is taken as zero-padded.
    return -1 if end_given else ((end_bit >> 3) + 1) << 3


@command("bitop", arity=-4, flags="write denyoom", keys=(2, -1, 1), group="bitmap",
         since="2.6.0")
def bitop(ctx, argv):
    """Perform bitwise operations between strings, storing the result in a key."""
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise ReplyError(SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise ReplyError("ERR BITOP NOT must be called with a single source key.")
    db = ctx.db
    sources = []
    for key in argv[3:]:
        value = _read_string(db, key)
        sources.append(b"" if value is None else value)
    length = max(len(s) for s in sources)
    target = argv[2]
    if length:
        db.set(target, bf.bitop(op.decode(), sources, length))
        ctx.engine.key_modified(db, target, "set")
    elif db.delete(target):
        ctx.engine.key_modified(db, target, "del")
    return length


# ---- BITFIELD --------------------------------------------------------------------------

def _field_type(arg: bytes):
    """(signed, bits) from ``i<bits>`` (1..64) or ``u<bits>`` (1..63)."""
    kind = arg[:1]
    bits = parse_int(arg[1:].split(b"\0", 1)[0])
    if kind not in (b"i", b"u") or bits is None or bits < 1 or \
            bits > (64 if kind == b"i" else 63):
        raise ReplyError(BITFIELD_TYPE_ERROR)
    return kind == b"i", bits


def _parse_bitfield(ctx, argv):
    """The operations of a BITFIELD call: a list of (op, signed, bits, offset, value,
    overflow mode), and the highest bit a write touches (-1 if there is no write)."""
    ops = []
    highest = -1
    mode = bf.WRAP
    j, n = 2, len(argv)
    while j < n:
        remaining = n - j - 1
        name = argv[j].lower()
        if name == b"overflow" and remaining >= 1:
            mode = argv[j + 1].lower().decode("latin-1")
            if mode not in (bf.WRAP, bf.SAT, bf.FAIL):
                raise ReplyError("ERR Invalid OVERFLOW type specified")
            j += 2
            continue
        if not ((name == b"get" and remaining >= 2) or
                (name in (b"set", b"incrby") and remaining >= 3)):
            raise ReplyError(SYNTAX)
        signed, bits = _field_type(argv[j + 1])
        offset = bit_offset(ctx, argv[j + 2], bits)
        value = 0
        if name != b"get":
            highest = max(highest, offset + bits - 1)
            value = int_arg(argv[j + 3])
        ops.append((name, signed, bits, offset, value, mode))
        j += 3 if name == b"get" else 4
    return ops, highest


def _run_write(op, buf):
    """Apply one SET or INCRBY to ``buf``; the reply element (None on FAIL)."""
    name, signed, bits, offset, value, mode = op
    if signed:
        old = bf.get_signed(buf, offset, bits)
        if name == b"incrby":
            _, new = bf.signed_overflow(old, value, bits, mode)
            reply = new
        else:
            _, new = bf.signed_overflow(value, 0, bits, mode)
            reply = old
    else:
        old = bf.get_unsigned(buf, offset, bits)
        if name == b"incrby":
            _, new = bf.unsigned_overflow(old, value, bits, mode)
            reply = new
        else:
            _, new = bf.unsigned_overflow(value & _U64, 0, bits, mode)
            reply = old
    if new is None:
        return None
    bf.set_field(buf, offset, bits, new)
    return reply


def bitfield_generic(ctx, argv, readonly_command: bool):
    """BITFIELD and BITFIELD_RO (Redis's bitfieldGeneric)."""
    ops, highest = _parse_bitfield(ctx, argv)
    db = ctx.db
    key = argv[1]
    if highest < 0:
        data = _read_string(db, key)
    else:
        if readonly_command:
            raise ReplyError("ERR BITFIELD_RO only supports the GET subcommand")
        data, _ = string_for_bit_write(db, key, highest)
    reply = []
    changes = 0
    for op in ops:
        name, signed, bits, offset = op[:4]
        if name == b"get":
            source = b"" if data is None else data
            get = bf.get_signed if signed else bf.get_unsigned
            reply.append(get(source, offset, bits))
        else:
            reply.append(_run_write(op, data))
            changes += 1
    if changes:
        ctx.engine.key_modified(db, key, "setbit", count=changes)
    return reply


@command("bitfield", arity=-2, flags="write denyoom", keys=(1, 1, 1), group="bitmap",
         since="3.2.0")
def bitfield(ctx, argv):
    """Perform arbitrary bitfield integer operations on strings."""
    return bitfield_generic(ctx, argv, False)


@command("bitfield_ro", arity=-2, flags="readonly fast", keys=(1, 1, 1), group="bitmap",
         since="6.0.0")
def bitfield_ro(ctx, argv):
    """Perform arbitrary bitfield integer operations on strings (GET only)."""
    return bitfield_generic(ctx, argv, True)

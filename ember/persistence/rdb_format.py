"""RDB format constants and the small encoders shared by the writer and the reader.

Numbers are Redis's rdb.h: value types, opcodes, length and string encodings.
"""

RDB_VERSION = 10            # what ember writes: Redis 7.0's version, loadable by 7.0+
MAX_VERSION = 12            # the newest version ember reads (Redis 7.4)

# value types
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE_PRE_GA = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
TYPE_SET_LISTPACK = 20
TYPE_STREAM_LISTPACKS_3 = 21
TYPE_HASH_METADATA_PRE_GA = 22
TYPE_HASH_LISTPACK_EX_PRE_GA = 23
TYPE_HASH_METADATA = 24
TYPE_HASH_LISTPACK_EX = 25

# opcodes
OPCODE_SLOT_INFO = 244
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION_PRE_GA = 246
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

# special string encodings (first length byte 0b11xxxxxx)
ENC_INT8 = 0
ENC_INT16 = 1
ENC_INT32 = 2
ENC_LZF = 3


def _length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


_SHORT = [_length(n) for n in range(16384)]


def encode_length(n: int) -> bytes:
    """Redis's rdbSaveLen: 1, 2, 5 or 9 bytes."""
    if n < 16384:
        return _SHORT[n]
    return _length(n)

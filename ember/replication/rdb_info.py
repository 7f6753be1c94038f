"""The replication info an RDB file carries (AUX repl-id, repl-offset, repl-stream-db).

A replica restarted from its own RDB can continue from the offset that file was saved at
(Redis's rdbPopulateSaveInfo / loadDataFromDisk): it asks its primary for
``PSYNC <repl-id> <repl-offset + 1>`` and gets a partial resync when the backlog still
covers the gap. Only the AUX fields at the head of the file are read here (the keyspace
is loaded by the persistence layer).
"""

import struct

_AUX = 0xFA
_WANTED = ("repl-id", "repl-offset", "repl-stream-db")


class _Short(Exception):
    pass


def _take(data: bytes, pos: int, n: int):
    if pos + n > len(data):
        raise _Short()
    return data[pos:pos + n], pos + n


def _length(data: bytes, pos: int):
    """(length or ('int', value) / ('lzf', None), new pos): RDB's length encoding."""
    first, pos = _take(data, pos, 1)
    kind = first[0] >> 6
    if kind == 0:
        return first[0] & 0x3F, pos
    if kind == 1:
        second, pos = _take(data, pos, 1)
        return ((first[0] & 0x3F) << 8) | second[0], pos
    if kind == 2:
        if first[0] == 0x80:
            raw, pos = _take(data, pos, 4)
            return struct.unpack(">I", raw)[0], pos
        raw, pos = _take(data, pos, 8)
        return struct.unpack(">Q", raw)[0], pos
    encoding = first[0] & 0x3F
    if encoding in (0, 1, 2):
        size = 1 << encoding
        raw, pos = _take(data, pos, size)
        return ("int", int.from_bytes(raw, "little", signed=True)), pos
    return ("lzf", None), pos


def _string(data: bytes, pos: int):
    length, pos = _length(data, pos)
    if isinstance(length, tuple):
        if length[0] == "int":
            return str(length[1]).encode(), pos
        raise _Short()          # LZF in an AUX field: not a replication field, give up
    return _take(data, pos, length)


def replication_info(head: bytes) -> dict:
    """repl-id / repl-offset / repl-stream-db from the first bytes of an RDB file
    (str -> bytes; empty when absent or unreadable)."""
    if not head.startswith(b"REDIS") or len(head) < 9:
        return {}
    found = {}
    pos = 9
    try:
        while pos < len(head) and head[pos] == _AUX:
            key, pos = _string(head, pos + 1)
            value, pos = _string(head, pos)
            name = key.decode("latin-1")
            if name in _WANTED:
                found[name] = value
    except _Short:
        pass
    return found


def read_replication_info(path: str) -> dict:
    """:func:`replication_info` of the file at ``path`` ({} if it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return replication_info(handle.read(64 * 1024))
    except OSError:
        return {}

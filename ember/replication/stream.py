"""RESP encoding of the replication stream (commands as Redis propagates them)."""


def _arg(value) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return str(value).encode()          # ints and floats as their decimal text


HEADERS = [b"$%d\r\n" % n for n in range(1024)]
_OVERHEAD = [len(h) + 2 for h in HEADERS]          # "$<n>\r\n" + the closing "\r\n"


def encode_command(argv) -> bytes:
    """``argv`` as a RESP multibulk, exactly the bytes Redis's stream carries."""
    out = [b"*%d\r\n" % len(argv)]
    append = out.append
    headers = HEADERS
    for value in argv:
        if type(value) is not bytes:
            value = _arg(value)
        size = len(value)
        append(headers[size] if size < 1024 else b"$%d\r\n" % size)
        append(value)
        append(b"\r\n")
    return b"".join(out)


def command_length(argv) -> int:
    """Bytes of ``argv`` in canonical RESP (what the primary sent for it): the replica
    counts its offset with it instead of re-encoding."""
    total = 3 + len(str(len(argv)))
    overhead = _OVERHEAD
    for value in argv:
        size = len(value)
        total += size + (overhead[size] if size < 1024 else len(str(size)) + 5)
    return total


def select_command(db_index: int) -> bytes:
    """The SELECT a primary emits when the stream moves to another database."""
    return encode_command([b"SELECT", str(db_index).encode()])

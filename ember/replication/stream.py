"""RESP encoding of the replication stream (commands as Redis propagates them)."""


def _arg(value) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return str(value).encode()          # ints and floats as their decimal text


def encode_command(argv) -> bytes:
    """``argv`` as a RESP multibulk, exactly the bytes Redis's stream carries."""
    parts = [b"*%d\r\n" % len(argv)]
    for value in argv:
        value = _arg(value)
        parts.append(b"$%d\r\n" % len(value))
        parts.append(value)
        parts.append(b"\r\n")
    return b"".join(parts)


def select_command(db_index: int) -> bytes:
    """The SELECT a primary emits when the stream moves to another database."""
    return encode_command([b"SELECT", str(db_index).encode()])

"""A raw-socket RESP client for byte-exact tests."""

import socket

from ember.protocol.reader import NEED_MORE, ReplyReader


def encode_command(*args) -> bytes:
    """Encode a command as a RESP multibulk request."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class RawClient:
    """Send bytes, read whole replies as exact bytes."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = ReplyReader()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_raw(self) -> bytes:
        """The next complete reply's bytes; b'' if the server closed first."""
        while True:
            reply = self.reader.raw()
            if reply is not NEED_MORE:
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.reader.feed(chunk)

    def read_value(self):
        """The next complete reply, parsed."""
        raw = self.read_raw()
        reader = ReplyReader()
        reader.feed(raw)
        return reader.get()

    def call_raw(self, *args) -> bytes:
        """Send one command and return its reply's bytes."""
        self.send(encode_command(*args))
        return self.read_raw()

    def call(self, *args):
        """Send one command and return its parsed reply."""
        self.send(encode_command(*args))
        return self.read_value()

    def closed_by_server(self) -> bool:
        """True if the server has closed the connection (reads EOF)."""
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


class Blocker:
    """A raw connection that sends a blocking command now and reads its reply later."""

    def __init__(self, port: int, resp: int = 2, db: int = 0):
        self.conn = RawClient(port)
        if resp == 3:
            self.conn.call("HELLO", "3")
        if db:
            self.conn.call("SELECT", str(db))
        self.id = self.conn.call("CLIENT", "ID")

    def send(self, *args) -> "Blocker":
        self.conn.send(encode_command(*args))
        return self

    def reply(self):
        return self.conn.read_value()

    def raw(self) -> bytes:
        return self.conn.read_raw()

    def close(self) -> None:
        self.conn.close()

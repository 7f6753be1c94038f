"""The error reply type and the error texts that several layers share.

A handler raises :class:`ReplyError` with Redis's exact text (including the leading
code such as ``ERR`` or ``WRONGTYPE``); the dispatcher turns it into a ``-`` reply.
Arrays (EXEC, scripts) may also carry ReplyError instances as elements.
"""


class ReplyError(Exception):
    """An error reply. ``message`` is the full text, e.g. ``ERR syntax error``."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        """The first word of the message (``ERR``, ``WRONGTYPE`` ...), as errorstats counts it."""
        return self.message.split(" ", 1)[0]

    def __eq__(self, other):
        return isinstance(other, ReplyError) and other.message == self.message

    def __hash__(self):
        return hash(self.message)

    def __repr__(self):
        return f"ReplyError({self.message!r})"


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
NO_SUCH_KEY = "ERR no such key"
OVERFLOW = "ERR increment or decrement would overflow"
DB_INDEX = "ERR DB index is out of range"
NOAUTH = "NOAUTH Authentication required."

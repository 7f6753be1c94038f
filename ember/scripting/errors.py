"""LuaRaise: how a Python function called from Lua raises a Lua error.

Lupa hands Lua the exception object itself as the error value; the prelude's error
handler, ``pcall``, ``xpcall`` and ``coroutine.resume`` unwrap it to ``value`` (a Lua
error table ``{err=...}`` or a message string), so scripts see what Redis's C functions
would have raised.
"""


class LuaRaise(Exception):
    """A Lua error raised from Python; ``value`` is what Lua code sees."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value

    def __str__(self):
        value = self.value
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return "error object"


class CallRejected(Exception):
    """redis.call refused a command before running it (unknown command, arity, flags ...).

    ``message`` has no error code ("Unknown Redis command called from script"); Redis
    counts these errors when they happen, so the Lua error carries
    ``ignore_error_stats_update``.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

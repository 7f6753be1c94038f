"""Function libraries in RDB files (RDB_OPCODE_FUNCTION2: one library's code each).

:func:`library_codes` gives what ``write_rdb(functions=...)`` takes; after
``load_rdb(functions=codes)``, :func:`load_libraries` loads them into an engine the way
FUNCTION LOAD REPLACE does (ember supports the Lua engine; a library that does not load
raises :class:`FunctionLoadError` with the engine's error text).
"""

from ember.commands.functions import libraries
from ember.errors import ReplyError


class FunctionLoadError(Exception):
    """A function library from an RDB that the engine refused."""


def library_codes(engine) -> list:
    """The code of every loaded library, in load order."""
    return [lib.code for lib in libraries(engine).by_name.values()]


def load_libraries(engine, codes) -> None:
    """FUNCTION LOAD REPLACE each library code into ``engine``."""
    client = engine.new_client()
    client.authenticated = True           # the server itself, not a network client
    try:
        for code in codes:
            reply = engine.execute(client, [b"FUNCTION", b"LOAD", b"REPLACE", code])
            if isinstance(reply, ReplyError):
                raise FunctionLoadError(reply.message)
    finally:
        engine.remove_client(client)

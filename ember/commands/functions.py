"""Functions: FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS / KILL / HELP,
FCALL and FCALL_RO.

A library is the code given to FUNCTION LOAD (``#!lua name=<lib>``); running it in the
FUNCTION engine's Lua state registers its functions (``redis.register_function``). The
function names are global and case-insensitive, as in Redis; libraries keep their load
order. FUNCTION DUMP/RESTORE use Redis's payload format (ember/scripting/payload.py).
FUNCTION LOAD/DELETE/FLUSH/RESTORE change the dataset's functions: they bump the dirty
counter, so the dispatcher propagates them as themselves.
"""

import time
from dataclasses import dataclass, field

from ember.commands import script_run
from ember.commands.registry import command
from ember.commands.script_run import kill, running, state
from ember.commands.scripting import (
    EVAL_FLAGS,
    EVAL_RO_SPECS,
    EVAL_SPECS,
    feed_monitors,
    numkeys_keys,
    split_keys,
)
from ember.commands.server import help_reply
from ember.errors import ReplyError
from ember.protocol.replies import OK, SetReply, Status
from ember.scripting import payload
from ember.scripting.meta import (
    SCRIPT_FLAGS,
    MetaError,
    flag_names,
    library_metadata,
    script_shebang,
    valid_name,
)
from ember.storage.glob import glob_match

BAD_NAME = ("Library names can only contain letters, numbers, or underscores(_) and must be "
            "at least one character long")

FUNCTION_HELP = (
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME "
    "argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
)
_ALL_SHARDS = "request_policy:all_shards response_policy:all_succeeded"


@dataclass(eq=False)
class Function:
    """A registered function; its flags decide the checks made before it runs."""

    name: bytes
    callback: object
    flags: frozenset
    description: bytes
    library: "Library"


@dataclass(eq=False)
class Library:
    """A loaded library: its code (as given to FUNCTION LOAD) and its functions."""

    name: bytes
    code: bytes
    functions: dict = field(default_factory=dict)   # name -> Function, registration order

    def add(self, name: bytes, callback, flags: list, description) -> None:
        """redis.register_function's checks (functionLibCreateFunction)."""
        if not valid_name(name):
            raise ValueError(BAD_NAME)
        if name in self.functions:
            raise ValueError("Function already exists in the library")
        parsed = set()
        for flag in flags:
            text = flag.decode("utf-8", "surrogateescape").lower()
            if text not in SCRIPT_FLAGS:
                raise ValueError("unknown flag given")
            parsed.add(text)
        self.functions[name] = Function(name, callback, frozenset(parsed), description, self)


class Libraries:
    """Loaded libraries by name, and their functions by (case-insensitive) name."""

    def __init__(self):
        self.by_name = {}           # library name -> Library, in load order
        self.functions = {}         # lowercased function name -> Function

    def copy(self) -> "Libraries":
        """A shallow copy (to roll back a failed RESTORE)."""
        other = Libraries()
        other.by_name = dict(self.by_name)
        other.functions = dict(self.functions)
        return other

    def link(self, library: Library) -> None:
        """Make a library and its functions visible."""
        self.by_name[library.name] = library
        for name, function in library.functions.items():
            self.functions[name.lower()] = function

    def unlink(self, library: Library) -> None:
        """Take a library and its functions away."""
        del self.by_name[library.name]
        for name in library.functions:
            self.functions.pop(name.lower(), None)

    def collision(self, library: Library):
        """The first of ``library``'s functions whose name is already taken, or None."""
        for name in library.functions:
            if name.lower() in self.functions:
                return name
        return None


def libraries(engine) -> Libraries:
    """The engine's loaded libraries (FUNCTION FLUSH starts a new set)."""
    scripting = state(engine)
    if scripting.library_set is None:
        scripting.library_set = Libraries()
    return scripting.library_set


def create_library(ctx, code: bytes, replace: bool, into: Libraries) -> bytes:
    """functionsCreateWithLibraryCtx: compile ``code`` and link its library into ``into``;
    returns the library name, raises ValueError with Redis's text."""
    try:
        engine_name, name, body = library_metadata(code)
    except MetaError as exc:
        raise ValueError(str(exc)) from None
    if not valid_name(name):
        raise ValueError(BAD_NAME)
    if engine_name.lower() != b"lua":
        raise ValueError("Engine '%s' not found" % engine_name.decode("utf-8", "replace"))
    old = into.by_name.get(name)
    if old is not None and not replace:
        raise ValueError("Library '%s' already exists" % name.decode("utf-8", "replace"))
    if old is not None:
        into.unlink(old)
    library = Library(name, code)
    try:
        _load(ctx, library, body)
        if not library.functions:
            raise ValueError("No functions registered")
        taken = into.collision(library)
        if taken is not None:
            raise ValueError("Function %s already exists" % taken.decode("utf-8", "replace"))
    except ValueError:
        if old is not None:
            into.link(old)
        raise
    into.link(library)
    return name


def _load(ctx, library: Library, body: bytes) -> None:
    """Run the library code so that it registers its functions (500 ms limit)."""
    scripting = state(ctx.engine)
    lua = scripting.function_lua
    scripting.loading = library
    scripting.load_started = time.monotonic()
    try:
        ok, error = lua.load_library(body)
    finally:
        scripting.loading = None
    if not ok:
        raise ValueError(error.decode("utf-8", "surrogateescape"))


# ---- FCALL ----------------------------------------------------------------------------

def fcall_generic(ctx, argv: list, read_only: bool):
    """FCALL and FCALL_RO."""
    feed_monitors(ctx, argv)
    scripting = state(ctx.engine)
    function = libraries(ctx.engine).functions.get(argv[1].lower())
    if function is None:
        raise ReplyError("ERR Function not found")
    keys, args = split_keys(argv, "ERR Bad number of keys provided")
    return script_run.run(ctx, scripting.function_lua, function.callback, function.name,
                          function.flags, False, False, read_only, argv, keys, args)


@command("fcall", arity=-3, flags=EVAL_FLAGS, group="scripting", since="7.0.0",
         getkeys=numkeys_keys, key_specs=EVAL_SPECS,
         complexity="Depends on the function that is executed.")
def fcall(ctx, argv):
    """Invokes a function."""
    return fcall_generic(ctx, argv, read_only=False)


@command("fcall_ro", arity=-3, flags="readonly " + EVAL_FLAGS, group="scripting",
         since="7.0.0", getkeys=numkeys_keys, key_specs=EVAL_RO_SPECS,
         complexity="Depends on the function that is executed.")
def fcall_ro(ctx, argv):
    """Invokes a read-only function."""
    return fcall_generic(ctx, argv, read_only=True)


def declared_flags(engine, name: str, argv: list):
    """The flags an EVAL/EVALSHA/FCALL (or _RO form) runs with, as getCommandFlags sees
    them (evalGetCommandFlags, fcallGetCommandFlags): the function's or the script's
    declared flags, or None when it keeps EVAL's own flags (no shebang, not known yet)."""
    if name.startswith("fcall"):
        function = libraries(engine).functions.get(argv[1].lower())
        return None if function is None else function.flags
    scripting = state(engine)
    if name.startswith("evalsha"):
        script = scripting.scripts.get(argv[1].lower()) if len(argv[1]) == 40 else None
    else:
        script = scripting.by_body.get(argv[1])
        if script is None:
            try:
                flags, compat, _ = script_shebang(argv[1])
            except MetaError:
                return None
            return None if compat else flags
    if script is None or script.compat:
        return None
    return script.flags


def script_denyoom(engine, name: str, argv: list) -> bool:
    """scriptFlagsToCmdFlags's denyoom for a script command (the maxmemory gate asks
    only when over the limit)."""
    flags = declared_flags(engine, name, argv)
    return flags is not None and script_run.flags_deny_oom(flags, False)


def script_writes(engine, name: str, argv: list) -> bool:
    """scriptFlagsToCmdFlags's write flag: declared flags without ``no-writes`` (the
    MISCONF gate asks only while writes are refused)."""
    flags = declared_flags(engine, name, argv)
    return flags is not None and "no-writes" not in flags


SCRIPT_COMMANDS = frozenset(("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall",
                             "fcall_ro"))


# ---- FUNCTION -------------------------------------------------------------------------

command("function", arity=-2, container=True, group="scripting", since="7.0.0")


@command("function|load", arity=-3, flags="write denyoom noscript",
         tips=_ALL_SHARDS, group="scripting",
         since="7.0.0", complexity="O(1) (considering compilation time is redundant)")
def function_load(ctx, argv):
    """Creates a library."""
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        option = argv[pos]
        pos += 1
        if option.lower() == b"replace":
            replace = True
            continue
        raise ReplyError("ERR Unknown option given: %s"
                         % option.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape"))
    try:
        name = create_library(ctx, argv[pos], replace, libraries(ctx.engine))
    except ValueError as exc:
        raise ReplyError("ERR " + str(exc)) from None
    ctx.engine.dirty += 1
    return name


@command("function|delete", arity=3, flags="write noscript",
         tips=_ALL_SHARDS, group="scripting",
         since="7.0.0", complexity="O(1)")
def function_delete(ctx, argv):
    """Deletes a library and its functions."""
    loaded = libraries(ctx.engine)
    library = loaded.by_name.get(argv[2])
    if library is None:
        raise ReplyError("ERR Library not found")
    loaded.unlink(library)
    ctx.engine.dirty += 1
    return OK


@command("function|flush", arity=-2, flags="write noscript",
         tips=_ALL_SHARDS, group="scripting",
         since="7.0.0", complexity="O(N) where N is the number of functions deleted")
def function_flush(ctx, argv):
    """Deletes all libraries and functions."""
    if len(argv) > 3:
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for 'FLUSH'. "
                         "Try FUNCTION HELP.")
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise ReplyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    state(ctx.engine).reset_functions()
    ctx.engine.dirty += 1
    return OK


def _function_entry(function: Function) -> dict:
    flags = SetReply(Status(name) for name in flag_names(function.flags))
    return {b"name": function.name, b"description": function.description,
            b"flags": flags}


@command("function|list", arity=-2, flags="noscript", group="scripting", since="7.0.0",
         tips="nondeterministic_output_order",
         complexity="O(N) where N is the number of functions")
def function_list(ctx, argv):
    """Returns information about all libraries."""
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        arg = argv[i]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if i >= len(argv) - 1:
                raise ReplyError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            raise ReplyError("ERR Unknown argument %s"
                             % arg.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape"))
        i += 1
    out = []
    for library in libraries(ctx.engine).by_name.values():
        if pattern is not None and not glob_match(pattern, library.name, nocase=True):
            continue
        entry = {b"library_name": library.name, b"engine": b"LUA",
                 b"functions": [_function_entry(f) for f in library.functions.values()]}
        if with_code:
            entry[b"library_code"] = library.code
        out.append(entry)
    return out


@command("function|dump", arity=2, flags="noscript", group="scripting", since="7.0.0",
         complexity="O(N) where N is the number of functions")
def function_dump(ctx, argv):
    """Dumps all libraries into a serialized binary payload."""
    return payload.dump([lib.code for lib in libraries(ctx.engine).by_name.values()])


_POLICIES = (b"append", b"replace", b"flush")


@command("function|restore", arity=-3, flags="write denyoom noscript",
         tips=_ALL_SHARDS, group="scripting",
         since="7.0.0", complexity="O(N) where N is the number of functions on the payload")
def function_restore(ctx, argv):
    """Restores all libraries from a payload."""
    if len(argv) > 4:
        raise ReplyError("ERR unknown subcommand or wrong number of arguments for "
                         "'RESTORE'. Try FUNCTION HELP.")
    policy = b"append"
    if len(argv) == 4:
        policy = argv[3].lower()
        if policy not in _POLICIES:
            raise ReplyError("ERR Wrong restore policy given, value should be either FLUSH, "
                             "APPEND or REPLACE.")
    data = argv[2]
    if not payload.verify(data):
        raise ReplyError("ERR DUMP payload version or checksum are wrong")
    try:
        codes = payload.load(data)
    except payload.PayloadError as exc:
        raise ReplyError("ERR " + str(exc)) from None
    fresh = Libraries()
    try:
        for code in codes:
            create_library(ctx, code, False, fresh)
        scripting = state(ctx.engine)
        scripting.library_set = _join(libraries(ctx.engine), fresh, policy)
    except ValueError as exc:
        raise ReplyError("ERR " + str(exc)) from None
    ctx.engine.dirty += 1
    return OK


def _join(current: Libraries, fresh: Libraries, policy: bytes) -> Libraries:
    """libraryJoin: the libraries after a RESTORE, or ValueError (nothing changed)."""
    if policy == b"flush":
        return fresh
    joined = current.copy()
    for library in fresh.by_name.values():
        old = joined.by_name.get(library.name)
        if old is not None:
            if policy != b"replace":
                raise ValueError("Library %s already exists"
                                 % library.name.decode("utf-8", "replace"))
            joined.unlink(old)
    for library in fresh.by_name.values():
        taken = joined.collision(library)
        if taken is not None:
            raise ValueError("Function %s already exists" % taken.decode("utf-8", "replace"))
    for library in fresh.by_name.values():
        joined.link(library)
    return joined


@command("function|stats", arity=2, flags="noscript allow_busy", group="scripting",
         since="7.0.0", tips="nondeterministic_output request_policy:all_shards "
         "response_policy:special", complexity="O(1)")
def function_stats(ctx, argv):
    """Returns information about a function during execution."""
    current = running(ctx.engine)
    if current is not None and current.is_eval:
        raise ReplyError(script_run.SLOW_EVAL)
    running_script = None
    if current is not None:
        running_script = {b"name": current.name, b"command": list(current.argv),
                          b"duration_ms": current.duration_ms()}
    loaded = libraries(ctx.engine)
    engines = {b"LUA": {b"libraries_count": len(loaded.by_name),
                        b"functions_count": len(loaded.functions)}}
    return {b"running_script": running_script, b"engines": engines}


@command("function|kill", arity=2, flags="noscript allow_busy", group="scripting",
         since="7.0.0", tips="request_policy:all_shards response_policy:one_succeeded",
         complexity="O(1)")
def function_kill(ctx, argv):
    """Terminates a function during execution."""
    kill(ctx.engine, is_eval=False)
    return OK


@command("function|help", arity=2, flags="loading stale", group="scripting", since="7.0.0",
         complexity="O(1)")
def function_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return help_reply("FUNCTION", FUNCTION_HELP)

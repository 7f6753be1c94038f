"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP.

Scripts are cached by the SHA1 of their whole text (shebang included), compiled once in
the EVAL engine's Lua state; the body is compiled without its shebang line but with its
newline, so error positions count lines as Redis does. Running them is
:func:`ember.commands.script_run.run`'s job; the reply is the script's return value
converted as Redis converts it, already encoded for the caller's protocol.
"""

import hashlib
from dataclasses import dataclass

from ember.commands import runtime
from ember.commands.args import int_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.script_run import kill, run, state
from ember.commands.server import help_reply
from ember.errors import ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import OK
from ember.scripting.meta import MetaError, script_shebang

NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
_RW_NOTES = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"
_RO_NOTES = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
_ALL_NODES = "request_policy:all_nodes response_policy:all_succeeded"
_ALL_AND = "request_policy:all_shards response_policy:agg_logical_and"
_ONE_SUCCEEDED = "request_policy:all_shards response_policy:one_succeeded"

SCRIPT_HELP = (
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
)


@dataclass(eq=False)
class Script:
    """A cached EVAL script: its flags are kept for the checks made before running it."""

    sha: bytes
    body: bytes
    flags: frozenset
    compat: bool
    fn: object


class _Monitored:
    """EVAL/FCALL as MONITOR shows them: before the commands they run (Redis feeds
    them first, then flags them skip_monitor so the dispatcher does not again)."""

    flags = ()

    def __init__(self, name: str):
        self.name = name


def feed_monitors(ctx, argv: list) -> None:
    """Show a script command in MONITOR before the commands it runs."""
    engine = ctx.engine
    if engine.monitors:
        runtime.feed_monitors(engine, ctx, _Monitored(argv[0].decode("latin-1")), argv)


def numkeys_keys(argv: list) -> list:
    """Key positions of EVAL-like commands: argv[2] counts the keys that follow it."""
    count = parse_int(argv[2]) if len(argv) > 2 else None
    if count is None or count <= 0 or count > len(argv) - 3:
        return []
    return list(range(3, 3 + count))


def split_keys(argv: list, count_error: str = None):
    """(keys, args) of EVAL/FCALL, with Redis's errors for a bad key count."""
    if count_error is None:
        count = int_arg(argv[2])
    else:
        count = parse_int(argv[2])
        if count is None:
            raise ReplyError(count_error)
    if count > len(argv) - 3:
        raise ReplyError("ERR Number of keys can't be greater than number of args")
    if count < 0:
        raise ReplyError("ERR Number of keys can't be negative")
    return argv[3:3 + count], argv[3 + count:]


def sha1hex(body: bytes) -> bytes:
    """The script's name: the hex SHA1 of its text."""
    return hashlib.sha1(body).hexdigest().encode()


def create_script(ctx, body: bytes) -> Script:
    """luaCreateFunction: the cached script for ``body``, compiled on first sight."""
    scripting = state(ctx.engine)
    script = scripting.by_body.get(body)
    if script is not None:
        return script
    sha = sha1hex(body)
    script = scripting.scripts.get(sha)
    if script is not None:
        scripting.by_body[body] = script
        return script
    try:
        flags, compat, shebang_len = script_shebang(body)
    except MetaError as exc:
        raise ReplyError("ERR " + str(exc)) from None
    fn, error = scripting.eval_lua.compile(body[shebang_len:], b"@user_script")
    if fn is None:
        raise ReplyError("ERR Error compiling script (new function): "
                         + error.decode("utf-8", "surrogateescape"))
    script = scripting.scripts[sha] = scripting.by_body[body] = Script(sha, body, flags,
                                                                      compat, fn)
    return script


def eval_generic(ctx, argv: list, by_sha: bool, read_only: bool):
    """EVAL and friends: run a script given by its text or its SHA1."""
    feed_monitors(ctx, argv)
    if by_sha and len(argv[1]) != 40:
        raise ReplyError(NOSCRIPT)
    keys, args = split_keys(argv)
    if by_sha:
        script = state(ctx.engine).scripts.get(argv[1].lower())
        if script is None:
            raise ReplyError(NOSCRIPT)
    else:
        script = create_script(ctx, argv[1])
    scripting = state(ctx.engine)
    return run(ctx, scripting.eval_lua, script.fn, script.sha, script.flags, script.compat,
               True, read_only, argv, keys, args)


EVAL_SPECS = (KeySpec("RW access update", index=2, keynum=(0, 1, 1), notes=_RW_NOTES),)
EVAL_RO_SPECS = (KeySpec("RO access", index=2, keynum=(0, 1, 1), notes=_RO_NOTES),)
# EVALSHA and EVALSHA_RO carry no notes in Redis's command table.
_EVALSHA_SPECS = (KeySpec("RW access update", index=2, keynum=(0, 1, 1)),)
_EVALSHA_RO_SPECS = (KeySpec("RO access", index=2, keynum=(0, 1, 1)),)
EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys movablekeys"


@command("eval", arity=-3, flags=EVAL_FLAGS, group="scripting", since="2.6.0",
         getkeys=numkeys_keys, key_specs=EVAL_SPECS,
         complexity="Depends on the script that is executed.")
def eval_(ctx, argv):
    """Executes a server-side Lua script."""
    return eval_generic(ctx, argv, by_sha=False, read_only=False)


@command("evalsha", arity=-3, flags=EVAL_FLAGS, group="scripting", since="2.6.0",
         getkeys=numkeys_keys, key_specs=_EVALSHA_SPECS,
         complexity="Depends on the script that is executed.")
def evalsha(ctx, argv):
    """Executes a server-side Lua script by SHA1 digest."""
    return eval_generic(ctx, argv, by_sha=True, read_only=False)


@command("eval_ro", arity=-3, flags="readonly " + EVAL_FLAGS, group="scripting",
         since="7.0.0", getkeys=numkeys_keys, key_specs=EVAL_RO_SPECS,
         complexity="Depends on the script that is executed.")
def eval_ro(ctx, argv):
    """Executes a read-only server-side Lua script."""
    return eval_generic(ctx, argv, by_sha=False, read_only=True)


@command("evalsha_ro", arity=-3, flags="readonly " + EVAL_FLAGS, group="scripting",
         since="7.0.0", getkeys=numkeys_keys, key_specs=_EVALSHA_RO_SPECS,
         complexity="Depends on the script that is executed.")
def evalsha_ro(ctx, argv):
    """Executes a read-only server-side Lua script by SHA1 digest."""
    return eval_generic(ctx, argv, by_sha=True, read_only=True)


# ---- SCRIPT ---------------------------------------------------------------------------

command("script", arity=-2, container=True, group="scripting", since="2.6.0")


@command("script|load", arity=3, flags="noscript stale",
         tips=_ALL_NODES, group="scripting", since="2.6.0",
         complexity="O(N) with N being the length in bytes of the script body.")
def script_load(ctx, argv):
    """Loads a server-side Lua script to the script cache."""
    return create_script(ctx, argv[2]).sha


@command("script|exists", arity=-3, flags="noscript",
         tips=_ALL_AND, group="scripting", since="2.6.0",
         complexity="O(N) with N being the number of scripts to check (so checking a "
         "single script is an O(1) operation).")
def script_exists(ctx, argv):
    """Determines whether server-side Lua scripts exist in the script cache."""
    scripts = state(ctx.engine).scripts
    return [1 if sha.lower() in scripts else 0 for sha in argv[2:]]


@command("script|flush", arity=-2, flags="noscript",
         tips=_ALL_NODES, group="scripting", since="2.6.0",
         complexity="O(N) with N being the number of scripts in cache")
def script_flush(ctx, argv):
    """Removes all server-side Lua scripts from the script cache."""
    if len(argv) == 3 and argv[2].lower() in (b"sync", b"async"):
        pass
    elif len(argv) != 2:
        raise ReplyError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    state(ctx.engine).reset_eval()
    return OK


@command("script|kill", arity=2, flags="noscript allow_busy",
         tips=_ONE_SUCCEEDED, group="scripting",
         since="2.6.0", complexity="O(1)")
def script_kill(ctx, argv):
    """Terminates a server-side Lua script during execution."""
    kill(ctx.engine, is_eval=True)
    return OK


@command("script|debug", arity=3, flags="noscript", group="scripting", since="3.2.0",
         complexity="O(1)")
def script_debug(ctx, argv):
    """Sets the debug mode of server-side Lua scripts."""
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise ReplyError("ERR SCRIPT DEBUG is not supported by this server (no Lua debugger)")
    raise ReplyError("ERR Use SCRIPT DEBUG YES/SYNC/NO")


@command("script|help", arity=2, flags="loading stale", group="scripting", since="5.0.0",
         complexity="O(1)")
def script_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return help_reply("SCRIPT", SCRIPT_HELP)

"""Running scripts and functions: the engine's scripting state and one script run.

:func:`state` gives an engine its :class:`Scripting` state, created on first use: the
EVAL and FUNCTION Lua engines (:class:`~ember.scripting.sandbox.LuaSandbox`, created
lazily), the EVAL script cache, the function libraries (``functions.py`` manages them),
the script client that ``redis.call`` runs commands as, and the run in progress.

:func:`run` executes a compiled script or function callback for a caller, as Redis's
scriptPrepareForRun / luaCallFunction / scriptResetRun do:

* the script's flags are checked first (``*_RO`` commands and writable scripts, ...);
* ``redis.call`` (:meth:`ScriptHost.command`) runs commands through ``Engine.call`` as
  the script client (the caller's database, RESP2 unless ``redis.setresp(3)``, blocking
  commands answer nil), refusing unknown commands, wrong arity, ``noscript`` commands and
  writes from read-only runs with Redis's texts;
* the writes propagate through ``Engine.atomic_propagation`` -- each write command as
  itself, wrapped in MULTI/EXEC when there is more than one (Redis 7 effects
  replication); the EVAL/FCALL itself never propagates (it has no ``write`` flag);
* the engine's time is not refreshed while the script runs, so keys do not expire
  half-way through;
* the Lua hook fires every 100000 instructions: past ``busy-reply-threshold`` the run is
  *timed out*: ``engine.hooks["script_busy"]`` (the server layer, server/script_busy.py)
  is told and then polled from the hook, so other clients get ``-BUSY`` and SCRIPT KILL /
  FUNCTION KILL / SHUTDOWN NOSAVE are served while the script keeps the loop thread.
"""

import logging
import time

from ember.commands.context import Client
from ember.commands.memory import OOM
from ember.commands.memory import _ignores_maxmemory as ignores_maxmemory
from ember.commands.registry import COMMANDS
from ember.errors import ReplyError
from ember.protocol.replies import Raw
from ember.scripting.errors import CallRejected
from ember.scripting.sandbox import Host, LuaSandbox
from ember.storage import eviction
from ember.storage.memory import STARTUP_BYTES

log = logging.getLogger("ember")

SLOW_EVAL = ("BUSY Redis is busy running a script. You can only call SCRIPT KILL "
             "or SHUTDOWN NOSAVE.")
SLOW_SCRIPT = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL "
               "or SHUTDOWN NOSAVE.")
NOT_BUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the "
              "dataset. You can either wait the script termination or kill the server in "
              "a hard way using the SHUTDOWN NOSAVE command.")
KILLED = b"Script killed by user with SCRIPT KILL..."
NO_ALLOW_OOM = ("OOM allow-oom flag is not set on the script, can not run it when used "
                "memory > 'maxmemory'")
AOF_CLIENT_ID = 2 ** 64 - 1     # Redis's CLIENT_ID_AOF (persistence/loading.py)
LOAD_TIMEOUT_MS = 500

# Redis log levels -> logging levels (ember.server.logsetup: VERBOSE is 15).
_LOG_LEVELS = (logging.DEBUG, 15, logging.INFO, logging.WARNING)

# rand.c's 48-bit linear congruential generator (redisLrand48).
_RAND_A, _RAND_C, _RAND_MASK = 0x5DEECE66D, 0xB, (1 << 48) - 1


class Scripting:
    """An engine's scripting state (see the module docstring)."""

    def __init__(self, engine):
        self.engine = engine
        self.host = ScriptHost(self)
        self._eval_lua = None
        self._function_lua = None
        self.scripts = {}           # sha (lowercase hex bytes) -> Script
        self.by_body = {}           # script text -> Script (EVAL skips the SHA1)
        self.library_set = None     # the loaded function libraries (functions.py)
        self.current = None         # the ScriptRun in progress
        self.loading = None         # the Library being loaded by FUNCTION LOAD
        self.load_started = 0.0
        self.rand_state = 0x1234ABCD330E
        client = Client(engine, 0)
        client.authenticated = True
        client.flags.add("deny_blocking")
        client.flags.add("script")
        self.client = client

    @property
    def eval_lua(self) -> LuaSandbox:
        """The EVAL engine's Lua state."""
        if self._eval_lua is None:
            self._eval_lua = LuaSandbox("eval", self.host)
        return self._eval_lua

    @property
    def function_lua(self) -> LuaSandbox:
        """The FUNCTION engine's Lua state."""
        if self._function_lua is None:
            self._function_lua = LuaSandbox("function", self.host)
        return self._function_lua

    def reset_eval(self) -> None:
        """SCRIPT FLUSH: forget every script and start a fresh Lua state."""
        self.scripts = {}
        self.by_body = {}
        self._eval_lua = None

    def reset_functions(self) -> None:
        """FUNCTION FLUSH: forget every library and start a fresh Lua state."""
        self.library_set = None
        self._function_lua = None


def state(engine) -> Scripting:
    """The engine's scripting state (created on first use)."""
    scripting = getattr(engine, "scripting", None)
    if scripting is None:
        scripting = engine.scripting = Scripting(engine)
    return scripting


def running(engine):
    """The script run in progress, or None (SCRIPT KILL, FUNCTION STATS, the server)."""
    scripting = getattr(engine, "scripting", None)
    return None if scripting is None else scripting.current


class ScriptRun:
    """One EVAL/FCALL in progress: what it may do and where it stands."""

    def __init__(self, scripting, caller, name: bytes, is_eval: bool, read_only: bool,
                 argv: list):
        self.scripting = scripting
        self.engine = scripting.engine
        self.caller = caller
        self.name = name
        self.is_eval = is_eval
        self.read_only = read_only
        self.argv = argv
        self.started = time.monotonic()
        self.threshold = self.engine.config.busy_reply_threshold
        self.timed_out = False
        self.killed = False
        self.kill_logged = False
        self.shutting_down = False      # SHUTDOWN NOSAVE came in while timed out
        self.write_dirty = False
        self.oom = False                # over maxmemory at the start: refuse a first write
        self.repl = 3
        self.busy = None

    def duration_ms(self) -> int:
        """Milliseconds since the run started (FUNCTION STATS)."""
        return int((time.monotonic() - self.started) * 1000)

    def busy_error(self) -> str:
        """What other clients are told while this run is timed out."""
        return SLOW_EVAL if self.is_eval else SLOW_SCRIPT

    def hook(self):
        """The Lua count hook: enter timed-out mode past the threshold, let the server
        answer other clients, and stop the script once it is killed."""
        if not self.timed_out:
            if self.killed:
                return KILLED
            elapsed = (time.monotonic() - self.started) * 1000
            if elapsed < self.threshold:
                return None
            self.timed_out = True
            log.warning("Slow script detected: still in execution after %d milliseconds. "
                        "You can try killing the script using the %s command. "
                        "Script name is: %s.", elapsed,
                        "SCRIPT KILL" if self.is_eval else "FUNCTION KILL",
                        self.name.decode("utf-8", "replace"))
            busy = self.engine.hooks.get("script_busy")
            if busy is not None:
                self.busy = busy
                busy.begin(self)
        if self.busy is not None:
            self.busy.poll()
        if self.killed:
            if not self.kill_logged:
                self.kill_logged = True
                log.warning("Lua script killed by user with SCRIPT KILL.")
            return KILLED
        return None

    def kill(self, is_eval: bool) -> None:
        """SCRIPT KILL (``is_eval``) or FUNCTION KILL; raises Redis's refusals."""
        if self.write_dirty:
            raise ReplyError(UNKILLABLE)
        if is_eval and not self.is_eval:
            raise ReplyError(SLOW_SCRIPT)
        if not is_eval and self.is_eval:
            raise ReplyError(SLOW_EVAL)
        self.killed = True


def kill(engine, is_eval: bool) -> None:
    """SCRIPT KILL / FUNCTION KILL."""
    current = running(engine)
    if current is None:
        raise ReplyError(NOT_BUSY)
    current.kill(is_eval)


class ScriptHost(Host):
    """The commands-layer side of the Lua sandboxes (see ember.scripting.sandbox.Host)."""

    def __init__(self, scripting: Scripting):
        self.scripting = scripting
        self.engine = scripting.engine

    def command(self, argv: list):
        """redis.call's checks (scriptCall), then the command as the script client."""
        engine = self.engine
        spec = lookup(argv)
        if spec is None:
            self._reject(None, "Unknown Redis command called from script")
        arity = spec.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            self._reject(spec, "Wrong number of args calling Redis command from script")
        if "noscript" in spec.flags:
            self._reject(spec, "This Redis command is not allowed from script")
        current = self.scripting.current
        if spec.is_write and current is not None:
            if current.read_only:
                self._reject(spec, "Write commands are not allowed from read-only scripts.")
            misconf = current.caller.special.get("misconf")     # server/persistence_wiring
            if misconf is not None:
                self._reject(spec, "-" + misconf.message)
            if current.oom and spec.denyoom and not current.write_dirty:
                self._reject(spec, "-" + OOM)    # scriptVerifyOOM: only before any write
            current.write_dirty = True
        return engine.call(self.scripting.client, spec, argv)

    def _reject(self, spec, message: str):
        """Count a refused redis.call as Redis does (once, here) and raise it
        (``message`` is "-CODE text" for an error code other than ERR)."""
        if spec is not None:
            spec.rejected_calls += 1
        self.engine.stats.count_error(message[1:] if message[:1] == "-" else "ERR " + message)
        raise CallRejected(message)

    def known_command(self, argv: list) -> bool:
        """redis.acl_check_cmd's lookup."""
        return lookup(argv) is not None

    def log(self, level: int, message: bytes) -> None:
        """redis.log, into ember's log."""
        log.log(_LOG_LEVELS[level], "%s", message.decode("utf-8", "replace"))

    def setresp(self, resp: int) -> None:
        """redis.setresp: the script client's protocol (commands reply in RESP3)."""
        self.scripting.client.resp = resp

    def set_repl(self, flags: int) -> None:
        """redis.set_repl: REPL_NONE stops propagating the following writes."""
        current = self.scripting.current
        if current is not None:
            current.repl = flags

    def hook(self):
        """The Lua count hook: the run's time limit, or FUNCTION LOAD's 500 ms."""
        scripting = self.scripting
        if scripting.loading is not None:
            elapsed = (time.monotonic() - scripting.load_started) * 1000
            return b"FUNCTION LOAD timeout" if elapsed > LOAD_TIMEOUT_MS else None
        current = scripting.current
        return None if current is None else current.hook()

    def register(self, name: bytes, callback, flags: list, description) -> None:
        """redis.register_function (functions.py's Library.add checks the rest)."""
        library = self.scripting.loading
        if library is None:
            raise ValueError("redis.register_function can only be called on "
                             "FUNCTION LOAD command")
        library.add(name, callback, flags, description)

    def lrand(self) -> int:
        """redisLrand48: the next 31-bit value of the 48-bit generator."""
        scripting = self.scripting
        scripting.rand_state = (_RAND_A * scripting.rand_state + _RAND_C) & _RAND_MASK
        return scripting.rand_state >> 17

    def srand(self, seed: int) -> None:
        """redisSrand48."""
        self.scripting.rand_state = (((seed & 0xFFFFFFFF) << 16) | 0x330E) & _RAND_MASK


def lookup(argv: list):
    """The spec of ``argv``'s command or subcommand, or None (lookupCommand)."""
    spec = COMMANDS.get(argv[0].lower().decode("latin-1"))
    if spec is not None and spec.subcommands and (len(argv) > 1 or spec.handler is None):
        if len(argv) < 2:
            return spec
        return spec.subcommands.get(argv[1].lower().decode("latin-1"))
    return spec


def check_flags(ctx, flags: set, compat: bool, read_only_command: bool) -> None:
    """scriptPrepareForRun's refusals for scripts that declare flags."""
    if compat:
        return
    if "no-writes" not in flags and read_only_command:
        raise ReplyError("ERR Can not execute a script with write flag using *_ro command.")


def flags_deny_oom(flags: set, compat: bool) -> bool:
    """scriptFlagsToCmdFlags's denyoom: a script that declares flags may grow memory
    unless it says ``no-writes`` or ``allow-oom`` (a script without a shebang keeps
    EVAL's own flags, which have no denyoom: it is checked at its first write)."""
    return not compat and "no-writes" not in flags and "allow-oom" not in flags


def pre_command_oom(engine, caller) -> bool:
    """Redis's pre_command_oom_state for a script about to run: over maxmemory even
    after evicting (the dispatcher's gate, commands/memory.py, evicted just before when
    it could; this only re-checks, and costs nothing under the limit)."""
    maxmemory = engine.config.maxmemory
    if not maxmemory:
        return False
    mem = engine.dbs[0].mem
    if not mem.stale and mem.used + STARTUP_BYTES <= maxmemory:
        return False
    if caller.id == AOF_CLIENT_ID or ignores_maxmemory(engine, caller):
        return False        # mustObeyClient: the primary's stream, the AOF
    return eviction.perform_evictions(engine) == eviction.EVICT_FAIL


def run(ctx, lua: LuaSandbox, fn, name: bytes, flags: set, compat: bool, is_eval: bool,
        read_only_command: bool, argv: list, keys: list, args: list):
    """Run a script or function for ``ctx`` and return its reply (see module docstring)."""
    check_flags(ctx, flags, compat, read_only_command)
    scripting = state(ctx.engine)
    engine = ctx.engine
    if not compat and "no-writes" not in flags and "misconf" in ctx.special:
        raise ReplyError(_writable_blocked(ctx.special["misconf"].message))
    oom = pre_command_oom(engine, ctx) if engine.config.maxmemory else False
    if oom and flags_deny_oom(flags, compat):
        raise ReplyError(NO_ALLOW_OOM)
    read_only = read_only_command or (not compat and "no-writes" in flags)
    current = ScriptRun(scripting, ctx, name, is_eval, read_only, argv)
    current.oom = oom and (compat or "allow-oom" not in flags)
    client = scripting.client
    client.db = ctx.db
    client.resp = 2
    client.user = ctx.user
    scripting.current = current
    try:
        if engine.propagators:
            with engine.atomic_propagation(), _repl_filter(engine, current):
                result = lua.run(fn, keys, args, ctx.resp == 3, current.threshold > 0)
        else:
            result = lua.run(fn, keys, args, ctx.resp == 3, current.threshold > 0)
    finally:
        scripting.current = None
        if current.busy is not None:
            current.busy.end(current)
    if current.shutting_down:       # the server is stopping: the caller just sees it go
        ctx.reply_mode = "off"
        ctx.close_after_reply = True
    return reply(ctx, result, name, argv)


def _writable_blocked(misconf: str) -> str:
    """scriptPrepareForRun's MISCONF texts for a script that may write."""
    aof_prefix = "MISCONF Errors writing to the AOF file: "
    if misconf.startswith(aof_prefix):
        return ("MISCONF Redis is configured to persist data to AOF, but it's currently "
                "unable to persist to disk. Writable scripts are blocked. Use 'no-writes' "
                "flag for read only scripts. AOF error: " + misconf[len(aof_prefix):])
    return ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
            "to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for "
            "read only scripts.")


class _repl_filter:
    """Drop the writes made while redis.set_repl(redis.REPL_NONE) is in force."""

    def __init__(self, engine, current):
        self.engine = engine
        self.current = current
        self.saved = None

    def __enter__(self):
        engine = self.engine
        if engine.propagators:
            self.saved = engine.propagators
            current = self.current
            inner = list(engine.propagators)

            def propagate(db_index, argv):
                """Pass a write on unless redis.set_repl turned propagation off."""
                if current.repl:
                    for propagator in inner:
                        propagator(db_index, argv)
            engine.propagators = [propagate]
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            self.engine.propagators = self.saved


def reply(ctx, result: tuple, name: bytes, argv: list):
    """The caller's reply from a sandbox result (see LuaSandbox.run)."""
    engine = ctx.engine
    if result[0]:
        nested_errors = result[2] if len(result) > 2 else None
        if nested_errors:
            for message in nested_errors.values():
                engine.stats.count_error(message.decode("utf-8", "surrogateescape"))
        return Raw(result[1])
    message = result[1]
    source = result[2] if len(result) > 2 else None
    line = result[3] if len(result) > 3 else None
    counted = len(result) > 4 and result[4]
    if source is not None and line is not None:
        message += b" script: %s, on %s:%s." % (name, source, line)
    error = ReplyError(message.decode("utf-8", "surrogateescape"))
    if counted:     # already in the error stats (the command that failed counted it)
        spec = lookup(argv)
        if spec is not None:
            spec.failed_calls += 1
        return error
    raise error

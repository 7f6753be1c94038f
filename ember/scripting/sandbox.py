"""LuaSandbox: one Lua 5.1 state (lupa) set up as Redis 7 sets up its scripting engines.

Two exist per server, as in Redis: the EVAL engine (``mode="eval"``: KEYS/ARGV globals,
``redis.breakpoint``/``debug``/``replicate_commands``) and the FUNCTION engine
(``mode="function"``: callbacks get keys and args as arguments; FUNCTION LOAD runs with
only ``redis.register_function`` and logging visible). SCRIPT FLUSH and FUNCTION FLUSH
replace their engine's sandbox.

The ``redis.*`` functions that can fail, math.random and the cjson/cmsgpack/struct/bit
libraries are Python functions made Lua C functions; they raise :class:`LuaRaise` with
the error Redis's C code would raise. Everything engine-specific goes through the
``host`` object the commands layer provides (its methods are listed in :class:`Host`).
Lupa's attribute access on Python objects is refused and no Python object is reachable
from script code (the callables are upvalues of the prelude; ``debug`` is gone).
"""

import hashlib
import logging

import lupa.lua51 as lua51

from ember import REDIS_VERSION
from ember.errors import ReplyError
from ember.protocol.numbers import format_float
from ember.scripting import convert
from ember.scripting.errors import CallRejected, LuaRaise
from ember.scripting.libs import LIBRARIES, lua_number, type_name
from ember.scripting.prelude import PRELUDE

log = logging.getLogger("ember")

_MAJOR, _MINOR, _PATCH = (int(p) for p in REDIS_VERSION.split("."))
VERSION_NUM = (_MAJOR << 16) | (_MINOR << 8) | _PATCH
_LRAND_MAX = 2147483647
# Beyond this many KEYS+ARGV values, they go to Lua as tables (the Lua stack is limited).
_MAX_VARARGS = 200


class Host:
    """What a sandbox asks of its owner (the commands layer implements it)."""

    def command(self, argv: list):
        """Run one command for redis.call; returns its reply value, or raises
        :class:`CallRejected` (unknown command, wrong arity, refused by flags)."""
        raise CallRejected("Unknown Redis command called from script")

    def known_command(self, argv: list) -> bool:
        """True if argv names a command (redis.acl_check_cmd)."""
        return False

    def log(self, level: int, message: bytes) -> None:
        """redis.log (levels 0-3: debug, verbose, notice, warning)."""

    def setresp(self, resp: int) -> None:
        """redis.setresp (already validated): the protocol commands reply to the script."""

    def set_repl(self, flags: int) -> None:
        """redis.set_repl (already validated)."""

    def hook(self):
        """Every 100000 Lua instructions: None to go on, or the error text to stop with."""
        return None

    def register(self, name: bytes, callback, flags: list, description) -> None:
        """redis.register_function during FUNCTION LOAD; raise ValueError(text) to refuse."""

    def lrand(self) -> int:
        """The next value of Redis's 48-bit generator (math.random)."""
        return 0

    def srand(self, seed: int) -> None:
        """math.randomseed."""


class LibContext:
    """What the Python libraries need from their sandbox."""

    def __init__(self, rt):
        self.rt = rt
        self.null = None
        self._where = None

    def error(self, message: str) -> LuaRaise:
        """A luaL_error: the message prefixed with the calling script's position."""
        return LuaRaise(self._where() + message.encode())

    def arg_error(self, n: int, func: str, message: str) -> LuaRaise:
        """A luaL_argerror: "bad argument #n to 'func' (message)"."""
        return self.error(f"bad argument #{n} to '{func}' ({message})")


def _deny(*_args):
    raise AttributeError("access to Python attributes is not allowed")


def _exposed(func):
    """Wrap a function Lua calls: LuaRaise passes, any other exception (a bug) becomes a
    Lua error instead of leaking a Python exception object into the script."""
    def call(*args):
        try:
            return func(*args)
        except LuaRaise:
            raise
        except Exception:
            log.exception("error in a Lua library function")
            raise LuaRaise(b"internal error") from None
    return call


class LuaSandbox:
    """A sandboxed Lua state and the calls the commands layer makes into it."""

    def __init__(self, mode: str, host: Host):
        self.mode = mode
        self.host = host
        self.resp = 2
        self.loading = False
        rt = lua51.LuaRuntime(encoding=None, register_eval=False, register_builtins=False,
                              unpack_returned_tuples=True, attribute_handlers=(_deny, _deny))
        self.rt = rt
        ctx = LibContext(rt)
        libs = rt.table()
        for name, module in LIBRARIES:
            members = rt.table()
            for key, value in module.members(ctx).items():
                members[key.encode()] = _exposed(value) if callable(value) else value
            libs[name.encode()] = members
        callbacks = {
            "unwrap": lambda e: e.value if isinstance(e, LuaRaise) else str(e).encode(),
            "call": _exposed(self._call),
            "pcall": _exposed(self._pcall),
            "sha1hex": _exposed(self._sha1hex),
            "log": _exposed(self._log),
            "setresp": _exposed(self._setresp),
            "set_repl": _exposed(self._set_repl),
            "acl_check_cmd": _exposed(self._acl_check_cmd),
            "random": _exposed(self._random),
            "randomseed": _exposed(self._randomseed),
            "register": _exposed(self._register),
            "hook": self._hook,
            "fmt_double": lambda d: format_float(float(d)),
            "version": REDIS_VERSION.encode(),
            "version_num": VERSION_NUM,
        }
        host_table = rt.table_from({k.encode(): v for k, v in callbacks.items()})
        loader = rt.eval("function(src, name, ...) "
                         "return assert(loadstring(src, name))(...) end")
        self.api = api = loader(PRELUDE.encode(), b"=ember", mode.encode(), host_table, libs)
        # Lua functions are fetched once: indexing a Lua table from a Python callback
        # that runs inside a coroutine confuses lupa.
        self._where = ctx._where = api.where
        ctx.null = api.null
        self.null = api.null
        self._compile = api.compile
        self._runner = api.run_eval if mode == "eval" else api.run_function
        self._push_error = api.push_error
        self._named_args = api.named_args
        self._set_resp = api.set_resp
        self._load_library = api.load_library

    # ---- compiling and running ---------------------------------------------------------

    def compile(self, code: bytes, chunkname: bytes):
        """Compile a script body: (function, None), or (None, Lua's error message)."""
        result = self._compile(code, chunkname)
        if isinstance(result, tuple):
            return None, result[1]
        return result, None

    def run(self, fn, keys: list, args: list, caller_resp3: bool, timed: bool):
        """Call a compiled script or function callback.

        Returns ``(True, resp_bytes, nested_error_messages)`` or
        ``(False, message, source, line, already_counted)``.
        """
        self.resp = 2       # the Lua side resets its copy (api.resp) itself
        if len(keys) + len(args) > _MAX_VARARGS:
            rt = self.rt
            result = self._runner(fn, caller_resp3, timed, -1, rt.table_from(keys),
                                  rt.table_from(args))
        else:
            result = self._runner(fn, caller_resp3, timed, len(keys), *keys, *args)
        return result if isinstance(result, tuple) else (result,)

    def load_library(self, code: bytes):
        """Run a library's code so that it registers its functions: (ok, error text)."""
        self.loading = True
        try:
            result = self._load_library(code)
        finally:
            self.loading = False
        if isinstance(result, tuple):
            return result[0], result[1] if len(result) > 1 else None
        return result, None

    def memory(self) -> int:
        """Bytes the Lua state uses (INFO's used_memory_lua)."""
        return int(self.rt.eval("collectgarbage('count')") * 1024)

    # ---- errors ------------------------------------------------------------------------

    def _error_table(self, message: str, counted: bool = False):
        """luaPushError's table: {err="ERR message"} (or the code of "-CODE message")."""
        table = self._push_error(message.encode("utf-8", "surrogateescape"))
        if counted:
            table[b"ignore_error_stats_update"] = True
        return table

    # ---- redis.* -----------------------------------------------------------------------

    def _argv(self, args):
        """luaArgsToRedisArgv: strings as they are, numbers as %.17g."""
        if not args:
            raise LuaRaise(self._error_table(
                "Please specify at least one argument for this redis lib call"))
        argv = []
        for arg in args:
            kind = type(arg)
            if kind is bytes:
                argv.append(arg)
            elif kind is int or kind is float:
                argv.append(b"%.17g" % arg)
            else:
                raise LuaRaise(self._error_table(
                    "Lua redis lib command arguments must be strings or integers"))
        return argv

    def _command(self, args):
        """Run redis.call/pcall's command: (ok, Lua value or error table)."""
        argv = self._argv(args)
        try:
            reply = self.host.command(argv)
        except CallRejected as exc:
            return False, self._error_table(exc.message, counted=True)
        if type(reply) is ReplyError:
            table = self.rt.table_from({
                b"err": reply.message.encode("utf-8", "surrogateescape"),
                b"ignore_error_stats_update": True})
            return False, table
        kind, value = convert.reply_to_lua(self.rt, reply, self.resp == 3)
        if kind == convert.STATUS:
            return True, self.rt.table_from({b"ok": value})
        if kind == convert.ERROR_COUNTED:
            return False, self.rt.table_from({b"err": value,
                                              b"ignore_error_stats_update": True})
        return True, value

    def _call(self, *args):
        ok, value = self._command(args)
        if not ok:
            raise LuaRaise(value)
        return value

    def _pcall(self, *args):
        try:
            return self._command(args)[1]
        except LuaRaise as exc:
            return exc.value

    def _sha1hex(self, *args):
        if len(args) != 1:
            raise LuaRaise(self._error_table("wrong number of arguments"))
        value = args[0]
        if type(value) is not bytes:
            value = (b"%.14g" % value) if type(value) in (int, float) else b""
        return hashlib.sha1(value).hexdigest().encode()

    def _log(self, *args):
        if len(args) < 2:
            raise LuaRaise(self._error_table("redis.log() requires two arguments or more."))
        level = lua_number(args[0])
        if level is None:
            raise LuaRaise(self._error_table("First argument must be a number (log level)."))
        level = int(level)
        if level < 0 or level > 3:
            raise LuaRaise(self._error_table("Invalid debug level."))
        message = b""
        for j, value in enumerate(args[1:], 1):
            if type(value) in (int, float):
                value = b"%.14g" % value
            if type(value) is bytes:
                if j != 1:
                    message += b" "
                message += value
        self.host.log(level, message)

    def _setresp(self, *args):
        if len(args) != 1:
            raise LuaRaise(self._error_table("redis.setresp() requires one argument."))
        resp = int(lua_number(args[0]) or 0)
        if resp not in (2, 3):
            raise LuaRaise(self._error_table("RESP version must be 2 or 3."))
        self.resp = resp
        self._set_resp(resp)
        self.host.setresp(resp)

    def _set_repl(self, *args):
        if len(args) != 1:
            raise LuaRaise(self._error_table("redis.set_repl() requires two arguments."))
        flags = int(lua_number(args[0]) or 0)
        if flags & ~3:
            raise LuaRaise(self._error_table(
                "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."))
        self.host.set_repl(flags)

    def _acl_check_cmd(self, *args):
        argv = self._argv(args)
        if not self.host.known_command(argv):
            raise LuaRaise(self._error_table("Invalid command passed to redis.acl_check_cmd()"))
        return True     # ember has one all-powerful user so far

    # ---- math.random (Redis's redisLrand48 sequence) ----------------------------------

    def _int_arg(self, args, index: int, func: str) -> int:
        value = args[index - 1] if index <= len(args) else None
        number = lua_number(value)
        if number is None:
            got = "no value" if index > len(args) else type_name(value)
            raise LuaRaise(self._where() + (
                f"bad argument #{index} to '{func}' (number expected, got {got})").encode())
        return int(number)

    def _random(self, *args):
        r = (self.host.lrand() % _LRAND_MAX) / _LRAND_MAX
        if not args:
            return r
        if len(args) == 1:
            upper = self._int_arg(args, 1, "random")
            if upper < 1:
                raise LuaRaise(self._where()
                               + b"bad argument #1 to 'random' (interval is empty)")
            return int(r * upper) + 1
        if len(args) == 2:
            lower = self._int_arg(args, 1, "random")
            upper = self._int_arg(args, 2, "random")
            if lower > upper:
                raise LuaRaise(self._where()
                               + b"bad argument #2 to 'random' (interval is empty)")
            return int(r * (upper - lower + 1)) + lower
        raise LuaRaise(self._where() + b"wrong number of arguments")

    def _randomseed(self, *args):
        self.host.srand(self._int_arg(args, 1, "randomseed"))

    # ---- FUNCTION LOAD -----------------------------------------------------------------

    def _register(self, *args):
        if not self.loading:
            raise LuaRaise(self._error_table(
                "redis.register_function can only be called on FUNCTION LOAD command"))
        if len(args) < 1 or len(args) > 2:
            raise LuaRaise(self._error_table(
                "wrong number of arguments to redis.register_function"))
        if len(args) == 1:
            parsed = self._named_args(args[0])
            if parsed[0] is None:
                raise LuaRaise(self._error_table(parsed[1].decode()))
            name, callback, flags, description = parsed
            flags = list(flags.values())
        else:
            name, callback = args
            if type(name) in (int, float):
                name = b"%.14g" % name
            if type(name) is not bytes:
                raise LuaRaise(self._error_table(
                    "first argument to redis.register_function must be a string"))
            if lua51.lua_type(callback) != "function":
                raise LuaRaise(self._error_table(
                    "second argument to redis.register_function must be a function"))
            flags, description = [], None
        try:
            self.host.register(name, callback, flags, description)
        except ValueError as exc:
            raise LuaRaise(self._error_table(str(exc))) from None

    def _hook(self):
        try:
            return self.host.hook()
        except Exception:  # the hook must never break the script engine
            log.exception("script hook failed")
            return None

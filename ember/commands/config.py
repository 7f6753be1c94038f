"""CONFIG GET / SET / RESETSTAT / REWRITE / HELP.

The handlers work on ``ctx.engine.config`` (the server's Config object) through its
methods: ``matching`` for GET, ``set_many`` (atomic; returns Redis's error text) for SET and
``rewrite_file`` for REWRITE; this module never imports the server package.
"""

import ipaddress
import logging

from ember.commands.registry import COMMANDS, command
from ember.errors import ReplyError
from ember.protocol.replies import OK, Status

log = logging.getLogger("ember")

command("config", arity=-2, container=True, group="server", since="2.0.0")

_HELP = (
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
)


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@command("config|get", arity=-3, flags="admin noscript loading stale", group="server",
         since="2.0.0")
def config_get(ctx, argv):
    """Return the parameters matching any of the glob patterns, with their values."""
    found = ctx.engine.config.matching([_text(a) for a in argv[2:]])
    return {_bytes(name): _bytes(value) for name, value in found.items()}


def is_local_client(ctx) -> bool:
    """A unix-socket or loopback client (Redis's islocalClient), for "local" settings."""
    addr = ctx.addr or ""
    if not addr or addr.startswith("/") or ctx.conn is None:
        return True
    host = addr.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def protected_allowed(ctx, setting: str) -> bool:
    """Redis's allowProtectedAction: "yes", or "local" for a local client."""
    return setting == "yes" or (setting == "local" and is_local_client(ctx))


@command("config|set", arity=-4, flags="admin noscript loading stale", group="server",
         since="2.0.0")
def config_set(ctx, argv):
    """Set one or more parameters, all or nothing."""
    if len(argv) % 2:
        raise ReplyError("ERR syntax error")
    config = ctx.engine.config
    pairs = [(_text(argv[i]), _text(argv[i + 1])) for i in range(2, len(argv), 2)]
    error = config.set_many(pairs, protected_allowed(ctx, config.enable_protected_configs))
    if error is not None:
        raise ReplyError(error)
    return OK


def _zero(holder) -> None:
    """Reset every counter attribute (ints, floats, dicts) of a stats object."""
    names = list(getattr(holder, "__dict__", {}))
    for cls in type(holder).__mro__:
        names.extend(getattr(cls, "__slots__", ()))
    for name in names:
        try:
            value = getattr(holder, name)
        except AttributeError:
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            setattr(holder, name, type(value)(0))
        elif isinstance(value, dict):
            value.clear()


def reset_command_stats() -> None:
    """Zero calls/usec/rejected/failed of every command and subcommand."""
    for spec in COMMANDS.values():
        for item in (spec, *spec.subcommands.values()):
            item.calls = item.usec = item.rejected_calls = item.failed_calls = 0


@command("config|resetstat", arity=2, flags="admin noscript loading stale",
         group="server", since="2.0.0")
def config_resetstat(ctx, argv):
    """Reset INFO's statistics: server counters, keyspace hits/misses, command stats."""
    engine = ctx.engine
    _zero(engine.stats)
    _zero(engine.keyspace_stats)
    reset_command_stats()
    for hook in engine.hooks.get("resetstat", ()):
        hook()
    return OK


@command("config|rewrite", arity=2, flags="admin noscript loading stale", group="server",
         since="2.8.0")
def config_rewrite(ctx, argv):
    """Rewrite the config file given at start-up with the current configuration."""
    config = ctx.engine.config
    if not config.path:
        raise ReplyError("ERR The server is running without a config file")
    try:
        config.rewrite_file()
    except OSError as exc:
        log.warning("CONFIG REWRITE failed: %s", exc.strerror)
        raise ReplyError(f"ERR Rewriting config file: {exc.strerror}")
    log.warning("CONFIG REWRITE executed with success.")
    return OK


@command("config|help", arity=2, flags="loading stale", group="server", since="5.0.0")
def config_help(ctx, argv):
    """Describe the CONFIG subcommands."""
    return [Status(line) for line in _HELP]

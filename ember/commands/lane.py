"""The fast lane: which commands a plain client may run without ``Engine.execute``.

``Engine.execute`` checks, for every command, what could change how it is run: a
subcommand to resolve, authentication, maxmemory's gate, a client's special state
(MULTI, subscriber mode, tracking, a replica's READONLY, -LOADING, MISCONF), CLIENT
NO-TOUCH, MONITOR. For a pipeline of data commands from an ordinary client, every one of
those answers is the same for the whole batch, and asking them again per command was
about a fifth of the instructions of a pipelined GET. ``Connection._run`` asks
:func:`client_is_plain` once, then runs the commands :func:`lane_spec` admits straight
through their handlers, keeping everything ``Engine.call`` does (command stats, slowlog,
propagation, waking blocked clients). Anything else (an unknown command, a wrong
arity, a command that can change the client's state) takes the full path.

A command is admitted when it is a plain data command: a key-space group (strings,
hashes, lists, sets, sorted sets, bitmaps, HyperLogLog, geo, streams, the generic key
commands) or PING/ECHO, not blocking (BLPOP & co. may park the client), not ``noscript``
nor MIGRATE, WAIT or WAITAOF, with no subcommands. None of these can
alter the conditions ``client_is_plain`` checked.
"""

from ember.commands.registry import COMMANDS

LANE_GROUPS = frozenset({"string", "bitmap", "hash", "list", "set", "sorted-set",
                         "hyperloglog", "geo", "stream", "generic"})
LANE_EXTRA = frozenset({"ping", "echo"})
# Commands of a lane group that still take the full path: MIGRATE talks to another
# server, WAIT and WAITAOF park the client.
LANE_EXCLUDED = frozenset({"migrate", "wait", "waitaof"})

# Command name exactly as sent (b"GET", b"get" ...) -> its spec, or None if not admitted
# (filled by lane_spec; Connection._run reads it directly, a subscript being the cheapest
# lookup there is).
LANE = {}
LANE_MAX = 4096


def admitted(spec) -> bool:
    """True if ``spec`` may run in the fast lane (see the module docstring)."""
    return (spec.handler is not None and not spec.subcommands
            and (spec.group in LANE_GROUPS or spec.name in LANE_EXTRA)
            and spec.name not in LANE_EXCLUDED
            and "blocking" not in spec.flags and "noscript" not in spec.flags)


def lane_spec(name: bytes):
    """The spec of command ``name`` if it may run in the fast lane, else None (cached)."""
    try:
        return LANE[name]
    except KeyError:
        pass
    spec = COMMANDS.get(name.lower().decode("latin-1"))
    if spec is not None and not admitted(spec):
        spec = None
    if len(LANE) >= LANE_MAX:
        LANE.clear()
    LANE[name] = spec
    return spec


def client_is_plain(engine, client) -> bool:
    """True when nothing about this client or the server changes how a data command runs:
    no special state, authenticated, replies on, NO-TOUCH off, no maxmemory gate, no
    MONITOR, no CLIENT PAUSE in force."""
    return (not client.special and client.authenticated and client.reply_mode == "on"
            and not client.no_touch and client.blocked is None
            and not engine.config.maxmemory and not engine.monitors
            and engine.pause_kind is None)

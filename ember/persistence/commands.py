"""SAVE, BGSAVE [SCHEDULE] and BGREWRITEAOF, with Redis's replies and errors.

They reach the server's persistence state through ``engine.hooks["persistence"]`` (the
object ember/server/persistence_wiring.py installs, with ``snapshots``, ``children`` and
``aof``); the server imports this module when it starts, so the command table has them
whenever a server runs.
"""

from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.protocol.replies import OK, Status

IN_PROGRESS = "ERR Background save already in progress"
GENERIC = "ERR"


def _in_exec(ctx) -> bool:
    """True while EXEC runs the queued commands (ctx.multi is set then; outside EXEC a
    client in MULTI has its commands queued, never run)."""
    return ctx.multi is not None


def _state(ctx):
    state = ctx.engine.hooks.get("persistence")
    if state is None:
        raise ReplyError(GENERIC)
    return state


@command("save", arity=1, flags="admin noscript no_async_loading no_multi",
         group="server", since="1.0.0")
def save(ctx, argv):
    """Write the RDB snapshot now, blocking the server (Redis's SAVE)."""
    state = _state(ctx)
    if state.children.kind == "rdb":
        raise ReplyError(IN_PROGRESS)
    if not state.snapshots.save():
        raise ReplyError(GENERIC)
    return OK


@command("bgsave", arity=-1, flags="admin noscript no_async_loading", group="server",
         since="1.0.0")
def bgsave(ctx, argv):
    """Start a background save in a forked child; SCHEDULE waits for a running child."""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise ReplyError(SYNTAX)
    state = _state(ctx)
    children = state.children
    if children.kind == "rdb":
        raise ReplyError(IN_PROGRESS)
    if children.busy or _in_exec(ctx):     # Redis never forks from inside EXEC
        if schedule or _in_exec(ctx):
            state.snapshots.scheduled = True
            return Status("Background saving scheduled")
        raise ReplyError(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use "
            "BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    if not state.snapshots.bgsave():
        raise ReplyError(GENERIC)
    return Status("Background saving started")


@command("bgrewriteaof", arity=1, flags="admin noscript no_async_loading", group="server",
         since="1.0.0")
def bgrewriteaof(ctx, argv):
    """Rewrite the AOF in the background: a new BASE from a forked child's snapshot."""
    state = _state(ctx)
    children = state.children
    if children.kind == "aof":
        raise ReplyError("ERR Background append only file rewriting already in progress")
    if children.busy or _in_exec(ctx):
        state.schedule_rewrite()
        return Status("Background append only file rewriting scheduled")
    if not state.rewrite():
        raise ReplyError("ERR Can't execute an AOF background rewriting. Please check the "
                         "server logs for more information.")
    return Status("Background append only file rewriting started")

"""SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stop the server.

On success nothing is replied: the connection closes as the server exits (exit code 0).
Persistence (ember/server/persistence_wiring.py) installs
``engine.hooks["shutdown_save"]``, a callable that writes the final snapshot and returns
True on success. SHUTDOWN calls it when SAVE is given, or when neither SAVE nor NOSAVE is
given and ``save`` points are configured; a failed save refuses the shutdown unless FORCE
is given, as Redis does. The stop itself goes through the server layer:
``engine.hooks["server"].request_shutdown(reason)``.
"""

import logging

from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError

log = logging.getLogger("ember")

_FLAGS = {b"nosave", b"save", b"now", b"force"}
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."


def parse_flags(argv: list):
    """(flags, abort) from SHUTDOWN's arguments; syntax error for bad ones or combos."""
    flags = set()
    abort = False
    for arg in argv[1:]:
        word = arg.lower()
        if word in _FLAGS:
            flags.add(word.decode())
        elif word == b"abort":
            abort = True
        else:
            raise ReplyError(SYNTAX)
    if (abort and flags) or ("save" in flags and "nosave" in flags):
        raise ReplyError(SYNTAX)
    return flags, abort


def final_save(engine, flags: set) -> bool:
    """Run the final save if one is due; False if it failed (and FORCE was not given)."""
    wanted = "save" in flags or ("nosave" not in flags and bool(engine.config.save))
    saver = engine.hooks.get("shutdown_save")
    if not wanted or saver is None:
        return True
    log.info("Saving the final RDB snapshot before exiting.")
    if saver():
        return True
    if "force" in flags:
        log.warning("Error trying to save the DB. Exit anyway.")
        return True
    log.warning("Error trying to save the DB, can't exit.")
    log.warning("Errors trying to shut down the server. Check the logs for more "
                "information.")
    return False


@command("shutdown", arity=-1, flags="admin noscript loading stale no_multi allow_busy",
         group="server", since="1.0.0")
def shutdown(ctx, argv):
    """Stop the server (after the final save when one is due)."""
    flags, abort = parse_flags(argv)
    if abort:
        # ember stops at once (it never waits for replicas), so nothing is ever pending.
        raise ReplyError("ERR No shutdown in progress.")
    engine = ctx.engine
    server = engine.hooks.get("server")
    if server is None:
        raise ReplyError(SHUTDOWN_FAILED)
    if not final_save(engine, flags):
        raise ReplyError(SHUTDOWN_FAILED)
    ctx.reply_mode = "off"
    ctx.close_after_reply = True
    engine.hooks["final_save_done"] = True    # persistence must not save again on the way out
    server.request_shutdown("User requested shutdown...")
    return None

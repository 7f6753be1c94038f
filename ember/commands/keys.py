"""Generic keyspace commands: DEL, FLUSHDB, FLUSHALL and the rest of the key family."""

from ember.commands.registry import command
from ember.errors import SYNTAX, ReplyError
from ember.protocol.replies import OK


def _flush_mode(argv):
    if len(argv) > 2:
        raise ReplyError(SYNTAX)
    if len(argv) == 2 and argv[1].lower() not in (b"async", b"sync"):
        raise ReplyError(SYNTAX)


@command("flushdb", arity=-1, flags="write", group="server", since="1.0.0")
def flushdb(ctx, argv):
    """Remove all keys from the current database."""
    _flush_mode(argv)
    count = len(ctx.db)
    ctx.db.flush()
    ctx.engine.key_modified(ctx.db, None, "flushdb", count=max(count, 1))
    return OK


@command("flushall", arity=-1, flags="write", group="server", since="1.0.0")
def flushall(ctx, argv):
    """Remove all keys from all databases."""
    _flush_mode(argv)
    count = 0
    for db in ctx.engine.dbs:
        count += len(db)
        db.flush()
    ctx.engine.key_modified(ctx.db, None, "flushall", count=max(count, 1))
    return OK


@command("del", arity=-2, flags="write", keys=(1, -1, 1), group="generic", since="1.0.0")
def del_(ctx, argv):
    """Delete keys."""
    db = ctx.db
    removed = 0
    for key in argv[1:]:
        if db.delete(key):
            removed += 1
            ctx.engine.key_modified(db, key, "del")
    return removed

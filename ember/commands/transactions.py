"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.2 semantics).

MULTI puts the client in a special state (``client.multi`` is the queue, a list of
``(spec, argv)``, and ``client.special["multi"]`` is :func:`queue_gate`, which the
dispatcher consults only for clients with something in ``client.special``). Every command
that passes lookup, arity and authentication is then queued and answered ``+QUEUED``,
except EXEC, DISCARD, MULTI, WATCH, QUIT and RESET, which run at once.

A command refused while queuing -- unknown, wrong arity, NOAUTH, ``no_multi`` commands, or
any later refusal that goes through ``Engine._reject`` -- gets its usual error and flags
the transaction (``"dirty_exec"`` in ``client.flags``): EXEC then answers
``-EXECABORT Transaction discarded because of previous errors.``. EXEC itself refused
(``EXEC x``) aborts with the refusal's reason (:func:`on_reject`).

EXEC runs the queue synchronously through ``Engine.call``, so no other client's command
can run in between, with ``"deny_blocking"`` set so that blocking commands answer their
nil at once; errors of single commands are replies in EXEC's array and the others still
run. Their writes reach the AOF/replicas through ``Engine.atomic_propagation``: wrapped in
one MULTI ... EXEC when there is more than one, as Redis 7 does; a transaction that changed
nothing propagates nothing. Clients blocked on keys the transaction wrote are served once,
after EXEC (``Engine.execute`` handles ready keys after each top-level command).

WATCH bookkeeping lives in :mod:`ember.commands.watch`.
"""

from ember.commands import watch as watching
from ember.commands.registry import command
from ember.errors import ReplyError
from ember.protocol.replies import NULL_ARRAY, OK, QUEUED

EXECABORT = "EXECABORT Transaction discarded because of previous errors."
NOT_ALLOWED = "ERR Command not allowed inside a transaction"

# Commands that run at once inside MULTI instead of being queued (Redis's processCommand).
_RUN_AT_ONCE = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))


def queue_gate(client, spec, argv):
    """Dispatcher gate for a client in MULTI: queue the command and answer QUEUED.

    Returns None for the commands that run at once (the dispatcher goes on). Once the
    transaction is doomed (a queuing error, or a touched WATCHed key) commands are
    answered but not kept, as Redis does.
    """
    queue = client.multi
    if queue is None or spec.name in _RUN_AT_ONCE:
        return None
    if "no_multi" in spec.flags:
        return client.engine._reject(spec, ReplyError(NOT_ALLOWED), client)
    flags = client.flags
    if "dirty_exec" not in flags and "dirty_cas" not in flags:
        queue.append((spec, argv))
    client.last_cmd = spec.name
    return QUEUED


def on_reject(client, spec, error: ReplyError) -> ReplyError:
    """A command refused before running (called by ``Engine._reject`` for clients in MULTI
    and for EXEC): flag the transaction; a refused EXEC discards it with EXECABORT."""
    if client.multi is not None:
        client.flags.add("dirty_exec")
    if spec is not None and spec.name == "exec":
        discard_transaction(client)
        reason = error.message
        if reason.startswith("ERR "):   # Redis formats the reason without its ERR code
            reason = reason[4:]
        return ReplyError("EXECABORT Transaction discarded because of: " + reason)
    return error


def discard_transaction(client) -> None:
    """Leave MULTI: drop the queue, the dirty flags and every WATCH."""
    client.multi = None
    client.special.pop("multi", None)
    client.flags.discard("dirty_cas")
    client.flags.discard("dirty_exec")
    watching.unwatch_all(client)


def _install_hooks(engine) -> None:
    """RESET and disconnects end transactions and watches (hooks installed on first use)."""
    for name in ("reset", "disconnect"):
        hooks = engine.hooks.setdefault(name, [])
        if discard_transaction not in hooks:
            hooks.append(discard_transaction)


@command("multi", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="1.2.0")
def multi(ctx, argv):
    """Start a transaction."""
    if ctx.multi is not None:
        raise ReplyError("ERR MULTI calls can not be nested")
    _install_hooks(ctx.engine)
    ctx.multi = []
    ctx.special["multi"] = queue_gate
    return OK


@command("exec", arity=1, flags="noscript loading stale skip_slowlog",
         group="transactions", since="1.2.0")
def exec_(ctx, argv):
    """Execute all commands issued after MULTI."""
    queue = ctx.multi
    if queue is None:
        raise ReplyError("ERR EXEC without MULTI")
    engine = ctx.engine
    flags = ctx.flags
    registry = engine.hooks.get("watch")
    if (registry is not None and "dirty_cas" not in flags
            and registry.expired_since_watch(ctx)):
        flags.add("dirty_cas")
    if "dirty_exec" in flags:
        discard_transaction(ctx)
        raise ReplyError(EXECABORT)
    if "dirty_cas" in flags:
        discard_transaction(ctx)
        return NULL_ARRAY
    watching.unwatch_all(ctx)       # nothing can abort it now
    # Still "in MULTI" for CLIENT LIST (flags x, multi=<n>, as Redis shows during EXEC),
    # but commands run from inside EXEC (a script's redis.call) must run, not queue.
    ctx.special.pop("multi", None)
    denied_before = "deny_blocking" in flags
    flags.add("deny_blocking")
    call = engine.call
    replies = []
    try:
        with engine.atomic_propagation():
            for spec, queued_argv in queue:
                replies.append(call(ctx, spec, queued_argv))
    finally:
        if not denied_before:
            flags.discard("deny_blocking")
        discard_transaction(ctx)
    return replies


@command("discard", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="2.0.0")
def discard(ctx, argv):
    """Discard all commands issued after MULTI."""
    if ctx.multi is None:
        raise ReplyError("ERR DISCARD without MULTI")
    discard_transaction(ctx)
    return OK


@command("watch", arity=-2, flags="noscript loading stale fast allow_busy", keys=(1, -1, 1),
         group="transactions", since="2.2.0")
def watch(ctx, argv):
    """Monitor changes to keys to determine execution of a transaction."""
    if ctx.multi is not None:
        raise ReplyError("ERR WATCH inside MULTI is not allowed")
    engine = ctx.engine
    _install_hooks(engine)
    watching.registry(engine).watch(ctx, ctx.db, argv[1:])
    return OK


@command("unwatch", arity=1, flags="noscript loading stale fast allow_busy",
         group="transactions", since="2.2.0")
def unwatch(ctx, argv):
    """Forget about all watched keys."""
    watching.unwatch_all(ctx)
    ctx.flags.discard("dirty_cas")
    return OK

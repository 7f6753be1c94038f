"""Blocking sorted-set pops: BZPOPMIN, BZPOPMAX and BZMPOP (Redis's
blockingGenericZpopCommand), on the generic framework of :mod:`ember.commands.blocking`.

A call pops from the first key holding a sorted set, exactly as ZPOPMIN / ZMPOP would,
and propagates itself as that non-blocking pop. When every key is missing it raises
``Block``: the framework parks the client first come first served, re-runs the command
when a write (ZADD from any client, a MULTI/EXEC, ZUNIONSTORE ...) touches one of the
keys, answers ``*-1`` (RESP3 ``_``) on timeout, and answers that at once inside MULTI.
"""

from ember.commands.blocking import Block, timeout_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.zsets import GROUP, mpop_keys, parse_mpop, zpop_generic
from ember.storage.types.zset import ZSet


def bzpop_generic(ctx, argv, keys, highest: bool, timeout: bytes, count: int, nested: bool):
    """Pop from the first non-empty sorted set of ``keys`` or block on all of them.

    ``count`` -1 is BZPOPMIN/BZPOPMAX's single pop (flat ``[key, member, score]``);
    otherwise BZMPOP's ``[key, [[member, score], ...]]`` (``nested``).
    """
    deadline = timeout_arg(ctx, timeout)
    db = ctx.db
    for key in keys:
        if db.get_typed(key, ZSet, write=True):
            reply, _, popped = zpop_generic(ctx, [key], highest, True, count, nested, True)
            name = b"ZPOPMAX" if highest else b"ZPOPMIN"
            ctx.propagate_argv = [name, key] if count == -1 else [name, key, b"%d" % popped]
            return reply
    raise Block(keys, deadline, kind="zset")


_BZPOP_SPECS = (KeySpec("RW access delete", index=1, lastkey=-2),)


@command("bzpopmin", arity=-3, flags="write blocking fast", keys=(1, -2, 1), group=GROUP,
         since="5.0.0", complexity="O(log(N))", key_specs=_BZPOP_SPECS)
def bzpopmin(ctx, argv):
    """Pops the member with the lowest score from the first non-empty key, or blocks."""
    return bzpop_generic(ctx, argv, argv[1:-1], False, argv[-1], -1, False)


@command("bzpopmax", arity=-3, flags="write blocking fast", keys=(1, -2, 1), group=GROUP,
         since="5.0.0", complexity="O(log(N))", key_specs=_BZPOP_SPECS)
def bzpopmax(ctx, argv):
    """Pops the member with the highest score from the first non-empty key, or blocks."""
    return bzpop_generic(ctx, argv, argv[1:-1], True, argv[-1], -1, False)


@command("bzmpop", arity=-5, flags="write blocking movablekeys", group=GROUP,
         since="7.0.0", complexity="O(K) + O(M*log(N))", getkeys=mpop_keys(2),
         key_specs=(KeySpec("RW access delete", index=2, keynum=(0, 1, 1)),))
def bzmpop(ctx, argv):
    """Pops members with the lowest or highest scores from the first non-empty key of
    several, or blocks: BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]."""
    keys, highest, count = parse_mpop(argv, 2)
    return bzpop_generic(ctx, argv, keys, highest, argv[1], count, True)

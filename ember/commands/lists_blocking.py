"""Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.

Each one is its non-blocking form when a list can serve it, propagated as that form
(LPOP key, LPOP key n, LMOVE, RPOPLPUSH) so that replicas and the AOF never block; when
none can, it raises :class:`~ember.commands.blocking.Block` on its keys and the blocking
framework parks the client until a push makes one of them a list again, then runs the
command again from the start (see :mod:`ember.commands.blocking`). Timeouts are seconds,
fractions allowed, 0 = forever; the timeout reply is the null array (``*-1`` / ``_``).
Inside MULTI (and scripts) they do not block: BLPOP/BRPOP/BLMPOP answer the null array,
BLMOVE/BRPOPLPUSH the null bulk string, as Redis does.
"""

from ember.commands.blocking import Block, timeout_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.lists import (
    get_list,
    move,
    mpop_keys,
    mpop_reply,
    parse_mpop,
    pop_reply,
    side,
)
from ember.commands.registry import command

_MOVE_SPECS = (KeySpec("RW access delete", index=1), KeySpec("RW insert", index=2))
_POP_SPECS = (KeySpec("RW access delete", index=1, lastkey=-2),)


def _blocking_pop(ctx, argv, left: bool):
    deadline = timeout_arg(ctx, argv[-1])
    keys = argv[1:-1]
    for key in keys:
        value = get_list(ctx, key, write=True)
        if value is not None:
            element = pop_reply(ctx, key, value, left, None)
            ctx.propagate_argv = [b"LPOP" if left else b"RPOP", key]
            return [key, element]
    raise Block(keys, deadline, kind="list")


@command("blpop", arity=-3, flags="write blocking", keys=(1, -2, 1), group="list",
         since="2.0.0", key_specs=_POP_SPECS,
         complexity="O(N) where N is the number of provided keys.")
def blpop(ctx, argv):
    """Removes and returns the first element in a list. Blocks until an element is
    available otherwise. Deletes the list if the last element was popped."""
    return _blocking_pop(ctx, argv, True)


@command("brpop", arity=-3, flags="write blocking", keys=(1, -2, 1), group="list",
         since="2.0.0", key_specs=_POP_SPECS,
         complexity="O(N) where N is the number of provided keys.")
def brpop(ctx, argv):
    """Removes and returns the last element in a list. Blocks until an element is
    available otherwise. Deletes the list if the last element was popped."""
    return _blocking_pop(ctx, argv, False)


@command("blmpop", arity=-5, flags="write blocking movablekeys", group="list",
         since="7.0.0", getkeys=mpop_keys(2),
         key_specs=(KeySpec("RW access delete", index=2, keynum=(0, 1, 1)),),
         complexity="O(N+M) where N is the number of provided keys and M is the number "
         "of elements returned.")
def blmpop(ctx, argv):
    """Pops the first element from one of multiple lists. Blocks until an element is
    available otherwise. Deletes the list if the last element was popped."""
    keys, left, count = parse_mpop(argv, 2)
    deadline = timeout_arg(ctx, argv[1])
    for key in keys:
        value = get_list(ctx, key, write=True)
        if value is not None:
            return mpop_reply(ctx, key, value, left, count)
    raise Block(keys, deadline, kind="list")


def _blocking_move(ctx, argv, from_left: bool, to_left: bool, deadline: int, propagate):
    source = get_list(ctx, argv[1], write=True)
    if source is None:
        raise Block([argv[1]], deadline, kind="list", nil=None)
    element = move(ctx, source, argv[1], argv[2], from_left, to_left)
    ctx.propagate_argv = propagate
    return element


@command("blmove", arity=6, flags="write denyoom blocking", keys=(1, 2, 1), group="list",
         since="6.2.0", key_specs=_MOVE_SPECS, complexity="O(1)")
def blmove(ctx, argv):
    """Pops an element from a list, pushes it to another list and returns it. Blocks
    until an element is available otherwise. Deletes the list if the last element was
    moved."""
    from_left = side(argv[3])
    to_left = side(argv[4])
    deadline = timeout_arg(ctx, argv[5])
    return _blocking_move(ctx, argv, from_left, to_left, deadline,
                          [b"LMOVE", argv[1], argv[2], argv[3], argv[4]])


@command("brpoplpush", arity=4, flags="write denyoom blocking", keys=(1, 2, 1),
         group="list", since="2.2.0", key_specs=_MOVE_SPECS, complexity="O(1)")
def brpoplpush(ctx, argv):
    """Pops an element from a list, pushes it to another list and returns it. Block
    until an element is available otherwise. Deletes the list if the last element was
    popped."""
    deadline = timeout_arg(ctx, argv[3])
    return _blocking_move(ctx, argv, False, True, deadline,
                          [b"RPOPLPUSH", argv[1], argv[2]])

"""List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
LTRIM LPOS LMOVE RPOPLPUSH LMPOP.

The value type (a deque, with Redis 7.2's listpack/quicklist encoding rules) is
:mod:`ember.storage.types.list`; this module parses arguments in Redis's order (so the
same bad command fails with the same error), goes through the keyspace's lookup path and
records each write: one ``key_modified`` per changed key with Redis's event name and
dirty count, ``del`` when a list is emptied (the key is deleted). The blocking forms
(BLPOP ...) live in :mod:`ember.commands.lists_blocking` and share :func:`pop_reply`,
:func:`mpop_reply` and :func:`move`.
"""

from ember.commands.args import int_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import NO_SUCH_KEY, NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import LLONG_MAX, parse_int
from ember.protocol.replies import NULL_ARRAY, OK
from ember.storage.types.list import ListValue

MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
INDEX_OUT_OF_RANGE = "ERR index out of range"
RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
             "second ... or use negative to start from the end of the list")

_RW_INSERT = (KeySpec("RW insert", index=1),)
_RW_POP = (KeySpec("RW access delete", index=1),)
_MOVE_SPECS = (KeySpec("RW access delete", index=1), KeySpec("RW insert", index=2))


def range_long(data: bytes, low: int, high: int, message: str = None) -> int:
    """Redis's getRangeLongFromObjectOrReply: an integer in [low, high], else ``message``
    (or Redis's default texts)."""
    value = parse_int(data)
    if value is None:
        raise ReplyError(message or NOT_INTEGER)
    if value < low or value > high:
        raise ReplyError(message or "ERR value is out of range, value must between %d and %d"
                         % (low, high))
    return value


def positive_long(data: bytes, message: str = MUST_BE_POSITIVE) -> int:
    """Redis's getPositiveLongFromObjectOrReply: 0..LONG_MAX, one error text for all."""
    return range_long(data, 0, LLONG_MAX, message)


def fill(ctx) -> int:
    """list-max-listpack-size, read at each write so that CONFIG SET applies at once."""
    return ctx.engine.config.list_max_listpack_size


def get_list(ctx, key: bytes, write: bool = False):
    """The list at ``key`` or None; WRONGTYPE for another type."""
    return ctx.db.get_typed(key, ListValue, write)


def side(arg: bytes) -> bool:
    """LEFT -> True, RIGHT -> False (LMOVE, LMPOP); anything else is a syntax error."""
    word = arg.lower()
    if word == b"left":
        return True
    if word == b"right":
        return False
    raise ReplyError(SYNTAX)


def removed(ctx, key: bytes, value: ListValue, left: bool, count: int) -> None:
    """Bookkeeping after popping ``count`` elements: event, dirty, delete an empty list
    (Redis's listElementsRemoved)."""
    db = ctx.db
    engine = ctx.engine
    engine.key_modified(db, key, "lpop" if left else "rpop", count)
    if value.items:
        value.try_shrink(fill(ctx))
    else:
        db.delete(key)
        engine.key_modified(db, key, "del", 0)


# ---- pushes ---------------------------------------------------------------------------

def _push(ctx, argv, left: bool, only_existing: bool):
    db = ctx.db
    key = argv[1]
    value = get_list(ctx, key, write=True)
    if value is None:
        if only_existing:
            return 0
        value = ListValue()
        db.set(key, value)
    length = value.push(argv[2:], left, fill(ctx))
    ctx.engine.key_modified(db, key, "lpush" if left else "rpush", len(argv) - 2)
    return length


@command("lpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="1.0.0", key_specs=_RW_INSERT,
         complexity="O(1) for each element added")
def lpush(ctx, argv):
    """Prepends one or more elements to a list. Creates the key if it doesn't exist."""
    return _push(ctx, argv, True, False)


@command("rpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="1.0.0", key_specs=_RW_INSERT,
         complexity="O(1) for each element added")
def rpush(ctx, argv):
    """Appends one or more elements to a list. Creates the key if it doesn't exist."""
    return _push(ctx, argv, False, False)


@command("lpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="2.2.0", key_specs=_RW_INSERT,
         complexity="O(1) for each element added")
def lpushx(ctx, argv):
    """Prepends one or more elements to a list only when the list exists."""
    return _push(ctx, argv, True, True)


@command("rpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         since="2.2.0", key_specs=_RW_INSERT,
         complexity="O(1) for each element added")
def rpushx(ctx, argv):
    """Appends one or more elements to a list only when the list exists."""
    return _push(ctx, argv, False, True)


# ---- pops -----------------------------------------------------------------------------

def pop_reply(ctx, key: bytes, value: ListValue, left: bool, count):
    """Pop from a non-empty list: one element (``count`` None) or a list of up to
    ``count``; records the write."""
    if count is None:
        popped = value.pop(left)
        removed(ctx, key, value, left, 1)
        return popped
    popped = value.pop_many(count, left)
    removed(ctx, key, value, left, len(popped))
    return popped


def _pop(ctx, argv, left: bool):
    if len(argv) > 3:
        raise ReplyError("ERR wrong number of arguments for '%s' command"
                         % ("lpop" if left else "rpop"))
    count = positive_long(argv[2]) if len(argv) == 3 else None
    value = get_list(ctx, argv[1], write=True)
    if value is None:
        return None if count is None else NULL_ARRAY
    if count == 0:
        return []
    return pop_reply(ctx, argv[1], value, left, count)


@command("lpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         key_specs=_RW_POP, complexity="O(N) where N is the number of elements returned")
def lpop(ctx, argv):
    """Returns the first elements in a list after removing it. Deletes the list if the
    last element was popped."""
    return _pop(ctx, argv, True)


@command("rpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list", since="1.0.0",
         key_specs=_RW_POP, complexity="O(N) where N is the number of elements returned")
def rpop(ctx, argv):
    """Returns and removes the last elements of a list. Deletes the list if the last
    element was popped."""
    return _pop(ctx, argv, False)


def parse_mpop(argv, numkeys_index: int):
    """LMPOP/BLMPOP arguments after the timeout: (keys, left, count)."""
    numkeys = range_long(argv[numkeys_index], 1, LLONG_MAX,
                         "ERR numkeys should be greater than 0")
    where = numkeys_index + numkeys + 1
    if where >= len(argv):
        raise ReplyError(SYNTAX)
    left = side(argv[where])
    count = None
    j = where + 1
    while j < len(argv):
        if count is None and argv[j].lower() == b"count" and j + 1 < len(argv):
            count = range_long(argv[j + 1], 1, LLONG_MAX, "ERR count should be greater than 0")
            j += 2
        else:
            raise ReplyError(SYNTAX)
    return argv[numkeys_index + 1:where], left, count or 1


def mpop_reply(ctx, key: bytes, value: ListValue, left: bool, count: int) -> list:
    """Pop up to ``count`` from a non-empty list as ``[key, [elements]]``; propagated as
    ``LPOP key n`` / ``RPOP key n``, as Redis does for LMPOP and BLMPOP."""
    popped = pop_reply(ctx, key, value, left, count)
    ctx.propagate_argv = [b"LPOP" if left else b"RPOP", key, b"%d" % len(popped)]
    return [key, popped]


def mpop_keys(first: int):
    """Key positions of LMPOP (numkeys at ``first``) and BLMPOP (at ``first`` = 2)."""
    def positions(argv) -> list:
        count = parse_int(argv[first]) if len(argv) > first else None
        if count is None or count < 1 or count > len(argv) - first - 1:
            return []
        return list(range(first + 1, first + 1 + count))
    return positions


@command("lmpop", arity=-4, flags="write movablekeys", group="list", since="7.0.0",
         getkeys=mpop_keys(1), key_specs=(KeySpec("RW access delete", index=1,
                                                   keynum=(0, 1, 1)),),
         complexity="O(N+M) where N is the number of provided keys and M is the number "
         "of elements returned.")
def lmpop(ctx, argv):
    """Returns multiple elements from a list after removing them. Deletes the list if the
    last element was popped."""
    keys, left, count = parse_mpop(argv, 1)
    for key in keys:
        value = get_list(ctx, key, write=True)
        if value is not None:
            return mpop_reply(ctx, key, value, left, count)
    return NULL_ARRAY


# ---- reading --------------------------------------------------------------------------

@command("llen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="list",
         since="1.0.0", key_specs=(KeySpec("RO", index=1),), complexity="O(1)")
def llen(ctx, argv):
    """Returns the length of a list."""
    value = get_list(ctx, argv[1])
    return 0 if value is None else len(value.items)


@command("lrange", arity=4, flags="readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         complexity="O(S+N) where S is the distance of start offset from HEAD for small "
         "lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of "
         "elements in the specified range.")
def lrange(ctx, argv):
    """Returns a range of elements from a list."""
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    value = get_list(ctx, argv[1])
    return [] if value is None else value.range(start, end)


@command("lindex", arity=3, flags="readonly", keys=(1, 1, 1), group="list", since="1.0.0",
         complexity="O(N) where N is the number of elements to traverse to get to the "
         "element at index.")
def lindex(ctx, argv):
    """Returns an element from a list by its index."""
    value = get_list(ctx, argv[1])
    if value is None:
        return None
    return value.index(int_arg(argv[2]))


@command("lpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="list", since="6.0.6",
         complexity="O(N) where N is the number of elements in the list, for the average "
         "case.")
def lpos(ctx, argv):
    """Returns the index of matching elements in a list."""
    rank, count, maxlen = 1, None, 0
    j = 3
    while j < len(argv):
        option = argv[j].lower()
        more = j + 1 < len(argv)
        if option == b"rank" and more:
            rank = range_long(argv[j + 1], -LLONG_MAX, LLONG_MAX)
            if rank == 0:
                raise ReplyError(RANK_ZERO)
        elif option == b"count" and more:
            count = positive_long(argv[j + 1], "ERR COUNT can't be negative")
        elif option == b"maxlen" and more:
            maxlen = positive_long(argv[j + 1], "ERR MAXLEN can't be negative")
        else:
            raise ReplyError(SYNTAX)
        j += 2
    value = get_list(ctx, argv[1])
    if value is None:
        return None if count is None else []
    found = value.positions(argv[2], rank, count, maxlen)
    if count is not None:
        return found
    return found[0] if found else None


# ---- changes in the middle ------------------------------------------------------------

@command("lset", arity=4, flags="write denyoom", keys=(1, 1, 1), group="list",
         since="1.0.0", key_specs=(KeySpec("RW update", index=1),),
         complexity="O(N) where N is the length of the list. Setting either the first or "
         "the last element of the list is O(1).")
def lset(ctx, argv):
    """Sets the value of an element in a list by its index."""
    value = get_list(ctx, argv[1], write=True)
    if value is None:
        raise ReplyError(NO_SUCH_KEY)
    index = int_arg(argv[2])
    if not value.set(index, argv[3], fill(ctx)):
        raise ReplyError(INDEX_OUT_OF_RANGE)
    ctx.engine.key_modified(ctx.db, argv[1], "lset")
    value.try_shrink(fill(ctx))
    return OK


@command("linsert", arity=5, flags="write denyoom", keys=(1, 1, 1), group="list",
         since="2.2.0", key_specs=_RW_INSERT,
         complexity="O(N) where N is the number of elements to traverse before seeing the "
         "value pivot. This means that inserting somewhere on the left end on the list "
         "(head) can be considered O(1) and inserting somewhere on the right end (tail) "
         "is O(N).")
def linsert(ctx, argv):
    """Inserts an element before or after another element in a list."""
    where = argv[2].lower()
    if where not in (b"before", b"after"):
        raise ReplyError(SYNTAX)
    value = get_list(ctx, argv[1], write=True)
    if value is None:
        return 0
    length = value.insert(argv[3], argv[4], where == b"before", fill(ctx))
    if length > 0:
        ctx.engine.key_modified(ctx.db, argv[1], "linsert")
    return length


@command("lrem", arity=4, flags="write", keys=(1, 1, 1), group="list", since="1.0.0",
         key_specs=(KeySpec("RW delete", index=1),),
         complexity="O(N+M) where N is the length of the list and M is the number of "
         "elements removed.")
def lrem(ctx, argv):
    """Removes elements from a list. Deletes the list if the last element was removed."""
    count = int_arg(argv[2])
    key = argv[1]
    value = get_list(ctx, key, write=True)
    if value is None:
        return 0
    gone = value.remove(count, argv[3])
    if gone:
        engine = ctx.engine
        engine.key_modified(ctx.db, key, "lrem", gone)
        if value.items:
            value.try_shrink(fill(ctx))
        else:
            ctx.db.delete(key)
            engine.key_modified(ctx.db, key, "del", 0)
    return gone


@command("ltrim", arity=4, flags="write", keys=(1, 1, 1), group="list", since="1.0.0",
         key_specs=(KeySpec("RW delete", index=1),),
         complexity="O(N) where N is the number of elements to be removed by the "
         "operation.")
def ltrim(ctx, argv):
    """Removes elements from both ends a list. Deletes the list if all elements were
    trimmed."""
    start = int_arg(argv[2])
    end = int_arg(argv[3])
    key = argv[1]
    value = get_list(ctx, key, write=True)
    if value is None:
        return OK
    gone = value.trim(start, end)
    engine = ctx.engine
    engine.key_modified(ctx.db, key, "ltrim", gone)     # even when nothing went, as Redis
    if value.items:
        value.try_shrink(fill(ctx))
    else:
        ctx.db.delete(key)
        engine.key_modified(ctx.db, key, "del", 0)
    return OK


# ---- moves ----------------------------------------------------------------------------

def move(ctx, source: ListValue, src: bytes, dst: bytes, from_left: bool, to_left: bool):
    """Pop from the non-empty list ``source`` (at ``src``) and push onto ``dst``; return
    the element. WRONGTYPE for a ``dst`` of another type, before anything changes."""
    db = ctx.db
    target = get_list(ctx, dst, write=True)
    element = source.pop(from_left)
    if target is None:
        target = ListValue()
        db.set(dst, target)
    target.push([element], to_left, fill(ctx))
    ctx.engine.key_modified(db, dst, "lpush" if to_left else "rpush", 0)
    removed(ctx, src, source, from_left, 1)
    return element


@command("lmove", arity=5, flags="write denyoom", keys=(1, 2, 1), group="list",
         since="6.2.0", key_specs=_MOVE_SPECS, complexity="O(1)")
def lmove(ctx, argv):
    """Returns an element after popping it from one list and pushing it to another.
    Deletes the list if the last element was moved."""
    from_left = side(argv[3])
    to_left = side(argv[4])
    source = get_list(ctx, argv[1], write=True)
    if source is None:
        return None
    return move(ctx, source, argv[1], argv[2], from_left, to_left)


@command("rpoplpush", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list",
         since="1.2.0", key_specs=_MOVE_SPECS, complexity="O(1)")
def rpoplpush(ctx, argv):
    """Returns the last element of a list after removing and pushing it to another list.
    Deletes the list if the last element was popped."""
    source = get_list(ctx, argv[1], write=True)
    if source is None:
        return None
    return move(ctx, source, argv[1], argv[2], False, True)

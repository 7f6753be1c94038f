"""Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD (t_stream.c).

IDs are parsed as Redis's streamGenericParseIDOrReply (``ms-seq``, ``ms`` alone taking a
default sequence, ``-``/``+`` unless strict, ``ms-*`` for XADD) and kept as packed ints
(:mod:`ember.storage.types.stream`). XADD generates ``*`` IDs from the engine clock and
propagates the concrete ID; an approximate trim (``~``) propagates as the exact trim
that has the same effect (``=`` and the resulting MAXLEN or first ID), as Redis does.
XREAD BLOCK parks the client on the blocking framework (:mod:`ember.commands.blocking`)
with ``$`` replaced by the stream's last ID, so any XADD wakes it, first come first
served; the timeout reply is the null array.
"""

import re

from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import NO_SUCH_KEY, NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import NULL_ARRAY, OK
from ember.storage.types.stream import MAX64, MAX_ID, StreamValue, format_id, pack

GROUP = "stream"
INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
_STRTOULL = re.compile(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")


def _string2ull(data: bytes):
    """Redis's string2ull: an int64 >= 0, else C strtoull's reading (whitespace, a
    sign, wrap-around of a negative), else None."""
    value = parse_int(data)
    if value is not None:
        return value if value >= 0 else None
    match = _STRTOULL.match(data)
    if match is None:
        return None
    value = int(match.group(2))
    if value > MAX64:
        return None
    return (-value) & MAX64 if match.group(1) == b"-" else value


def parse_id(data: bytes, missing_seq: int = 0, strict: bool = False,
             allow_star: bool = False):
    """An ID argument as a packed int; with ``allow_star`` returns ``(id, seq_given)``
    (``ms-*`` gives seq_given False). Raises Redis's invalid ID error."""
    if len(data) > 127:
        raise ReplyError(INVALID_ID)
    data = data.split(b"\0", 1)[0]
    if data == b"-" or data == b"+":
        if strict:
            raise ReplyError(INVALID_ID)
        sid = 0 if data == b"-" else MAX_ID
        return (sid, True) if allow_star else sid
    ms_text, dash, seq_text = data.partition(b"-")
    ms = _string2ull(ms_text)
    if ms is None:
        raise ReplyError(INVALID_ID)
    seq_given = True
    if dash:
        if allow_star and seq_text == b"*":
            seq, seq_given = 0, False
        else:
            seq = _string2ull(seq_text)
            if seq is None:
                raise ReplyError(INVALID_ID)
    else:
        seq = missing_seq
    sid = pack(ms, seq)
    return (sid, seq_given) if allow_star else sid


def parse_interval_id(data: bytes, missing_seq: int):
    """streamParseIntervalIDOrReply: ``(id, exclusive)``; ``(`` makes it exclusive."""
    if len(data) > 1 and data[:1] == b"(":
        return parse_id(data[1:], missing_seq, strict=True), True
    return parse_id(data, missing_seq), False


def entry_reply(entry) -> list:
    """``[id, [field, value ...]]`` of one entry."""
    return [format_id(entry[0]), list(entry[1])]


def get_stream(ctx, key: bytes, write: bool = False):
    """The stream at ``key`` (None if absent); WRONGTYPE for another type."""
    return ctx.db.get_typed(key, StreamValue, write=write)


# ---- XADD / XTRIM arguments -----------------------------------------------------------------

class TrimArgs:
    """Parsed trimming options (Redis's streamAddTrimArgs)."""

    __slots__ = ("maxlen", "minid", "approx", "limit", "arg_index", "sid", "seq_given",
                 "id_given", "nomkstream", "end")

    def __init__(self):
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.arg_index = 0
        self.sid = 0
        self.seq_given = True
        self.id_given = False
        self.nomkstream = False
        self.end = 0

    @property
    def strategy(self) -> bool:
        return self.maxlen is not None or self.minid is not None


def parse_trim_args(ctx, argv, xadd: bool) -> TrimArgs:
    """streamParseAddOrTrimArgsOrReply: options from argv[2]; ``end`` is the index of
    the ID argument for XADD."""
    args = TrimArgs()
    limit_given = False
    i = 2
    argc = len(argv)
    while i < argc:
        more = argc - 1 - i
        opt = argv[i]
        low = opt.lower()
        if xadd and opt == b"*":
            break
        if low in (b"maxlen", b"minid") and more:
            if args.strategy:
                raise ReplyError("ERR syntax error, MAXLEN and MINID options at the same "
                                 "time are not compatible")
            args.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                args.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if low == b"maxlen":
                value = parse_int(argv[i + 1])
                if value is None:
                    raise ReplyError(NOT_INTEGER)
                if value < 0:
                    raise ReplyError("ERR The MAXLEN argument must be >= 0.")
                args.maxlen, args.minid = value, None
            else:
                args.minid, args.maxlen = parse_id(argv[i + 1], strict=True), None
            i += 1
            args.arg_index = i
        elif low == b"limit" and more:
            value = parse_int(argv[i + 1])
            if value is None:
                raise ReplyError(NOT_INTEGER)
            if value < 0:
                raise ReplyError("ERR The LIMIT argument must be >= 0.")
            args.limit = value
            limit_given = True
            i += 1
        elif xadd and low == b"nomkstream":
            args.nomkstream = True
        elif xadd:
            args.sid, args.seq_given = parse_id(opt, strict=True, allow_star=True)
            args.id_given = True
            break
        else:
            raise ReplyError(SYNTAX)
        i += 1
    args.end = i
    if args.limit and not args.strategy:
        raise ReplyError("ERR syntax error, LIMIT cannot be used without specifying a "
                         "trimming strategy")
    if not xadd and not args.strategy:
        raise ReplyError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if limit_given:
        if not args.approx:
            raise ReplyError("ERR syntax error, LIMIT cannot be used without the special "
                             "~ option")
    elif args.approx:
        limit = 100 * ctx.engine.config.stream_node_max_entries
        args.limit = 10000 if limit <= 0 or limit > 10000 else limit
    else:
        args.limit = 0
    return args


def apply_trim(stream: StreamValue, args: TrimArgs) -> int:
    """Trim ``stream`` as ``args`` say; return the number of entries removed."""
    return stream.trim(args.maxlen, args.minid, args.approx, args.limit)


def rewrite_trim(stream: StreamValue, args: TrimArgs, argv: list) -> None:
    """The exact-effect form of an approximate trim, for propagation (Redis's
    streamRewriteApproxSpecifier + streamRewriteTrimArgument)."""
    argv[args.arg_index - 1] = b"="
    if args.maxlen is not None:
        argv[args.arg_index] = b"%d" % len(stream)
    else:
        argv[args.arg_index] = format_id(stream.first_id_with_tombstones())


def _node_limits(ctx):
    config = ctx.engine.config
    return config.stream_node_max_entries, config.stream_node_max_bytes


_W1 = (KeySpec("RW update", index=1),)
_W1_DEL = (KeySpec("RW delete", index=1),)
_RO1 = (KeySpec("RO access", index=1),)


@command("xadd", arity=-5, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=_W1, tips="nondeterministic_output",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the "
         "number of entries evicted.")
def xadd(ctx, argv):
    """Appends a new message to a stream. Creates the key if it doesn't exist."""
    args = parse_trim_args(ctx, argv, True)
    field_pos = args.end + 1
    nfields = len(argv) - field_pos
    if nfields < 2 or nfields % 2:
        raise ReplyError("ERR wrong number of arguments for 'xadd' command")
    if args.id_given and args.seq_given and args.sid == 0:
        raise ReplyError("ERR The ID specified in XADD must be greater than 0-0")
    db = ctx.db
    key = argv[1]
    stream = get_stream(ctx, key, write=True)
    created = stream is None
    if created:
        if args.nomkstream:
            return None
        stream = StreamValue()
    if stream.last_id == MAX_ID:
        raise ReplyError("ERR The stream has exhausted the last possible ID, unable to "
                         "add more items")
    if not args.id_given:
        sid = stream.next_id(ctx.engine.now())
    elif args.seq_given:
        sid = args.sid
    elif stream.last_id >> 64 == args.sid >> 64:
        if stream.last_id & MAX64 == MAX64:
            sid = 0
        else:
            sid = stream.last_id + 1
    else:
        sid = args.sid
    if sid is None or sid <= stream.last_id:
        raise ReplyError("ERR The ID specified in XADD is equal or smaller than the "
                         "target stream top item")
    stream.append(sid, tuple(argv[field_pos:]), *_node_limits(ctx))
    if created:
        db.set(key, stream)
    ctx.engine.key_modified(db, key, "xadd")
    propagated = None
    if args.strategy:
        if apply_trim(stream, args):
            ctx.engine.key_modified(db, key, "xtrim", count=0)
        if args.approx:
            propagated = list(argv)
            rewrite_trim(stream, args, propagated)
    if not args.id_given or not args.seq_given:
        propagated = propagated or list(argv)
        propagated[args.end] = format_id(sid)
    if propagated is not None:
        ctx.propagate_argv = propagated
    return format_id(sid)


@command("xtrim", arity=-4, flags="write", keys=(1, 1, 1), group=GROUP, since="5.0.0",
         key_specs=_W1_DEL, tips="nondeterministic_output",
         complexity="O(N), with N being the number of evicted entries. Constant times are "
         "very small however, since entries are organized in macro nodes containing "
         "multiple entries that can be released with a single deallocation.")
def xtrim(ctx, argv):
    """Deletes messages from the beginning of a stream."""
    args = parse_trim_args(ctx, argv, False)
    stream = get_stream(ctx, argv[1], write=True)
    if stream is None:
        return 0
    deleted = apply_trim(stream, args)
    if deleted:
        ctx.engine.key_modified(ctx.db, argv[1], "xtrim", count=deleted)
        if args.approx:
            propagated = list(argv)
            rewrite_trim(stream, args, propagated)
            ctx.propagate_argv = propagated
    return deleted


@command("xlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=_RO1, complexity="O(1)")
def xlen(ctx, argv):
    """Return the number of messages in a stream."""
    stream = get_stream(ctx, argv[1])
    return len(stream) if stream is not None else 0


def _range(ctx, argv, reverse: bool):
    start_arg, end_arg = (argv[3], argv[2]) if reverse else (argv[2], argv[3])
    start, exclusive = parse_interval_id(start_arg, 0)
    if exclusive:
        if start == MAX_ID:
            raise ReplyError("ERR invalid start ID for the interval")
        start += 1
    end, exclusive = parse_interval_id(end_arg, MAX64)
    if exclusive:
        if end == 0:
            raise ReplyError("ERR invalid end ID for the interval")
        end -= 1
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv):
            count = parse_int(argv[j + 1])
            if count is None:
                raise ReplyError(NOT_INTEGER)
            count = max(count, 0)
            j += 2
        else:
            raise ReplyError(SYNTAX)
    stream = get_stream(ctx, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return [entry_reply(e) for e in stream.range(start, end, max(count, 0), reverse)]


@command("xrange", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=_RO1,
         complexity="O(N) with N being the number of elements being returned. If N is "
         "constant (e.g. always asking for the first 10 elements with COUNT), you can "
         "consider it O(1).")
def xrange(ctx, argv):
    """Returns the messages from a stream within a range of IDs."""
    return _range(ctx, argv, False)


@command("xrevrange", arity=-4, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=_RO1,
         complexity="O(N) with N being the number of elements returned. If N is constant "
         "(e.g. always asking for the first 10 elements with COUNT), you can consider it "
         "O(1).")
def xrevrange(ctx, argv):
    """Returns the messages from a stream within a range of IDs in reverse order."""
    return _range(ctx, argv, True)


@command("xdel", arity=-3, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=_W1_DEL,
         complexity="O(1) for each single item to delete in the stream, regardless of "
         "the stream size.")
def xdel(ctx, argv):
    """Returns the number of messages after removing them from a stream."""
    stream = get_stream(ctx, argv[1], write=True)
    if stream is None:
        return 0
    ids = [parse_id(a, strict=True) for a in argv[2:]]
    deleted = 0
    for sid in ids:
        if stream.delete(sid):
            if sid > stream.max_deleted_id:
                stream.max_deleted_id = sid
            deleted += 1
    if deleted:
        stream.first_id = stream.ids[0] if stream.ids else 0
        ctx.engine.key_modified(ctx.db, argv[1], "xdel", count=deleted)
    return deleted


@command("xsetid", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=(KeySpec("RW update", index=1),), complexity="O(1)")
def xsetid(ctx, argv):
    """An internal command for replicating stream values."""
    sid = parse_id(argv[2], strict=True)
    entries_added = -1
    max_xdel = 0
    i = 3
    while i < len(argv):
        more = len(argv) - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added is None:
                raise ReplyError(NOT_INTEGER)
            if entries_added < 0:
                raise ReplyError("ERR entries_added must be positive")
        elif opt == b"maxdeletedid" and more:
            max_xdel = parse_id(argv[i + 1], strict=True)
            if sid < max_xdel:
                raise ReplyError("ERR The ID specified in XSETID is smaller than the "
                                 "provided max_deleted_entry_id")
        else:
            raise ReplyError(SYNTAX)
        i += 2
    stream = get_stream(ctx, argv[1], write=True)
    if stream is None:
        raise ReplyError(NO_SUCH_KEY)
    if len(stream):
        if sid < stream.ids[-1]:
            raise ReplyError("ERR The ID specified in XSETID is smaller than the target "
                             "stream top item")
        if entries_added != -1 and len(stream) > entries_added:
            raise ReplyError("ERR The entries_added specified in XSETID is smaller than "
                             "the target stream length")
    stream.last_id = sid
    if entries_added != -1:
        stream.entries_added = entries_added
    if max_xdel:
        stream.max_deleted_id = max_xdel
    ctx.engine.key_modified(ctx.db, argv[1], "xsetid")
    return OK

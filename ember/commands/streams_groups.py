"""Consumer groups: XGROUP (CREATE SETID DESTROY CREATECONSUMER DELCONSUMER HELP), XACK
and XPENDING (Redis's t_stream.c), plus the helpers XREADGROUP and XCLAIM/XAUTOCLAIM
(:mod:`ember.commands.streams_claim`) share (:func:`deliver`, :func:`xclaim_argv`,
:func:`setid_argv`).

Times (delivery times, idle times, consumers' seen/active times) come from the engine
clock (``ctx.engine.now()``). Group changes propagate as Redis 7 does: XCLAIM and
XAUTOCLAIM propagate one idempotent ``XCLAIM key group consumer 0 id TIME t RETRYCOUNT n
FORCE JUSTID LASTID last`` per claimed (or dropped) entry, or ``XGROUP SETID`` when only
LASTID moved the group; several of them go as one MULTI/EXEC unit.
"""

from ember.commands.client import subcommand_syntax_error
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.server import help_reply
from ember.commands.streams import (
    GROUP,
    get_stream,
    parse_id,
    parse_interval_id,
)
from ember.errors import NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import NULL_ARRAY, OK
from ember.storage.types.stream import (
    MAX64,
    MAX_ID,
    Consumer,
    Group,
    PendingEntry,
    StreamValue,
    format_id,
)

INVALID_ENTRIES_READ = -1
KEY_REQUIRED = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE "
                "you may want to use the MKSTREAM option to create an empty stream "
                "automatically.")


def c_text(data: bytes) -> str:
    """A name as Redis's %s prints it (up to the first NUL)."""
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def nogroup(key: bytes, group: bytes, suffix: str = "") -> ReplyError:
    """NOGROUP No such key 'k' or consumer group 'g'<suffix>."""
    return ReplyError(f"NOGROUP No such key '{c_text(key)}' or consumer group "
                      f"'{c_text(group)}'{suffix}")


def xgroup_nogroup(key: bytes, group: bytes) -> ReplyError:
    return ReplyError(f"NOGROUP No such consumer group '{c_text(group)}' for key name "
                      f"'{c_text(key)}'")


def _event(ctx, key: bytes, event: str) -> None:
    ctx.engine.key_modified(ctx.db, key, event)


def create_consumer(ctx, key: bytes, group: Group, name: bytes) -> Consumer:
    """streamCreateConsumer (SCC_DEFAULT): a new consumer, event and dirty counted."""
    consumer = Consumer(name, ctx.engine.now())
    group.consumers[name] = consumer
    _event(ctx, key, "xgroup-createconsumer")
    return consumer


def xclaim_argv(key, groupname, sid, nack, group) -> list:
    """streamPropagateXCLAIM: the idempotent XCLAIM that replays a PEL change."""
    return [b"XCLAIM", key, groupname, nack.consumer.name, b"0", format_id(sid), b"TIME",
            b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", format_id(group.last_id)]


def setid_argv(key, groupname, group) -> list:
    """streamPropagateGroupID: XGROUP SETID with the group's last ID and entries read."""
    return [b"XGROUP", b"SETID", key, groupname, format_id(group.last_id), b"ENTRIESREAD",
            b"%d" % group.entries_read]


def range_has_tombstones(stream: StreamValue, start: int, end: int = MAX_ID) -> bool:
    """streamRangeHasTombstones: may [start, end] hold a deleted entry?"""
    if not len(stream) or stream.max_deleted_id == 0:
        return False
    if stream.first_id > stream.max_deleted_id:
        return False
    return start <= stream.max_deleted_id <= end


def estimate_distance(stream: StreamValue, sid: int) -> int:
    """streamEstimateDistanceFromFirstEverEntry: the logical read counter of ``sid``,
    or -1 when it cannot be known."""
    if not stream.entries_added:
        return 0
    if not len(stream) and sid <= stream.last_id:
        return stream.entries_added
    if sid == stream.last_id:
        return stream.entries_added
    if sid > stream.last_id:
        return INVALID_ENTRIES_READ
    if stream.max_deleted_id == 0 or stream.max_deleted_id < stream.first_id:
        if sid < stream.first_id:
            return stream.entries_added - len(stream)
        if sid == stream.first_id:
            return stream.entries_added - len(stream) + 1
    return INVALID_ENTRIES_READ


def group_lag(stream: StreamValue, group: Group):
    """streamReplyWithCGLag: entries not yet delivered to the group, or None."""
    if not stream.entries_added:
        return 0
    if group.entries_read != INVALID_ENTRIES_READ and \
            not range_has_tombstones(stream, group.last_id):
        return stream.entries_added - group.entries_read
    read = estimate_distance(stream, group.last_id)
    if read != INVALID_ENTRIES_READ:
        return stream.entries_added - read
    return None


def add_pending(group: Group, consumer: Consumer, sid: int, now: int) -> PendingEntry:
    """Record ``sid`` as delivered to ``consumer`` (a fresh delivery: count 1)."""
    nack = group.pel.get(sid)
    if nack is None:
        nack = PendingEntry(consumer, now)
        group.pel[sid] = nack
        group.pel_ids.add(sid)
        consumer.pending.add(sid)
    else:
        if nack.consumer is not consumer:
            nack.consumer.pending.discard(sid)
            consumer.pending.add(sid)
        nack.consumer = consumer
        nack.delivery_time = now
        nack.delivery_count = 1
    return nack


def remove_pending(group: Group, sid: int) -> None:
    """Drop ``sid`` from the group's PEL and its consumer's."""
    nack = group.pel.pop(sid)
    group.pel_ids.remove(sid)
    nack.consumer.pending.discard(sid)


def deliver(ctx, key, groupname, stream, group, consumer, after, count, noack, props):
    """streamReplyWithRange for ``>``: new entries after ``after`` for the group, moving
    its last ID (and entries read) and its PEL; propagations appended to ``props``."""
    now = ctx.engine.now()
    out = []
    moved = False
    for sid, fields in stream.range(after + 1, MAX_ID, count):
        if sid > group.last_id:
            if group.entries_read != INVALID_ENTRIES_READ and \
                    not range_has_tombstones(stream, sid):
                group.entries_read += 1
            elif stream.entries_added:
                group.entries_read = estimate_distance(stream, sid)
            group.last_id = sid
            moved = True
        out.append([format_id(sid), list(fields)])
        if not noack:
            nack = add_pending(group, consumer, sid, now)
            consumer.active_time = now
            props.append(xclaim_argv(key, groupname, sid, nack, group))
    if moved:
        props.append(setid_argv(key, groupname, group))
    return out


def history(ctx, stream, group, consumer, after, count):
    """streamReplyWithRangeFromConsumerPEL: the consumer's pending entries after
    ``after`` (a deleted one as ``[id, nil]``), counting a new delivery of each."""
    if after == MAX_ID:
        return []
    now = ctx.engine.now()
    out = []
    for sid in consumer.pending.irange(after + 1):
        if count and len(out) >= count:
            break
        fields = stream.entries.get(sid)
        if fields is None:
            out.append([format_id(sid), NULL_ARRAY])
        else:
            out.append([format_id(sid), list(fields)])
            nack = group.pel[sid]
            nack.delivery_time = now
            nack.delivery_count += 1
    return out


def set_propagation(ctx, props: list, dirty_before: int) -> None:
    """Propagate ``props`` (one MULTI/EXEC unit when several) instead of the command,
    or nothing at all when the command changed something but propagates nothing
    (Redis's preventCommandPropagation)."""
    if ctx.engine.dirty != dirty_before or props:
        ctx.propagate_argv = tuple(props)


# ---- XGROUP -------------------------------------------------------------------------------

_XGROUP_HELP = (
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
)

command("xgroup", arity=-2, container=True, group=GROUP, since="5.0.0")
_KEY2_W = (KeySpec("RW update", index=2),)
_KEY2_INS = (KeySpec("RW insert", index=2),)
_KEY2_DEL = (KeySpec("RW delete", index=2),)


def _entries_read_arg(data: bytes) -> int:
    value = parse_int(data)
    if value is None:
        raise ReplyError(NOT_INTEGER)
    if value < 0 and value != INVALID_ENTRIES_READ:
        raise ReplyError("ERR value for ENTRIESREAD must be positive or -1")
    return value


def _xgroup_target(ctx, argv, mkstream: bool = False, need_group: bool = True):
    """The stream and group of XGROUP argv (key at 2, group at 3), with its errors."""
    stream = get_stream(ctx, argv[2], write=True)
    group = stream.groups.get(argv[3]) if stream is not None else None
    if stream is None and not mkstream:
        raise ReplyError(KEY_REQUIRED)
    if need_group and group is None:
        raise xgroup_nogroup(argv[2], argv[3])
    return stream, group


@command("xgroup|create", arity=-5, flags="write denyoom", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_KEY2_INS, complexity="O(1)")
def xgroup_create(ctx, argv):
    """Creates a consumer group."""
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"mkstream":
            mkstream = True
            i += 1
        elif opt == b"entriesread" and i + 1 < len(argv):
            entries_read = _entries_read_arg(argv[i + 1])
            i += 2
        else:
            raise subcommand_syntax_error(argv)
    stream, _ = _xgroup_target(ctx, argv, mkstream, need_group=False)
    if len(argv) > 8:
        raise subcommand_syntax_error(argv)
    if argv[4] == b"$":
        sid = stream.last_id if stream is not None else 0
    else:
        sid = parse_id(argv[4], strict=True)
    if stream is None:
        stream = StreamValue()
        ctx.db.set(argv[2], stream)
    if argv[3] in stream.groups:
        raise ReplyError("BUSYGROUP Consumer Group name already exists")
    stream.groups[argv[3]] = Group(sid, entries_read)
    _event(ctx, argv[2], "xgroup-create")
    return OK


@command("xgroup|setid", arity=-5, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_KEY2_W, complexity="O(1)")
def xgroup_setid(ctx, argv):
    """Sets the last-delivered ID of a consumer group."""
    stream, group = _xgroup_target(ctx, argv)
    if len(argv) not in (5, 7):
        raise subcommand_syntax_error(argv)
    sid = stream.last_id if argv[4] == b"$" else parse_id(argv[4])
    entries_read = INVALID_ENTRIES_READ
    if len(argv) == 7:
        if argv[5].lower() != b"entriesread":
            raise subcommand_syntax_error(argv)
        entries_read = _entries_read_arg(argv[6])
    group.last_id = sid
    group.entries_read = entries_read
    _event(ctx, argv[2], "xgroup-setid")
    return OK


@command("xgroup|destroy", arity=4, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_KEY2_DEL,
         complexity="O(N) where N is the number of entries in the group's pending entries "
         "list (PEL).")
def xgroup_destroy(ctx, argv):
    """Destroys a consumer group."""
    stream, group = _xgroup_target(ctx, argv, need_group=False)
    if group is None:
        return 0
    del stream.groups[argv[3]]
    _event(ctx, argv[2], "xgroup-destroy")      # wakes XREADGROUP readers: NOGROUP
    return 1


@command("xgroup|createconsumer", arity=5, flags="write denyoom", keys=(2, 2, 1),
         group=GROUP, since="6.2.0", key_specs=_KEY2_INS, complexity="O(1)")
def xgroup_createconsumer(ctx, argv):
    """Creates a consumer in a consumer group."""
    _, group = _xgroup_target(ctx, argv)
    if argv[4] in group.consumers:
        return 0
    create_consumer(ctx, argv[2], group, argv[4])
    return 1


@command("xgroup|delconsumer", arity=5, flags="write", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_KEY2_DEL, complexity="O(1)")
def xgroup_delconsumer(ctx, argv):
    """Deletes a consumer from a consumer group."""
    _, group = _xgroup_target(ctx, argv)
    consumer = group.consumers.get(argv[4])
    if consumer is None:
        return 0
    pending = len(consumer.pending)
    for sid in list(consumer.pending):
        del group.pel[sid]
        group.pel_ids.remove(sid)
    del group.consumers[argv[4]]
    _event(ctx, argv[2], "xgroup-delconsumer")
    return pending


@command("xgroup|help", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         complexity="O(1)")
def xgroup_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return help_reply("XGROUP", _XGROUP_HELP)


# ---- XACK / XPENDING ----------------------------------------------------------------------

@command("xack", arity=-4, flags="write fast", keys=(1, 1, 1), group=GROUP, since="5.0.0",
         key_specs=(KeySpec("RW update", index=1),),
         complexity="O(1) for each message ID processed.")
def xack(ctx, argv):
    """Returns the number of messages that were successfully acknowledged by the
    consumer group member of a stream."""
    stream = get_stream(ctx, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        return 0
    ids = [parse_id(a, strict=True) for a in argv[3:]]
    acked = 0
    for sid in ids:
        if sid in group.pel:
            remove_pending(group, sid)
            acked += 1
    ctx.engine.dirty += acked
    return acked


@command("xpending", arity=-3, flags="readonly", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=(KeySpec("RO access", index=1),),
         complexity="O(N) with N being the number of elements returned, so asking for a "
         "small fixed number of entries per call is O(1). O(M), where M is the total "
         "number of entries scanned when used with the IDLE filter. When the command "
         "returns just the summary and the list of consumers is small, it runs in O(1) "
         "time; otherwise, an additional O(N) time for iterating every consumer.")
def xpending(ctx, argv):
    """Returns the information and entries from a stream consumer group's pending
    entries list."""
    argc = len(argv)
    if argc != 3 and (argc < 6 or argc > 9):
        raise ReplyError(SYNTAX)
    minidle = 0
    consumer_name = None
    if argc >= 6:
        at = 3
        if argv[3].lower() == b"idle":
            minidle = parse_int(argv[4])
            if minidle is None:
                raise ReplyError(NOT_INTEGER)
            if argc < 8:
                raise ReplyError(SYNTAX)
            at += 2
        count = parse_int(argv[at + 2])
        if count is None:
            raise ReplyError(NOT_INTEGER)
        count = max(count, 0)
        start, exclusive = parse_interval_id(argv[at], 0)
        if exclusive:
            if start == MAX_ID:
                raise ReplyError("ERR invalid start ID for the interval")
            start += 1
        end, exclusive = parse_interval_id(argv[at + 1], MAX64)
        if exclusive:
            if end == 0:
                raise ReplyError("ERR invalid end ID for the interval")
            end -= 1
        if at + 3 < argc:
            consumer_name = argv[at + 3]
    stream = get_stream(ctx, argv[1])
    group = stream.groups.get(argv[2]) if stream is not None else None
    if group is None:
        raise nogroup(argv[1], argv[2])
    if argc == 3:
        if not group.pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[name, b"%d" % len(c.pending)]
                  for name, c in sorted(group.consumers.items()) if c.pending]
        return [len(group.pel), format_id(group.pel_ids[0]), format_id(group.pel_ids[-1]),
                owners]
    if consumer_name is not None:
        consumer = group.consumers.get(consumer_name)
        if consumer is None:
            return []
        ids = consumer.pending
    else:
        ids = group.pel_ids
    now = ctx.engine.now()
    out = []
    if start > end:
        return out
    for sid in ids.irange(start, end):
        if not count:
            break
        nack = group.pel[sid]
        if minidle and now - nack.delivery_time < minidle:
            continue
        count -= 1
        out.append([format_id(sid), nack.consumer.name, max(now - nack.delivery_time, 0),
                    nack.delivery_count])
    return out

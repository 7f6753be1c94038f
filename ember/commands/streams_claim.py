"""XCLAIM and XAUTOCLAIM: moving pending entries of a consumer group to a consumer.

As Redis's xclaimCommand / xautoclaimCommand: the consumer is created up front (Redis
7.2; its seen-time is set), entries that were deleted from the stream leave the PEL
(XAUTOCLAIM lists them), and each change propagates as an idempotent XCLAIM (or XGROUP
SETID when only LASTID moved the group), several as one MULTI/EXEC unit. Times come
from the engine clock.
"""

from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.streams import (
    GROUP,
    entry_reply,
    get_stream,
    parse_id,
    parse_interval_id,
)
from ember.commands.streams_groups import (
    c_text,
    create_consumer,
    nogroup,
    remove_pending,
    set_propagation,
    setid_argv,
    xclaim_argv,
)
from ember.errors import SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.storage.types.stream import MAX_ID, PendingEntry, format_id


def _claim_one(group, consumer, sid, nack, delivery_time, retrycount, justid):
    if nack.consumer is not consumer:
        if nack.consumer is not None:
            nack.consumer.pending.discard(sid)
    nack.delivery_time = delivery_time
    if retrycount >= 0:
        nack.delivery_count = retrycount
    elif not justid:
        nack.delivery_count += 1
    if nack.consumer is not consumer:
        consumer.pending.add(sid)
        nack.consumer = consumer


def _int_or(data: bytes, message: str) -> int:
    value = parse_int(data)
    if value is None:
        raise ReplyError(message)
    return value


@command("xclaim", arity=-6, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="5.0.0", key_specs=(KeySpec("RW update", index=1),),
         tips="nondeterministic_output", complexity="O(log N) with N being the number of "
         "messages in the PEL of the consumer group.")
def xclaim(ctx, argv):
    """Changes, or acquires, ownership of a message in a consumer group, as if the
    message was delivered a consumer group member."""
    key, groupname = argv[1], argv[2]
    dirty_before = ctx.engine.dirty
    stream = get_stream(ctx, key)
    group = stream.groups.get(groupname) if stream is not None else None
    if group is None:
        raise nogroup(key, groupname)
    minidle = max(_int_or(argv[4], "ERR Invalid min-idle-time argument for XCLAIM"), 0)
    ids = []
    j = 5
    while j < len(argv):
        try:
            ids.append(parse_id(argv[j], strict=True))
        except ReplyError:
            break
        j += 1
    now = ctx.engine.now()
    force = justid = False
    retrycount = -1
    delivery_time = -1
    last_id = 0
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            delivery_time = now - _int_or(argv[j], "ERR Invalid IDLE option argument for "
                                          "XCLAIM")
        elif opt == b"time" and more:
            j += 1
            delivery_time = _int_or(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = _int_or(argv[j], "ERR Invalid RETRYCOUNT option argument for "
                                 "XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], strict=True)
        else:
            raise ReplyError("ERR Unrecognized XCLAIM option '%s'" % c_text(argv[j]))
        j += 1
    props = []
    propagate_last_id = False
    if last_id > group.last_id:
        group.last_id = last_id
        propagate_last_id = True
    if delivery_time == -1 or delivery_time < 0 or delivery_time > now:
        delivery_time = now
    consumer = group.consumers.get(argv[3])
    if consumer is None:
        consumer = create_consumer(ctx, key, group, argv[3])
    consumer.seen_time = now
    out = []
    for sid in ids:
        nack = group.pel.get(sid)
        if sid not in stream.entries:
            if nack is not None:
                props.append(xclaim_argv(key, groupname, sid, nack, group))
                propagate_last_id = False
                remove_pending(group, sid)
            continue
        if force and nack is None:
            nack = PendingEntry(None, now)
            group.pel[sid] = nack
            group.pel_ids.add(sid)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        _claim_one(group, consumer, sid, nack, delivery_time, retrycount, justid)
        out.append(format_id(sid) if justid else entry_reply((sid, stream.entries[sid])))
        consumer.active_time = now
        props.append(xclaim_argv(key, groupname, sid, nack, group))
        propagate_last_id = False
    if propagate_last_id:
        props.append(setid_argv(key, groupname, group))
    ctx.engine.dirty += len(props)
    set_propagation(ctx, props, dirty_before)
    return out


@command("xautoclaim", arity=-6, flags="write fast", keys=(1, 1, 1), group=GROUP,
         since="6.2.0", key_specs=(KeySpec("RW update", index=1),),
         tips="nondeterministic_output", complexity="O(1) if COUNT is small.")
def xautoclaim(ctx, argv):
    """Changes, or acquires, ownership of messages in a consumer group, as if the
    messages were delivered to as consumer group member."""
    key, groupname = argv[1], argv[2]
    dirty_before = ctx.engine.dirty
    minidle = max(_int_or(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM"),
                  0)
    start, exclusive = parse_interval_id(argv[5], 0)
    if exclusive:
        if start == MAX_ID:
            raise ReplyError("ERR invalid start ID for the interval")
        start += 1
    count = 100
    justid = False
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            count = parse_int(argv[j + 1])
            if count is None or count < 1 or count > ((1 << 63) - 1) // 16:
                raise ReplyError("ERR COUNT must be > 0")
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            raise ReplyError(SYNTAX)
        j += 1
    stream = get_stream(ctx, key)
    group = stream.groups.get(groupname) if stream is not None else None
    if group is None:
        raise nogroup(key, groupname)
    consumer = group.consumers.get(argv[3])
    if consumer is None:
        consumer = create_consumer(ctx, key, group, argv[3])
    now = ctx.engine.now()
    consumer.seen_time = now
    attempts = count * 10
    out, deleted, props = [], [], []
    cursor = 0
    pending = iter(list(group.pel_ids.irange(start)))
    following = None
    for sid in pending:
        if not attempts or not count:
            following = sid
            break
        attempts -= 1
        nack = group.pel[sid]
        if sid not in stream.entries:
            props.append(xclaim_argv(key, groupname, sid, nack, group))
            remove_pending(group, sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        _claim_one(group, consumer, sid, nack, now, -1, justid)
        out.append(format_id(sid) if justid else entry_reply((sid, stream.entries[sid])))
        count -= 1
        consumer.active_time = now
        props.append(xclaim_argv(key, groupname, sid, nack, group))
    else:
        following = None
    if following is not None:
        cursor = following
    ctx.engine.dirty += len(props)
    set_propagation(ctx, props, dirty_before)
    return [format_id(cursor), out, deleted]

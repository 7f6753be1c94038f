"""XREAD: reading several streams after given IDs, blocking until one has more.

Redis's xreadCommand without groups: ``$`` is the stream's last ID, ``+`` (Redis 7.4)
its last entry; a stream is served when it holds an entry after the requested ID. With
nothing to serve and BLOCK given the client blocks through
:mod:`ember.commands.blocking` on all the keys, with each ``$`` rewritten to the ID it
stood for, so the re-run after a write to one of them serves exactly the new entries.
"""

from ember.commands.blocking import Block, timeout_arg
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.streams import GROUP, entry_reply, get_stream, parse_id
from ember.commands.streams_groups import (
    create_consumer,
    deliver,
    history,
    nogroup,
    set_propagation,
)
from ember.errors import NOT_INTEGER, SYNTAX, ReplyError
from ember.protocol.numbers import parse_int
from ember.protocol.replies import NULL_ARRAY
from ember.storage.types.stream import StreamValue, format_id


def read_keys(argv) -> list:
    """xreadGetKeys: the stream keys of XREAD/XREADGROUP (first half after STREAMS)."""
    i = 1
    pos = 0
    while i < len(argv):
        arg = argv[i].lower()
        if arg in (b"block", b"count"):
            i += 2
            continue
        if arg == b"group":
            i += 3
            continue
        if arg == b"noack":
            i += 1
            continue
        if arg == b"streams":
            pos = i
        break
    num = len(argv) - pos - 1
    if not pos or num == 0 or num % 2:
        return []
    return list(range(pos + 1, pos + 1 + num // 2))


class ReadArgs:
    """Parsed XREAD/XREADGROUP options."""

    __slots__ = ("block", "count", "streams_arg", "nstreams", "group", "consumer", "noack")

    def __init__(self):
        self.block = None          # deadline (ms, 0 forever) or None without BLOCK
        self.count = 0
        self.streams_arg = 0
        self.nstreams = 0
        self.group = None
        self.consumer = None
        self.noack = False


def parse_read_args(ctx, argv, group: bool) -> ReadArgs:
    """The options of XREAD (``group`` False) or XREADGROUP, with Redis's errors."""
    args = ReadArgs()
    name = "xreadgroup" if group else "xread"
    i = 1
    argc = len(argv)
    while i < argc:
        more = argc - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            i += 1
            args.block = timeout_arg(ctx, argv[i], unit="ms")
        elif opt == b"count" and more:
            i += 1
            count = parse_int(argv[i])
            if count is None:
                raise ReplyError(NOT_INTEGER)
            args.count = max(count, 0)
        elif opt == b"streams" and more:
            args.streams_arg = i + 1
            n = argc - args.streams_arg
            if n % 2:
                symbol = ">" if group else "$"
                raise ReplyError(f"ERR Unbalanced '{name}' list of streams: for each "
                                 f"stream key an ID or '{symbol}' must be specified.")
            args.nstreams = n // 2
            break
        elif opt == b"group" and more >= 2:
            if not group:
                raise ReplyError("ERR The GROUP option is only supported by XREADGROUP. "
                                 "You called XREAD instead.")
            args.group, args.consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not group:
                raise ReplyError("ERR The NOACK option is only supported by XREADGROUP. "
                                 "You called XREAD instead.")
            args.noack = True
        else:
            raise ReplyError(SYNTAX)
        i += 1
    if not args.streams_arg:
        raise ReplyError(SYNTAX)
    if group and args.group is None:
        raise ReplyError("ERR Missing GROUP option for XREADGROUP")
    return args


@command("xread", arity=-4, flags="readonly blocking movablekeys", group=GROUP,
         since="5.0.0", getkeys=read_keys,
         key_specs=(KeySpec("RO access", keyword=b"STREAMS", startfrom=1, lastkey=-1,
                            limit=2),),
         complexity="For each stream mentioned: O(N) with N being the number of elements "
         "being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that "
         "when the BLOCK option is used, XADD will pay O(M) time in order to serve the M "
         "clients blocked on the stream getting new data.")
def xread(ctx, argv):
    """Returns messages from multiple streams with IDs greater than the ones
    requested. Blocks until a message is available otherwise."""
    args = parse_read_args(ctx, argv, False)
    first = args.streams_arg
    n = args.nstreams
    keys = argv[first:first + n]
    after = []
    last_entry = []
    for key, arg in zip(keys, argv[first + n:]):
        stream = get_stream(ctx, key)
        if arg == b"$":
            after.append(stream.last_id if stream is not None else 0)
            last_entry.append(False)
        elif arg == b">":
            raise ReplyError("ERR The > ID can be specified only when calling XREADGROUP "
                             "using the GROUP <group> <consumer> option.")
        elif arg == b"+":
            after.append(stream.last_id if stream is not None else 0)
            last_entry.append(stream is not None and len(stream) > 0)
        else:
            after.append(parse_id(arg, strict=True))
            last_entry.append(False)
    served = []
    for key, gt, last in zip(keys, after, last_entry):
        stream = get_stream(ctx, key)
        if stream is None or not len(stream):
            continue
        if last:
            served.append((key, [entry_reply(stream.last_entry())]))
        elif stream.ids[-1] > gt:
            entries = stream.range(gt + 1, stream.ids[-1], args.count)
            served.append((key, [entry_reply(e) for e in entries]))
    if served:
        if ctx.resp == 3:
            return dict(served)
        return [[key, entries] for key, entries in served]
    if args.block is None:
        return NULL_ARRAY
    new_argv = list(argv)
    for j, arg in enumerate(argv[first + n:]):
        if arg in (b"$", b"+"):
            new_argv[first + n + j] = format_id(after[j])
    lowest = min(after)

    def ready(value) -> bool:
        return type(value) is StreamValue and len(value) > 0 and value.ids[-1] > lowest

    raise Block(keys, args.block, kind="stream", ready=ready, argv=new_argv)


# ---- XREADGROUP ---------------------------------------------------------------------------

@command("xreadgroup", arity=-7, flags="write blocking movablekeys", group=GROUP,
         since="5.0.0", getkeys=read_keys,
         key_specs=(KeySpec("RW insert", keyword=b"STREAMS", startfrom=4, lastkey=-1,
                            limit=2),),
         complexity="For each stream mentioned: O(M) with M being the number of elements "
         "returned. If M is constant (e.g. always asking for the first 10 elements with "
         "COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD "
         "will pay the O(N) time in order to serve the N clients blocked on the stream "
         "getting new data.")
def xreadgroup(ctx, argv):
    """Returns new or historical messages from a stream for a consumer in a group.
    Blocks until a message is available otherwise."""
    args = parse_read_args(ctx, argv, True)
    dirty_before = ctx.engine.dirty
    first = args.streams_arg
    n = args.nstreams
    keys = argv[first:first + n]
    groupname = args.group
    targets = []
    if ctx.engine.blocking.rerunning(ctx):
        for key in keys:
            if type(ctx.db.peek(key)) is not StreamValue:
                raise ReplyError("UNBLOCKED the stream key no longer exists")
    for key, arg in zip(keys, argv[first + n:]):
        stream = get_stream(ctx, key)
        group = stream.groups.get(groupname) if stream is not None else None
        if group is None:
            raise nogroup(key, groupname, " in XREADGROUP with GROUP option")
        if arg == b"$":
            raise ReplyError("ERR The $ ID is meaningless in the context of XREADGROUP: "
                             "you want to read the history of this consumer by specifying "
                             "a proper ID, or use the > ID to get new messages. The $ ID "
                             "would just return an empty result set.")
        if arg == b">":
            targets.append((key, stream, group, None))
        else:
            targets.append((key, stream, group, parse_id(arg, strict=True)))
    props = []
    served = []
    now = ctx.engine.now()
    for key, stream, group, after in targets:
        consumer = group.consumers.get(args.consumer)
        if after is None:
            if not len(stream) or stream.ids[-1] <= group.last_id:
                if consumer is None:
                    consumer = create_consumer(ctx, key, group, args.consumer)
                    if args.noack:
                        props.append([b"XGROUP", b"CREATECONSUMER", key, groupname,
                                      args.consumer])
                consumer.seen_time = now
                continue
        if consumer is None:
            consumer = create_consumer(ctx, key, group, args.consumer)
            if args.noack:
                props.append([b"XGROUP", b"CREATECONSUMER", key, groupname, args.consumer])
        consumer.seen_time = now
        if after is None:
            entries = deliver(ctx, key, groupname, stream, group, consumer, group.last_id,
                              args.count, args.noack, props)
        else:
            entries = history(ctx, stream, group, consumer, after, args.count)
        ctx.engine.dirty += 1
        served.append((key, entries))
    if served:
        set_propagation(ctx, props, dirty_before)
        if ctx.resp == 3:
            return dict(served)
        return [[key, entries] for key, entries in served]
    if args.block is None:
        set_propagation(ctx, props, dirty_before)
        return NULL_ARRAY
    set_propagation(ctx, props, dirty_before)
    if "deny_blocking" in ctx.flags:
        return NULL_ARRAY
    ctx.propagate_argv = None

    def ready(value) -> bool:
        if type(value) is not StreamValue:
            return True
        group = value.groups.get(groupname)
        return group is None or (len(value) > 0 and value.ids[-1] > group.last_id)

    raise Block(keys, args.block, kind="stream", ready=ready, unblock_on_nokey=True)

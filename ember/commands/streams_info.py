"""XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP, in Redis
7.2's reply shapes (maps in RESP3, flat arrays in RESP2).

``radix-tree-keys`` is the number of modelled listpack nodes, as in Redis;
``radix-tree-nodes`` counts the radix tree's internal nodes, which ember does not
build: it is estimated (exact for one ID per node with short IDs, otherwise close).
"""

from ember.commands.client import subcommand_syntax_error
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.commands.server import help_reply
from ember.commands.streams import GROUP, entry_reply, get_stream
from ember.commands.streams_groups import INVALID_ENTRIES_READ, group_lag, xgroup_nogroup
from ember.errors import NO_SUCH_KEY, NOT_INTEGER, ReplyError
from ember.protocol.numbers import parse_int
from ember.storage.types.stream import MAX_ID, format_id

command("xinfo", arity=-2, container=True, group=GROUP, since="5.0.0")
_RO2 = (KeySpec("RO access", index=2),)


def _stream(ctx, key: bytes):
    stream = get_stream(ctx, key)
    if stream is None:
        raise ReplyError(NO_SUCH_KEY)
    return stream


def _rax_nodes(keys: int) -> int:
    if keys <= 1:
        return keys + 1
    return 2 * keys + 2


def _entries_read(group):
    return None if group.entries_read == INVALID_ENTRIES_READ else group.entries_read


@command("xinfo|stream", arity=-3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_RO2, complexity="O(1)")
def xinfo_stream(ctx, argv):
    """Returns information about a stream."""
    stream = _stream(ctx, argv[2])
    full = False
    count = 10
    if len(argv) > 3:
        if len(argv) not in (4, 6) or argv[3].lower() != b"full":
            raise subcommand_syntax_error(argv)
        full = True
        if len(argv) == 6:
            if argv[4].lower() != b"count":
                raise subcommand_syntax_error(argv)
            count = parse_int(argv[5])
            if count is None:
                raise ReplyError(NOT_INTEGER)
            if count < 0:
                count = 10
    head = {
        b"length": len(stream),
        b"radix-tree-keys": len(stream.nodes),
        b"radix-tree-nodes": _rax_nodes(len(stream.nodes)),
        b"last-generated-id": format_id(stream.last_id),
        b"max-deleted-entry-id": format_id(stream.max_deleted_id),
        b"entries-added": stream.entries_added,
        b"recorded-first-entry-id": format_id(stream.first_id),
    }
    if not full:
        head[b"groups"] = len(stream.groups)
        first, last = stream.first_entry(), stream.last_entry()
        head[b"first-entry"] = entry_reply(first) if first else None
        head[b"last-entry"] = entry_reply(last) if last else None
        return head
    head[b"entries"] = [entry_reply(e) for e in stream.range(0, MAX_ID, count)]
    groups = []
    for name, group in sorted(stream.groups.items()):
        pending = []
        for sid in group.pel_ids:
            if count and len(pending) >= count:
                break
            nack = group.pel[sid]
            pending.append([format_id(sid), nack.consumer.name, nack.delivery_time,
                            nack.delivery_count])
        consumers = []
        for cname, consumer in sorted(group.consumers.items()):
            own = []
            for sid in consumer.pending:
                if count and len(own) >= count:
                    break
                nack = group.pel[sid]
                own.append([format_id(sid), nack.delivery_time, nack.delivery_count])
            consumers.append({b"name": cname, b"seen-time": consumer.seen_time,
                              b"active-time": consumer.active_time,
                              b"pel-count": len(consumer.pending), b"pending": own})
        groups.append({b"name": name, b"last-delivered-id": format_id(group.last_id),
                       b"entries-read": _entries_read(group),
                       b"lag": group_lag(stream, group), b"pel-count": len(group.pel),
                       b"pending": pending, b"consumers": consumers})
    head[b"groups"] = groups
    return head


@command("xinfo|groups", arity=3, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_RO2, complexity="O(1)")
def xinfo_groups(ctx, argv):
    """Returns a list of the consumer groups of a stream."""
    stream = _stream(ctx, argv[2])
    return [{b"name": name, b"consumers": len(group.consumers),
             b"pending": len(group.pel), b"last-delivered-id": format_id(group.last_id),
             b"entries-read": _entries_read(group), b"lag": group_lag(stream, group)}
            for name, group in sorted(stream.groups.items())]


@command("xinfo|consumers", arity=4, flags="readonly", keys=(2, 2, 1), group=GROUP,
         since="5.0.0", key_specs=_RO2, tips="nondeterministic_output", complexity="O(1)")
def xinfo_consumers(ctx, argv):
    """Returns a list of the consumers in a consumer group."""
    stream = _stream(ctx, argv[2])
    group = stream.groups.get(argv[3])
    if group is None:
        raise xgroup_nogroup(argv[2], argv[3])
    now = ctx.engine.now()
    out = []
    for name, consumer in sorted(group.consumers.items()):
        inactive = now - consumer.active_time if consumer.active_time != -1 else -1
        out.append({b"name": name, b"pending": len(consumer.pending),
                    b"idle": max(now - consumer.seen_time, 0), b"inactive": inactive})
    return out


@command("xinfo|help", arity=2, flags="loading stale", group=GROUP, since="5.0.0",
         complexity="O(1)")
def xinfo_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return help_reply("XINFO", ("CONSUMERS <key> <groupname>",
                                "    Show consumers of <groupname>.",
                                "GROUPS <key>",
                                "    Show the stream consumer groups.",
                                "STREAM <key> [FULL [COUNT <count>]",
                                "    Show information about the stream."))

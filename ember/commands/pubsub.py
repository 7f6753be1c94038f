"""Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

A (un)subscribe command answers with one confirmation per name -- ``[kind, name,
count]``, an array in RESP2 and a push in RESP3 -- so its reply is the confirmations
already encoded for the client's protocol (a :class:`Raw`). The count is the client's
channels plus patterns (shard channels for the S- commands). Without arguments the
UNSUBSCRIBE family drops every subscription of its kind, and answers one
``[kind, nil, count]`` when there was none, as Redis does.

The tables and the delivery of messages live in :mod:`ember.commands.pubsub_state`.
"""

from ember.commands.client import subcommand_syntax_error
from ember.commands.keyspecs import KeySpec
from ember.commands.pubsub_state import (
    CHANNEL,
    PATTERN,
    SHARD,
    existing,
    registry,
    subscription_count,
)
from ember.commands.registry import command
from ember.errors import ReplyError
from ember.protocol.encoder import encode
from ember.protocol.replies import Push, Raw, Status
from ember.storage.glob import compile_glob

GROUP = "pubsub"
_SUB_FLAGS = "pubsub noscript loading stale"
_SHARD_KEYS = (KeySpec("not_key", index=1, lastkey=-1),)

HELP = (
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: "
    "'*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
)


def _count(ctx, kind: str) -> int:
    return len(ctx.ssubscriptions) if kind == SHARD else subscription_count(ctx)


def _confirmations(ctx, confirmations: list) -> Raw:
    resp3 = ctx.resp == 3
    return Raw(b"".join(encode(Push(item), resp3) for item in confirmations))


def _subscribe(ctx, argv, kind: str, word: bytes) -> Raw:
    pubsub = registry(ctx.engine)
    confirmations = []
    for name in argv[1:]:
        pubsub.subscribe(ctx, kind, name)
        confirmations.append([word, name, _count(ctx, kind)])
    return _confirmations(ctx, confirmations)


def _unsubscribe(ctx, argv, kind: str, word: bytes) -> Raw:
    pubsub = registry(ctx.engine)
    confirmations = []
    if len(argv) > 1:
        for name in argv[1:]:
            pubsub.unsubscribe(ctx, kind, name)
            confirmations.append([word, name, _count(ctx, kind)])
    else:
        for name in list(getattr(ctx, kind)):
            pubsub.unsubscribe(ctx, kind, name)
            confirmations.append([word, name, _count(ctx, kind)])
        if not confirmations:
            confirmations.append([word, None, _count(ctx, kind)])
    return _confirmations(ctx, confirmations)


def _deny_blocking(ctx, name: str, multi_ok: bool = True) -> None:
    """A client that expects exactly one reply per command (a script) cannot subscribe;
    MULTI keeps its old right to (except for SSUBSCRIBE), as in Redis."""
    if "deny_blocking" in ctx.flags and not (multi_ok and ctx.multi is not None):
        raise ReplyError("ERR %s isn't allowed for a DENY BLOCKING client" % name)


@command("subscribe", arity=-2, flags=_SUB_FLAGS, group=GROUP, since="2.0.0")
def subscribe(ctx, argv):
    """Listens for messages published to channels."""
    _deny_blocking(ctx, "SUBSCRIBE")
    return _subscribe(ctx, argv, CHANNEL, b"subscribe")


@command("psubscribe", arity=-2, flags=_SUB_FLAGS, group=GROUP, since="2.0.0")
def psubscribe(ctx, argv):
    """Listens for messages published to channels that match one or more patterns."""
    _deny_blocking(ctx, "PSUBSCRIBE")
    return _subscribe(ctx, argv, PATTERN, b"psubscribe")


@command("ssubscribe", arity=-2, flags=_SUB_FLAGS, keys=(1, -1, 1), group=GROUP,
         since="7.0.0", key_specs=_SHARD_KEYS)
def ssubscribe(ctx, argv):
    """Listens for messages published to shard channels."""
    _deny_blocking(ctx, "SSUBSCRIBE", multi_ok=False)
    return _subscribe(ctx, argv, SHARD, b"ssubscribe")


@command("unsubscribe", arity=-1, flags=_SUB_FLAGS, group=GROUP, since="2.0.0")
def unsubscribe(ctx, argv):
    """Stops listening to messages posted to channels."""
    return _unsubscribe(ctx, argv, CHANNEL, b"unsubscribe")


@command("punsubscribe", arity=-1, flags=_SUB_FLAGS, group=GROUP, since="2.0.0")
def punsubscribe(ctx, argv):
    """Stops listening to messages published to channels that match one or more patterns."""
    return _unsubscribe(ctx, argv, PATTERN, b"punsubscribe")


@command("sunsubscribe", arity=-1, flags=_SUB_FLAGS, keys=(1, -1, 1), group=GROUP,
         since="7.0.0", key_specs=_SHARD_KEYS)
def sunsubscribe(ctx, argv):
    """Stops listening to messages posted to shard channels."""
    return _unsubscribe(ctx, argv, SHARD, b"sunsubscribe")


@command("publish", arity=3, flags="pubsub loading stale fast", group=GROUP, since="2.0.0")
def publish(ctx, argv):
    """Posts a message to a channel."""
    pubsub = existing(ctx.engine)
    if pubsub is None:
        return 0
    return pubsub.publish(argv[1], argv[2])


@command("spublish", arity=3, flags="pubsub loading stale fast", keys=(1, 1, 1),
         group=GROUP, since="7.0.0",
         key_specs=(KeySpec("not_key", index=1, lastkey=0),))
def spublish(ctx, argv):
    """Post a message to a shard channel."""
    pubsub = existing(ctx.engine)
    if pubsub is None:
        return 0
    return pubsub.spublish(argv[1], argv[2])


command("pubsub", arity=-2, container=True, group=GROUP, since="2.8.0")


def _active(ctx, argv, table_name: str) -> list:
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    pubsub = existing(ctx.engine)
    if pubsub is None:
        return []
    names = list(getattr(pubsub, table_name))
    if len(argv) == 3:
        return compile_glob(argv[2]).filter(names)
    return names


def _numsub(ctx, argv, table_name: str) -> list:
    pubsub = existing(ctx.engine)
    table = getattr(pubsub, table_name) if pubsub is not None else {}
    reply = []
    for name in argv[2:]:
        reply.append(name)
        reply.append(len(table.get(name, ())))
    return reply


@command("pubsub|channels", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0")
def pubsub_channels(ctx, argv):
    """Returns the active channels."""
    return _active(ctx, argv, "channels")


@command("pubsub|shardchannels", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="7.0.0")
def pubsub_shardchannels(ctx, argv):
    """Returns the active shard channels."""
    return _active(ctx, argv, "shard_channels")


@command("pubsub|numsub", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0")
def pubsub_numsub(ctx, argv):
    """Returns a count of subscribers to channels."""
    return _numsub(ctx, argv, "channels")


@command("pubsub|shardnumsub", arity=-2, flags="pubsub loading stale", group=GROUP,
         since="7.0.0")
def pubsub_shardnumsub(ctx, argv):
    """Returns the count of subscribers of shard channels."""
    return _numsub(ctx, argv, "shard_channels")


@command("pubsub|numpat", arity=2, flags="pubsub loading stale", group=GROUP,
         since="2.8.0")
def pubsub_numpat(ctx, argv):
    """Returns a count of unique pattern subscriptions."""
    pubsub = existing(ctx.engine)
    return len(pubsub.patterns) if pubsub is not None else 0


@command("pubsub|help", arity=2, flags="loading stale", group=GROUP, since="6.2.0")
def pubsub_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return [Status(line) for line in HELP]

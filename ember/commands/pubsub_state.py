"""Pub/sub registries: who listens to which channel, pattern and shard channel (sans-IO).

One :class:`PubSub` per engine (``engine.hooks["pubsub"]``, made on first use by
:func:`registry`). Each table maps a name to the clients subscribed to it, and each client
keeps its own names in ``client.subscriptions`` / ``psubscriptions`` / ``ssubscriptions``
(dicts used as ordered sets, so "unsubscribe from everything" answers in subscription
order). Patterns use Redis's glob dialect (:mod:`ember.storage.glob`, stringmatchlen).

Publishing encodes a message once per protocol version -- RESP2 ``*3``/``*4`` arrays for
RESP2 subscribers, RESP3 ``>`` pushes for RESP3 ones, the body shared -- and hands the
bytes to each subscriber's connection with ``conn.push`` (in order with the replies of a
subscriber that is itself running commands: RESP3 clients may publish to themselves).
Clients without a connection (unit tests, scripts' fake clients) get nothing.

While a client has at least one subscription, ``client.special["pubsub"]`` holds
:func:`subscriber_gate`, the dispatcher's check for RESP2 subscriber mode.
"""

from ember.errors import ReplyError
from ember.storage.glob import compile_glob

_HOOK = "pubsub"

# Commands a RESP2 client may send while subscribed (Redis's processCommand).
SUBSCRIBER_COMMANDS = frozenset((
    "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe",
    "punsubscribe", "ping", "quit", "reset"))

# The three kinds of subscription: client attribute, registry table, message kind.
CHANNEL, PATTERN, SHARD = "subscriptions", "psubscriptions", "ssubscriptions"


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


_MESSAGE = _bulk(b"message")
_PMESSAGE = _bulk(b"pmessage")
_SMESSAGE = _bulk(b"smessage")


def subscriber_gate(client, spec, argv):
    """Dispatcher gate of a subscribed client: in RESP2 only the pub/sub commands, PING,
    QUIT and RESET may run (Redis's error otherwise); RESP3 clients run anything."""
    if client.resp != 2 or spec.name in SUBSCRIBER_COMMANDS:
        return None
    return client.engine._reject(spec, ReplyError(
        "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
        "RESET are allowed in this context" % spec.name), client)


def push(client, data: bytes) -> None:
    """Send out-of-band bytes (a message, an invalidation) to ``client``'s connection."""
    conn = client.conn
    if conn is not None:
        conn.push(data)


class PubSub:
    """Channel, pattern and shard-channel tables of one server."""

    def __init__(self, engine):
        self.engine = engine
        self.tables = {CHANNEL: {}, PATTERN: {}, SHARD: {}}
        self.channels = self.tables[CHANNEL]      # channel -> {client: None}
        self.patterns = self.tables[PATTERN]      # pattern -> {client: None}
        self.shard_channels = self.tables[SHARD]  # shard channel -> {client: None}
        self._globs = {}                          # pattern -> compiled matcher

    # ---- subscriptions -----------------------------------------------------------------

    def subscribe(self, client, kind: str, name: bytes) -> bool:
        """Subscribe ``client`` to one name of ``kind``; False if it already was."""
        mine = getattr(client, kind)
        if name in mine:
            return False
        mine[name] = None
        self.tables[kind].setdefault(name, {})[client] = None
        if kind == PATTERN and name not in self._globs:
            self._globs[name] = compile_glob(name)
        client.special["pubsub"] = subscriber_gate
        self._install_hooks()
        return True

    def unsubscribe(self, client, kind: str, name: bytes) -> bool:
        """Unsubscribe ``client`` from one name of ``kind``; False if it was not subscribed."""
        mine = getattr(client, kind)
        if name not in mine:
            return False
        del mine[name]
        table = self.tables[kind]
        listeners = table.get(name)
        if listeners is not None:
            listeners.pop(client, None)
            if not listeners:
                del table[name]
                if kind == PATTERN:
                    self._globs.pop(name, None)
        if not subscription_count(client) and not client.ssubscriptions:
            client.special.pop("pubsub", None)
        return True

    def unsubscribe_all(self, client, kind: str) -> list:
        """Unsubscribe ``client`` from every name of ``kind``; the names, in order."""
        names = list(getattr(client, kind))
        for name in names:
            self.unsubscribe(client, kind, name)
        return names

    def forget(self, client) -> None:
        """Drop every subscription of ``client`` (disconnect, RESET)."""
        for kind in (CHANNEL, PATTERN, SHARD):
            if getattr(client, kind):
                self.unsubscribe_all(client, kind)
        client.special.pop("pubsub", None)

    def _install_hooks(self) -> None:
        hooks = self.engine.hooks
        for name in ("reset", "disconnect"):
            found = hooks.setdefault(name, [])
            if self.forget not in found:
                found.append(self.forget)

    # ---- publishing --------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message`` to the channel's and the matching patterns' subscribers;
        return how many deliveries were made (Redis's PUBLISH reply)."""
        receivers = 0
        subscribers = self.channels.get(channel)
        if subscribers:
            body = _MESSAGE + _bulk(channel) + _bulk(message)
            receivers += _deliver(subscribers, b"*3\r\n", b">3\r\n", body)
        if self.patterns:
            tail = None
            for pattern, subscribers in list(self.patterns.items()):
                if self._globs[pattern].match(channel):
                    if tail is None:
                        tail = _bulk(channel) + _bulk(message)
                    body = _PMESSAGE + _bulk(pattern) + tail
                    receivers += _deliver(subscribers, b"*4\r\n", b">4\r\n", body)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message`` to the shard channel's subscribers (SPUBLISH)."""
        subscribers = self.shard_channels.get(channel)
        if not subscribers:
            return 0
        body = _SMESSAGE + _bulk(channel) + _bulk(message)
        return _deliver(subscribers, b"*3\r\n", b">3\r\n", body)

    def has_listeners(self) -> bool:
        """True if anybody subscribed to a channel or a pattern (notifications skip work)."""
        return bool(self.channels or self.patterns)


def _deliver(subscribers: dict, head2: bytes, head3: bytes, body: bytes) -> int:
    """Push one message to each subscriber, encoded once per protocol version."""
    resp2 = resp3 = None
    for client in list(subscribers):
        if client.resp == 2:
            if resp2 is None:
                resp2 = head2 + body
            push(client, resp2)
        else:
            if resp3 is None:
                resp3 = head3 + body
            push(client, resp3)
    return len(subscribers)


def subscription_count(client) -> int:
    """Channels plus patterns: the count (P)SUBSCRIBE confirmations report."""
    return len(client.subscriptions) + len(client.psubscriptions)


def registry(engine) -> PubSub:
    """The engine's pub/sub tables, made on first use."""
    found = engine.hooks.get(_HOOK)
    if found is None:
        found = engine.hooks[_HOOK] = PubSub(engine)
    return found


def existing(engine):
    """The engine's pub/sub tables, or None when nobody ever subscribed."""
    return engine.hooks.get(_HOOK)

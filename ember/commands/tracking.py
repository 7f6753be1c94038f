"""Client-side caching: CLIENT TRACKING state, the tracking table and invalidation.

Redis's tracking.c, sans-IO. One :class:`Tracker` per engine (``engine.hooks["tracking"]``,
made when a client first turns tracking on) holds:

* the tracking table: key -> ids of the clients that read it (keys are not per
  database, as in Redis). A write to the key pops its entry and sends each of those
  clients ``invalidate [key]``; the key is tracked again only when read again;
* the prefix table of BCAST clients: prefix -> keys written since the last broadcast and
  the clients listening. Broadcasts go out once per event-loop iteration (Redis's
  beforeSleep) through the server's ``engine.hooks["defer"]``;
* FLUSHDB/FLUSHALL send every tracking client ``invalidate`` with a null key list and
  empty the table; SWAPDB invalidates nothing, as in Redis.

It listens to ``engine.key_modified`` (every write, expiry and eviction) only while some
client tracks. Per-client state is ``client.tracking`` (a :class:`TrackingState`, None when
off) and the gate ``client.special["tracking"]``: before each command it *arms* the
tracker, which puts :meth:`Tracker.call` in front of ``engine.call`` for that command
(an instance attribute shadowing the method, so ordinary clients pay nothing). Every
read-only command run by it -- the command itself, or those EXEC or a script runs -- has
its keys remembered for the armed client, and the invalidations due to that client for its
own writes are sent after its reply, as Redis does: the reply is returned already encoded
with those pushes behind it.

Messages: RESP3 clients get ``>2 invalidate [keys]`` pushes; with REDIRECT they go to the
other client, as pushes if it speaks RESP3, or as ``message`` on ``__redis__:invalidate``
if it is a RESP2 client in subscriber mode (else they are dropped, as in Redis).
"""

from ember.commands.pubsub_state import push
from ember.protocol.encoder import encode
from ember.protocol.replies import Raw

_HOOK = "tracking"
_INVALIDATE3 = b">2\r\n$10\r\ninvalidate\r\n"
_INVALIDATE2 = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_NULL = {2: b"$-1\r\n", 3: b"_\r\n"}
_FLUSH = None       # pending "all keys" marker
# Read-only scripts: the commands they run are remembered, not their own KEYS.
_SCRIPT_READS = frozenset(("eval_ro", "evalsha_ro", "fcall_ro"))
# Commands MULTI runs at once instead of queueing (the others are only queued: no reads).
_RUN_IN_MULTI = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))


class TrackingState:
    """One client's CLIENT TRACKING options."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching",
                 "broken_redirect", "prefixes")

    def __init__(self):
        self.redirect = 0
        self.bcast = self.optin = self.optout = self.noloop = False
        self.caching = False            # CLIENT CACHING given for the next command
        self.broken_redirect = False
        self.prefixes = set()

    def remembers(self) -> bool:
        """True if a read now should be remembered (OPTIN needs CACHING YES, OPTOUT
        is cancelled by CACHING NO)."""
        if self.optin:
            return self.caching
        if self.optout:
            return not self.caching
        return True


class _Prefix:
    """A BCAST prefix: keys written since the last broadcast (-> the writer, for NOLOOP)
    and the clients listening."""

    __slots__ = ("keys", "clients")

    def __init__(self):
        self.keys = {}
        self.clients = {}


def tracking_gate(client, spec, argv):
    """Dispatcher gate of a tracking client: arm the tracker for the command (a command
    MULTI only queues reads nothing, so it is left alone)."""
    if client.multi is not None and spec.name not in _RUN_IN_MULTI:
        return None
    tracker = client.engine.hooks.get(_HOOK)
    if tracker is not None:
        tracker.arm(client)
    return None


class Tracker:
    """The tracking and prefix tables of one server, and the delivery of invalidations."""

    def __init__(self, engine):
        self.engine = engine
        self.table = {}             # key -> {client id: None}
        self.items = 0              # ids stored across the table (INFO tracking_total_items)
        self.prefixes = {}          # prefix -> _Prefix
        self.clients = {}           # tracking clients (ordered set)
        self.armed = None           # the client whose command is running (see arm)
        self.depth = 0              # nesting of Tracker.call inside that command
        self.pending = []           # its own invalidations, sent after its reply
        self._broadcast_scheduled = False

    # ---- switching tracking on and off --------------------------------------------------

    def enable(self, client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list) -> None:
        """CLIENT TRACKING ON with options already validated (Redis's enableTracking)."""
        state = client.tracking
        if state is None:
            state = client.tracking = TrackingState()
            self.clients[client] = None
        state.redirect = redirect
        state.broken_redirect = False
        state.bcast, state.optin, state.optout, state.noloop = bcast, optin, optout, noloop
        if bcast:
            for prefix in prefixes or [b""]:
                if prefix not in state.prefixes:
                    state.prefixes.add(prefix)
                    self.prefixes.setdefault(prefix, _Prefix()).clients[client] = None
        client.special["tracking"] = tracking_gate
        self._listen(True)
        self._hooks()
        self._update_stats()

    def disable(self, client) -> None:
        """CLIENT TRACKING OFF, RESET, disconnect (Redis's disableTracking)."""
        client.special.pop("tracking", None)
        state = client.tracking
        if state is None:
            return
        for prefix in state.prefixes:
            entry = self.prefixes.get(prefix)
            if entry is not None:
                entry.clients.pop(client, None)
                if not entry.clients:
                    del self.prefixes[prefix]
        client.tracking = None
        self.clients.pop(client, None)
        if not self.clients:        # nobody left to invalidate: forget what was read
            self.table.clear()
            self.items = 0
            self._listen(False)
        self._update_stats()

    def _listen(self, on: bool) -> None:
        listeners = self.engine.keyspace_listeners
        if on and self.on_key_event not in listeners:
            listeners.append(self.on_key_event)
        elif not on and self.on_key_event in listeners:
            listeners.remove(self.on_key_event)

    def _hooks(self) -> None:
        hooks = self.engine.hooks
        for name in ("reset", "disconnect"):
            found = hooks.setdefault(name, [])
            if self.disable not in found:
                found.append(self.disable)

    def _update_stats(self) -> None:
        stats = self.engine.stats
        stats.tracking_total_keys = len(self.table)
        stats.tracking_total_items = self.items
        stats.tracking_total_prefixes = len(self.prefixes)

    # ---- reads: the armed command ------------------------------------------------------

    def arm(self, client) -> None:
        """Put :meth:`call` in front of ``engine.call`` for ``client``'s next command."""
        self.armed = client
        if self.depth == 0:
            self.engine.call = self.call

    def _disarm(self) -> None:
        self.armed = None
        self.engine.__dict__.pop("call", None)

    def call(self, client, spec, argv):
        """``engine.call`` while a tracking client's command runs: run the command, remember
        the keys of reads, and after the outermost call deliver the client's own
        invalidations behind its reply."""
        engine = self.engine
        top = self.armed
        if top is None or (self.depth == 0 and client is not top):
            self._disarm()          # armed for a command that never ran (queued, refused)
            return type(engine).call(engine, client, spec, argv)
        self.depth += 1
        try:
            reply = type(engine).call(engine, client, spec, argv)
        finally:
            self.depth -= 1
        state = top.tracking
        if (state is not None and not state.bcast and spec.is_readonly
                and spec.name not in _SCRIPT_READS and "pubsub" not in spec.flags
                and state.remembers()):
            self.remember(top, spec.keys(argv))
        if self.depth == 0:
            self._disarm()
            if (state is not None and top.multi is None
                    and not spec.name.startswith("client|")):
                state.caching = False
            if self.pending:
                reply = self._reply_then_pending(top, reply)
        return reply

    def remember(self, client, keys) -> None:
        """Record that ``client`` may cache ``keys`` (Redis's trackingRememberKeys)."""
        table = self.table
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if client.id not in ids:
                ids[client.id] = None
                self.items += 1
        limit = self.engine.config.tracking_table_max_keys
        if limit and len(table) > limit:
            self._evict(limit)
        self._update_stats()

    def _evict(self, limit: int) -> None:
        """Over tracking-table-max-keys: invalidate the oldest keys as if they changed."""
        while len(self.table) > limit:
            self._invalidate(next(iter(self.table)), bcast=False)

    # ---- writes ------------------------------------------------------------------------

    def on_key_event(self, db, key, event) -> None:
        """Keyspace listener: a write, expiry or eviction invalidates the key; FLUSHDB and
        FLUSHALL invalidate everything."""
        if key is None:
            if event in ("flushdb", "flushall"):
                self.invalidate_all()
            return
        self._invalidate(key, bcast=True)
        self._update_stats()

    def _current(self):
        return self.armed if self.depth else None

    def _invalidate(self, key: bytes, bcast: bool) -> None:
        current = self._current()
        if bcast and self.prefixes:
            self._remember_for_broadcast(key, current)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = self.engine.clients
        for client_id in ids:
            target = clients.get(client_id)
            if target is None:
                continue
            state = target.tracking
            if state is None or state.bcast or (state.noloop and target is current):
                continue
            if target is current:
                self.pending.append(key)
            else:
                self._send(target, _keys_array([key]))

    def invalidate_all(self) -> None:
        """FLUSHDB/FLUSHALL: ``invalidate`` with a null list to every tracking client."""
        current = self._current()
        for target in list(self.clients):
            if target is current:
                self.pending.append(_FLUSH)
            else:
                self._send(target, _NULL[target.resp])
        self.table.clear()
        self.items = 0
        self._update_stats()

    # ---- delivery ----------------------------------------------------------------------

    def _message(self, target, payload: bytes):
        """(destination client, bytes) of one invalidation for ``target``, or None when
        it cannot be delivered (RESP2 without a subscribed redirect)."""
        state = target.tracking
        if state is not None and state.redirect:
            dest = self.engine.clients.get(state.redirect)
            if dest is None:
                state.broken_redirect = True
                if target.resp == 3:
                    return target, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % (
                        state.redirect)
                return None
            if dest.resp == 3:
                return dest, _INVALIDATE3 + payload
            if dest.subscriptions or dest.psubscriptions or dest.ssubscriptions:
                return dest, _INVALIDATE2 + payload
            return None
        if target.resp == 3:
            return target, _INVALIDATE3 + payload
        return None

    def _send(self, target, payload: bytes) -> None:
        message = self._message(target, payload)
        if message is not None:
            push(message[0], message[1])

    def _reply_then_pending(self, client, reply):
        """The client's own invalidations go after its reply: encode the reply and append
        the pushes meant for its connection; those redirected elsewhere go now."""
        pending, self.pending = self.pending, []
        trailer = []
        for item in pending:
            payload = _NULL[client.resp] if item is _FLUSH else _keys_array([item])
            message = self._message(client, payload)
            if message is None:
                continue
            dest, data = message
            if dest is client:
                trailer.append(data)
            else:
                push(dest, data)
        if not trailer:
            return reply
        if client.blocked is not None or client.reply_mode != "on":
            push(client, b"".join(trailer))     # no reply to follow (yet): send them now
            return reply
        return Raw(encode(reply, client.resp == 3) + b"".join(trailer))

    # ---- BCAST -------------------------------------------------------------------------

    def _remember_for_broadcast(self, key: bytes, writer) -> None:
        for prefix, entry in self.prefixes.items():
            if key.startswith(prefix):
                entry.keys[key] = writer
                self._schedule_broadcast()

    def _schedule_broadcast(self) -> None:
        if self._broadcast_scheduled:
            return
        defer = self.engine.hooks.get("defer")
        if defer is not None:
            self._broadcast_scheduled = True
            defer(self.broadcast)

    def broadcast(self) -> None:
        """Send each BCAST prefix's written keys to its clients (once per loop iteration;
        a NOLOOP client is not told about the keys it wrote itself)."""
        self._broadcast_scheduled = False
        for prefix in sorted(self.prefixes):
            entry = self.prefixes[prefix]
            if not entry.keys:
                continue
            keys = sorted(entry.keys)
            everything = _keys_array(keys)
            for client in list(entry.clients):
                state = client.tracking
                if state is not None and state.noloop:
                    mine = [k for k in keys if entry.keys[k] is not client]
                    if mine:
                        self._send(client, _keys_array(mine))
                else:
                    self._send(client, everything)
            entry.keys = {}


def _keys_array(keys) -> bytes:
    return b"*%d\r\n" % len(keys) + b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in keys)


def tracker(engine) -> Tracker:
    """The engine's tracker, made on first use."""
    found = engine.hooks.get(_HOOK)
    if found is None:
        found = engine.hooks[_HOOK] = Tracker(engine)
    return found

"""Blocking commands (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK ...): the sans-IO half.

How a command blocks
--------------------
A handler that finds nothing to serve raises :class:`Block` before changing anything::

    from ember.commands.blocking import Block, timeout_arg

    @command("bzpopmin", arity=-3, flags="write fast blocking", keys=(1, -2, 1), ...)
    def bzpopmin(ctx, argv):
        deadline = timeout_arg(ctx, argv[-1])          # absolute ms, 0 = forever
        for key in argv[1:-1]:
            zset = ctx.db.get_typed(key, ZSet, write=True)
            if zset:
                ...pop, key_modified(...), ctx.propagate_argv = [b"ZPOPMIN", key]
                return [key, member, score]
        raise Block(argv[1:-1], deadline, kind="zset")

:meth:`Engine.call` catches it and hands it to the :class:`BlockingRegistry`
(``engine.blocking``):

* a client that may not block (``"deny_blocking" in ctx.flags``: commands run by EXEC or by
  a script) gets ``Block.nil`` as the command's reply at once, as Redis answers a blocking
  command inside MULTI. Handlers need no special case for it;
* any other client is parked: ``ctx.blocked`` holds its :class:`Waiter`, which is queued on
  every key, first come first served, and the dispatcher returns :data:`BLOCKED`. The
  network layer then sends nothing and holds the client's next commands.

How writes wake blocked clients
-------------------------------
Nothing to do in write commands: every write already calls ``engine.key_modified``. While
at least one client is blocked the registry listens to those calls (it is in
``engine.keyspace_listeners`` only then, so it costs nothing otherwise) and queues each
key somebody waits on as *ready* (Redis's signalKeyAsReady); FLUSHDB/FLUSHALL/SWAPDB
(``key=None``) make every waited-on key of the database ready.

After each top-level command -- ``Engine.execute``, so after a whole EXEC or script too --
the ready keys are processed (Redis's handleClientsBlockedOnKeys): for each key, the
clients blocked on it, in the order they blocked, whose ``Block.ready(value)`` holds (by
default: the key holds a value of type ``kind``) are unblocked and their command is run
again from the start against the current data (Redis 7 semantics). If an earlier client
emptied the key again, the command raises Block again and the client keeps waiting, with
its original deadline, at the back of the queue, as in Redis. Writes made by re-run
commands (BLMOVE pushing to a list someone else waits on) make more keys ready, handled in
the same pass. Code that runs commands through ``Engine.execute`` *inside* another command
(a script's ``redis.call``) wraps itself in ``with engine.blocking.held():`` so that
clients are served only when the whole script has run.

Timeouts, CLIENT UNBLOCK, disconnects
-------------------------------------
:meth:`BlockingRegistry.time_out` answers ``Block.timeout_reply``;
:meth:`~BlockingRegistry.unblock` serves CLIENT UNBLOCK (TIMEOUT or ERROR);
:meth:`~BlockingRegistry.forget` drops a client that disconnected. The server layer
(:mod:`ember.server.blocking`) installs two callbacks: ``on_block(waiter)`` arms a loop
timer for the deadline, ``on_release(waiter, reply)`` cancels it, writes the reply to the
client's connection and runs what the client sent meanwhile (``reply`` is :data:`GONE`
for a client that disconnected). Without a server (unit tests) the reply is kept in
``waiter.reply`` and :meth:`~BlockingRegistry.expire_due` times out whoever is due.
"""

from contextlib import contextmanager
from math import ceil

from ember.commands import runtime
from ember.errors import ReplyError
from ember.protocol.numbers import LLONG_MAX, parse_int
from ember.protocol.replies import NULL_ARRAY
from ember.storage.longdouble import parse_long_double, round_extended

UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_RANGE = "ERR timeout is out of range"


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


# The dispatcher's "reply" for a command that blocked: the network layer sends nothing.
BLOCKED = _Marker("BLOCKED")
# ``on_release``'s reply for a client that disconnected while blocked: send nothing.
GONE = _Marker("GONE")


def timeout_arg(ctx, data: bytes, unit: str = "s") -> int:
    """A blocking command's timeout as an absolute deadline in Unix ms (0 = forever).

    Redis's getTimeoutFromObjectOrReply: seconds are a long double (fractions allowed),
    scaled to ms and rounded up (0.0001 s waits 1 ms; a tiny negative rounds to 0, i.e.
    forever); ``unit="ms"`` takes an integer (XREAD BLOCK). Errors are Redis's texts.
    """
    if unit == "s":
        value = parse_long_double(data)
        if value is None:
            raise ReplyError(TIMEOUT_NOT_FLOAT)
        if isinstance(value, float):            # ±inf
            if value > 0:
                raise ReplyError(TIMEOUT_RANGE)
            raise ReplyError(TIMEOUT_NEGATIVE)
        ms = round_extended(value * 1000)
        if isinstance(ms, float) or ms > LLONG_MAX:
            raise ReplyError(TIMEOUT_RANGE if ms > 0 else TIMEOUT_NEGATIVE)
        ms = ceil(ms)
    else:
        ms = parse_int(data)
        if ms is None:
            raise ReplyError(TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise ReplyError(TIMEOUT_NEGATIVE)
    if ms > 0:
        now = ctx.engine.now()
        if ms > LLONG_MAX - now:
            raise ReplyError(TIMEOUT_RANGE)
        ms += now
    return ms


class Block(Exception):
    """Raised by a handler: "park this client on ``keys`` until ``deadline_ms``".

    ``kind`` is the ``type_name`` a key must hold to serve the client ("list", "zset",
    "stream"); ``ready(value)`` may replace that test (``value`` is None for a missing
    key). ``nil`` is the reply when the client may not block (MULTI, scripts),
    ``timeout_reply`` the reply on timeout or CLIENT UNBLOCK TIMEOUT (both NULL_ARRAY,
    ``*-1`` / ``_``, unless given). ``unblock_on_nokey`` also wakes the client when a key
    is deleted (XREADGROUP). ``argv`` replaces the command's argv for the re-runs (XREAD
    turning ``$`` into the last ID it saw).
    """

    def __init__(self, keys, deadline_ms: int = 0, kind: str = "list", nil=NULL_ARRAY,
                 timeout_reply=NULL_ARRAY, ready=None, unblock_on_nokey: bool = False,
                 argv=None):
        super().__init__("block")
        self.keys = list(dict.fromkeys(keys))     # each key once, in order
        self.deadline_ms = deadline_ms
        self.kind = kind
        self.nil = nil
        self.timeout_reply = timeout_reply
        self.ready = ready
        self.unblock_on_nokey = unblock_on_nokey
        self.argv = argv


class Waiter:
    """A blocked client: what it runs, on which keys it waits, and until when."""

    __slots__ = ("client", "spec", "argv", "db", "keys", "deadline_ms", "kind",
                 "timeout_reply", "ready_test", "unblock_on_nokey", "active", "timer",
                 "reply")

    def __init__(self, client, spec, argv, request: Block):
        self.client = client
        self.spec = spec
        self.db = client.db
        self.deadline_ms = request.deadline_ms
        self.timer = None        # the server layer's timer handle
        self.reply = None        # the reply, when no server took it (unit tests)
        self.active = False
        self.update(argv, request)

    def update(self, argv, request: Block) -> None:
        """Take a (re-)raised Block's keys and replies; the deadline stays the first one."""
        self.argv = request.argv if request.argv is not None else argv
        self.keys = request.keys
        self.kind = request.kind
        self.timeout_reply = request.timeout_reply
        self.ready_test = request.ready
        self.unblock_on_nokey = request.unblock_on_nokey

    def ready(self, value) -> bool:
        """True when ``value`` (None: no key) may serve this client now."""
        if self.ready_test is not None:
            return self.ready_test(value)
        if self.unblock_on_nokey:
            return True
        return value is not None and getattr(value, "type_name", "string") == self.kind

    def __repr__(self):
        return f"Waiter(client={self.client.id}, keys={self.keys!r}, " \
               f"deadline={self.deadline_ms})"


class BlockingRegistry:
    """Clients blocked per (db, key), FIFO, and the keys that became ready."""

    def __init__(self, engine):
        self.engine = engine
        # (db index, key) -> {Waiter: None}, in blocking order.
        self.waiting = {}
        # (db index, key) -> None: keys signalled since the last pass, in order.
        self.ready = {}
        self.on_block = None        # callable(waiter): the server arms the timeout timer
        self.on_release = None      # callable(waiter, reply): the server replies
        self._listening = False
        self._handling = False
        self._held = 0
        self._rerunning = None

    # ---- blocking -------------------------------------------------------------------

    def block(self, client, spec, argv, request: Block):
        """Park ``client`` as ``request`` says, or answer ``request.nil`` if it may not."""
        if "deny_blocking" in client.flags:
            return request.nil
        waiter = self._rerunning
        if waiter is not None and waiter.client is client:
            waiter.update(argv, request)       # re-run blocked again: keep the deadline
            fresh = False
        else:
            waiter = Waiter(client, spec, argv, request)
            fresh = True
            client.last_cmd = spec.name
            engine = self.engine
            if engine.monitors:                # Redis 7.2 shows it once, when issued
                runtime.feed_monitors(engine, client, spec, argv)
        db_id = waiter.db.id
        waiting = self.waiting
        for key in waiter.keys:
            queue = waiting.get((db_id, key))
            if queue is None:
                queue = waiting[(db_id, key)] = {}
            queue[waiter] = None
        waiter.active = True
        client.blocked = waiter
        if not self._listening:
            self.engine.keyspace_listeners.append(self._key_event)
            self._listening = True
        if fresh and self.on_block is not None:
            self.on_block(waiter)
        return BLOCKED

    def _detach(self, waiter: Waiter) -> None:
        """Take ``waiter`` off every key; the client is no longer blocked."""
        waiter.active = False
        waiter.client.blocked = None
        db_id = waiter.db.id
        waiting = self.waiting
        for key in waiter.keys:
            queue = waiting.get((db_id, key))
            if queue is not None:
                queue.pop(waiter, None)
                if not queue:
                    del waiting[(db_id, key)]
        if not waiting and self._listening:
            self.engine.keyspace_listeners.remove(self._key_event)
            self._listening = False

    def _release(self, waiter: Waiter, reply) -> None:
        if self.on_release is not None:
            self.on_release(waiter, reply)
        else:
            waiter.reply = reply

    # ---- readiness ------------------------------------------------------------------

    def _key_event(self, db, key, event) -> None:
        """Keyspace listener: queue a modified key if somebody waits on it."""
        if key is not None:
            db_key = (db.id, key)
            if db_key in self.waiting:
                self.ready[db_key] = None
            return
        # FLUSHDB, FLUSHALL, SWAPDB: every waited-on key of the database(s) may have changed.
        everywhere = event == "flushall"
        for db_key in self.waiting:
            if everywhere or db_key[0] == db.id:
                self.ready[db_key] = None

    def rerunning(self, client) -> bool:
        """True while ``client``'s blocked command runs again after a wake-up (XREADGROUP
        answers a deleted stream with Redis's UNBLOCKED error then)."""
        return self._rerunning is not None and self._rerunning.client is client

    def signal(self, db, key: bytes) -> None:
        """Mark ``key`` ready by hand (for writes that bypass key_modified)."""
        self._key_event(db, key, None if key is None else "signal")

    @contextmanager
    def held(self):
        """Serve no blocked client until the block ends (nested command execution)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1

    def handle_ready(self) -> None:
        """Serve the clients blocked on the keys that became ready (after each command)."""
        if self._handling or self._held:
            return
        self._handling = True
        try:
            ready = self.ready
            while ready:
                batch = list(ready)
                ready.clear()
                for db_key in batch:
                    self._serve_key(db_key)
        finally:
            self._handling = False

    def _serve_key(self, db_key) -> None:
        queue = self.waiting.get(db_key)
        if not queue:
            return
        db = self.engine.dbs[db_key[0]]
        # Only those blocked now: a re-run that blocks again goes to the back, for later.
        for waiter in list(queue):
            if waiter.active and waiter.ready(db.peek(db_key[1])):
                self._rerun(waiter)

    def _rerun(self, waiter: Waiter) -> None:
        """Unblock ``waiter`` and run its command again; reply unless it blocked again."""
        engine = self.engine
        client = waiter.client
        self._detach(waiter)
        self._rerunning = waiter
        monitors, engine.monitors = engine.monitors, []     # shown when first issued
        try:
            reply = engine.call(client, waiter.spec, waiter.argv)
        finally:
            engine.monitors = monitors
            self._rerunning = None
        if client.blocked is None:
            self._release(waiter, reply)

    # ---- ending a block without data ------------------------------------------------

    def time_out(self, waiter: Waiter) -> None:
        """The deadline passed: answer the timeout reply (counts as one call)."""
        if not waiter.active:
            return
        self._detach(waiter)
        waiter.spec.calls += 1
        self._release(waiter, waiter.timeout_reply)

    def expire_due(self) -> int:
        """Time out every waiter whose deadline has passed; return how many."""
        now = self.engine.now()
        due = {w for queue in self.waiting.values() for w in queue
               if w.deadline_ms and w.deadline_ms <= now}
        for waiter in sorted(due, key=lambda w: w.deadline_ms):
            self.time_out(waiter)
        return len(due)

    def unblock(self, client, error: bool = False) -> bool:
        """CLIENT UNBLOCK: end ``client``'s wait as a timeout, or with -UNBLOCKED."""
        waiter = client.blocked
        if not isinstance(waiter, Waiter) or not waiter.active:
            return False
        if not error:
            self.time_out(waiter)
            return True
        self._detach(waiter)
        spec = waiter.spec
        spec.calls += 1
        spec.failed_calls += 1
        self.engine.stats.count_error(UNBLOCKED_ERROR)
        self._release(waiter, ReplyError(UNBLOCKED_ERROR))
        return True

    def forget(self, client) -> None:
        """``client`` disconnected: leave nothing of it behind."""
        waiter = client.blocked
        if isinstance(waiter, Waiter):
            self._detach(waiter)
            self._release(waiter, GONE)

    # ---- introspection --------------------------------------------------------------

    def blocking_keys(self) -> int:
        """Keys with at least one blocked client (INFO total_blocking_keys)."""
        return len(self.waiting)

    def blocking_keys_on_nokey(self) -> int:
        """Keys whose waiters also wake on deletion (INFO total_blocking_keys_on_nokey)."""
        return sum(1 for queue in self.waiting.values()
                   if any(w.unblock_on_nokey for w in queue))

    def in_timeout_table(self) -> int:
        """Blocked clients with a deadline (INFO clients_in_timeout_table)."""
        return len({w for queue in self.waiting.values() for w in queue if w.deadline_ms})

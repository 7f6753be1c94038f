"""Keyspace notifications: notify-keyspace-events -> ``__keyspace@<db>__:<key>`` and
``__keyevent@<db>__:<event>`` messages (Redis's notify.c).

Every write already reports itself through ``engine.key_modified(db, key, event)`` with
Redis's event name, expiry with ``expired`` and eviction with ``evicted``. The
:class:`Notifier` listens to those calls only while notify-keyspace-events asks for
something (it re-reads the parameter whenever CONFIG SET changes it), maps the event to
its class exactly as the ``notifyKeyspaceEvent`` calls in Redis's source do, and publishes
through the pub/sub tables -- nothing at all when nobody subscribed to anything.

Two classes have no key_modified call behind them, and cost nothing while off:

* ``n`` (a key is created: event ``new``) and ``m`` (a read found no key: ``keymiss``).
  While one of them is on, the databases' class is switched to a subclass of
  :class:`_EventDatabase`, whose ``set`` and read lookups report those events, and back
  when both are off.
  (Commands that check existence with ``peek``, as EXISTS, TYPE and TTL do, report no
  keymiss.)

:func:`install` is called once per engine by the server (and by tests).
"""

from ember.commands.pubsub_state import existing
from ember.storage.keyspace import Database

_HOOK = "notifications"
_ALL = "g$lshzxetd"         # what "A" stands for (not n, not m)

# Event name -> class character, as Redis's notifyKeyspaceEvent calls classify them.
# Anything not listed is generic ("g").
_CLASS_OF = {}
for _cls, _names in (
    ("$", "set setrange incrby incrbyfloat append setbit pfadd"),
    ("l", "lpush rpush lpop rpop linsert lset lrem ltrim"),
    ("s", "sadd srem spop sinterstore sunionstore sdiffstore"),
    ("h", "hset hdel hincrby hincrbyfloat hexpire hpersist hexpired"),
    ("z", "zadd zincr zrem zremrangebyscore zremrangebyrank zremrangebylex zinterstore "
          "zunionstore zdiffstore zrangestore zpopmin zpopmax"),
    ("t", "xadd xtrim xdel xsetid xgroup-create xgroup-createconsumer xgroup-delconsumer "
          "xgroup-destroy xgroup-setid xautoclaim xclaim"),
    ("x", "expired"),
    ("e", "evicted"),
    ("n", "new"),
    ("m", "keymiss"),
):
    for _name in _names.split():
        _CLASS_OF[_name] = _cls


def event_class(event: str) -> str:
    """The notify-keyspace-events class character of a keyspace event name."""
    return _CLASS_OF.get(event, "g")


class Notifier:
    """Turns keyspace events into pub/sub messages, as notify-keyspace-events says."""

    def __init__(self, engine):
        self.engine = engine
        self.classes = frozenset()
        self.keyspace = self.keyevent = False
        # This engine's reporting Database class: the base with this notifier attached.
        self.database_class = type("EventDatabase", (_EventDatabase,),
                                   {"__slots__": (), "notifier": self})
        self.configure()

    def configure(self, config=None) -> None:
        """Read notify-keyspace-events (at start and after each CONFIG SET of it)."""
        flags = self.engine.config.notify_keyspace_events
        classes = set(flags.replace("A", _ALL)) - set("KE")
        self.keyspace = "K" in flags
        self.keyevent = "E" in flags
        on = bool(classes) and (self.keyspace or self.keyevent)
        self.classes = frozenset(classes) if on else frozenset()
        listeners = self.engine.keyspace_listeners
        if on and self.on_key_event not in listeners:
            listeners.append(self.on_key_event)
        elif not on and self.on_key_event in listeners:
            listeners.remove(self.on_key_event)
        wanted = self.database_class if self.classes & {"n", "m"} else Database
        for db in self.engine.dbs:
            if type(db) in (Database, self.database_class) and type(db) is not wanted:
                db.__class__ = wanted

    def on_key_event(self, db, key, event) -> None:
        """Keyspace listener: publish the event if its class is enabled."""
        if key is None or event is None or not self.classes:  # FLUSHDB ...; no event
            return
        if _CLASS_OF.get(event, "g") in self.classes:
            self.notify(db.id, key, event)

    def notify(self, db_id: int, key: bytes, event: str) -> None:
        """Publish one event on the keyspace and/or keyevent channel."""
        pubsub = existing(self.engine)
        if pubsub is None or not pubsub.has_listeners():
            return
        name = event.encode()
        if self.keyspace:
            pubsub.publish(b"__keyspace@%d__:%s" % (db_id, key), name)
        if self.keyevent:
            pubsub.publish(b"__keyevent@%d__:%s" % (db_id, name), key)

    def database_event(self, db, key: bytes, event: str) -> None:
        """``new`` / ``keymiss`` from :class:`_EventDatabase`, if their class is on."""
        if _CLASS_OF[event] in self.classes:
            self.notify(db.id, key, event)


class _EventDatabase(Database):
    """A Database that also reports ``new`` keys and read misses (``keymiss``).

    Swapped in as the databases' class only while notify-keyspace-events has ``n`` or
    ``m``, so the ordinary lookup and write paths carry no check for them.
    """

    __slots__ = ()
    notifier = None     # set on each engine's subclass (Notifier.database_class)

    def set(self, key: bytes, value, keep_ttl: bool = False) -> None:
        """Store ``value``; a key that did not exist (or had expired) is ``new``."""
        deadline = self.expires.get(key)
        new = key not in self.data or (deadline is not None and deadline < self.time.ms)
        Database.set(self, key, value, keep_ttl)
        if new:
            self.notifier.database_event(self, key, "new")

    def set_pairs(self, argv: list) -> None:
        """:meth:`Database.set_pairs` through :meth:`set`, so new keys are reported."""
        for i in range(1, len(argv), 2):
            self.set(argv[i], argv[i + 1])

    def lookup(self, key: bytes):
        """:meth:`Database.lookup`, reporting a miss as ``keymiss``."""
        value = Database.lookup(self, key)
        if value is None:
            self._miss(key)
        return value

    def get_string(self, key: bytes):
        """:meth:`Database.get_string`, reporting a miss as ``keymiss``."""
        value = Database.get_string(self, key)
        if value is None:
            self._miss(key)
        return value

    def _miss(self, key: bytes) -> None:
        self.notifier.database_event(self, key, "keymiss")


def install(engine) -> Notifier:
    """Give ``engine`` its notifier and keep it in step with CONFIG SET."""
    notifier = engine.hooks.get(_HOOK)
    if notifier is None:
        notifier = engine.hooks[_HOOK] = Notifier(engine)
        engine.config.add_applier("notify-keyspace-events", notifier.configure)
    return notifier

"""WATCH bookkeeping: who watches which (db, key), and what makes their EXEC fail.

A client that WATCHes keys gets EXEC's nil reply (``*-1`` / ``_``) if any of them was
touched between WATCH and EXEC: written by anyone (itself included), deleted, expired,
evicted, flushed (FLUSHDB/FLUSHALL) or swapped away (SWAPDB). Such a client is *dirty*
(``"dirty_cas"`` in ``client.flags``, shown as ``d`` by CLIENT LIST) and, as in Redis,
stops watching at once since nothing can make its EXEC succeed again.

How touches are seen: every write calls ``engine.key_modified`` and every expiry reports
``"expired"`` to ``engine.keyspace_listeners``. The :class:`WatchRegistry` is in that list
only while somebody watches, so writes cost nothing otherwise; with watchers a write costs
one dict lookup. Whole-database events (``key=None``: FLUSHDB, FLUSHALL, SWAPDB) arrive
after the data changed, so each watched key remembers whether it held a live value when
WATCHed: a watcher not dirty yet has seen no write to it since, so that is still its state
before the flush or swap (Redis's touchAllWatchedKeysInDb looks at it directly).

Expiry follows Redis 7: a key whose TTL passes after WATCH makes EXEC fail even if it was
never removed (checked by :func:`expired_since_watch` at EXEC); a key that had already
expired when WATCHed does not, and neither does its later removal.
"""

_HOOK = "watch"


class WatchedKey:
    """One client's watch on one key of one database."""

    __slots__ = ("client", "db_id", "key", "live", "expired")

    def __init__(self, client, db, key: bytes):
        self.client = client
        self.db_id = db.id
        self.key = key
        present = key in db.data
        # Held a value whose TTL had already passed (Redis's watchedKey.expired).
        self.expired = present and _past_deadline(db, key)
        self.live = present and not self.expired


def _past_deadline(db, key: bytes) -> bool:
    """True if ``key``'s TTL has passed (whether or not it was removed yet)."""
    deadline = db.expires.get(key)
    return deadline is not None and deadline < db.time.ms


class WatchRegistry:
    """Every watch of the server: per (db id, key) and per client."""

    def __init__(self, engine):
        self.engine = engine
        self.keys = {}          # (db id, key) -> {client: WatchedKey}
        self.clients = {}       # client -> {(db id, key): WatchedKey}
        self.listening = False
        # db id -> the ``data`` dict seen last: SWAPDB of a database with itself leaves
        # it in place, and then nothing changed.
        self.data_seen = {}

    # ---- watching ---------------------------------------------------------------------

    def watch(self, client, db, keys) -> None:
        """Watch ``keys`` of ``db`` for ``client`` (a dirty client has nothing to watch)."""
        if "dirty_cas" in client.flags:
            return
        mine = self.clients.get(client)
        if mine is None:
            mine = self.clients[client] = {}
        for key in keys:
            db_key = (db.id, key)
            if db_key in mine:
                continue
            entry = mine[db_key] = WatchedKey(client, db, key)
            watchers = self.keys.get(db_key)
            if watchers is None:
                watchers = self.keys[db_key] = {}
            watchers[client] = entry
        client.watched = mine
        if not self.listening and self.keys:
            self.listening = True
            self.data_seen = {db.id: db.data for db in self.engine.dbs}
            self.engine.keyspace_listeners.append(self.key_event)

    def unwatch_all(self, client) -> None:
        """Forget every watch of ``client`` (UNWATCH, EXEC, DISCARD, RESET, disconnect)."""
        self._drop(client)
        if self.listening and not self.keys:
            self.listening = False
            engine = self.engine
            # A new list: key_modified may be iterating over the old one right now.
            engine.keyspace_listeners = [listener for listener in engine.keyspace_listeners
                                         if listener != self.key_event]

    def _drop(self, client) -> None:
        mine = self.clients.pop(client, None)
        client.watched = None
        if not mine:
            return
        keys = self.keys
        for db_key in mine:
            watchers = keys.get(db_key)
            if watchers is not None:
                watchers.pop(client, None)
                if not watchers:
                    del keys[db_key]

    def expired_since_watch(self, client) -> bool:
        """True if a key ``client`` watches has a TTL that passed since WATCH (EXEC)."""
        mine = self.clients.get(client)
        if not mine:
            return False
        dbs = self.engine.dbs
        for entry in mine.values():
            if not entry.expired and _past_deadline(dbs[entry.db_id], entry.key):
                return True
        return False

    def _dirty(self, client) -> None:
        """``client``'s EXEC will fail: flag it and stop watching (Redis does the same)."""
        client.flags.add("dirty_cas")
        self._drop(client)      # the listener stays until a command unwatches (see above)

    # ---- the keyspace listener ----------------------------------------------------------

    def key_event(self, db, key, event) -> None:
        """``engine.keyspace_listeners`` callback: a write, expiry or eviction of ``key``."""
        if not self.keys:
            return
        if key is None:
            self._database_event(db, event)
            return
        watchers = self.keys.get((db.id, key))
        if watchers is None:
            return
        for entry in list(watchers.values()):
            if entry.expired:
                if key not in db.data:
                    # An already expired key was removed: logically nothing changed.
                    entry.expired = False
                    continue
            self._dirty(entry.client)

    def _database_event(self, db, event: str) -> None:
        """FLUSHDB, FLUSHALL, SWAPDB (or any other whole-database change) of ``db``."""
        engine = self.engine
        if event == "flushall":
            targets = engine.dbs
        elif event == "swapdb" and db.data is self.data_seen.get(db.id):
            targets = ()        # SWAPDB n n: Redis leaves watchers alone
        else:
            targets = (db,)
        for target in targets:
            if event == "swapdb":
                self._swapped(target)
            else:
                self._emptied(target)
        self.data_seen = {each.id: each.data for each in engine.dbs}

    def _entries_in(self, db_id: int) -> list:
        return [entry for (entry_db, _key), watchers in self.keys.items()
                if entry_db == db_id for entry in watchers.values()]

    def _emptied(self, db) -> None:
        """The database lost every key: watchers of keys that existed are dirty."""
        for entry in self._entries_in(db.id):
            if entry.expired:
                entry.expired = False     # an expired key removed: no logical change
            elif entry.live:
                self._dirty(entry.client)

    def _swapped(self, db) -> None:
        """The database got another one's keys (Redis's touchAllWatchedKeysInDb with
        ``replaced_with``): a watched key that existed before or exists now is touched,
        unless it was and stays expired, or was expired and is now gone."""
        for entry in self._entries_in(db.id):
            key = entry.key
            present = key in db.data
            if not (entry.live or entry.expired or present):
                continue
            expired_now = present and _past_deadline(db, key)
            if entry.expired:
                if not present:
                    entry.expired = False
                    continue
                if expired_now:
                    continue
            elif not entry.live and expired_now:
                entry.expired = True     # a missing key replaced by an expired one
                continue
            self._dirty(entry.client)


def registry(engine) -> WatchRegistry:
    """The engine's WatchRegistry, created on first use."""
    found = engine.hooks.get(_HOOK)
    if found is None:
        found = engine.hooks[_HOOK] = WatchRegistry(engine)
    return found


def unwatch_all(client) -> None:
    """Stop every watch of ``client`` (no-op for a client that watches nothing)."""
    found = client.engine.hooks.get(_HOOK)
    if found is not None:
        found.unwatch_all(client)
    else:
        client.watched = None

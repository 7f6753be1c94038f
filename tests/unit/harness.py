"""An engine driven without sockets: a hand-moved clock, recorded propagation and events."""

from ember.commands import load_all
from ember.commands.engine import Engine
from ember.errors import ReplyError
from ember.persistence import dump_commands  # noqa: F401  (DUMP, RESTORE, MIGRATE)
from ember.server.config import Config

load_all()

START_MS = 1_700_000_000_000


class Harness:
    """Runs commands on an Engine whose clock only moves when ``advance`` says so.

    ``propagated`` collects what the engine hands to the AOF/replicas; ``events`` the
    keyspace events as (event, key) and ``db_events`` as (db id, event, key).
    """

    def __init__(self, config: Config = None):
        self.now = START_MS
        self.engine = Engine(config or Config(), clock=lambda: self.now)
        self.client = self.engine.new_client()
        self.propagated = []
        self.events = []
        self.db_events = []
        self.engine.propagators.append(lambda db, argv: self.propagated.append(list(argv)))
        self.engine.keyspace_listeners.append(self._record_event)

    def _record_event(self, db, key, event) -> None:
        self.events.append((event, key))
        self.db_events.append((db.id, event, key))

    @property
    def db(self):
        """The client's selected database."""
        return self.client.db

    def advance(self, ms: int) -> None:
        """Move the clock forward and let the engine see it."""
        self.now += ms
        self.engine.tick()

    def ttl_ms(self, key: bytes):
        """Milliseconds until ``key`` expires, or None without a TTL."""
        deadline = self.db.get_expire(key)
        return None if deadline is None else deadline - self.now

    def __call__(self, *args):
        """Run a command; an error reply is raised as ReplyError."""
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        reply = self.engine.execute(self.client, argv)
        if isinstance(reply, ReplyError):
            raise reply
        return reply

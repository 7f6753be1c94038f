"""Client: the sans-IO state of one connection, handed to every handler as ``ctx``.

The network layer owns the socket and keeps a Client; handlers read and change the
client's state (selected database, protocol version, name ...) and reach the server's
state through ``ctx.engine``. Things only the network layer can do (close, measure its
buffers) go through ``ctx.conn``, an object the server layer provides; it is None for
clients that have no connection (unit tests, scripts, the AOF loader).
"""

import time


class Client:
    """Per-connection state that commands read and change."""

    __slots__ = (
        "id", "engine", "db", "resp", "name", "lib_name", "lib_ver", "authenticated",
        "user", "flags", "created", "last_interaction", "last_cmd", "addr", "laddr",
        "fd", "conn", "reply_mode", "no_evict", "no_touch", "kill_after_reply",
        "propagate_argv", "multi", "watched", "subscriptions", "psubscriptions",
        "ssubscriptions", "monitor", "tracking", "blocked", "close_after_reply", "special",
    )

    def __init__(self, engine, client_id: int, conn=None, addr: str = "", laddr: str = "",
                 fd: int = -1):
        self.id = client_id
        self.engine = engine
        self.db = engine.dbs[0]
        self.resp = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.authenticated = not engine.auth_required()
        self.user = "default"
        self.flags = set()
        self.created = time.time()
        self.last_interaction = self.created
        self.last_cmd = "NULL"
        self.addr = addr
        self.laddr = laddr
        self.fd = fd
        self.conn = conn
        self.reply_mode = "on"          # CLIENT REPLY ON|OFF|SKIP
        self.no_evict = False
        self.no_touch = False
        self.kill_after_reply = False
        # A handler that changed data sets this to the argv to propagate instead of its
        # own (EXPIRE -> PEXPIREAT, SET EX -> SET PXAT ...); None means "as received";
        # a tuple of argvs propagates them as one unit (MULTI ... EXEC when several).
        self.propagate_argv = None
        self.multi = None
        self.watched = None
        # Special states that change how the dispatcher treats every command (MULTI
        # queueing, RESP2 subscriber mode ...): name -> gate(client, spec, argv), which
        # returns a reply to answer instead of running the command, or None to go on.
        # Empty for ordinary clients, so the dispatcher pays one truth test for them all.
        self.special = {}
        # Channels, patterns and shard channels, in subscription order (dicts used as
        # ordered sets; ember/commands/pubsub_state.py keeps them).
        self.subscriptions = {}
        self.psubscriptions = {}
        self.ssubscriptions = {}
        self.monitor = False
        self.tracking = None
        self.blocked = None
        self.close_after_reply = False

    @property
    def db_index(self) -> int:
        """Number of the selected database."""
        return self.db.id

    def select(self, index: int) -> None:
        """Switch to database ``index`` (the caller has range-checked it)."""
        self.db = self.engine.dbs[index]

    def now_ms(self) -> int:
        """The server's current time in Unix milliseconds (the engine's clock)."""
        return self.engine.now()

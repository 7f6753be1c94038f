"""The primary side: replicas attach with SYNC/PSYNC and get the command stream.

Sans-IO. A replica is a client connection that sent SYNC or PSYNC; from then on it is a
:class:`ReplicaPeer` here and no longer an ordinary client (its REPLCONF ACKs get no
reply). Writes reach :meth:`Primary.propagate` through ``engine.propagators`` (registered
only while a backlog exists, so a server without replicas pays nothing); each is encoded
once, preceded by a SELECT when the database changes, fed to the backlog and written to
every online replica.

Full synchronisations are carried out by the server layer (``sync_runner``: it forks a
child that writes the RDB, to a pipe for diskless sync or to a file, and streams it);
this module decides who needs one and what happens before and after:
``snapshot_started`` (send +FULLRESYNC, buffer the stream from the snapshot's offset on),
``rdb_sent`` (flush that buffer, the replica is online).
"""

import logging
import time

from ember.replication.stream import HEADERS as _HEADERS
from ember.replication.stream import encode_command, select_command

log = logging.getLogger("ember")

WAIT_BGSAVE, SEND_BULK, ONLINE = "wait_bgsave_start", "send_bulk", "online"
_PING = encode_command([b"PING"])
_GETACK = encode_command([b"REPLCONF", b"GETACK", b"*"])
_join = b"".join


class ReplicaPeer:
    """One attached replica: its connection, sync state and acknowledged offset."""

    def __init__(self, client, psync: bool):
        self.client = client
        self.conn = client.conn
        self.state = WAIT_BGSAVE
        self.psync = psync                  # PSYNC (FULLRESYNC line) or old SYNC
        self.listening_port = 0
        self.ip_address = None
        self.capa = set()
        self.rdb_only = False
        self.ack_offset = 0
        self.ack_time = time.monotonic()
        self.pending = []                   # stream bytes held until the RDB is sent
        self.await_ack = False              # diskless: stream starts on the first ACK

    @property
    def ip(self) -> str:
        """Address the replica announced, else the one it connects from."""
        if self.ip_address:
            return self.ip_address
        return self.client.addr.rsplit(":", 1)[0]

    def write(self, data: bytes) -> None:
        """Send stream bytes, or hold them while the replica still gets its RDB."""
        if self.state == ONLINE:
            self.conn.write(data)
        elif self.state == SEND_BULK:
            self.pending.append(data)


class Primary:
    """Attached replicas, the stream they are fed, WAIT and min-replicas-to-write."""

    def __init__(self, engine, backlog, sync_runner=None):
        self.engine = engine
        self.config = engine.config
        self.backlog = backlog
        self.replicas = []
        self.selected_db = -1
        self.sync_runner = sync_runner      # callable(): start a full sync soon
        # callable(peers, data): the server layer's way to send the stream (one transport
        # write per replica); None: each peer's connection.write
        self.sender = None
        self.waiters = []                   # (waiter, client, target offset, needed)
        self.good_replicas = 0
        self._last_ping = time.monotonic()
        self.proxy = False                  # True on a replica: the link feeds raw bytes
        self.stats = engine.stats
        # REPLCONF settings (listening-port, capa ...) sent before SYNC/PSYNC, by client id.
        self.settings = {}
        # WAIT's target per client: the offset right after its last write (c->woff).
        self.woff = {}

    # ---- the stream ------------------------------------------------------------------

    def propagate(self, db_index: int, argv: list) -> None:
        """Propagator: one write, as a RESP command, to the backlog and the replicas.

        Per write only the encoding (one ``bytes.join``, written out for the usual
        shapes) and a list append happen here; the backlog gets the joined bytes of the
        iteration, and each replica one transport write, in :meth:`flush`.
        """
        if self.proxy:          # a replica relays its primary's stream, not its own writes
            return
        try:
            size = len(argv)
            if size == 3:
                a, b, c = argv
                data = _join((b"*3\r\n", _HEADERS[len(a)], a, b"\r\n", _HEADERS[len(b)], b,
                              b"\r\n", _HEADERS[len(c)], c, b"\r\n"))
            elif size == 2:
                a, b = argv
                data = _join((b"*2\r\n", _HEADERS[len(a)], a, b"\r\n", _HEADERS[len(b)], b,
                              b"\r\n"))
            else:
                data = encode_command(argv)
        except (TypeError, IndexError):     # ints, str or a value of 1 KB and more
            data = encode_command(argv)
        if db_index != self.selected_db:
            data = select_command(db_index) + data
            self.selected_db = db_index
        backlog = self.backlog
        backlog.offset += len(data)
        pending = backlog.pending
        pending.append(data)
        if len(pending) == 1:
            self._schedule_flush()

    def feed(self, data: bytes) -> None:
        """Bytes of the stream (own writes, or a primary's stream we relay).

        The offset moves at once; the backlog and the replicas get the bytes of a whole
        event-loop iteration in one piece (Redis writes to replicas in beforeSleep too).
        """
        backlog = self.backlog
        backlog.offset += len(data)
        pending = backlog.pending
        if not self.replicas and not pending:   # nobody to send to: straight in
            if backlog.active:
                buf = backlog._buf
                buf += data
                if len(buf) > backlog.limit:
                    backlog.trim()
            return
        pending.append(data)
        if len(pending) == 1:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        defer = self.engine.hooks.get("defer")
        if defer is None:               # no event loop (unit tests): send at once
            self.flush()
        else:
            defer(self.flush)

    def flush(self) -> None:
        """Append the stream bytes of this iteration to the backlog, once, and send the
        same bytes to every replica (one write each)."""
        data = self.backlog.settle()
        if data and self.replicas:
            if self.sender is not None:     # the server's: straight to each transport
                self.sender(self.replicas, data)
            else:
                for peer in self.replicas:
                    peer.write(data)

    def ensure_backlog(self) -> None:
        """Create the backlog and start propagating (the first replica arrives)."""
        if not self.backlog.active:
            self.backlog.create()
        self.backlog.idle_since = None
        self.sync_propagator()

    def sync_propagator(self) -> None:
        """Be in ``engine.propagators`` exactly when our own writes feed the stream: a
        primary with a backlog. A replica relays its primary's bytes instead, so its
        commands pay no propagation call at all."""
        propagators = self.engine.propagators
        wanted = self.backlog.active and not self.proxy
        if wanted and self.propagate not in propagators:
            propagators.append(self.propagate)
        elif not wanted and self.propagate in propagators:
            propagators.remove(self.propagate)
        hooks = self.engine.hooks
        if wanted:
            hooks["wrote"] = self.note_write
        elif hooks.get("wrote") == self.note_write:
            del hooks["wrote"]

    def note_write(self, client) -> None:
        """A command of ``client`` changed data: WAIT from it waits for this offset."""
        self.woff[client.id] = self.backlog.offset

    def client_offset(self, client) -> int:
        """The offset WAIT waits for: right after ``client``'s last write (0: none)."""
        return self.woff.get(client.id, 0)

    # ---- SYNC / PSYNC -----------------------------------------------------------------

    def attach(self, client, psync: bool, replid: str = None, offset: int = -1):
        """A client asked to replicate (SYNC, PSYNC): answer with +CONTINUE and the
        backlog, or queue a full sync. Returns the peer."""
        self.flush()        # queued bytes belong to the replicas attached before this one
        peer = self._peer_of(client)
        if peer is None:
            peer = ReplicaPeer(client, psync)
            for name, value in self.settings.pop(client.id, {}).items():
                setattr(peer, name, value)
        peer.psync = psync
        client.flags.add("slave")
        client.reply_mode = "off"           # replicas get no replies (REPLCONF ACK ...)
        self.ensure_backlog()
        if psync and replid is not None and not peer.rdb_only \
                and self.backlog.can_continue(replid, offset):
            self._continue(peer, replid, offset)
            return peer
        if psync and replid not in (None, "?"):
            self.stats.sync_partial_err = getattr(self.stats, "sync_partial_err", 0) + 1
        self.stats.sync_full = getattr(self.stats, "sync_full", 0) + 1
        peer.state = WAIT_BGSAVE
        if peer not in self.replicas:
            self.replicas.append(peer)
        if self.sync_runner is not None:
            self.sync_runner()
        return peer

    def _continue(self, peer, replid: str, offset: int) -> None:
        backlog = self.backlog
        if "psync2" in peer.capa:
            line = b"+CONTINUE %s\r\n" % backlog.replid.encode()
        else:
            line = b"+CONTINUE\r\n"
        data = backlog.since(offset)
        # push: after the replies of the commands before PSYNC in the same batch.
        peer.conn.push(line + data)
        peer.state = ONLINE
        peer.ack_time = time.monotonic()
        if peer not in self.replicas:
            self.replicas.append(peer)
        self.stats.sync_partial_ok = getattr(self.stats, "sync_partial_ok", 0) + 1
        self.stats.net_repl_output_bytes = (getattr(self.stats, "net_repl_output_bytes", 0)
                                            + len(data))
        log.warning("Partial resynchronization request from %s accepted. Sending %d bytes "
                    "of backlog starting from offset %d.", peer.client.addr, len(data),
                    offset)
        self.refresh_good()

    def waiting_for_snapshot(self) -> list:
        """Replicas that need a full sync that has not started yet."""
        return [p for p in self.replicas if p.state == WAIT_BGSAVE]

    def snapshot_started(self, peers: list) -> dict:
        """The RDB of this instant is being made for ``peers``: tell them +FULLRESYNC and
        hold the stream that follows. Returns the RDB's replication AUX fields."""
        self.flush()        # what is queued is already in the snapshot
        backlog = self.backlog
        for peer in peers:
            if peer.psync:
                peer.conn.push(b"+FULLRESYNC %s %d\r\n" % (backlog.replid.encode(),
                                                           backlog.offset))
            peer.state = SEND_BULK
            peer.pending = []
        if self.proxy:      # a replica relays its primary's stream: in that stream's db
            stream_db = self.stream_db()
        else:               # ours starts with a SELECT after a snapshot, whatever the db
            stream_db = max(self.selected_db, 0)
            self.selected_db = -1
        return {"repl-stream-db": str(stream_db).encode(),
                "repl-id": backlog.replid.encode(),
                "repl-offset": str(backlog.offset).encode()}

    def stream_db(self) -> int:
        """On a replica: the database its primary's stream is in now."""
        link = self.engine.hooks["replication"].link
        if link is None:
            return max(self.selected_db, 0)
        if link.master_client is not None:
            return link.master_client.db.id
        return link.db_index

    def rdb_sent(self, peer, wait_ack: bool = False) -> None:
        """The whole RDB went out: the replica is online, send what was held.

        After a diskless (EOF-marked) payload the stream starts only with the replica's
        first ACK, as in Redis: a replica reading up to the mark must not get stream
        bytes in the same read.
        """
        if peer not in self.replicas:
            return
        if peer.rdb_only:
            peer.conn.close()
            return
        if wait_ack:
            peer.await_ack = True
            return
        self._online(peer)

    def _online(self, peer) -> None:
        self.flush()
        peer.await_ack = False
        pending, peer.pending = peer.pending, []
        peer.state = ONLINE
        peer.ack_time = time.monotonic()
        for data in pending:
            peer.conn.write(data)
        log.warning("Synchronization with replica %s succeeded", peer.client.addr)
        self.refresh_good()

    def sync_failed(self, peer) -> None:
        """The RDB could not be made or sent: drop the replica (it will retry)."""
        self.detach(peer.client)
        if peer.conn is not None and not peer.conn.closing:
            peer.conn.close()

    def configure(self, client, name: str, value) -> None:
        """Record a REPLCONF setting of ``client`` (a replica now, or after its PSYNC)."""
        peer = self._peer_of(client)
        if peer is not None:
            if name == "capa":
                peer.capa.add(value)
            else:
                setattr(peer, name, value)
            return
        settings = self.settings.setdefault(client.id, {})
        if name == "capa":
            settings.setdefault("capa", set()).add(value)
        else:
            settings[name] = value

    def detach(self, client) -> None:
        """A replica's connection closed."""
        self.settings.pop(client.id, None)
        peer = self._peer_of(client)
        if peer is None:
            return
        self.replicas.remove(peer)
        if not self.replicas:
            self.backlog.idle_since = time.monotonic()
        self.refresh_good()
        self._serve_waiters()

    def disconnect_all(self) -> None:
        """Close every replica's connection (our replid changed: they must reconnect)."""
        for peer in list(self.replicas):
            self.replicas.remove(peer)
            if peer.conn is not None and not peer.conn.closing:
                peer.conn.close()
        self.backlog.idle_since = time.monotonic()
        self.refresh_good()

    def _peer_of(self, client):
        for peer in self.replicas:
            if peer.client is client:
                return peer
        return None

    def peer_of(self, client):
        """The :class:`ReplicaPeer` of ``client``, or None."""
        return self._peer_of(client)

    # ---- REPLCONF ----------------------------------------------------------------------

    def ack(self, client, offset: int) -> None:
        """REPLCONF ACK from a replica: its processed offset."""
        peer = self._peer_of(client)
        if peer is None:
            return
        if peer.await_ack:
            self._online(peer)
        if offset > peer.ack_offset:
            peer.ack_offset = offset
        peer.ack_time = time.monotonic()
        self.refresh_good()
        if self.waiters:
            self._serve_waiters()

    # ---- WAIT ----------------------------------------------------------------------------

    def acked(self, offset: int) -> int:
        """Replicas that acknowledged at least ``offset``."""
        return sum(1 for p in self.replicas if p.state == ONLINE and p.ack_offset >= offset)

    def add_waiter(self, waiter, target: int, needed: int) -> None:
        """A WAIT blocked: answer it once ``needed`` replicas acked ``target``; ask all of
        them for an ACK now."""
        self.waiters.append((waiter, target, needed))
        self.request_acks()

    def request_acks(self) -> None:
        """Send REPLCONF GETACK * down the stream (it counts in the offset, as in Redis)."""
        if self.replicas:
            self.feed(_GETACK)

    def _serve_waiters(self) -> None:
        if not self.waiters:
            return
        blocking = self.engine.blocking
        keep = []
        for waiter, target, needed in self.waiters:
            if not waiter.active:
                continue
            count = self.acked(target)
            waiter.timeout_reply = count
            if count >= needed:
                blocking.time_out(waiter)       # answers timeout_reply: the count
            else:
                keep.append((waiter, target, needed))
        self.waiters = keep

    # ---- health ------------------------------------------------------------------------

    def refresh_good(self) -> None:
        """Count replicas online with a lag within min-replicas-max-lag."""
        max_lag = self.config.min_replicas_max_lag
        now = time.monotonic()
        self.good_replicas = sum(1 for p in self.replicas if p.state == ONLINE
                                 and now - p.ack_time <= max_lag)

    def cron(self) -> None:
        """Once per cron period: PING replicas every repl-ping-replica-period seconds,
        drop replicas silent for repl-timeout, free an idle backlog after its TTL."""
        now = time.monotonic()
        config = self.config
        if self.replicas and not self.proxy \
                and now - self._last_ping >= config.repl_ping_replica_period:
            self._last_ping = now
            self.feed(_PING)
        for peer in list(self.replicas):
            if peer.state == ONLINE and now - peer.ack_time > config.repl_timeout \
                    and "psync2" in peer.capa:
                log.warning("Disconnecting timedout replica (streaming sync): %s",
                            peer.client.addr)
                self.detach(peer.client)
                peer.conn.close()
        backlog = self.backlog
        ttl = config.repl_backlog_ttl
        if (backlog.active and not self.replicas and ttl and backlog.idle_since is not None
                and now - backlog.idle_since > ttl and not self.proxy):
            backlog.free()
            backlog.shift_replid()
            backlog.clear_replid2()
            self.sync_propagator()
        self.refresh_good()
        if self.waiters:
            self._serve_waiters()

    def replica_lines(self) -> list:
        """INFO's slaveN fields."""
        now = time.monotonic()
        lines = []
        for i, peer in enumerate(self.replicas):
            state = {WAIT_BGSAVE: "wait_bgsave", SEND_BULK: "send_bulk",
                     ONLINE: "online"}[peer.state]
            lines.append(("slave%d" % i, "ip=%s,port=%d,state=%s,offset=%d,lag=%d" % (
                peer.ip, peer.listening_port, state, peer.ack_offset,
                int(now - peer.ack_time))))
        return lines

"""Replication: this server's role and everything that goes with it, in one object.

``engine.hooks["replication"]`` is the :class:`Replication` of a server (installed by
``ember.server.replication_wiring``, which also gives it ``io``: the object that opens the
link to a primary, forks RDB children and loads a received RDB). It holds the PSYNC2
state (:class:`~ember.replication.backlog.Backlog`), the primary side
(:class:`~ember.replication.primary.Primary`, also used by a replica to serve its own
sub-replicas) and, on a replica, the :class:`~ember.replication.replica.ReplicaLink`.
"""

import logging
import time

from ember.errors import ReplyError
from ember.replication.backlog import Backlog
from ember.replication.primary import Primary
from ember.replication.replica import CONNECTED, ReplicaLink
from ember.storage.keyspace import Database

log = logging.getLogger("ember")

READONLY = "READONLY You can't write against a read only replica."
MASTERDOWN = ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
              "to 'no'.")
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."


class Replication:
    """Role, PSYNC2 ids and offsets, replicas, the link to a primary."""

    def __init__(self, engine, io=None):
        self.engine = engine
        self.config = engine.config
        self.io = io
        self.backlog = Backlog(self.config.repl_backlog_size, replid=engine.replid)
        self.primary = Primary(engine, self.backlog)
        self.link = None
        self.pending_full = None        # (replid, offset) of the +FULLRESYNC being served
        self.failover = None            # ember.replication.failover.Failover in progress
        engine.hooks["role"] = "master"

    # ---- role -------------------------------------------------------------------------

    @property
    def is_replica(self) -> bool:
        """True while we replicate a primary (REPLICAOF host port)."""
        return self.link is not None

    def replicaof(self, host: str, port: int, failover: bool = False) -> None:
        """Become a replica of ``host:port`` (or follow a new primary); ``failover``: as
        the demoted side of FAILOVER (our PSYNC asks the target to take over)."""
        if self.link is not None:
            self._close_link()
        else:
            log.warning("Before turning into a replica, using my own master parameters to "
                        "synthesize a cached master: I may be able to synchronize with "
                        "the new master with just a partial transfer.")
        self.primary.disconnect_all()       # sub-replicas must learn the new history
        self.primary.proxy = True
        self.primary.ensure_backlog()       # (and leaves engine.propagators: proxy)
        self.link = ReplicaLink(self, host, port)
        self.link.failover = failover
        self.engine.hooks["role"] = "slave"
        self._set_replica_keyspace(True)
        self.config.set("replicaof", [host, str(port)])
        log.warning("Connecting to MASTER %s:%d", host, port)
        self.update_gates()
        if self.io is not None:
            self.io.connect(self.link)

    def no_one(self) -> None:
        """REPLICAOF NO ONE: become a primary; the old history stays valid as replid2."""
        if self.link is None:
            return
        self._close_link()
        self.link = None
        self.backlog.shift_replid()
        self.engine.replid = self.backlog.replid
        self.primary.disconnect_all()
        self.primary.proxy = False
        self.primary.sync_propagator()      # our own writes feed the stream again
        self.primary.selected_db = -1
        self.engine.hooks["role"] = "master"
        self._set_replica_keyspace(False)
        self.config.set("replicaof", ["no", "one"])
        self.update_gates()
        log.warning("MASTER MODE enabled (user request from 'id=...')")

    def _close_link(self) -> None:
        link = self.link
        if self.io is not None:
            self.io.disconnect(link)
        link.lost()

    def drop_link(self) -> None:
        """Give up the current connection to the primary; the cron reconnects."""
        if self.link is not None:
            if self.io is not None:
                self.io.disconnect(self.link)
            self.link.lost()

    def _set_replica_keyspace(self, replica: bool) -> None:
        for db in self.engine.dbs:
            db.keep_expired = replica

    # ---- PSYNC2 ---------------------------------------------------------------------------

    def psync_origin(self) -> tuple:
        """(replid, offset) for our PSYNC: our own history (Redis 4+'s cached master)."""
        backlog = self.backlog
        if not backlog.active and backlog.offset == 0:
            return "?", -1
        return backlog.replid, backlog.offset + 1

    def psync_answered(self, accepted: bool) -> None:
        """Our PSYNC got +CONTINUE/+FULLRESYNC (accepted) or an error: a FAILOVER that
        made us a replica ends, or aborts."""
        if self.failover is not None and self.link is not None and self.link.failover:
            self.link.failover = False
            self.failover.psync_answered(accepted)

    def restore_origin(self, replid: str, offset: int, stream_db: int) -> None:
        """Our data is an RDB saved at ``offset`` of history ``replid`` (a restart):
        PSYNC from there, in the stream's database."""
        self.backlog.reset_to(replid, offset)
        self.backlog.create()
        self.engine.replid = replid
        if self.link is not None:
            self.link.db_index = min(max(stream_db, 0), len(self.engine.dbs) - 1)

    def continued(self, new_id: str) -> None:
        """+CONTINUE: a new replid means our primary was promoted; keep the old one."""
        backlog = self.backlog
        if new_id and new_id != backlog.replid:
            backlog.replid2 = backlog.replid
            backlog.second_offset = backlog.offset + 1
            backlog.replid = new_id
            self.engine.replid = new_id
            self.primary.disconnect_all()

    def load_payload(self, payload: bytes, done) -> None:
        """Load a full sync's RDB into fresh databases (off the loop) and swap them in."""
        engine = self.engine
        fresh = [Database(db.id, engine.now, engine.keyspace_stats, engine._on_expire,
                          engine.time) for db in engine.dbs]

        link = self.link

        def finished(error, aux=None):
            if error is None and (self.link is not link or link.state != "loading"):
                error = "the link to the primary changed while loading"
            if error is None:
                for db, new in zip(engine.dbs, fresh):
                    db.swap_contents(new)
                    engine.key_modified(db, None, "flushdb", count=0)
                replid, offset = self.pending_full
                self.backlog.reset_to(replid, offset)
                self.backlog.create()
                engine.replid = replid
                self.primary.selected_db = -1
                # The stream goes on in the database the RDB says (Redis's
                # repl-stream-db); a chained replica's primary may be anywhere.
                stream_db = (aux or {}).get("repl-stream-db", b"0")
                try:
                    link.db_index = min(max(int(stream_db), 0), len(engine.dbs) - 1)
                except ValueError:
                    link.db_index = 0
            done(error)

        if self.io is None:
            finished("no loader")
            return
        self.io.load(payload, fresh, finished)

    def link_state_changed(self) -> None:
        """The link went up or down: MASTERDOWN depends on it."""
        self.update_gates()

    # ---- gates (READONLY, MASTERDOWN, NOREPLICAS) -----------------------------------------

    def update_gates(self) -> None:
        """Install the replication gate on every client when it may refuse something.

        The dispatcher consults ``client.special`` only when it is non-empty, so with no
        refusal possible (a primary without min-replicas-to-write) nothing is added.
        """
        config = self.config
        needed = (self.link is not None and (config.replica_read_only
                                             or not config.replica_serve_stale_data)) \
            or (self.link is None and config.min_replicas_to_write > 0)
        gates = self.engine.hooks.setdefault("client_gates", {})
        if needed:
            gates["replication"] = self.gate
        else:
            gates.pop("replication", None)
        for client in self.engine.clients.values():
            if "master" in client.flags:
                continue
            if needed:
                client.special["replication"] = self.gate
            else:
                client.special.pop("replication", None)

    def gate(self, client, spec, argv):
        """Refuse what a replica (or a primary short of replicas) must not run."""
        config = self.config
        link = self.link
        if link is not None:
            if "master" in client.flags:
                return None
            if spec.is_write and config.replica_read_only:
                return self.engine._reject(spec, ReplyError(READONLY), client)
            if (not config.replica_serve_stale_data and link.state != CONNECTED
                    and "stale" not in spec.flags):
                return self.engine._reject(spec, ReplyError(MASTERDOWN), client)
        elif spec.is_write and config.min_replicas_to_write > 0 \
                and self.primary.good_replicas < config.min_replicas_to_write:
            return self.engine._reject(spec, ReplyError(NOREPLICAS), client)
        return None

    # ---- periodic work ----------------------------------------------------------------------

    def cron(self) -> None:
        """Once per cron period: reconnect, ACK every second, primary-side upkeep."""
        link = self.link
        if link is not None and self.io is not None:
            now = time.monotonic()
            if link.state == "connect" and now - getattr(link, "last_try", 0) >= 1:
                link.last_try = now
                self.io.connect(link)
            elif link.state == CONNECTED:
                if now - getattr(link, "last_ack", 0) >= 1:
                    link.last_ack = now
                    link.send_ack()
                if now - link.last_io > self.config.repl_timeout:
                    log.warning("MASTER timeout: no data nor PING received...")
                    self.drop_link()
            elif link.state in ("connecting", "handshake", "sync") \
                    and now - link.last_io > self.config.repl_timeout:
                log.warning("Timeout connecting to the MASTER...")
                self.drop_link()
        self.primary.cron()
        if self.failover is not None:
            self.failover.cron()

    # ---- introspection ----------------------------------------------------------------------

    def info(self) -> list:
        """INFO replication, Redis 7's fields."""
        backlog = self.backlog
        config = self.config
        fields = []
        link = self.link
        if link is None:
            fields.append(("role", "master"))
        else:
            now = time.monotonic()
            up = link.state == CONNECTED
            fields += [
                ("role", "slave"), ("master_host", link.host), ("master_port", link.port),
                ("master_link_status", "up" if up else "down"),
                ("master_last_io_seconds_ago", int(now - link.last_io) if up else -1),
                ("master_sync_in_progress", int(link.state in ("sync", "loading"))),
                ("slave_read_repl_offset", backlog.offset + len(link.tail)),
                ("slave_repl_offset", backlog.offset),
            ]
            if link.state == "sync":
                total = link.transfer_size if link.transfer_size else -1
                fields += [("master_sync_total_bytes", total),
                           ("master_sync_read_bytes", link.transfer_read),
                           ("master_sync_left_bytes", total - link.transfer_read
                            if total > 0 else -1),
                           ("master_sync_perc", "%.2f" % (
                               link.transfer_read * 100 / total if total > 0 else 0)),
                           ("master_sync_last_io_seconds_ago", int(now - link.last_io))]
            if not up:
                fields.append(("master_link_down_since_seconds",
                               int(now - link.down_since)))
            fields += [("slave_priority", config.replica_priority),
                       ("slave_read_only", int(config.replica_read_only)),
                       ("replica_announced", int(config.replica_announced))]
        fields.append(("connected_slaves", len(self.primary.replicas)))
        fields += self.primary.replica_lines()
        if link is None and config.min_replicas_to_write:
            fields.append(("min_slaves_good_slaves", self.primary.good_replicas))
        fields.append(("master_failover_state", self.failover.state if self.failover
                       else "no-failover"))
        fields += [("master_replid", backlog.replid), ("master_replid2", backlog.replid2),
                   ("master_repl_offset", backlog.offset),
                   ("second_repl_offset", backlog.second_offset)]
        fields += backlog.info_fields()
        return fields

    def role(self) -> list:
        """The ROLE reply."""
        link = self.link
        if link is None:
            return [b"master", self.backlog.offset,
                    [[p.ip.encode(), str(p.listening_port).encode(),
                      str(p.ack_offset).encode()] for p in self.primary.replicas
                     if p.state == "online"]]
        return [b"slave", link.host.encode(), link.port, link.role_state().encode(),
                self.backlog.offset if link.state == CONNECTED else -1]

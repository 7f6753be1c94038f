"""Replication, the asyncio half: the link to a primary, RDB children, loading.

:class:`ember.replication.manager.Replication` decides; this module does the I/O it asks
for (its ``io``):

* ``connect(link)`` / ``disconnect(link)``: the TCP connection to the primary, whose bytes
  go to ``link.feed``;
* ``load(payload, dbs, finished)``: parse a received RDB into fresh databases on a worker
  thread (the loop keeps serving the old data meanwhile), then ``finished(error)`` on the
  loop;
* ``schedule_sync()``: full synchronisations. As Redis does, a child process is forked:
  it writes the RDB of that instant, to a pipe for diskless sync (streamed to the
  replicas as it comes, framed ``$EOF:<mark>``) or to a file that is then sent as
  ``$<len>``; the primary goes on serving, and holds the stream for those replicas until
  their RDB has gone out.
"""

import asyncio
import io
import logging
import os

from ember.replication.manager import Replication
from ember.replication.primary import ONLINE
from ember.replication.rdb_info import read_replication_info

log = logging.getLogger("ember")

_CHUNK = 256 * 1024
_MAX_BUFFERED = 16 * 1024 * 1024    # per replica, before the RDB stream waits for it


def install(server) -> Replication:
    """Give ``server`` replication: commands, hooks, cron, config appliers."""
    import ember.replication.commands  # noqa: F401  (declares the commands)
    import ember.replication.failover  # noqa: F401

    engine = server.engine
    wiring = ReplicationIO(server)
    repl = Replication(engine, wiring)
    wiring.repl = repl
    repl.primary.sync_runner = wiring.schedule_sync
    repl.primary.sender = wiring.send_stream
    hooks = engine.hooks
    hooks["replication"] = repl
    hooks["replication_info"] = repl.info
    hooks.setdefault("cron", []).append(repl.cron)
    primary = repl.primary

    def disconnected(client) -> None:
        primary.woff.pop(client.id, None)
        if "slave" in client.flags or client.id in primary.settings:
            primary.detach(client)
        elif "master" in client.flags and repl.link is not None \
                and client is repl.link.master_client:
            repl.drop_link()        # CLIENT KILL TYPE master: reconnect (partial resync)

    hooks.setdefault("disconnect", []).append(disconnected)
    config = server.config
    for name in ("replica-read-only", "replica-serve-stale-data", "min-replicas-to-write"):
        config.add_applier(name, lambda cfg: repl.update_gates())
    config.add_applier("repl-backlog-size",
                       lambda cfg: repl.backlog.resize(cfg.repl_backlog_size))
    server.shutdown_hooks.append(wiring.shutdown)
    hooks["rdb_aux"] = lambda: rdb_aux(repl)     # SAVE/BGSAVE files carry our offset
    if config.replicaof:        # replicaof in the config: a replica from the start; the
        host, port = config.replicaof       # cron connects once the loop runs
        saved = {} if config.appendonly else read_replication_info(config.dbfilename)
        repl.replicaof(host, int(port))
        if "repl-id" in saved and "repl-offset" in saved:
            # Restarted from our own RDB: continue from its offset (a partial resync
            # when the primary's backlog still covers the gap).
            repl.restore_origin(saved["repl-id"].decode("latin-1"),
                                int(saved["repl-offset"]),
                                int(saved.get("repl-stream-db", b"0")))
    return repl


def rdb_aux(repl) -> dict:
    """The replication AUX fields of an RDB saved now (None when there is no history:
    a primary that never had a replica), as Redis's rdbPopulateSaveInfo."""
    backlog = repl.backlog
    if repl.link is None and not backlog.active:
        return None
    return {"repl-stream-db": str(repl.primary.stream_db()).encode(),
            "repl-id": backlog.replid.encode(),
            "repl-offset": str(backlog.offset).encode()}


class _LinkProtocol(asyncio.Protocol):
    def __init__(self, wiring, link):
        self.wiring = wiring
        self.link = link
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        if self.wiring.repl.link is not self.link:
            transport.abort()
            return
        self.link.connected(transport.write)

    def data_received(self, data):
        if self.wiring.repl.link is self.link:
            self.wiring.server.engine.stats.net_repl_input_bytes = getattr(
                self.wiring.server.engine.stats, "net_repl_input_bytes", 0) + len(data)
            self.link.feed(data)

    def connection_lost(self, exc):
        if self.wiring.transports.get(self.link) is self.transport:
            del self.wiring.transports[self.link]
            self.link.lost()


class ReplicationIO:
    """What the sans-IO replication code asks the event loop to do."""

    def __init__(self, server):
        self.server = server
        self.repl = None
        self.transports = {}
        self.job = None             # the full sync being made
        self.timer = None           # repl-diskless-sync-delay before the next one
        self.children = set()

    # ---- the stream to replicas ---------------------------------------------------------

    def send_stream(self, peers: list, data: bytes) -> None:
        """The stream bytes of one loop iteration to every replica: one transport write
        each (after the AOF got them, as Redis's beforeSleep orders it). A replica still
        receiving its RDB holds them; one with output queued gets them behind it."""
        server = self.server
        if server.aof_flush is not None:
            server.aof_flush()
        stats = server.engine.stats
        size = len(data)
        for peer in peers:
            conn = peer.conn
            if peer.state != ONLINE or conn.outbuf or conn.closing \
                    or conn.transport is None:
                peer.write(data)
                continue
            stats.net_output_bytes += size
            transport = conn.transport
            transport.write(data)
            if transport.get_write_buffer_size():     # the kernel did not take it all
                server.check_output_limits(conn)

    # ---- the link to a primary -------------------------------------------------------

    def connect(self, link) -> None:
        """Open the TCP connection to the primary (the cron retries on failure)."""
        loop = self.server.loop
        if loop is None:
            return
        link.connecting()
        loop.create_task(self._connect(link))

    async def _connect(self, link) -> None:
        loop = self.server.loop
        try:
            transport, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _LinkProtocol(self, link), link.host,
                                       link.port),
                self.server.config.repl_timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            if self.repl.link is link:
                log.warning("Error condition on socket for SYNC: %s", exc)
                link.lost()
            return
        if self.repl.link is not link:
            transport.abort()
            return
        self.transports[link] = transport

    def disconnect(self, link) -> None:
        """Close the connection of ``link`` (REPLICAOF elsewhere, NO ONE, errors)."""
        transport = self.transports.pop(link, None)
        if transport is not None:
            transport.abort()

    # ---- loading a full sync ---------------------------------------------------------

    def load(self, payload: bytes, dbs: list, finished) -> None:
        """Parse ``payload`` into ``dbs`` on a worker thread; ``finished(error)`` after.

        The function libraries it carries replace ours once the data is swapped in.
        """
        from ember.persistence.rdb import load_rdb

        loop = self.server.loop
        limits = self.server.config
        codes = []
        aux = {}

        def work():
            try:
                aux.update(load_rdb(io.BytesIO(payload).read, dbs, limits=limits,
                                    functions=codes))
            except Exception as exc:  # noqa: BLE001 - reported to the link, which retries
                return str(exc) or type(exc).__name__
            return None

        def done(future):
            error = future.result()
            if error is None:
                error = self._replace_functions(codes)
            finished(error, aux)
            if error is None and self.server.config.appendonly:
                self._run_as_primary([b"BGREWRITEAOF"])     # the AOF holds the old data

        loop.run_in_executor(None, work).add_done_callback(done)

    def _run_as_primary(self, argv: list):
        """Run one command as the primary's data (no READONLY gate), return its reply."""
        engine = self.server.engine
        client = engine.new_client()
        client.flags.add("master")
        client.special.clear()
        client.authenticated = True
        try:
            return engine.execute(client, argv)
        finally:
            engine.remove_client(client)

    def _replace_functions(self, codes: list):
        """FUNCTION FLUSH + FUNCTION LOAD of the primary's libraries."""
        self._run_as_primary([b"FUNCTION", b"FLUSH", b"SYNC"])
        for code in codes:
            reply = self._run_as_primary([b"FUNCTION", b"LOAD", b"REPLACE", code])
            if getattr(reply, "message", None):
                return "function library refused: %s" % reply.message
        return None

    # ---- full syncs ----------------------------------------------------------------------

    def schedule_sync(self) -> None:
        """Replicas wait for a full sync: start one (after repl-diskless-sync-delay)."""
        if self.job is not None or self.timer is not None or self.server.loop is None:
            return
        config = self.server.config
        delay = config.repl_diskless_sync_delay if config.repl_diskless_sync else 0
        if delay:
            self.timer = self.server.loop.call_later(delay, self._start_job)
        else:
            self.timer = self.server.loop.call_soon(self._start_job)

    def _start_job(self) -> None:
        self.timer = None
        primary = self.repl.primary
        peers = [p for p in primary.waiting_for_snapshot()
                 if p.conn is not None and not p.conn.closing]
        if not peers:
            return
        from ember.persistence.rdb import write_rdb

        config = self.server.config
        diskless = config.repl_diskless_sync and all("eof" in p.capa for p in peers)
        from ember.persistence.functions_io import library_codes

        functions = library_codes(self.server.engine)
        aux = primary.snapshot_started(peers)
        path = None
        if not diskless:
            path = os.path.join(config.dir or ".", "temp-repl-%d.rdb" % os.getpid())
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:        # the child: write the RDB of this instant, nothing else
            code = 1
            try:
                os.close(read_fd)
                if diskless:
                    def write(data, fd=write_fd):
                        view = memoryview(data)
                        while view:
                            view = view[os.write(fd, view):]
                    write_rdb(write, self.server.engine.dbs, aux=aux, functions=functions)
                else:
                    with open(path, "wb") as fh:
                        write_rdb(fh.write, self.server.engine.dbs, aux=aux,
                                  functions=functions)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        self.children.add(pid)
        job = self.job = _SyncJob(self, peers, pid, read_fd, diskless, path)
        log.warning("Starting BGSAVE for SYNC with target: %s (pid %d)",
                    "replicas sockets" if diskless else "disk", pid)
        job.start()

    def job_done(self, job) -> None:
        """A full sync ended; start the next one if replicas queued meanwhile."""
        self.job = None
        self.children.discard(job.pid)
        if self.repl.primary.waiting_for_snapshot():
            self.schedule_sync()

    def shutdown(self) -> None:
        """Kill RDB children still running (the server stops)."""
        for pid in list(self.children):
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass
        self.children.clear()


class _PipeProtocol(asyncio.Protocol):
    def __init__(self, job):
        self.job = job

    def data_received(self, data):
        self.job.chunk(data)

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self.job.finished()


class _SyncJob:
    """One RDB child and the replicas it serves."""

    def __init__(self, wiring, peers, pid, read_fd, diskless, path):
        self.wiring = wiring
        self.loop = wiring.server.loop
        self.peers = peers
        self.pid = pid
        self.read_fd = read_fd
        self.diskless = diskless
        self.path = path
        self.mark = os.urandom(20).hex().encode()
        self.pipe = None
        self.file = None
        self.sent = 0

    def start(self) -> None:
        if self.diskless:
            for peer in self.peers:
                peer.conn.write(b"$EOF:" + self.mark + b"\r\n")
        self.loop.create_task(self._open_pipe())

    async def _open_pipe(self) -> None:
        self.pipe, _ = await self.loop.connect_read_pipe(
            lambda: _PipeProtocol(self), os.fdopen(self.read_fd, "rb", buffering=0))

    def _alive(self) -> list:
        primary = self.wiring.repl.primary
        return [p for p in self.peers if p in primary.replicas and not p.conn.closing]

    def _send(self, data: bytes) -> bool:
        """Write to every replica; False when one of them needs to drain first."""
        busy = False
        for peer in self._alive():
            peer.conn.write(data)
            peer.conn.flush()
            if peer.conn.output_buffer_size() > _MAX_BUFFERED:
                busy = True
        self.sent += len(data)
        return not busy

    def chunk(self, data: bytes) -> None:
        """Bytes from the child (diskless: RDB bytes; disk: nothing is expected)."""
        if self.diskless and not self._send(data):
            self.pipe.pause_reading()
            self.loop.call_later(0.005, self._resume_pipe)

    def _resume_pipe(self) -> None:
        if all(p.conn.output_buffer_size() <= _MAX_BUFFERED for p in self._alive()):
            self.pipe.resume_reading()
        else:
            self.loop.call_later(0.005, self._resume_pipe)

    def finished(self) -> None:
        """The child closed its end: it is done (or died)."""
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 0
        ok = status == 0
        primary = self.wiring.repl.primary
        if not ok:
            log.warning("Background RDB transfer error (child exit status %s)", status)
            for peer in self._alive():
                primary.sync_failed(peer)
            self._done()
            return
        if self.diskless:
            self._send(self.mark)
            for peer in self._alive():
                primary.rdb_sent(peer, wait_ack=True)
            self._done()
            return
        size = os.path.getsize(self.path)
        self.file = open(self.path, "rb")
        for peer in self._alive():
            peer.conn.write(b"$%d\r\n" % size)
        self._pump_file()

    def _pump_file(self) -> None:
        while True:
            data = self.file.read(_CHUNK)
            if not data:
                break
            if not self._send(data):
                self.loop.call_later(0.005, self._pump_file)
                return
        self.file.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
        primary = self.wiring.repl.primary
        for peer in self._alive():
            primary.rdb_sent(peer)
        self._done()

    def _done(self) -> None:
        log.warning("Background RDB transfer terminated with success"
                    if self.sent or not self.diskless else "Background RDB transfer ended")
        self.wiring.job_done(self)

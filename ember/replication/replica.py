"""The replica side: the link to our primary (Redis's syncWithMaster & readSyncBulkPayload).

Sans-IO: the server layer opens the TCP connection, calls :meth:`ReplicaLink.connected`
with a ``send(bytes)`` function, hands every received chunk to :meth:`ReplicaLink.feed`
and calls :meth:`ReplicaLink.lost` when the connection goes away. The link then:

1. handshakes: ``PING``; ``AUTH [masteruser] masterauth``; ``REPLCONF listening-port``
   (and ``ip-address``); ``REPLCONF capa eof capa psync2``; ``PSYNC <replid> <offset+1>``
   (our own history: after a promotion or a dropped link this is a partial resync);
2. on ``+FULLRESYNC <replid> <offset>`` receives the RDB (``$<len>`` or
   ``$EOF:<40-byte mark>``) and has the server load it (``load(payload, done)``, off the
   event loop), then adopts the primary's id and offset; on ``+CONTINUE [<newid>]``
   keeps its data (a new id becomes our replid, the old one replid2);
3. applies the command stream through ``Engine.execute`` as the master client, counts
   the offset, relays the same bytes to its own backlog and sub-replicas (chained
   replication), and answers ``REPLCONF GETACK`` with ``REPLCONF ACK <offset>``.
"""

import logging
import time

from ember.protocol.parser import RequestParser
from ember.replication.stream import command_length, encode_command

log = logging.getLogger("ember")

# Link states, as ROLE shows them (REPL_STATE_*): connect, connecting, sync, connected.
CONNECT, CONNECTING, HANDSHAKE, TRANSFER, LOADING, CONNECTED = (
    "connect", "connecting", "handshake", "sync", "loading", "connected")
_EOF_MARK_LEN = 40


class ReplicaLink:
    """One attempt-and-retry link to ``host:port``."""

    def __init__(self, manager, host: str, port: int):
        self.manager = manager
        self.engine = manager.engine
        self.config = manager.engine.config
        self.host = host
        self.port = port
        self.state = CONNECT
        self.send = None
        self.buf = bytearray()
        self.expect = []            # handshake replies still awaited: step names
        self.parser = None
        self.master_client = None
        self.transfer_size = -1     # $<len>, or -1 with an EOF mark
        self.eof_mark = None
        self.transfer_read = 0
        self.last_io = time.monotonic()
        self.down_since = time.monotonic()
        self.sync_started = None
        self.pending = []           # stream bytes received while loading the RDB
        self.full_syncs = 0
        self.partial_syncs = 0
        self.read_offset = 0        # slave_read_repl_offset
        self.failover = False       # PSYNC ... FAILOVER: we are the demoted primary
        self.tail = b""             # received bytes of a command not complete yet
        self.db_index = 0           # the database the primary's stream is in
        self.batch = None           # the commands of the chunk being applied
        self.running = None         # the one running now (REPLCONF GETACK's offset)

    # ---- connection events ---------------------------------------------------------------

    def connecting(self) -> None:
        """The server started connecting."""
        self.state = CONNECTING
        self.last_io = time.monotonic()

    def connected(self, send) -> None:
        """TCP is up: start the handshake."""
        self.send = send
        self.state = HANDSHAKE
        self.buf = bytearray()
        self.last_io = time.monotonic()
        self.expect = ["ping"]
        send(encode_command([b"PING"]))

    def lost(self) -> None:
        """The connection closed or failed: the data stays, a reconnection will follow."""
        if self.state == CONNECTED:
            log.warning("Connection with master lost.")
            self.down_since = time.monotonic()
        self.state = CONNECT
        self.send = None
        self.expect = []
        self.parser = None
        self.buf = bytearray()
        self.pending = []
        self._drop_master_client()
        self.manager.link_state_changed()

    def _drop_master_client(self) -> None:
        client = self.master_client
        if client is not None:
            self.db_index = client.db.id    # a partial resync continues in this db
            self.master_client = None
            self.engine.remove_client(client)

    # ---- receiving ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the primary."""
        self.last_io = time.monotonic()
        state = self.state
        if state == CONNECTED:
            self._apply(data)
        elif state == LOADING:
            self.pending.append(data)
        elif state == TRANSFER:
            self._receive_rdb(data)
        elif state == HANDSHAKE:
            self.buf += data
            self._handshake()

    def _line(self):
        """The next reply line (keep-alive newlines skipped), or None."""
        buf = self.buf
        while buf[:1] == b"\n":
            del buf[:1]
        end = buf.find(b"\r\n")
        if end < 0:
            return None
        line = bytes(buf[:end])
        del buf[:end + 2]
        return line

    def _handshake(self) -> None:
        while self.state == HANDSHAKE and self.expect:
            line = self._line()
            if line is None:
                return
            step = self.expect.pop(0)
            if not self._step(step, line):
                return

    def _step(self, step: str, line: bytes) -> bool:
        """Handle the reply to one handshake step; False when the link was given up."""
        config = self.config
        if step == "ping":
            if line.startswith(b"-") and not line.startswith((b"-NOAUTH", b"-NOPERM",
                                                               b"-ERR operation not")):
                return self._fail("Error reply to PING from master: '%s'" % line.decode(
                    "utf-8", "replace"))
            out = []
            if config.masterauth:
                argv = [b"AUTH"]
                if config.masteruser:
                    argv.append(config.masteruser.encode())
                argv.append(config.masterauth.encode())
                out.append(encode_command(argv))
                self.expect.append("auth")
            port = config.replica_announce_port or config.port
            out.append(encode_command([b"REPLCONF", b"listening-port", str(port).encode()]))
            self.expect.append("port")
            if config.replica_announce_ip:
                out.append(encode_command([b"REPLCONF", b"ip-address",
                                           config.replica_announce_ip.encode()]))
                self.expect.append("ip")
            out.append(encode_command([b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]))
            self.expect.append("capa")
            self.send(b"".join(out))
            return True
        if step == "auth":
            if line.startswith(b"-"):
                return self._fail("Unable to AUTH to MASTER: %s" % line.decode(
                    "utf-8", "replace"))
            return True
        if step in ("port", "ip", "capa"):      # errors here are only logged (old primaries)
            if step == "capa":
                self._send_psync()
            return True
        if step == "psync":
            return self._psync_reply(line)
        return True

    def _send_psync(self) -> None:
        backlog = self.manager.backlog
        replid, offset = self.manager.psync_origin()
        argv = [b"PSYNC", replid.encode(), str(offset).encode()]
        if self.failover:
            argv.append(b"FAILOVER")
        self.send(encode_command(argv))
        self.expect.append("psync")
        log.warning("Trying a partial resynchronization (request %s:%d).", replid, offset)
        del backlog

    def _psync_reply(self, line: bytes) -> bool:
        text = line.decode("utf-8", "replace")
        if line.startswith((b"+FULLRESYNC", b"+CONTINUE")):
            self.manager.psync_answered(True)
        if line.startswith(b"+FULLRESYNC"):
            parts = text.split()
            self.manager.pending_full = (parts[1], int(parts[2]))
            log.warning("Full resync from master: %s:%s", parts[1], parts[2])
            self.state = TRANSFER
            self.sync_started = time.monotonic()
            self.transfer_size = None
            self.transfer_read = 0
            data, self.buf = bytes(self.buf), bytearray()
            self.chunks = []
            if data:
                self._receive_rdb(data)
            return False
        if line.startswith(b"+CONTINUE"):
            parts = text.split()
            new_id = parts[1] if len(parts) > 1 else None
            log.warning("Successful partial resynchronization with master.")
            self.partial_syncs += 1
            self.manager.continued(new_id)
            self._go_online()
            data, self.buf = bytes(self.buf), bytearray()
            if data:
                self._apply(data)
            return False
        self.manager.psync_answered(False)
        if self.manager.link is not self:       # the failover was aborted: a primary now
            return False
        return self._fail("Unexpected reply to PSYNC from master: %s" % text)

    def _fail(self, message: str) -> bool:
        log.warning("%s", message)
        self.manager.drop_link()
        return False

    # ---- the RDB ------------------------------------------------------------------------

    def _receive_rdb(self, data: bytes) -> None:
        if self.transfer_size is None:          # the $<len> / $EOF:<mark> header first
            self.buf += data
            line = self._line()
            if line is None:
                return
            if not line.startswith(b"$"):
                self._fail("Bad protocol from MASTER, the first byte is not '$'")
                return
            if line.startswith(b"$EOF:"):
                self.eof_mark = line[5:5 + _EOF_MARK_LEN]
                self.transfer_size = -1
            else:
                self.eof_mark = None
                self.transfer_size = int(line[1:])
            data, self.buf = bytes(self.buf), bytearray()
            self.payload = bytearray()
        payload = self.payload
        if self.eof_mark is None:
            need = self.transfer_size - len(payload)
            payload += data[:need]
            rest = data[need:]
            self.transfer_read = len(payload)
            if len(payload) < self.transfer_size:
                return
            body = payload
        else:
            start = max(len(payload) - _EOF_MARK_LEN, 0)
            payload += data
            self.transfer_read = len(payload)
            end = payload.find(self.eof_mark, start)
            if end < 0:
                return
            rest = bytes(payload[end + _EOF_MARK_LEN:])
            body = payload[:end]
        self.payload = None
        self.state = LOADING
        if rest:
            self.pending.append(rest)
        self.manager.load_payload(bytes(body), self._loaded)

    def _loaded(self, error) -> None:
        """The RDB is loaded (``error`` None) or could not be (the link starts over)."""
        if self.state != LOADING:
            return
        if error is not None:
            self._fail("Failed trying to load the MASTER synchronization DB from socket: "
                       "%s" % error)
            return
        self.full_syncs += 1
        log.warning("MASTER <-> REPLICA sync: Finished with success")
        self._go_online()
        self.send_ack()
        pending, self.pending = self.pending, []
        for data in pending:
            self._apply(data)

    # ---- the stream ----------------------------------------------------------------------

    def _go_online(self) -> None:
        self.state = CONNECTED
        self.parser = RequestParser(self.config.proto_max_bulk_len)
        self.tail = b""
        client = self.master_client = self.engine.new_client(addr="%s:%d" % (
            self.host, self.port))
        client.flags.add("master")
        client.special.clear()
        client.select(self.db_index)
        client.reply_mode = "off"
        self.manager.link_state_changed()

    def _apply(self, data: bytes) -> None:
        """Run the primary's commands and relay their bytes (offset = bytes applied).

        The bytes of the complete commands are relayed as received (to our backlog and
        sub-replicas, after the commands ran). Per command only ``execute`` runs (and
        the running command is noted for REPLCONF GETACK, which reports the offset
        reached before it); the length applied is the chunk's, unless the parser holds
        the start of a command, whose bytes then stay in ``tail``.
        """
        self.read_offset += len(data)
        parser = self.parser
        commands = parser.feed(data)
        if parser.error is not None:
            self._fail("Protocol error from MASTER: %s" % parser.error)
            return
        raw = self.tail + data if self.tail else data
        if not commands:
            self.tail = raw
            return
        engine = self.engine
        client = self.master_client
        execute = engine.execute
        clock = engine.time
        engine.tick()
        now = clock.ms
        # The primary decides what expired: while its commands run no key is seen as
        # expired (Redis: expireIfNeeded answers "alive" for the master client).
        clock.ms = 0
        self.batch = commands
        try:
            for argv in commands:
                self.running = argv
                execute(client, argv)
                if self.state != CONNECTED:     # a command dropped the link
                    return
        finally:
            clock.ms = now
            self.batch = self.running = None
        if not parser.buffered and not getattr(parser, "_argc_left", 1):
            self.tail = b""                     # the chunk ended with a whole command
            self.manager.primary.feed(raw)
            return
        applied = sum(map(command_length, commands))
        if applied == len(raw):
            self.tail = b""
            self.manager.primary.feed(raw)
        else:
            self.tail = raw[applied:]
            self.manager.primary.feed(raw[:applied])

    def acked_offset(self) -> int:
        """The offset processed so far (inside a batch: up to the running command)."""
        offset = self.manager.backlog.offset
        running = self.running
        if running is not None:
            for argv in self.batch:
                if argv is running:
                    break
                offset += command_length(argv)
        return offset

    def send_ack(self) -> None:
        """REPLCONF ACK <offset>: what we processed (every second, and on GETACK)."""
        if self.state == CONNECTED and self.send is not None:
            self.send(encode_command([b"REPLCONF", b"ACK",
                                      str(self.acked_offset()).encode()]))

    # ---- introspection -------------------------------------------------------------------

    def role_state(self) -> str:
        """ROLE's link state: connect, connecting, sync, connected, handshake."""
        if self.state == LOADING:
            return TRANSFER
        return self.state

"""Serving other clients while a script runs past busy-reply-threshold.

A script runs to completion inside the event loop's thread (that is what makes it
atomic, and keeps EVAL as cheap as any command). Redis does the same and, once the
script is past the threshold, calls processEventsWhileBlocked() from the Lua hook; this
module is ember's version of it. The hook (commands/script_run.py) calls
:meth:`BusyResponder.begin` when the run times out, then :meth:`~BusyResponder.poll`
every 100000 Lua instructions, and :meth:`~BusyResponder.end` when the script is over.

``poll`` does a zero-timeout ``select`` on the listening sockets and on the sockets of
the connected clients (not the script's caller, whose further commands wait, and not
clients that are blocked, paused or holding commands), reads what arrived straight from
the sockets, and answers each command as Redis's processCommand does in that state:
unknown commands, wrong arity and NOAUTH as usual, ``allow_busy`` commands (SCRIPT KILL,
FUNCTION KILL/STATS, AUTH, HELLO, MULTI, DISCARD, WATCH, UNWATCH, RESET, QUIT,
SHUTDOWN NOSAVE ...) run normally, everything else gets ``-BUSY``. Replies go out through
each connection's transport at once (legal: this is the loop's thread, inside a
callback). The engine's data is untouched meanwhile, except by the script.

Clients that connect during the busy period are accepted here, served the same way
through a small stand-in transport, and handed to the event loop with
``loop.connect_accepted_socket`` when the script ends. (A client the event loop accepted
in the very iteration the script started, whose ``connection_made`` callback is still
queued, is not known yet: it waits for the script like the caller does.)
"""

import asyncio
import logging
import os
import selectors
import socket

from ember.commands.registry import COMMANDS
from ember.errors import ReplyError
from ember.protocol.encoder import error_bytes
from ember.server.connection import Connection

log = logging.getLogger("ember")


def install(server) -> None:
    """Let the engine's scripts reach the busy responder (``engine.hooks``)."""
    server.engine.hooks["script_busy"] = BusyResponder(server)


class BusyResponder:
    """processEventsWhileBlocked for timed-out scripts (see the module docstring)."""

    def __init__(self, server):
        self.server = server
        self.engine = server.engine
        self.run = None
        self.selector = None
        self.listening = []
        self.newcomers = []
        self.touched = set()
        self._held = None

    # ---- the busy period ---------------------------------------------------------------

    def begin(self, run) -> None:
        """The script ``run`` has passed the threshold: start serving others."""
        self.run = run
        selector = selectors.DefaultSelector()
        for listener in self.server.listeners:
            for transport_socket in listener.sockets:
                sock = socket.socket(fileno=os.dup(transport_socket.fileno()))
                sock.setblocking(False)
                self.listening.append(sock)
                selector.register(sock, selectors.EVENT_READ, sock)
        caller = run.caller.conn
        for conn in list(self.server.connections):
            if conn is caller or not self._servable(conn):
                continue
            sock = conn.transport.get_extra_info("socket")
            if sock is None:
                continue
            try:
                selector.register(sock.fileno(), selectors.EVENT_READ, conn)
            except (KeyError, ValueError, OSError):
                continue
        self.selector = selector
        self._flush_queued()
        # Clients blocked on keys the script writes are served after it, not from here.
        self._held = self.engine.blocking.held()
        self._held.__enter__()

    def end(self, run) -> None:
        """The script is over: stop serving, hand new connections to the event loop."""
        if self.selector is not None:
            self.selector.close()
            self.selector = None
        for sock in self.listening:
            sock.close()
        self.listening = []
        if self._held is not None:
            self._held.__exit__(None, None, None)
            self._held = None
        newcomers, self.newcomers = self.newcomers, []
        for conn, stand_in in newcomers:
            self._hand_over(conn, stand_in)
        self.run = None

    def poll(self) -> None:
        """Serve whatever arrived since the last call (called from the Lua hook)."""
        selector = self.selector
        if selector is None:
            return
        clock = self.engine.time
        frozen = clock.ms
        try:
            for key, _ in selector.select(0):
                target = key.data
                if isinstance(target, socket.socket):
                    self._accept(target)
                else:
                    self._read(key.fd, target)
        finally:
            clock.set(frozen)      # the script keeps the time it started with
            touched, self.touched = self.touched, set()
            for conn in touched:
                if not conn.closing:
                    conn.flush()
            self._flush_queued()

    def _flush_queued(self) -> None:
        """Send the output queued for the end of the loop iteration (replies produced
        just before the script started, messages the script published), as Redis's
        processEventsWhileBlocked writes pending replies."""
        flush_all = getattr(self.server, "flush_all", None)
        if flush_all is not None:
            flush_all()

    # ---- reading and answering ---------------------------------------------------------

    @staticmethod
    def _servable(conn) -> bool:
        return (not conn.closing and conn.transport is not None and conn.client is not None
                and conn.client.blocked is None and not conn.pending and not conn.paused)

    def _read(self, fd: int, conn) -> None:
        if not self._servable(conn):
            self._forget(fd)
            return
        try:
            data = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:            # EOF or reset: the event loop will see it too
            self._forget(fd)
            return
        self.engine.stats.net_input_bytes += len(data)
        parser = conn.parser
        parser.unauthenticated = not conn.client.authenticated
        commands = parser.feed(data)
        while commands:
            self._serve(conn, commands)
            if not parser.unauthenticated or conn.closing:
                break
            parser.unauthenticated = not conn.client.authenticated
            commands = parser.feed(b"")
        if parser.error is not None and not conn.closing:
            conn._answer_protocol_error()
        self.touched.add(conn)
        if not self._servable(conn):
            self._forget(fd)

    def _forget(self, fd: int) -> None:
        try:
            self.selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    def _serve(self, conn, commands: list) -> None:
        for argv in commands:
            if conn.closing:
                return
            if conn.pending or conn.client.blocked is not None:
                conn.pending.append(argv)
                continue
            refusal = self._refusal(conn.client, argv)
            if refusal is None:
                conn.run_commands([argv])
                continue
            client = conn.client
            mode = client.reply_mode
            if mode == "on":
                conn.write(error_bytes(refusal.message))
            elif mode == "skip":
                client.reply_mode = "on"
            elif mode == "skip-next":
                client.reply_mode = "skip"

    def _refusal(self, client, argv: list):
        """The BUSY error for a command that may not run now, or None to run it (the
        dispatcher then gives unknown-command, arity and NOAUTH errors as usual)."""
        spec = COMMANDS.get(argv[0].lower().decode("latin-1"))
        if spec is None:
            return None
        if spec.subcommands and (len(argv) > 1 or spec.handler is None):
            if len(argv) < 2:
                return None
            spec = spec.subcommands.get(argv[1].lower().decode("latin-1"))
            if spec is None:
                return None
        arity = spec.arity
        if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
            return None
        if not client.authenticated and not spec.no_auth:
            return None
        if "allow_busy" in spec.flags:
            if spec.name != "shutdown":
                return None
            if any(arg.lower() == b"nosave" for arg in argv[1:]):
                self.run.killed = True      # the script must end for the server to stop
                self.run.shutting_down = True
                return None
        return self.engine._reject(spec, ReplyError(self.run.busy_error()), client)

    # ---- clients that connect meanwhile ------------------------------------------------

    def _accept(self, listener) -> None:
        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("Accepting a client connection: %s", exc)
            return
        sock.setblocking(False)
        stand_in = _StandInTransport(sock)
        conn = Connection(self.server)
        conn.connection_made(stand_in)
        self.newcomers.append((conn, stand_in))
        if not conn.closing:
            self.selector.register(sock.fileno(), selectors.EVENT_READ, conn)

    def _hand_over(self, conn, stand_in) -> None:
        if conn.closing or stand_in.closed:
            stand_in.send_pending()
            stand_in.sock.close()
            conn.connection_lost(None)
            return
        loop = asyncio.get_running_loop()
        loop.create_task(_adopt(loop, conn, stand_in))


async def _adopt(loop, conn, stand_in) -> None:
    """Give a connection accepted during the busy period its real transport."""
    try:
        await loop.connect_accepted_socket(lambda: _Adopted(conn, stand_in), stand_in.sock)
    except Exception:  # the client may have gone meanwhile
        log.debug("handing over a connection accepted while busy failed", exc_info=True)
        stand_in.sock.close()
        conn.connection_lost(None)


class _Adopted(asyncio.Protocol):
    """Forwards the event loop's callbacks to a Connection that already exists."""

    def __init__(self, conn, stand_in):
        self.conn = conn
        self.stand_in = stand_in

    def connection_made(self, transport):
        conn = self.conn
        conn.transport = transport
        if self.stand_in.buffer:
            transport.write(bytes(self.stand_in.buffer))
            self.stand_in.buffer.clear()

    def data_received(self, data):
        self.conn.data_received(data)

    def connection_lost(self, exc):
        self.conn.connection_lost(exc)

    def pause_writing(self):
        self.conn.pause_writing()

    def resume_writing(self):
        self.conn.resume_writing()


class _StandInTransport:
    """The transport of a connection accepted during the busy period (plain socket I/O)."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = bytearray()
        self.closed = False

    def get_extra_info(self, name, default=None):
        try:
            if name == "socket":
                return self.sock
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            return default
        return default

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.buffer += data
            self.send_pending()

    def send_pending(self) -> None:
        """Send what the kernel takes now."""
        if not self.buffer:
            return
        try:
            sent = self.sock.send(self.buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.buffer.clear()
            self.closed = True
            return
        del self.buffer[:sent]

    def get_write_buffer_size(self) -> int:
        return len(self.buffer)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.buffer.clear()
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

"""Connection: one client's socket, as an ``asyncio.Protocol``.

``data_received`` feeds the parser, runs every complete command synchronously and queues
all replies of the batch as one write, sent with the other clients' replies when the loop
iteration ends (as Redis's beforeSleep does); commands are atomic because nothing
awaits between them. When the transport's buffer passes its high-water mark
(``pause_writing``), execution stops and reading pauses until the client drains; commands
already parsed wait in ``pending``. A protocol error is answered and the connection closed,
as Redis does.
"""

import asyncio
from time import perf_counter_ns

from ember.commands import slowlog
from ember.commands.blocking import BLOCKED, Block
from ember.commands.lane import LANE, client_is_plain, lane_spec
from ember.commands.runs import RUN_MAX, runs_allowed
from ember.commands.runtime import must_wait
from ember.errors import ReplyError
from ember.protocol.encoder import BULK_HEADERS, ENCODERS_RESP2, ENCODERS_RESP3, error_bytes
from ember.protocol.replies import OK, PONG

# Flush the batch's replies early once they pass this size, so a long pipeline of big
# replies cannot build an unbounded reply list before the transport pushes back.
_FLUSH_BYTES = 1 << 20
REPLY_ON = "on"
UNASKED = -1     # runs not yet asked for this batch


class Connection(asyncio.Protocol):
    """The network side of one client."""

    def __init__(self, server):
        self.server = server
        self.engine = server.engine
        self.transport = None
        self.client = None
        self.parser = None
        self.pending = []
        # Output queued during this loop iteration (see write/flush).
        self.outbuf = []
        self.outsize = 0
        # The reply list of the batch run_commands is running, else None (see push).
        self.batch = None
        self.paused = False
        self.closing = False
        self.soft_limit_since = None

    # ---- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername") or ("", 0)
        local = transport.get_extra_info("sockname") or ("", 0)
        addr = _format_addr(peer)
        laddr = _format_addr(local)
        fd = sock.fileno() if sock is not None else -1
        refusal = self.server.admission_error(peer)
        if refusal is not None:
            self.engine.stats.rejected_connections += 1
            transport.write(error_bytes(refusal))
            transport.close()
            self.closing = True
            return
        self.client = self.engine.new_client(self, addr, laddr, fd)
        self.parser = self.server.parser_class(self.server.config.proto_max_bulk_len)
        self.parser.unauthenticated = not self.client.authenticated
        self.server.connections.add(self)

    def connection_lost(self, exc):
        self.closing = True
        self.server.connections.discard(self)
        if self.client is not None:
            self.server.client_gone(self.client)

    def pause_writing(self):
        self.paused = True
        self.transport.pause_reading()

    def resume_writing(self):
        self.paused = False
        if self.closing:
            return
        self.transport.resume_reading()
        if self.pending and self.client.blocked is None:
            commands, self.pending = self.pending, []
            self.run_commands(commands)

    def data_received(self, data):
        if self.closing:
            return
        client = self.client
        engine = self.engine
        client.last_interaction = engine.tick() / 1000
        engine.stats.net_input_bytes += len(data)
        parser = self.parser
        parser.unauthenticated = not client.authenticated  # RESET can de-authenticate
        commands = parser.parse(data)
        if type(commands) is not list:  # a Stretch: a pipeline of one framing
            if self.pending or not client_is_plain(engine, client):
                commands = commands.commands()
            else:
                commands = self._run_stretch(commands)  # what its run left
                if not commands:    # (a stretch is a whole chunk: nothing is buffered)
                    return
        if len(commands) == 1 and not self.pending and client_is_plain(engine, client):
            self._run_one(commands[0])  # every unpipelined request
            if parser.error is None and not parser.unparsed:
                return
            commands = []
        elif self.pending or client.blocked is not None:  # held: CLIENT PAUSE, BLPOP ...
            self.pending.extend(commands)
            commands = []
        while commands:
            self._run(commands)
            # Before AUTH the parser hands over one command at a time (Redis applies the
            # pre-AUTH limits command by command), so ask it for the next one.
            if not parser.unauthenticated or self.closing or self.pending:
                break
            parser.unauthenticated = not client.authenticated
            commands = parser.feed(b"")
        if parser.error is not None:
            self._answer_protocol_error()
        if self.closing or not parser.buffered:
            return
        if parser.buffered > self.server.config.client_query_buffer_limit:
            self.server.log_warning("Closing client that reached max query buffer length")
            self.close()

    # ---- running commands --------------------------------------------------------------

    def run_commands(self, commands: list) -> None:
        """Execute parsed commands in order, writing their replies in one batch."""
        self.engine.tick()
        self._run(commands)

    def _run_one(self, argv: list) -> None:
        """:meth:`_run` for a batch of one command (``argv``) from a plain client, the
        common case of unpipelined clients, with the lane's steps for one command written
        out (the loop's bookkeeping for runs and stretches of one spec costs as much as
        the rest). A command the lane does not take, or whose arity is wrong, goes to
        :meth:`_run`.
        """
        try:
            spec = LANE[argv[0]]
        except KeyError:
            spec = lane_spec(argv[0])
        if spec is None or not spec.min_args <= len(argv) <= spec.max_args:
            self._run([argv])
            return
        engine = self.engine
        client = self.client
        out = self.batch = []       # pushes the command causes go before its reply
        dirty = engine.dirty
        start = perf_counter_ns()
        try:
            reply = spec.handler(client, argv)
        except ReplyError as exc:
            reply = exc
            spec.failed_calls += 1
            engine.stats.count_error(exc.message)
        except Block as request:    # none of the lane's should; if one did
            reply = engine.blocking.block(client, spec, argv, request)
        except Exception:  # a bug must not take the server down
            reply = engine.handler_crashed(spec)
        client.last_cmd = spec.name
        if reply is BLOCKED:        # (as in _run: a blocked command is counted later)
            self.batch = None
            if out:
                self.write(b"".join(out))
            return
        duration = perf_counter_ns() - start
        spec.calls += 1
        spec.nsec += duration
        if duration >= engine.slow_ns:
            slowlog.record(engine, client, spec, argv, duration // 1000)
        if spec.is_write and engine.dirty != dirty and (
                engine.propagators or client.propagate_argv is not None):
            engine._propagate_write(client, argv)
        if engine.ready_keys:   # a write (or a read's lazy expiry) woke blocked clients
            engine.blocking.handle_ready()
        self.batch = None
        kind = type(reply)
        if kind is bytes and len(reply) < 4096:
            reply = BULK_HEADERS[len(reply)] + reply + b"\r\n"
        elif reply is OK:
            reply = b"+OK\r\n"
        elif reply is PONG:
            reply = b"+PONG\r\n"
        elif kind is int:
            reply = b":%d\r\n" % reply
        else:
            reply = (ENCODERS_RESP2 if client.resp == 2 else ENCODERS_RESP3)[kind](reply)
        if out:
            out.append(reply)
            reply = b"".join(out)
        self.write(reply)
        if client.close_after_reply:
            self.close()

    def _run_stretch(self, stretch) -> list:
        """Run a pipeline of one framing (``stretch``, from a plain client with nothing
        pending) with its command's run function in one call, as :meth:`_run` runs a
        stretch of commands, without an argument list per command or ``_run``'s
        bookkeeping per command; return the commands left for the usual path: those
        from the first the run did not take, or all of them when no run may be used."""
        engine = self.engine
        client = self.client
        name = stretch.name
        try:
            spec = LANE[name]
        except KeyError:
            spec = lane_spec(name)
        if spec is None or spec.run is None or stretch.count > RUN_MAX \
                or not spec.min_args <= stretch.argc <= spec.max_args \
                or spec.run_level > runs_allowed(engine, client):
            return stretch.commands()
        out = self.batch = []
        start = perf_counter_ns()
        done, _ = spec.run(client, name, stretch.items(), out.append)
        self.batch = None
        if done:
            duration = perf_counter_ns() - start
            spec.calls += done
            spec.nsec += duration
            client.last_cmd = spec.name
            if duration >= engine.slow_ns:      # the run's time, as its last's
                slowlog.record(engine, client, spec, stretch.command(done - 1),
                               duration // 1000)
            self.write(out[0] if len(out) == 1 else b"".join(out))
        return stretch.commands(done) if done < stretch.count else []

    def _run(self, commands: list) -> None:
        """:meth:`run_commands` with the clock already read (``data_received`` reads it).

        While the client is plain (commands/lane.py), the data commands it admits run in
        the fast lane: ``Engine.execute`` and ``Engine.call`` with their per-command
        questions answered once per batch. They keep everything those do: the handler,
        command stats (one clock read per command: a command's time runs from the end of
        the one before), error stats, slowlog, propagation, waking blocked clients. Every
        other command takes the full path, after which "plain" is asked again.
        """
        engine = self.engine
        client = self.client
        out = self.batch = []
        append = out.append
        size = 0
        plain = client_is_plain(engine, client)
        stats = engine.stats
        slow_ns = engine.slow_ns
        encoders = ENCODERS_RESP2 if client.resp == 2 else ENCODERS_RESP3
        # The spec of the current run of lane commands (a pipeline repeats one), whose
        # calls and time are summed here and added to the spec when the run ends.
        ran = None
        run_calls = run_nsec = 0
        name = spec = None      # the last command name the lane looked up, and its spec
        runs = UNASKED      # which runs (commands/runs.py) may be used, asked when needed
        last = perf_counter_ns()
        index = 0       # the commands run so far
        count = len(commands)
        while index < count:
            argv = commands[index]
            index += 1
            if plain:
                if argv[0] is not name:     # a same-shaped pipeline shares one name
                    name = argv[0]
                    try:
                        spec = LANE[name]
                    except KeyError:
                        spec = lane_spec(name)
                if spec is not None and spec.min_args <= len(argv) <= spec.max_args:
                    if spec is not ran:
                        if run_calls:
                            ran.calls += run_calls
                            ran.nsec += run_nsec
                            run_calls = run_nsec = 0
                        ran = spec
                    if spec.run is not None:
                        if runs < 0 and index < count:   # (unasked) a stretch may follow
                            runs = runs_allowed(engine, client)
                        if spec.run_level <= runs:
                            done, length = spec.run(client, name,
                                                    commands[index - 1:index - 1 + RUN_MAX],
                                                    append)
                            if done:    # a stretch of this command, run at once
                                index += done - 1
                                now = perf_counter_ns()
                                duration = now - last
                                last = now
                                run_calls += done
                                run_nsec += duration
                                if duration >= slow_ns:     # the run's time, as its last's
                                    slowlog.record(engine, client, spec, commands[index - 1],
                                                   duration // 1000)
                                size += length
                                if size > _FLUSH_BYTES:
                                    size = 0
                                    if self._flush_batch():
                                        self.pending = commands[index:]
                                        break
                                continue
                    dirty = engine.dirty
                    try:
                        reply = spec.handler(client, argv)
                    except ReplyError as exc:
                        reply = exc
                        spec.failed_calls += 1
                        stats.count_error(exc.message)
                    except Block as request:    # none of the lane's should; if one did
                        reply = engine.blocking.block(client, spec, argv, request)
                    except Exception:  # a bug must not take the server down
                        reply = engine.handler_crashed(spec)
                    if reply is BLOCKED:        # as Engine.call: the client waits
                        self.pending = commands[index:]
                        break
                    now = perf_counter_ns()
                    duration = now - last
                    last = now
                    run_calls += 1
                    run_nsec += duration
                    if duration >= slow_ns:
                        slowlog.record(engine, client, spec, argv, duration // 1000)
                    if spec.is_write and engine.dirty != dirty and (
                            engine.propagators or client.propagate_argv is not None):
                        engine._propagate_write(client, argv)
                    if engine.ready_keys:   # a write (or a read's lazy expiry) woke
                        engine.blocking.handle_ready()      # blocked clients: serve them
                        last = perf_counter_ns()
                    kind = type(reply)
                    if kind is bytes and (length := len(reply)) < 4096:
                        append(BULK_HEADERS[length])    # three appends: cheaper than
                        append(reply)                   # concatenating (one join later)
                        append(b"\r\n")
                        size += length
                    elif reply is OK:
                        append(b"+OK\r\n")
                        size += 5
                    elif reply is PONG:
                        append(b"+PONG\r\n")
                        size += 7
                    elif kind is int:
                        encoded = b":%d\r\n" % reply
                        append(encoded)
                        size += len(encoded)
                    else:
                        encoded = encoders[kind](reply)
                        append(encoded)
                        length = len(encoded)
                        size += length
                        if length > 4096:   # a big reply's encoding is not the next's time
                            last = perf_counter_ns()
                    if size > _FLUSH_BYTES:
                        size = 0
                        if self._flush_batch():
                            self.pending = commands[index:]
                            break
                    continue
            # The full path: Engine.execute, then this client's reply mode.
            if ran is not None:
                if run_calls:   # the stats are up to date before any other command
                    ran.calls += run_calls
                    ran.nsec += run_nsec
                    run_calls = run_nsec = 0
                ran = None      # Engine.call sets last_cmd from here on
            if engine.pause_kind is not None and must_wait(engine, client, argv):
                self.pending = commands[index - 1:]
                self._hold_for_pause()
                break
            reply = engine.execute(client, argv)
            if client.blocked is not None:  # BLPOP & co. parked the client (server/blocking.py)
                self.pending = commands[index:]
                break
            if client.reply_mode == REPLY_ON:
                if type(reply) is bytes and len(reply) < 4096:
                    encoded = BULK_HEADERS[len(reply)] + reply + b"\r\n"
                else:
                    encoded = (ENCODERS_RESP2 if client.resp == 2 else ENCODERS_RESP3)[
                        type(reply)](reply)
                append(encoded)
                size += len(encoded)
                if size > _FLUSH_BYTES:
                    size = 0
                    if self._flush_batch():
                        self.pending = commands[index:]
                        break
            elif client.reply_mode == "skip":
                client.reply_mode = REPLY_ON
            elif client.reply_mode == "skip-next":  # CLIENT REPLY SKIP: skip the next one
                client.reply_mode = "skip"
            if client.close_after_reply:
                self.pending = []
                break
            plain = client_is_plain(engine, client)     # the command may have changed it
            runs = UNASKED
            if plain:
                slow_ns = engine.slow_ns
                encoders = ENCODERS_RESP2 if client.resp == 2 else ENCODERS_RESP3
                last = perf_counter_ns()
        if ran is not None:
            client.last_cmd = ran.name
            if run_calls:
                ran.calls += run_calls
                ran.nsec += run_nsec
        self.batch = None
        if out:
            self.write(out[0] if len(out) == 1 else b"".join(out))
        if client.close_after_reply:
            self.close()
        if self.parser.error is not None:
            self._answer_protocol_error()

    def _flush_batch(self) -> bool:
        """Send the replies gathered so far (a batch past ``_FLUSH_BYTES``); True if the
        batch must stop there (the client stopped reading, or is being closed)."""
        out = self.batch
        self.write(b"".join(out))
        self.flush()
        out.clear()
        return self.paused or self.closing

    # ---- CLIENT PAUSE ------------------------------------------------------------------

    def _hold_for_pause(self) -> None:
        """CLIENT PAUSE holds ``pending``: retry when the pause ends, or on UNPAUSE."""
        engine = self.engine
        engine.pause_waiters.add(self)
        delay = max(engine.pause_until_ms - engine.now(), 0) / 1000
        asyncio.get_running_loop().call_later(delay, self.resume_after_pause)

    def wake_after_pause(self) -> None:
        """CLIENT UNPAUSE: run the held commands on the next loop iteration."""
        asyncio.get_running_loop().call_soon(self.resume_after_pause)

    def resume_after_pause(self) -> None:
        """Run the commands CLIENT PAUSE held back (a pause still in force holds them again)."""
        self.engine.pause_waiters.discard(self)
        if self.closing or self.paused or not self.pending:
            return
        commands, self.pending = self.pending, []
        self.run_commands(commands)

    def _answer_protocol_error(self) -> None:
        """After the commands before it ran, reply to a protocol error and close."""
        if (self.parser.error is not None and not self.pending and not self.closing
                and self.client.blocked is None):
            self.write(error_bytes("ERR " + self.parser.error))
            self.close()

    # ---- output ------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; they are sent when the loop iteration ends.

        Like Redis's handleClientsWithPendingWrites (run in beforeSleep), replies are
        written after every readable client of this iteration has been served, so sends
        go out back to back. Output past ``_FLUSH_BYTES`` is sent at once, so the
        transport's high-water mark (``pause_writing``) still stops a runaway batch.
        """
        if self.closing:
            return
        self.engine.stats.net_output_bytes += len(data)
        if not self.outbuf:     # Server.schedule_flush, written out: once per reply batch
            server = self.server
            if not server.to_flush:
                server.loop.call_soon(server.flush_all)
            server.to_flush.append(self)
        self.outbuf.append(data)
        self.outsize += len(data)
        if self.outsize > _FLUSH_BYTES:
            self.flush()

    def push(self, data: bytes) -> None:
        """Queue out-of-band output: a pub/sub message, an invalidation, a keyspace event.

        While this connection's own batch runs (a RESP3 client publishing to a channel it
        listens to), the bytes go into the batch, after the replies of the commands
        before, as Redis appends them to the client's reply buffer; otherwise they are
        written like a reply.
        """
        batch = self.batch
        if batch is None:
            self.write(data)
        else:
            batch.append(data)

    def flush(self) -> None:
        """Send the queued output now, then enforce the output buffer limits."""
        outbuf = self.outbuf
        if not outbuf or self.transport is None:
            return
        aof_flush = self.server.aof_flush
        if aof_flush is not None:   # acknowledged writes reach the AOF first
            aof_flush()
        transport = self.transport
        transport.write(outbuf[0] if len(outbuf) == 1 else b"".join(outbuf))
        outbuf.clear()
        self.outsize = 0
        # Only output the kernel did not take at once can exceed a limit.
        if transport.get_write_buffer_size():
            self.server.check_output_limits(self)

    def output_buffer_size(self) -> int:
        """Bytes queued or written but not yet sent to the client."""
        if self.transport is None:
            return self.outsize
        return self.transport.get_write_buffer_size() + self.outsize

    def close(self) -> None:
        """Close after the pending output is flushed."""
        if not self.closing:
            self.flush()
            self.closing = True
            self.transport.close()

    def abort(self) -> None:
        """Close now, dropping pending output (output limits, CLIENT KILL)."""
        self.closing = True
        self.outbuf.clear()
        self.outsize = 0
        self.transport.abort()


def _format_addr(addr) -> str:
    if not addr:
        return ""
    if isinstance(addr, str):  # unix socket
        return addr
    host, port = addr[0], addr[1]
    return f"{host}:{port}"

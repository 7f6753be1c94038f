"""The glue between the server and ember/persistence: load, cron, AOF flush, hooks.

:func:`install` (called by Server.__init__) creates :class:`Persistence`, which

* registers the INFO persistence fields, DEBUG RELOAD / LOADAOF, the SHUTDOWN save hook,
  the cron step (children, save points, AOF flush, automatic rewrites) and the
  ``appendonly`` CONFIG SET applier;
* loads the dataset at start-up (:meth:`Persistence.load_at_startup`, awaited by the CLI
  after the listeners are open): in a worker thread, while a server-wide gate answers
  ``-LOADING`` to every command without the ``loading`` flag;
* with the AOF on, registers the AOF's propagator and sets ``server.aof_flush``, which
  Server.flush_all and Connection.flush call before any reply leaves.

With ``appendonly no`` nothing is added to the per-command path: the propagators list
stays empty and ``server.aof_flush`` is None.
"""

import asyncio
import logging
import os
import threading
import time

from ember.commands import functions
from ember.commands.registry import COMMANDS
from ember.errors import ReplyError
from ember.persistence import aof as aof_module
from ember.persistence import commands as _commands  # noqa: F401  (SAVE, BGSAVE ...)
from ember.persistence import loading
from ember.persistence.aof_manifest import Manifest
from ember.persistence.rdb import write_rdb
from ember.persistence.snapshot import MISCONF, ChildRunner, Snapshotter, remove_temp_files
from ember.protocol.replies import OK

log = logging.getLogger("ember")

LOADING = "LOADING Redis is loading the dataset in memory"


def install(server) -> "Persistence":
    """Create the server's persistence state and register its hooks."""
    state = Persistence(server)
    server.persistence = state
    _wrap_flushall()
    return state


def _wrap_flushall() -> None:
    """FLUSHALL also resets the snapshot, as Redis's flushAllDataAndResetRDB: a running
    BGSAVE is killed and, with save points set, the (empty) dataset is saved at once.
    The command's spec gets a wrapper once per process (FLUSHALL is no hot command)."""
    spec = COMMANDS.get("flushall")
    if spec is None or getattr(spec.handler, "resets_rdb", False):
        return
    original = spec.handler

    def flushall(ctx, argv):
        engine = ctx.engine
        had_keys = any(len(db) for db in engine.dbs)
        reply = original(ctx, argv)
        state = engine.hooks.get("persistence")
        if state is not None:
            state.after_flushall(had_keys)
        return reply
    flushall.resets_rdb = True
    flushall.__doc__ = original.__doc__
    spec.handler = flushall


class ServerGates:
    """Gates (client.special entries) put on every client, present and future."""

    def __init__(self, engine):
        self.engine = engine
        self.gates = {}

    def set(self, name: str, gate) -> None:
        """Put ``gate`` on every client (and on clients created later)."""
        if name in self.gates:
            return
        self.gates[name] = gate
        for client in self.engine.clients.values():
            special = client.special
            special[name] = gate
            queue_gate = special.pop("multi", None)     # processCommand's checks come
            if queue_gate is not None:                  # before a command is queued
                special["multi"] = queue_gate
        self.engine.new_client = self._new_client

    def clear(self, name: str) -> None:
        """Take ``gate`` away from every client."""
        if self.gates.pop(name, None) is None:
            return
        for client in self.engine.clients.values():
            client.special.pop(name, None)
        if not self.gates:
            self.engine.__dict__.pop("new_client", None)

    def _new_client(self, *args, **kwargs):
        client = type(self.engine).new_client(self.engine, *args, **kwargs)
        client.special.update(self.gates)
        return client


class LoaderOutput:
    """While the loader thread replays the AOF, the output its commands cause (keyspace
    events to subscribers, tracking invalidations, MONITOR lines) must not touch a
    socket from that thread: the connections of the clients seen while loading get a
    ``write``/``push`` that hands the bytes to the event loop (call_soon_threadsafe) when
    called from another thread. Taken off when loading ends; nothing is added to the
    connections' path otherwise."""

    def __init__(self, loop):
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.wrapped = []

    def wrap(self, conn) -> None:
        """Make ``conn``'s output thread-safe until :meth:`unwrap_all`."""
        if conn is None or "push" in conn.__dict__:
            return
        for name in ("write", "push"):
            setattr(conn, name, self._marshal(getattr(type(conn), name).__get__(conn)))
        self.wrapped.append(conn)

    def _marshal(self, method):
        loop, loop_thread = self.loop, self.loop_thread

        def output(data: bytes) -> None:
            if threading.get_ident() == loop_thread:
                method(data)
            else:
                loop.call_soon_threadsafe(method, data)
        return output

    def unwrap_all(self) -> None:
        """Give the connections their own output methods back."""
        for conn in self.wrapped:
            conn.__dict__.pop("write", None)
            conn.__dict__.pop("push", None)
        self.wrapped = []


def loading_gate(output: LoaderOutput):
    """The gate answering -LOADING to every command without the ``loading`` flag (the
    command table's, as Redis's processCommand); the clients it sees get thread-safe
    output, so MONITOR, SUBSCRIBE, CLIENT TRACKING ... work while the dataset loads."""
    def gate(client, spec, argv):
        if client.conn is not None:
            output.wrap(client.conn)
        if "loading" not in spec.flags:
            return client.engine._reject(spec, ReplyError(LOADING), client)
        return None
    return gate


class Persistence:
    """RDB snapshots and the AOF of one running server."""

    def __init__(self, server):
        self.server = server
        self.engine = engine = server.engine
        self.config = server.config
        self.children = ChildRunner()
        self.snapshots = Snapshotter(engine, self.children, self._write_rdb)
        self.aof = None
        self.loading = False
        self.loader_output = None       # a LoaderOutput while loading at start-up
        self.loading_started = 0.0
        self.load_stats = loading.LoadStats()
        self.gates = ServerGates(engine)
        self.shutdown_saved = False
        server.aof_flush = None
        engine.hooks["persistence"] = self
        info = engine.hooks.setdefault("info", {})
        info.setdefault("persistence", []).append(self.info_fields)
        info.setdefault("memory", []).append(self.memory_fields)
        debug = engine.hooks.setdefault("debug", {})
        debug["reload"] = self.debug_reload
        debug["loadaof"] = self.debug_loadaof
        engine.hooks["shutdown_save"] = self.shutdown_save
        engine.hooks.setdefault("cron", []).append(self.cron)
        server.shutdown_hooks.append(self.on_shutdown)
        self.config.add_applier("appendonly", self._apply_appendonly)

    # ---- writing ----------------------------------------------------------------------

    def _rdb_parts(self) -> dict:
        from ember.commands.functions import libraries

        aux_hook = self.engine.hooks.get("rdb_aux")
        return {"aux": aux_hook() if aux_hook else None,
                "functions": [lib.code for lib in libraries(self.engine).by_name.values()]}

    def _write_rdb(self, write, dbs, aux=None) -> None:
        parts = self._rdb_parts()
        fields = dict(parts["aux"] or {})
        fields.update(aux or {})
        write_rdb(write, dbs, aux=fields, functions=parts["functions"],
                  compress=self.config.rdbcompression)

    def _write_aof_base(self, write) -> None:
        if self.config.aof_use_rdb_preamble:
            self._write_rdb(write, self.engine.dbs, {"aof-base": 1})
        else:
            aof_module.write_commands_base(write, self.engine.dbs, self.engine.now())

    # ---- start-up ---------------------------------------------------------------------

    async def load_at_startup(self) -> bool:
        """Load the AOF (appendonly yes) or the RDB; False (logged) if it cannot be."""
        removed = remove_temp_files(".")
        if removed:
            log.info("Removed left-over temporary files: %s", ", ".join(removed))
        path = self.config.dbfilename
        self.load_stats.begin(0 if self.config.appendonly or not os.path.exists(path)
                              else os.path.getsize(path))
        self.begin_loading()
        started = time.monotonic()
        try:
            if self.config.appendonly:
                manifest = await asyncio.to_thread(self._load_aof_files)
            else:
                await asyncio.to_thread(self._load_rdb_at_start)
        except loading.LoadError as exc:
            for line in exc.lines:
                log.warning("%s", line)
            self.end_loading()
            return False
        self.end_loading()
        if self.config.appendonly:
            try:
                self._open_aof(manifest)
            except OSError as exc:
                log.warning("Can't open the append-only file: %s", exc.strerror)
                return False
        self.engine.dirty = 0
        log.info("Done loading: %.3f seconds", time.monotonic() - started)
        return True

    def begin_loading(self) -> None:
        """Refuse commands with -LOADING (but those flagged ``loading``); pause the cron."""
        self.loading = True
        self.loading_started = time.time()
        self.loader_output = LoaderOutput(asyncio.get_running_loop())
        for client in list(self.engine.clients.values()):
            self.loader_output.wrap(client.conn)
        self.gates.set("loading", loading_gate(self.loader_output))
        # The loader fills the databases from a worker thread: no cron meanwhile (active
        # expiry, dict shrinking), as Redis runs none of it while loading.
        handle = getattr(self.server, "_cron_handle", None)
        self._cron_paused = handle is not None
        if handle is not None:
            handle.cancel()

    def end_loading(self) -> None:
        """Serve normally again."""
        self.loading = False
        self.gates.clear("loading")
        if self.loader_output is not None:
            self.loader_output.unwrap_all()
            self.loader_output = None
        if self._cron_paused:
            self._cron_paused = False
            self.server._schedule_cron()

    def _load_rdb_at_start(self) -> None:
        path = self.config.dbfilename
        if not os.path.exists(path):
            return
        started = time.monotonic()
        loading.load_rdb_file(self.engine, path, self.engine.dbs, self.load_stats)
        log.info("DB loaded from disk: %.3f seconds", time.monotonic() - started)

    def _load_aof_files(self) -> Manifest:
        directory = self.config.appenddirname
        manifest = loading.read_manifest(directory, self.config.appendfilename)
        if manifest is None:
            manifest = loading.upgrade_old_style_aof(directory, self.config.appendfilename)
        if manifest is None:
            return Manifest()
        started = time.monotonic()
        self.load_stats.begin(loading.aof_size(directory, manifest))
        loading.load_aof(self.engine, directory, manifest, self.config.aof_load_truncated,
                         self.load_stats)
        log.info("DB loaded from append only file: %.3f seconds", time.monotonic() - started)
        return manifest

    # ---- the AOF ----------------------------------------------------------------------

    def _open_aof(self, manifest: Manifest, create_base: bool = True) -> None:
        aof = aof_module.AppendOnlyFile(self.config, self.config.appenddirname, manifest,
                                        self.children, self._write_aof_base)
        aof.open(create_base)
        self.aof = aof
        self._aof_propagator = aof.propagator
        self.engine.propagators.append(self._aof_propagator)
        self.server.aof_flush = aof.flush

    def _close_aof(self) -> None:
        aof = self.aof
        if aof is None:
            return
        if self.children.kind == "aof":
            self.children.kill()
        aof.close()
        if self._aof_propagator in self.engine.propagators:
            self.engine.propagators.remove(self._aof_propagator)
        self.server.aof_flush = None
        self.aof = None

    def _apply_appendonly(self, config) -> None:
        """CONFIG SET appendonly yes|no: start the AOF (with a rewrite) or stop it."""
        if config.appendonly and self.aof is None:
            if self.children.kind == "rdb":
                self.children.kill()
            manifest = loading.read_manifest(config.appenddirname, config.appendfilename)
            self._open_aof(manifest or Manifest(), create_base=False)   # the rewrite's job
            self.rewrite()
        elif not config.appendonly and self.aof is not None:
            self._close_aof()

    def rewrite(self) -> bool:
        """Start BGREWRITEAOF now; False when it could not start."""
        try:
            if self.aof is not None:
                self.aof.start_rewrite()
            else:
                manifest = loading.read_manifest(self.config.appenddirname,
                                                 self.config.appendfilename)
                temp = aof_module.AppendOnlyFile(
                    self.config, self.config.appenddirname, manifest or Manifest(),
                    self.children, self._write_aof_base)
                os.makedirs(self.config.appenddirname, exist_ok=True)
                temp.start_rewrite()
        except (OSError, loading.LoadError) as exc:
            log.warning("Can't rewrite append only file in background: %s", exc)
            return False
        return True

    def schedule_rewrite(self) -> None:
        """BGREWRITEAOF while another child runs: start it when that one ends."""
        self._rewrite_scheduled = True
        if self.aof is not None:
            self.aof.rewrite_scheduled = True

    # ---- cron -------------------------------------------------------------------------

    def cron(self) -> None:
        """Children, the AOF buffer, save points, automatic rewrites, the MISCONF gate."""
        self.children.poll()
        aof = self.aof
        if aof is not None:
            aof.flush()
        if self.loading:
            return
        if not self.children.busy:
            if getattr(self, "_rewrite_scheduled", False):
                self._rewrite_scheduled = False
                self.rewrite()
            elif aof is not None and aof.should_auto_rewrite():
                log.info("Starting automatic rewriting of AOF on %d%% growth",
                         (aof.current_size - aof.base_size) * 100 // max(aof.base_size, 1))
                self.rewrite()
            else:
                self.snapshots.cron()
        self._update_misconf()

    def _update_misconf(self) -> None:
        if self.engine.hooks.get("role", "master") in ("slave", "replica"):
            self.gates.clear("misconf")         # Redis refuses writes on a master only
        elif self.snapshots.writes_refused():
            self.gates.set("misconf", _refuse_writes(MISCONF))
        elif self.aof is not None and not self.aof.last_write_ok:
            self.gates.set("misconf", _refuse_writes(
                "MISCONF Errors writing to the AOF file: " + self.aof.last_write_error))
        else:
            self.gates.clear("misconf")

    # ---- SHUTDOWN, DEBUG ------------------------------------------------------------------

    def after_flushall(self, had_keys: bool) -> None:
        """FLUSHALL done: kill a BGSAVE child, save now if save points are set."""
        if self.children.kind == "rdb":
            self.children.kill()
        if self.config.save:
            self.snapshots.save(counted=False)
        elif had_keys:
            self.engine.dirty += 1          # Redis counts the keys removed, plus one

    def shutdown_save(self) -> bool:
        """SHUTDOWN's final save (engine.hooks["shutdown_save"]): True on success."""
        if self.children.busy:
            log.warning("There is a child saving an .rdb. Killing it!")
            self.children.kill()
        self.shutdown_saved = True
        return self.snapshots.save()

    def on_shutdown(self) -> None:
        """The server stops: kill a child, fsync the AOF, save if save points are set
        (SIGTERM / SIGINT) unless SHUTDOWN already saved."""
        if self.children.busy:
            self.children.kill()
        if self.aof is not None:
            log.info("Calling fsync() on the AOF file.")
            self.aof.close()
        if self.engine.hooks.pop("final_save_done", False) or self.shutdown_saved:
            return                                  # SHUTDOWN [NO]SAVE decided already
        mode = self.config.shutdown_on_sigterm      # a signal: shutdown-on-sigterm says
        if self.loading or "nosave" in mode:
            return
        if "save" in mode or self.config.save:
            log.info("Saving the final RDB snapshot before exiting.")
            self.snapshots.save()

    def debug_reload(self, ctx, argv):
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load the RDB again."""
        flags = {arg.lower() for arg in argv[2:]}
        unknown = flags - {b"merge", b"noflush", b"nosave"}
        if unknown:
            raise ReplyError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                             "options.")
        if b"nosave" not in flags and not self.snapshots.save():
            raise ReplyError("ERR")
        fresh = loading.fresh_dbs(self.engine)
        try:
            loading.load_rdb_file(self.engine, self.config.dbfilename, fresh,
                                  self.load_stats)
        except loading.LoadError as exc:
            for line in exc.lines:
                log.warning("%s", line)
            raise ReplyError("ERR Error trying to load the RDB dump, check server logs.")
        loading.install_dbs(self.engine, fresh)
        log.info("DB reloaded by DEBUG RELOAD")
        return OK

    def debug_loadaof(self, ctx, argv):
        """DEBUG LOADAOF: flush the AOF, empty the dataset, load it from the AOF."""
        if self.aof is None:
            return OK
        self.aof.flush()
        for db in self.engine.dbs:
            db.flush()
        propagators = self.engine.propagators
        self.engine.propagators = []
        try:
            loading.load_aof(self.engine, self.config.appenddirname, self.aof.manifest,
                             self.config.aof_load_truncated, self.load_stats)
        except loading.LoadError as exc:
            for line in exc.lines:
                log.warning("%s", line)
            raise ReplyError("ERR Error loading the AOF") from None
        finally:
            self.engine.propagators = propagators
        log.info("Append Only File loaded by DEBUG LOADAOF")
        return OK

    # ---- INFO -------------------------------------------------------------------------

    def info_fields(self, engine) -> list:
        """INFO persistence: loading, RDB and AOF fields with live values."""
        fields = [("loading", int(self.loading))]
        fields += self.snapshots.info_fields()
        fields += [("rdb_last_load_keys_expired", self.load_stats.keys_expired),
                   ("rdb_last_load_keys_loaded", self.load_stats.keys_loaded)]
        if self.aof is not None:
            fields += self.aof.info_fields()
            fields += self.aof.info_tail()
        else:
            fields += [("aof_enabled", 0),
                       ("aof_rewrite_in_progress", int(self.children.kind == "aof")),
                       ("aof_rewrite_scheduled", int(getattr(self, "_rewrite_scheduled",
                                                             False)))]
        if self.loading:
            fields += self._loading_fields()
        return fields

    def memory_fields(self, engine) -> list:
        """INFO memory: the AOF buffer not yet written."""
        buf = self.aof.buf if self.aof is not None else ()
        return [("mem_aof_buffer", sum(len(chunk) for chunk in buf))]

    def _loading_fields(self) -> list:
        stats = self.load_stats
        total, done = stats.total_bytes, stats.loaded_bytes
        elapsed = time.time() - self.loading_started
        perc = done * 100.0 / total if total else 0.0
        eta = int((total - done) / (done / elapsed)) if done and elapsed > 0 else 1
        return [("loading_start_time", int(self.loading_started)),
                ("loading_total_bytes", total), ("loading_rdb_used_mem", 0),
                ("loading_loaded_bytes", done), ("loading_loaded_perc", "%.2f" % perc),
                ("loading_eta_seconds", eta)]


def _refuse_writes(message: str):
    """The MISCONF gate (processCommand's writeCommandsDeniedByDiskError step): write
    commands, PING, scripts declaring writes and an EXEC whose queue holds any of them
    are refused (a refused EXEC discards the transaction with EXECABORT, a refusal in
    MULTI dooms it: Engine._reject). Scripts without a shebang are refused at each
    write inside (script_run reads ``gate.message``)."""
    def gate(client, spec, argv):
        if (spec.is_write or spec.name == "ping" or _script_writes(client, spec, argv)
                or (spec.name == "exec" and client.multi is not None
                    and any(queued.is_write or _script_writes(client, queued, queued_argv)
                            for queued, queued_argv in client.multi))):
            return client.engine._reject(spec, ReplyError(message), client)
        return None
    gate.message = message
    return gate


def _script_writes(client, spec, argv) -> bool:
    """EVAL/FCALL & co whose script or function may write (getCommandFlags)."""
    if spec.name not in functions.SCRIPT_COMMANDS:
        return False
    return functions.script_writes(client.engine, spec.name, argv)

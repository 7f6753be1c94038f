"""The append-only file while the server runs: logging writes, fsync, rewrites.

Writes reach the AOF through one propagator (``engine.propagators``): it appends the
command, RESP-encoded, to a list (and a SELECT first when the db changes). The server
calls :meth:`AppendOnlyFile.flush` before any reply of the loop iteration leaves
(``Server.flush_all``), so every acknowledged write has been ``write()``-n to the file:
a kill -9 loses nothing acknowledged whatever the fsync mode. ``appendfsync always``
fsyncs in that same flush (one fsync per loop turn, for every client's writes);
``everysec`` fsyncs from a thread once a second, off the event loop; ``no`` leaves it to
the OS.

Files follow Redis 7's multi-part layout (see aof_manifest.py). BGREWRITEAOF opens a
new INCR file at once (so nothing is buffered in memory during the rewrite), forks a
child that writes the new BASE from its snapshot of the keyspace, and when the child
is done the manifest is switched to the new BASE + the INCR files opened since, and the
old files are deleted.
"""

import logging
import os
import threading
import time

from ember.persistence.aof_manifest import Manifest, format_manifest, manifest_name
from ember.persistence.snapshot import fsync_dir, write_file_atomically

log = logging.getLogger("ember")

_SELECTS = {}
_fdatasync = getattr(os, "fdatasync", os.fsync)


_F2 = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_F3 = b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_F4 = b"*4\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def encode_command(argv: list) -> bytes:
    """One command as a RESP multibulk, as Redis writes it to the AOF (one formatting
    operation for the common 2-4 argument commands)."""
    try:
        size = len(argv)
        if size == 3:
            a, b, c = argv
            return _F3 % (len(a), a, len(b), b, len(c), c)
        if size == 2:
            a, b = argv
            return _F2 % (len(a), a, len(b), b)
        if size == 4:
            a, b, c, d = argv
            return _F4 % (len(a), a, len(b), b, len(c), c, len(d), d)
        return b"*%d\r\n" % size + b"".join([b"$%d\r\n%s\r\n" % (len(arg), arg)
                                             for arg in argv])
    except TypeError:   # an int or str argument: format it as Redis's argv would hold it
        return encode_command([a if isinstance(a, (bytes, bytearray)) else str(a).encode()
                               for a in argv])


def select_command(db_index: int) -> bytes:
    """The SELECT written before commands of another db."""
    data = _SELECTS.get(db_index)
    if data is None:
        data = _SELECTS[db_index] = encode_command([b"SELECT", b"%d" % db_index])
    return data


class AppendOnlyFile:
    """The open AOF of a running server (appendonly yes)."""

    def __init__(self, config, directory: str, manifest: Manifest, children, write_base):
        self.config = config
        self.directory = directory              # appenddirname (relative to dir)
        self.filename = config.appendfilename
        self.manifest = manifest
        self.children = children                # snapshot.ChildRunner
        self.write_base = write_base            # write_base(write): the keyspace, for BASE
        self.buf = []
        self.selected = -1
        self.fd = None
        self.current_size = 0
        self.base_size = 0
        self.last_write_ok = True
        self.last_write_error = ""
        self.rewrite_ok = True
        self.rewrites = 0
        self.rewrite_failures = 0
        self.last_rewrite_seconds = -1
        self.rewrite_scheduled = False
        self._rewrite_incr_seq = None
        self._failed_at = 0.0
        self._timestamp = 0
        self._unsynced = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fsync_thread = None

    # ---- the propagator and the flush ----------------------------------------------------

    def propagate(self, db_index: int, argv: list) -> None:
        """Log one write (the engine's propagator): a list append of its encoding."""
        if db_index != self.selected:
            self.selected = db_index
            self.buf.append(select_command(db_index))
        self.buf.append(encode_command(argv))

    def propagate_timestamped(self, db_index: int, argv: list) -> None:
        """The propagator with aof-timestamp-enabled: a ``#TS:<unix time>`` annotation
        first whenever the second changed (Redis's genAofTimestampAnnotationIfNeeded)."""
        now = int(time.time())
        if now > self._timestamp:
            self._timestamp = now
            self.buf.append(b"#TS:%d\r\n" % now)
        self.propagate(db_index, argv)

    @property
    def propagator(self):
        """The callable to register in engine.propagators (chosen once, at open)."""
        if self.config.aof_timestamp_enabled:
            return self.propagate_timestamped
        return self.propagate

    def flush(self) -> None:
        """write() what is buffered; with appendfsync always, fsync it too. Called before
        replies leave (every acknowledged write is in the file), and by the cron."""
        buf = self.buf
        if not buf or self.fd is None:
            return
        data = b"".join(buf)
        try:
            _write_all(self.fd, data)
        except OSError as exc:
            self._write_failed(exc)
            return
        buf.clear()
        self.current_size += len(data)
        if not self.last_write_ok:
            log.warning("AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
        if self.config.appendfsync == "always":
            try:
                _fdatasync(self.fd)
            except OSError as exc:
                log.warning("Can't persist AOF for fsync error when the AOF fsync policy "
                            "is 'always': %s. Exiting...", exc.strerror)
                os._exit(1)
        else:
            self._unsynced = True

    def _write_failed(self, exc: OSError) -> None:
        if self.last_write_ok:
            log.warning("Error writing to the AOF file: %s", exc.strerror)
        self.last_write_ok = False
        self.last_write_error = exc.strerror or str(exc)
        if self.config.appendfsync == "always":
            log.warning("Can't recover from AOF write error when the AOF fsync policy is "
                        "'always'. Exiting...")
            os._exit(1)

    def _fsync_loop(self) -> None:
        """everysec: fsync once a second if something was written (a daemon thread)."""
        while not self._stop.wait(1.0):
            if self._unsynced and self.config.appendfsync == "everysec":
                self._unsynced = False
                with self._lock:
                    if self.fd is not None:
                        try:
                            _fdatasync(self.fd)
                        except OSError as exc:
                            log.warning("AOF fsync failed: %s", exc.strerror)

    # ---- opening and closing -------------------------------------------------------------

    def path(self, name: str) -> str:
        """Path of one of the AOF's files."""
        return os.path.join(self.directory, name)

    def open(self, create_base: bool = True) -> None:
        """Open for appending (start-up, or appendonly turned on): create what is missing
        (the directory, a BASE when there is none and nothing else, an INCR file).
        ``create_base`` False: a rewrite is about to write the BASE (CONFIG SET)."""
        os.makedirs(self.directory, exist_ok=True)
        manifest = self.manifest
        if manifest.base is None and not manifest.incrs and create_base:
            name = manifest.new_base(self.filename, self.config.aof_use_rdb_preamble)
            log.info("Creating AOF base file %s on server start", name)
            self.base_size = write_file_atomically(self.path(name), self.write_base,
                                                   "temp-" + name)
        if not manifest.incrs:
            name = manifest.new_incr(self.filename)
            log.info("Creating AOF incr file %s on server start", name)
            self.persist_manifest(manifest)
        self.fd = os.open(self.path(manifest.last_incr().name),
                          os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.selected = -1
        self.current_size = self._sizes(manifest.files())
        if manifest.base is not None:
            self.base_size = self._sizes([manifest.base])
        self._stop.clear()
        self._fsync_thread = threading.Thread(target=self._fsync_loop, daemon=True,
                                              name="aof-fsync")
        self._fsync_thread.start()

    def close(self) -> None:
        """Flush, fsync and close (SHUTDOWN, appendonly turned off)."""
        self.flush()
        self._stop.set()
        with self._lock:
            if self.fd is not None:
                try:
                    os.fsync(self.fd)
                except OSError:
                    pass
                os.close(self.fd)
                self.fd = None

    def persist_manifest(self, manifest: Manifest) -> None:
        """Write the manifest crash-safely (temp file, fsync, rename, fsync dir)."""
        name = manifest_name(self.filename)
        data = format_manifest(manifest)
        write_file_atomically(self.path(name), lambda write: write(data), "temp-" + name)

    def _sizes(self, infos: list) -> int:
        total = 0
        for info in infos:
            try:
                total += os.path.getsize(self.path(info.name))
            except OSError:
                pass
        return total

    def open_new_incr(self, reason: str) -> None:
        """Switch writing to a new INCR file (at the start of a rewrite)."""
        self.flush()
        manifest = self.manifest.copy()
        name = manifest.new_incr(self.filename)
        fd = os.open(self.path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.persist_manifest(manifest)
        log.info("Creating AOF incr file %s on %s", name, reason)
        with self._lock:
            old, self.fd = self.fd, fd
        if old is not None:
            try:
                os.fsync(old)
            finally:
                os.close(old)
        self.manifest = manifest
        self.selected = -1
        self._timestamp = 0

    # ---- rewrite ---------------------------------------------------------------------------

    def start_rewrite(self, fork: bool = True) -> int:
        """BGREWRITEAOF: new INCR now, BASE written by a forked child. Returns its pid."""
        self.rewrite_scheduled = False
        if self.fd is not None:
            self.open_new_incr("background rewrite")
        self._rewrite_incr_seq = self.manifest.incr_seq
        write_base = self.write_base
        temp = "temp-rewriteaof-bg-%d.aof"

        def job():
            path = temp % os.getpid()
            write_file_atomically(path, write_base, path)
            return True
        pid = self.children.start("aof", job, self._rewrite_done, fork)
        if pid:
            self._rewrite_pid = pid
            log.info("Background append only file rewriting started by pid %d", pid)
        return pid

    def _rewrite_done(self, ok: bool, seconds: float) -> None:
        pid = getattr(self, "_rewrite_pid", None) or os.getpid()
        self._rewrite_pid = None
        temp = "temp-rewriteaof-bg-%d.aof" % pid
        self.last_rewrite_seconds = int(seconds)
        if not ok:
            log.warning("Background AOF rewrite terminated with error")
            self.rewrite_ok = False
            self.rewrite_failures += 1
            self._failed_at = time.monotonic()
            _unlink(temp)
            return
        try:
            self._install_rewrite(temp)
        except OSError as exc:
            log.warning("Error trying to rename the temporary AOF base file %s into %s: %s",
                        temp, self.manifest.base.name if self.manifest.base else "", exc)
            self.rewrite_ok = False
            self.rewrite_failures += 1
            _unlink(temp)
            return
        self.rewrite_ok = True
        self.rewrite_failures = 0
        self.rewrites += 1
        log.info("Background AOF rewrite finished successfully")

    def _install_rewrite(self, temp: str) -> None:
        manifest = self.manifest.copy()
        name = manifest.new_base(self.filename, self.config.aof_use_rdb_preamble)
        keep = [info for info in manifest.incrs if info.seq >= (self._rewrite_incr_seq or 0)]
        if self.fd is None:
            keep = []
        manifest.incrs_to_history(len(keep))
        os.makedirs(self.directory, exist_ok=True)
        os.replace(temp, self.path(name))
        log.info("Successfully renamed the temporary AOF base file %s into %s", temp, name)
        self.persist_manifest(manifest)
        fsync_dir(self.directory)
        self.manifest = manifest
        for info in manifest.history:
            log.info("Removing the history file %s in the background", info.name)
            _unlink(self.path(info.name))
        manifest.history = []
        self.persist_manifest(manifest)
        self.base_size = self._sizes([manifest.base])
        self.current_size = self._sizes(manifest.files())

    def should_auto_rewrite(self) -> bool:
        """auto-aof-rewrite-percentage / -min-size: the AOF grew enough since the last."""
        percentage = self.config.auto_aof_rewrite_percentage
        if not percentage or self.fd is None:
            return False
        if self.rewrite_failures and (time.monotonic() - self._failed_at
                                      < min(60, 2 ** self.rewrite_failures)):
            return False        # back off after failures instead of forking every tick
        if self.current_size < self.config.auto_aof_rewrite_min_size:
            return False
        base = self.base_size or 1
        return (self.current_size - base) * 100 // base >= percentage

    # ---- INFO ------------------------------------------------------------------------------

    def info_fields(self) -> list:
        """The AOF fields of INFO persistence."""
        running = self.children.kind == "aof"
        return [
            ("aof_enabled", int(self.fd is not None)),
            ("aof_rewrite_in_progress", int(running)),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_seconds),
            ("aof_current_rewrite_time_sec",
             int(time.monotonic() - self.children.started) if running else -1),
            ("aof_last_bgrewrite_status", "ok" if self.rewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.rewrite_failures),
            ("aof_last_write_status", "ok" if self.last_write_ok else "err"),
        ]

    def info_tail(self) -> list:
        """The fields Redis adds after the common ones while the AOF is on."""
        return [
            ("aof_current_size", self.current_size),
            ("aof_base_size", self.base_size),
            ("aof_pending_rewrite", int(self.rewrite_scheduled)),
            ("aof_buffer_length", sum(len(chunk) for chunk in self.buf)),
            ("aof_pending_bio_fsync", 0),
            ("aof_delayed_fsync", 0),
        ]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---- BASE in command form (aof-use-rdb-preamble no) -------------------------------------

_ITEMS_PER_COMMAND = 64     # Redis's AOF_REWRITE_ITEMS_PER_CMD


def write_commands_base(write, dbs, now_ms: int) -> None:
    """The keyspace as commands, as rewriteAppendOnlyFileRio writes it: SELECT per db,
    one command per key (in batches of 64 items), PEXPIREAT for TTLs."""
    try:
        from ember.persistence.dump_commands import keyspace_commands
    except ImportError:
        keyspace_commands = _keyspace_commands
    for db in dbs:
        if not db.data:
            continue
        write(select_command(db.id))
        chunk = []
        size = 0
        for argv in keyspace_commands(db, now_ms):
            data = encode_command(argv)
            chunk.append(data)
            size += len(data)
            if size > 1 << 20:
                write(b"".join(chunk))
                chunk.clear()
                size = 0
        if chunk:
            write(b"".join(chunk))


def _keyspace_commands(db, now_ms: int):
    """Commands that rebuild each live key of ``db`` (strings, lists, sets, sorted sets,
    hashes, stream entries)."""
    from ember.protocol.numbers import format_float
    from ember.storage.types.stream import format_id

    expires = db.expires
    for key, value in list(db.data.items()):
        deadline = expires.get(key)
        if deadline is not None and deadline <= now_ms:
            continue
        if isinstance(value, (bytes, bytearray)):
            yield [b"SET", key, bytes(value)]
        else:
            kind = getattr(value, "type_name", "")
            if kind == "list":
                yield from _batched(b"RPUSH", key, list(value))
            elif kind == "set":
                yield from _batched(b"SADD", key, list(value))
            elif kind == "zset":
                flat = []
                for member, score in value:
                    flat += [format_float(score), member]
                yield from _batched(b"ZADD", key, flat, 2)
            elif kind == "hash":
                flat = []
                for field, item in value.fields.items():
                    flat += [field, item]
                yield from _batched(b"HSET", key, flat, 2)
            elif kind == "stream":
                for sid, fields in value.range(0, (1 << 128) - 1):
                    yield [b"XADD", key, format_id(sid), *fields]
                yield [b"XSETID", key, format_id(value.last_id), b"ENTRIESADDED",
                       b"%d" % value.entries_added, b"MAXDELETEDID",
                       format_id(value.max_deleted_id)]
        if deadline is not None:
            yield [b"PEXPIREAT", key, b"%d" % deadline]


def _batched(name: bytes, key: bytes, items: list, width: int = 1):
    step = _ITEMS_PER_COMMAND * width
    for start in range(0, len(items), step):
        yield [name, key, *items[start:start + step]]

"""RDB snapshots in the running server: SAVE, BGSAVE, save points, and their status.

A snapshot is written crash-safely: to ``temp-<pid>.rdb`` next to the target, fsynced,
renamed over ``dbfilename`` and the directory fsynced, so a crash at any moment leaves
either the old file or the new one, never a torn one. BGSAVE forks (``os.fork`` where
the platform has it): the child serialises its copy-on-write view of the keyspace and
exits, the parent keeps serving and collects the child's exit status from the cron
(Redis's checkChildrenDone). Without fork the save runs in the foreground.

One child at a time, as in Redis: a BGSAVE asked for while an AOF rewrite runs is
refused, or scheduled with SCHEDULE; :class:`ChildRunner` is shared with the AOF.
"""

import logging
import os
import re
import stat
import time

log = logging.getLogger("ember")

HAS_FORK = hasattr(os, "fork")
BGSAVE_RETRY_DELAY = 5      # seconds between save-point BGSAVE attempts after an error

MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
           "to persist to disk. Commands that may modify the data set are disabled, "
           "because this instance is configured to report errors during writes if RDB "
           "snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
           "Redis logs for details about the RDB error.")


def fsync_dir(path: str) -> None:
    """fsync a directory so that a rename in it survives a power loss."""
    try:
        fd = os.open(path or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file_atomically(path: str, produce, temp_name: str = None) -> int:
    """Write ``path`` via a temp file: ``produce(write)`` writes the content; fsync,
    rename, fsync of the directory. Returns the size. The temp file is removed on error.
    """
    directory = os.path.dirname(path) or "."
    temp = os.path.join(directory, temp_name or "temp-%d.rdb" % os.getpid())
    size = 0
    try:
        with open(temp, "wb", buffering=1 << 20) as handle:
            write = handle.write

            def counted(chunk):
                nonlocal size
                size += len(chunk)
                write(chunk)
            produce(counted)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
    return size


def remove_temp_files(directory: str = ".") -> list:
    """Delete left-over ``temp-<pid>.rdb`` and AOF rewrite temp files (start-up)."""
    removed = []
    for name in os.listdir(directory or "."):
        if _TEMP_FILE.match(name):
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(name)
            except OSError:
                pass
    return removed


_TEMP_FILE = re.compile(r"^temp-(\d+\.rdb|rewriteaof-(bg-)?\d+\.aof)$")


class ChildRunner:
    """Runs at most one background job in a forked child (or in the foreground)."""

    def __init__(self):
        self.pid = None
        self.kind = None            # "rdb" or "aof"
        self.started = 0.0
        self._on_done = None

    @property
    def busy(self) -> bool:
        """True while a child runs."""
        return self.pid is not None

    def start(self, kind: str, job, on_done, fork: bool = True) -> int:
        """Run ``job()`` (True on success) in a child; ``on_done(ok, seconds)`` follows.

        Returns the child's pid, or 0 when the job ran in the foreground (no fork):
        then ``on_done`` has already been called.
        """
        started = time.monotonic()
        if not (fork and HAS_FORK):
            ok = _run_job(job)
            on_done(ok, time.monotonic() - started)
            return 0
        pid = os.fork()
        if pid == 0:                                  # the child
            code = 1
            try:
                _close_sockets()
                code = 0 if _run_job(job) else 1
            finally:
                os._exit(code)
        self.pid, self.kind, self.started, self._on_done = pid, kind, started, on_done
        return pid

    def poll(self, block: bool = False) -> bool:
        """Collect a finished child and run its ``on_done``; True if one finished."""
        if self.pid is None:
            return False
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 1 << 8
        if pid == 0:
            return False
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        on_done, seconds = self._on_done, time.monotonic() - self.started
        self.pid = self.kind = self._on_done = None
        on_done(ok, seconds)
        return True

    def kill(self) -> None:
        """Stop the running child (SHUTDOWN, appendonly no ...), reap it, remove its temp
        file; its ``on_done`` is not called (a killed child is not a failed save)."""
        pid = self.pid
        if pid is None:
            return
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
        self.pid = self.kind = self._on_done = None
        for name in ("temp-%d.rdb" % pid, "temp-rewriteaof-bg-%d.aof" % pid):
            try:
                os.unlink(name)
            except OSError:
                pass


def _close_sockets() -> None:
    """In a forked child: close the listening and client sockets it inherited (Redis's
    closeChildUnusedResourceAfterFork), so that a child outliving its parent neither
    holds the port nor keeps clients' connections open."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 4096)
    for fd in fds:
        if fd < 3:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            pass


def _run_job(job) -> bool:
    try:
        return bool(job())
    except Exception:
        log.exception("Background job failed")
        return False


class Snapshotter:
    """SAVE / BGSAVE / save points for one engine, and the INFO persistence fields."""

    def __init__(self, engine, children: ChildRunner, write_rdb, aux=None):
        self.engine = engine
        self.config = engine.config
        self.children = children
        self.write_rdb = write_rdb          # write_rdb(write, dbs, aux=...) (persistence.rdb)
        self.aux = aux or (lambda: None)    # extra AUX fields (replication's repl-id ...)
        self.last_bgsave_ok = True
        self.last_bgsave_seconds = -1
        self.last_bgsave_try = 0.0
        self.saves = 0
        self.scheduled = False
        self.dirty_at_start = 0
        self.temp_path = None

    # ---- paths -------------------------------------------------------------------------

    def path(self) -> str:
        """The dump file (``dbfilename`` in ``dir``, which is the working directory)."""
        return self.config.dbfilename

    # ---- SAVE --------------------------------------------------------------------------

    def save(self, counted: bool = True) -> bool:
        """Write the snapshot now, in the foreground (SAVE, SHUTDOWN, DEBUG RELOAD);
        ``counted``: whether INFO's rdb_saves counts it (FLUSHALL's save is not)."""
        dirty = self.engine.dirty
        self.saves += counted
        try:
            write_file_atomically(self.path(), self._producer())
        except Exception as exc:
            log.warning("Failed saving the DB: %s", _reason(exc))
            return False
        log.info("DB saved on disk")
        self._saved(dirty)
        return True

    def _producer(self):
        dbs = self.engine.dbs
        aux = self.aux()
        return lambda write: self.write_rdb(write, dbs, aux=aux)

    def _saved(self, dirty_before: int) -> None:
        self.engine.dirty -= min(dirty_before, self.engine.dirty)
        self.engine.lastsave = int(time.time())
        self.last_bgsave_ok = True

    # ---- BGSAVE ------------------------------------------------------------------------

    def bgsave(self) -> bool:
        """Start a background save (forked child); False if it could not start."""
        self.last_bgsave_try = time.time()
        self.dirty_at_start = self.engine.dirty
        self.scheduled = False
        self.saves += 1
        produce = self._producer()
        path = self.path()

        def job():
            temp = "temp-%d.rdb" % os.getpid()
            write_file_atomically(path, produce, temp)
            return True
        try:
            pid = self.children.start("rdb", job, self._bgsave_done)
        except OSError as exc:
            self.last_bgsave_ok = False
            log.warning("Can't save in background: fork: %s", _reason(exc))
            return False
        if pid:
            log.info("Background saving started by pid %d", pid)
        return True

    def _bgsave_done(self, ok: bool, seconds: float) -> None:
        self.last_bgsave_seconds = int(seconds)
        if ok:
            log.info("Background saving terminated with success")
            self._saved(self.dirty_at_start)
        else:
            log.warning("Background saving error")
            self.last_bgsave_ok = False

    def writes_refused(self) -> bool:
        """stop-writes-on-bgsave-error: the last BGSAVE failed and save points are set."""
        return (not self.last_bgsave_ok and self.config.stop_writes_on_bgsave_error
                and bool(self.config.save))

    # ---- cron --------------------------------------------------------------------------

    def cron(self) -> None:
        """Start a BGSAVE when a save point is reached or one was scheduled."""
        if self.children.busy:
            return
        now = time.time()
        if self.scheduled:
            self.bgsave()
            return
        dirty = self.engine.dirty
        since = now - self.engine.lastsave
        for seconds, changes in self.config.save:
            if (dirty >= changes and since > seconds
                    and (self.last_bgsave_ok
                         or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY)):
                log.info("%d changes in %d seconds. Saving...", changes, seconds)
                self.bgsave()
                return

    # ---- INFO --------------------------------------------------------------------------

    def info_fields(self) -> list:
        """The RDB fields of INFO persistence, with live values."""
        running = self.children.kind == "rdb"
        current = int(time.monotonic() - self.children.started) if running else -1
        return [
            ("rdb_changes_since_last_save", self.engine.dirty),
            ("rdb_bgsave_in_progress", int(running)),
            ("rdb_last_save_time", self.engine.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_bgsave_seconds),
            ("rdb_current_bgsave_time_sec", current),
            ("rdb_saves", self.saves),
        ]


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)

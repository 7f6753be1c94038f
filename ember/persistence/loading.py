"""Loading the dataset: the RDB file, or the multi-part AOF, into an engine.

Plain functions with no event loop: the server layer runs them (in a worker thread at
start-up, so that clients get -LOADING meanwhile) and decides what a failure means
(start-up: the message is logged and the process exits with 1). Nothing is ever loaded
half silently: any error raises :class:`LoadError` with Redis's wording.

AOF commands are replayed through the engine's dispatcher (``Engine.execute``) with a
fake client, as DESIGN.md says: the same code path as a client's command.
"""

import logging
import os

from ember.commands.context import Client
from ember.commands.registry import COMMANDS
from ember.persistence import aof_load
from ember.persistence.aof_manifest import ManifestError, manifest_name, parse_manifest
from ember.persistence.rdb import RdbError, load_rdb
from ember.persistence.rdb_load import load_into
from ember.persistence.reader import Reader
from ember.storage.keyspace import Database

log = logging.getLogger("ember")

AOF_CLIENT_ID = 2 ** 64 - 1     # Redis's CLIENT_ID_AOF


class LoadError(Exception):
    """The dataset cannot be loaded; ``lines`` are the log lines explaining why."""

    def __init__(self, *lines: str):
        super().__init__(lines[-1])
        self.lines = lines


def fresh_dbs(engine) -> list:
    """Empty databases wired like the engine's (to load into, then swap in)."""
    return [Database(i, engine.now, engine.keyspace_stats, engine._on_expire, engine.time)
            for i in range(len(engine.dbs))]


def install_dbs(engine, dbs: list) -> None:
    """Make ``dbs``' contents the engine's (clients keep their Database objects)."""
    for mine, loaded in zip(engine.dbs, dbs):
        mine.swap_contents(loaded)


class LoadStats:
    """What INFO persistence reports about the last load."""

    def __init__(self):
        self.keys_loaded = 0
        self.keys_expired = 0
        self.total_bytes = 0        # while loading: the file sizes, and how far it got
        self.loaded_bytes = 0

    def begin(self, total_bytes: int) -> None:
        """A new load starts (INFO's loading_* fields follow it)."""
        self.keys_loaded = self.keys_expired = self.loaded_bytes = 0
        self.total_bytes = total_bytes


# ---- RDB -----------------------------------------------------------------------------


def load_rdb_file(engine, path: str, dbs: list, stats: LoadStats = None) -> dict:
    """Load the RDB at ``path`` into ``dbs`` (empty); return its AUX fields.

    Keys already expired are skipped, function libraries are loaded into the engine.
    Raises LoadError on a truncated/corrupt file.
    """
    functions = []
    counts = {}
    try:
        with open(path, "rb") as handle:
            read = handle.read
            if stats is not None:
                def read(size, _read=handle.read):
                    chunk = _read(size)
                    stats.loaded_bytes += len(chunk)
                    return chunk
            # A replica keeps logically expired keys: its primary's DEL removes them
            # (Redis's rdbLoad skips expired keys only when iAmMaster()).
            now_ms = None if engine.hooks.get("role") == "slave" else engine.now()
            aux = load_rdb(read, dbs, now_ms=now_ms, limits=engine.config,
                           functions=functions, stats=counts)
    except RdbError as exc:
        raise LoadError(
            "Short read or OOM loading DB. Unrecoverable error, aborting now."
            if "EOF" in exc.message or "end of" in exc.message else
            "Internal error in RDB reading offset %d: %s" % (exc.offset, exc.message),
            "Fatal error loading the DB (%s): %s at offset %d. Exiting." % (
                path, exc.message, exc.offset)) from None
    except OSError as exc:
        raise LoadError("Fatal error loading the DB: %s. Exiting." % exc.strerror) from None
    _note(stats, counts)
    load_functions(engine, functions)
    return aux


def _note(stats, counts: dict) -> None:
    if stats is not None:
        stats.keys_loaded += counts.get("keys", 0)
        stats.keys_expired += counts.get("expired_skipped", 0)


def load_functions(engine, codes: list) -> None:
    """Load function libraries found in an RDB (FUNCTION LOAD REPLACE)."""
    if not codes:
        return
    client = aof_client(engine)
    cache = {}
    for code in codes:
        reply = replay_quietly(engine, client, [b"FUNCTION", b"LOAD", b"REPLACE", code],
                               cache)
        if isinstance(reply, Exception):
            log.warning("Failed loading a function library: %s", reply)


# ---- AOF -----------------------------------------------------------------------------


def _spec_of(argv: list, cache: dict):
    """The command (or subcommand) spec ``argv`` names, or None."""
    name = argv[0]
    spec = cache.get(name)
    if spec is None:
        spec = cache[name] = COMMANDS.get(name.lower().decode("latin-1"))
    if spec is not None and spec.subcommands and len(argv) > 1:
        return spec.subcommands.get(argv[1].lower().decode("latin-1"), spec)
    return spec


def replay_quietly(engine, client, argv: list, cache: dict):
    """Run one command of the AOF (or an RDB's function library) through the engine's
    dispatcher without it counting in INFO commandstats: Redis runs them outside call(),
    and call() skips its statistics in the AOF loading context (the commands of an
    EXEC included; isAOFLoadingContext)."""
    spec = _spec_of(argv, cache)
    if spec is None:
        return engine.execute(client, argv)
    specs = [spec]
    if client.multi is not None and spec.name == "exec":
        specs += [queued for queued, _ in client.multi]
    saved = [(one, one.calls, one.nsec, one.failed_calls, one.rejected_calls)
             for one in specs]
    try:
        return engine.execute(client, argv)
    finally:
        for one, calls, nsec, failed, rejected in saved:
            one.calls, one.nsec, one.failed_calls, one.rejected_calls = (
                calls, nsec, failed, rejected)


def aof_client(engine) -> Client:
    """The fake client that replays AOF commands (authenticated, not in CLIENT LIST)."""
    client = Client(engine, AOF_CLIENT_ID)
    client.authenticated = True
    return client


def read_manifest(directory: str, filename: str):
    """The manifest in ``directory``, or None when there is no AOF yet."""
    path = os.path.join(directory, manifest_name(filename))
    if not os.path.isdir(directory) or not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as handle:
            return parse_manifest(handle.read())
    except ManifestError as exc:
        lines = ["*** FATAL AOF MANIFEST FILE ERROR ***"]
        if exc.line is not None:
            lines += ["Reading the manifest file, at line %d" % exc.linenum,
                      ">>> '%s'" % exc.line]
        raise LoadError(*lines, exc.message) from None
    except OSError as exc:
        raise LoadError("Fatal error: can't open the AOF manifest file %s for reading: %s"
                        % (path, exc.strerror)) from None


def upgrade_old_style_aof(directory: str, filename: str):
    """A single pre-7.0 AOF (``appendonly.aof`` in ``dir``) becomes the BASE of a
    multi-part AOF: moved into ``directory`` under its name, with a manifest (Redis 7's
    aofUpgradePrepare). Returns that manifest, or None when there is no such file."""
    from ember.persistence.aof_manifest import BASE, AofInfo, Manifest, format_manifest
    from ember.persistence.snapshot import fsync_dir, write_file_atomically

    if not os.path.isfile(filename):
        return None
    os.makedirs(directory, exist_ok=True)
    manifest = Manifest(base=AofInfo(filename, 1, BASE), base_seq=1)
    os.replace(filename, os.path.join(directory, filename))
    name = manifest_name(filename)
    data = format_manifest(manifest)
    write_file_atomically(os.path.join(directory, name), lambda write: write(data),
                          "temp-" + name)
    fsync_dir(".")
    log.info("Successfully migrated an old-style AOF into the AOF directory")
    return manifest


def load_aof(engine, directory: str, manifest, truncated_ok: bool,
             stats: LoadStats = None) -> int:
    """Load every file of the manifest (BASE, then INCRs) into the engine; return the
    number of commands replayed. A torn tail of the last file is cut off when
    ``truncated_ok`` (aof-load-truncated), otherwise, and anywhere else, LoadError."""
    files = manifest.files()
    client = None
    cache = {}

    def run(argv):
        replay_quietly(engine, client, argv, cache)

    done = 0

    def progress(offset):
        engine.tick()
        if stats is not None:
            stats.loaded_bytes = done + offset
    total = 0
    for number, info in enumerate(files):
        last = number == len(files) - 1
        path = os.path.join(directory, info.name)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:          # a file the manifest lists must exist
            if isinstance(exc, FileNotFoundError):
                raise LoadError("Unable to obtain the AOF file %s length. stat: %s"
                                % (info.name, exc.strerror)) from None
            raise LoadError("Fatal error: can't open the append log file %s for reading: %s"
                            % (info.name, exc.strerror)) from None
        if not data:
            continue
        kind = "base" if info.type == "b" else "incr"
        client = aof_client(engine)         # a fresh fake client (db 0) per file
        pos = 0
        if aof_load.has_rdb_preamble(data):
            pos = _load_preamble(engine, data, info.name, stats)
        engine.tick()
        try:
            total += aof_load.replay(data, run, pos, progress)
        except aof_load.AofFormatError:
            raise LoadError("Bad file format reading the append only file %s: make a backup "
                            "of your AOF file, then use ./redis-check-aof --fix <filename."
                            "manifest>" % info.name) from None
        except aof_load.AofUnknownCommand as exc:
            raise LoadError("Unknown command '%s' reading the append only file %s"
                            % (exc.name.decode("utf-8", "replace"), info.name)) from None
        except aof_load.AofTruncated as exc:
            _truncated(path, info.name, exc, last, truncated_ok)
        done += len(data)
        if stats is not None:
            stats.loaded_bytes = done
        log.info("DB loaded from %s aof file %s", kind, info.name)
    return total


def aof_size(directory: str, manifest) -> int:
    """Total bytes of the files a manifest lists (INFO loading_total_bytes)."""
    total = 0
    for info in manifest.files():
        try:
            total += os.path.getsize(os.path.join(directory, info.name))
        except OSError:
            pass
    return total


def _load_preamble(engine, data: bytes, name: str, stats) -> int:
    reader = Reader(data=data, track_crc=True)
    functions = []
    counts = {}
    try:
        load_into(reader, engine.dbs, engine.now(), engine.config, functions, counts)
    except RdbError as exc:
        raise LoadError("Error reading the RDB base file %s, AOF loading aborted (%s at "
                        "offset %d)" % (name, exc.message, exc.offset)) from None
    _note(stats, counts)
    load_functions(engine, functions)
    return reader.offset


def _truncated(path: str, name: str, exc, last: bool, truncated_ok: bool) -> None:
    if exc.in_multi:
        log.warning("Revert incomplete MULTI/EXEC transaction in AOF file %s", name)
    if not last:
        raise LoadError("Fatal error: the truncated file is not the last file")
    if not truncated_ok:
        raise LoadError(
            "Unexpected end of file reading the append only file %s. You can: 1) Make a "
            "backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. "
            "2) Alternatively you can set the 'aof-load-truncated' configuration option to "
            "yes and restart the server." % name)
    log.warning("!!! Warning: short read while loading the AOF file %s!!!", name)
    log.warning("!!! Truncating the AOF %s at offset %d !!!", name, exc.valid_up_to)
    try:
        os.truncate(path, exc.valid_up_to)
    except OSError as error:
        raise LoadError("Error truncating the AOF file %s: %s" % (name, error.strerror)) \
            from None
    log.warning("AOF %s loaded anyway because aof-load-truncated is enabled", name)

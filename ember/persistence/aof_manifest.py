"""The multi-part AOF manifest, byte for byte as Redis 7 writes and reads it.

The manifest (``<appendfilename>.manifest`` in ``appenddirname``) lists the AOF's files,
one per line: ``file <name> seq <n> type <b|h|i>``; the BASE first (a snapshot taken at
the last rewrite, in RDB format when aof-use-rdb-preamble is on), then HISTORY files
(left-overs of a finished rewrite, deleted soon after), then the INCR files (the write
commands logged since) in increasing sequence. Files are named
``<appendfilename>.<seq>.base.rdb|.base.aof`` and ``<appendfilename>.<seq>.incr.aof``.
Parsing follows aofLoadManifestFromFile: ``#`` comments, keys in any order, unknown
keys ignored (forward compatibility), strict errors otherwise.
"""

import os
from dataclasses import dataclass, field

from ember.protocol.parser import split_inline
from ember.protocol.sdsrepr import sds_repr

BASE, HISTORY, INCR = "b", "h", "i"
MAX_LINE = 1024


class ManifestError(Exception):
    """A manifest Redis would refuse: ``message`` is Redis's text, ``line`` the culprit."""

    def __init__(self, message: str, line: str = None, linenum: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.linenum = linenum


@dataclass
class AofInfo:
    """One file of the AOF: its name, sequence number and type (b, h or i)."""

    name: str
    seq: int
    type: str


@dataclass
class Manifest:
    """The AOF's files: one BASE (or none), HISTORY files, INCR files in order."""

    base: AofInfo = None
    history: list = field(default_factory=list)
    incrs: list = field(default_factory=list)
    base_seq: int = 0
    incr_seq: int = 0

    def copy(self) -> "Manifest":
        """A deep copy, to change and then swap in atomically (as aofManifestDup)."""
        return Manifest(
            None if self.base is None else AofInfo(self.base.name, self.base.seq, BASE),
            [AofInfo(i.name, i.seq, i.type) for i in self.history],
            [AofInfo(i.name, i.seq, i.type) for i in self.incrs],
            self.base_seq, self.incr_seq)

    def new_base(self, filename: str, rdb_preamble: bool) -> str:
        """Name a new BASE file; the previous one becomes HISTORY (a rewrite finished)."""
        if self.base is not None:
            self.base.type = HISTORY
            self.history.insert(0, self.base)
        self.base_seq += 1
        suffix = ".base.rdb" if rdb_preamble else ".base.aof"
        self.base = AofInfo(f"{filename}.{self.base_seq}{suffix}", self.base_seq, BASE)
        return self.base.name

    def new_incr(self, filename: str) -> str:
        """Name a new INCR file, appended after the others (written from now on)."""
        self.incr_seq += 1
        info = AofInfo(f"{filename}.{self.incr_seq}.incr.aof", self.incr_seq, INCR)
        self.incrs.append(info)
        return info.name

    def incrs_to_history(self, keep_last: int = 1) -> None:
        """Every INCR but the last ``keep_last`` becomes HISTORY (what the rewrite covers)."""
        cut = len(self.incrs) - keep_last
        for info in self.incrs[:cut]:
            info.type = HISTORY
            self.history.append(info)
        del self.incrs[:cut]

    def files(self) -> list:
        """The files to load, in order: the BASE, then the INCRs."""
        return ([self.base] if self.base else []) + list(self.incrs)

    def last_incr(self) -> AofInfo:
        """The INCR file being appended to, or None."""
        return self.incrs[-1] if self.incrs else None


def format_manifest(manifest: Manifest) -> bytes:
    """The manifest file's text, as getAofManifestAsString writes it."""
    out = []
    for info in ([manifest.base] if manifest.base else []) + manifest.history + manifest.incrs:
        out.append("file %s seq %d type %s\n" % (_repr_name(info.name), info.seq, info.type))
    return "".join(out).encode("utf-8", "surrogateescape")


def parse_manifest(data: bytes) -> Manifest:
    """Parse a manifest's bytes; ManifestError with Redis's text when it is invalid."""
    manifest = Manifest()
    max_seq = 0
    if not data:
        raise ManifestError("Found an empty AOF manifest")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    last = len(lines) - 1
    for linenum, raw in enumerate(lines, 1):
        if raw.startswith(b"#"):
            continue
        text = raw.decode("utf-8", "surrogateescape")
        if len(raw) >= MAX_LINE or (linenum - 1 == last and not data.endswith(b"\n")):
            raise ManifestError("The AOF manifest file contains too long line", text, linenum)
        line = raw.strip(b" \t\r\n")
        if not line:
            raise ManifestError("Invalid AOF manifest file format", "", linenum)
        args = split_inline(line)
        if args is None or len(args) < 6 or len(args) % 2:
            raise ManifestError("Invalid AOF manifest file format", text, linenum)
        name, seq, kind = None, 0, ""
        for key, value in zip(args[::2], args[1::2]):
            key = key.lower()
            if key == b"file":
                name = value.decode("utf-8", "surrogateescape")
                if os.path.basename(name) != name:
                    raise ManifestError("File can't be a path, just a filename", text, linenum)
            elif key == b"seq":
                seq = _atoll(value)
            elif key == b"type":
                kind = value[:1].decode("latin-1")
        if not name or not seq or not kind:
            raise ManifestError("Invalid AOF manifest file format", text, linenum)
        info = AofInfo(name, seq, kind)
        if kind == BASE:
            if manifest.base is not None:
                raise ManifestError("Found duplicate base file information", text, linenum)
            manifest.base = info
            manifest.base_seq = seq
        elif kind == HISTORY:
            manifest.history.append(info)
        elif kind == INCR:
            if seq <= max_seq:
                raise ManifestError("Found a non-monotonic sequence number", text, linenum)
            manifest.incrs.append(info)
            manifest.incr_seq = max_seq = seq
        else:
            raise ManifestError("Unknown AOF file type", text, linenum)
    return manifest


def manifest_name(filename: str) -> str:
    """``appendonly.aof`` -> ``appendonly.aof.manifest``."""
    return filename + ".manifest"


def _atoll(value: bytes) -> int:
    """C's atoll: the leading digits (with a sign), 0 when there are none."""
    digits = b""
    for i, byte in enumerate(value):
        char = bytes((byte,))
        if char.isdigit() or (i == 0 and char in b"+-"):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def _repr_name(name: str) -> str:
    """A file name as written in the manifest: quoted (sdscatrepr) only when needed."""
    raw = name.encode("utf-8", "surrogateescape")
    if raw and all(33 <= b < 127 and b not in b"\"'\\" for b in raw):
        return name
    return sds_repr(name)



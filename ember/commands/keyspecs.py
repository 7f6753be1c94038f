"""Key specifications: where a command's keys sit in its argv and what it does to them.

Redis 7 describes the keys of every command with key specs (the 9th element of COMMAND
INFO, and the flags of COMMAND GETKEYSANDFLAGS). A spec is a *begin search* step (a fixed
index, or a keyword searched for from a position), a *find keys* step (a range from
there, or a count argument followed by that many keys) and flags saying what the command
does to those keys (RO/RW/OW/RM plus access/update/insert/delete ...).

Most commands declare nothing: :func:`key_specs` derives one range spec from the
command's first/last/step and its flags. A command whose keys are elsewhere, or whose
keys are used differently, declares them on its ``@command``::

    @command("zunionstore", ..., key_specs=(
        KeySpec("OW update", index=1),
        KeySpec("RO access", index=2, keynum=(0, 1, 1)),
    ))
"""

from ember.protocol.numbers import parse_int
from ember.protocol.replies import SetReply, Status

# Redis's key-spec flags, in the order COMMAND INFO lists them.
KEY_FLAG_ORDER = ("RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
                  "not_key", "incomplete", "variable_flags")
_KNOWN_KEY_FLAGS = frozenset(KEY_FLAG_ORDER)


class KeySpec:
    """One Redis key spec.

    ``index=N`` starts the search at argv[N]; ``keyword=b"STORE", startfrom=S`` starts it
    after the first KEYWORD found scanning from argv[S] (backwards from the end when S is
    negative); neither means "unknown". Then ``keynum=(numidx, firstkey, step)`` reads the
    key count at begin+numidx, or else the range ``lastkey`` (relative to the begin, or
    counted from the end when negative), ``keystep`` and ``limit`` applies.
    """

    __slots__ = ("flags", "begin", "find", "notes")

    def __init__(self, flags: str, index: int = None, keyword=None, startfrom: int = 1,
                 lastkey: int = 0, keystep: int = 1, limit: int = 0, keynum=None,
                 notes: str = ""):
        names = flags.split()
        unknown = set(names) - _KNOWN_KEY_FLAGS
        if unknown:
            raise ValueError(f"unknown key-spec flags {sorted(unknown)}")
        self.flags = tuple(f for f in KEY_FLAG_ORDER if f in names)
        if index is not None:
            self.begin = ("index", index)
        elif keyword is not None:
            if isinstance(keyword, str):
                keyword = keyword.encode()
            self.begin = ("keyword", keyword, startfrom)
        else:
            self.begin = ("unknown",)
        if self.begin[0] == "unknown":
            self.find = ("unknown",)
        elif keynum is not None:
            self.find = ("keynum",) + tuple(keynum)
        else:
            self.find = ("range", lastkey, keystep, limit)
        self.notes = notes

    def __repr__(self):
        return f"KeySpec({' '.join(self.flags)!r}, begin={self.begin}, find={self.find})"

    def as_reply(self) -> dict:
        """The map COMMAND INFO shows for this spec."""
        out = {}
        if self.notes:
            out[b"notes"] = self.notes.encode()
        out[b"flags"] = SetReply(Status(f) for f in self.flags)
        kind = self.begin[0]
        if kind == "index":
            spec = {b"index": self.begin[1]}
        elif kind == "keyword":
            spec = {b"keyword": self.begin[1], b"startfrom": self.begin[2]}
        else:
            spec = {}
        out[b"begin_search"] = {b"type": kind.encode(), b"spec": spec}
        kind = self.find[0]
        if kind == "range":
            spec = {b"lastkey": self.find[1], b"keystep": self.find[2], b"limit": self.find[3]}
        elif kind == "keynum":
            spec = {b"keynumidx": self.find[1], b"firstkey": self.find[2],
                    b"keystep": self.find[3]}
        else:
            spec = {}
        out[b"find_keys"] = {b"type": kind.encode(), b"spec": spec}
        return out

    def positions(self, argv: list):
        """Indexes of argv this spec selects, or None when argv does not fit the spec.

        This is Redis's getKeysUsingKeySpecs for one spec; positions past the end of argv
        are dropped (the command itself reports the arity or syntax error).
        """
        argc = len(argv)
        if self.begin[0] == "index":
            first = self.begin[1]
        elif self.begin[0] == "keyword":
            first = _search_keyword(argv, self.begin[1], self.begin[2])
            if first is None:
                return []
        else:
            return None
        if self.find[0] == "range":
            _, lastkey, step, limit = self.find
            if lastkey >= 0:
                last = first + lastkey
            elif limit <= 1:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif self.find[0] == "keynum":
            _, numidx, firstkey, step = self.find
            if first + numidx >= argc:
                return None
            numkeys = parse_int(argv[first + numidx])
            if numkeys is None or numkeys < 0:
                return None
            first += firstkey
            last = first + numkeys - 1
        else:
            return None
        if step <= 0:
            return None
        return [i for i in range(first, last + 1, step) if i < argc]


def _search_keyword(argv: list, keyword: bytes, startfrom: int):
    """Index after the first ``keyword`` found from ``startfrom`` (backwards if < 0)."""
    argc = len(argv)
    keyword = keyword.lower()
    if startfrom >= 0:
        candidates = range(startfrom, argc)
    else:
        candidates = range(argc + startfrom, 0, -1)
    for i in candidates:
        if 1 <= i < argc and argv[i].lower() == keyword:
            return i + 1
    return None


def default_flags(spec) -> str:
    """Key flags implied by a command's own flags (used when it declares no key specs)."""
    flags = spec.flags
    if "pubsub" in flags:
        return "not_key"            # shard channels: positioned like keys, but not keys
    if "readonly" in flags:
        return "RO access"
    if "write" in flags:
        return "RW update" if "denyoom" in flags else "RW delete"
    return "RO"


def key_specs(spec) -> tuple:
    """The command's key specs: the declared ones, or one derived from first/last/step."""
    if spec.key_specs is not None:
        return spec.key_specs
    if spec.first_key <= 0:
        return ()
    first, last = spec.first_key, spec.last_key
    return (KeySpec(default_flags(spec), index=first,
                    lastkey=last - first if last >= 0 else last, keystep=spec.key_step),)


def has_keys(spec) -> bool:
    """True when the command takes key arguments (Redis's doesCommandHaveKeys)."""
    if spec.getkeys is not None:
        return True
    return any("not_key" not in ks.flags for ks in key_specs(spec))


def flags_by_position(spec, argv: list) -> dict:
    """argv index -> key flags, for every position some key spec selects."""
    found = {}
    for ks in key_specs(spec):
        for pos in ks.positions(argv) or ():
            found.setdefault(pos, ks.flags)
    return found

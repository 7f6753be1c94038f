"""The command table: every command is declared once, next to its handler.

    @command("get", arity=2, flags="readonly fast", keys=(1, 1, 1), group="string")
    def get(ctx, argv): ...

Subcommands are declared with a ``|``: ``@command("config|get", ...)``; the container
(``config``) is declared with ``container=True`` and no handler of its own.

Everything else reads this table: the dispatcher (lookup, arity, flags), COMMAND and its
subcommands, key extraction (COMMAND GETKEYS, WATCH, notifications, cluster slots) and
propagation. Flag names and key positions are Redis's, as COMMAND INFO reports them.
"""

from dataclasses import dataclass, field

# Redis's flags, in the order COMMAND INFO lists them.
FLAG_ORDER = (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys", "protected",
    "module_getkeys", "module_no_cluster", "no_async_loading", "no_multi", "movablekeys",
    "allow_busy",
)
_KNOWN_FLAGS = frozenset(FLAG_ORDER)

# ACL categories implied by the command group (Redis's @string, @keyspace ...).
GROUP_CATEGORY = {
    "string": "string", "bitmap": "bitmap", "generic": "keyspace", "hash": "hash",
    "list": "list", "set": "set", "sorted-set": "sortedset", "stream": "stream",
    "hyperloglog": "hyperloglog", "geo": "geo", "pubsub": "pubsub",
    "scripting": "scripting", "transactions": "transaction", "connection": "connection",
    "server": None, "cluster": None, "sentinel": None,
}


@dataclass(eq=False, slots=True)
class CommandSpec:
    """One command or subcommand, as the table declares it."""

    name: str                      # full lowercase name, "get" or "config|get"
    arity: int                     # Redis arity: N exact, -N at least N
    flags: tuple                   # Redis flag names, in FLAG_ORDER
    first_key: int = 0
    last_key: int = 0
    key_step: int = 0
    group: str = "generic"
    handler: object = None
    since: str = "1.0.0"
    summary: str = ""
    complexity: str = ""
    # Extra ACL categories beyond those the flags and group imply ("dangerous", "slow"...).
    acl: tuple = ()
    # For commands whose keys cannot be found from first/last/step: argv -> key indexes.
    getkeys: object = None
    # Optional Redis key specs (ember.commands.keyspecs.KeySpec ...) for COMMAND INFO and
    # GETKEYSANDFLAGS; None means "derive one from first/last/step and the flags".
    key_specs: tuple = None
    # Redis's command tips for clients ("nondeterministic_output", "request_policy:...").
    tips: tuple = ()
    subcommands: dict = field(default_factory=dict)
    parent: "CommandSpec" = None
    # Hot-path booleans derived from flags.
    is_write: bool = False
    is_readonly: bool = False
    denyoom: bool = False
    no_auth: bool = False
    calls: int = 0
    # Time spent in the handler, in nanoseconds (INFO commandstats shows ``usec``).
    nsec: int = 0
    rejected_calls: int = 0
    failed_calls: int = 0
    # The argument counts (name included) the arity allows: min_args <= len(argv) <= max_args.
    min_args: int = 0
    max_args: int = 0
    # A function running a stretch of this command at once, and whether it needs every run
    # allowed or only reading ones (commands/runs.py); None for most commands.
    run: object = None
    run_level: int = 0

    def __post_init__(self):
        unknown = set(self.flags) - _KNOWN_FLAGS
        if unknown:
            raise ValueError(f"{self.name}: unknown flags {sorted(unknown)}")
        self.flags = tuple(f for f in FLAG_ORDER if f in self.flags)
        self.is_write = "write" in self.flags
        self.is_readonly = "readonly" in self.flags
        self.denyoom = "denyoom" in self.flags
        self.no_auth = "no_auth" in self.flags
        self.min_args = abs(self.arity)
        self.max_args = self.arity if self.arity > 0 else 1 << 62

    @property
    def usec(self) -> int:
        """Microseconds spent in the handler (INFO commandstats)."""
        return self.nsec // 1000

    @usec.setter
    def usec(self, value: int) -> None:
        self.nsec = value * 1000

    @property
    def acl_categories(self) -> list:
        """Redis-style ACL categories (@write, @read, @string, @fast/@slow, ...)."""
        cats = []
        if "write" in self.flags:
            cats.append("write")
        if "readonly" in self.flags and self.group != "scripting":
            cats.append("read")
        if "admin" in self.flags:
            cats.extend(["admin", "dangerous"])
        if "pubsub" in self.flags:
            cats.append("pubsub")
        group_cat = GROUP_CATEGORY.get(self.group)
        if group_cat and group_cat not in cats:
            cats.append(group_cat)
        for extra in self.acl:
            if extra not in cats:
                cats.append(extra)
        if "blocking" in self.flags:
            cats.append("blocking")
        cats.append("fast" if "fast" in self.flags else "slow")
        return ["@" + c for c in cats]

    def key_indexes(self, argv: list) -> list:
        """Indexes in ``argv`` that hold key names."""
        if self.getkeys is not None:
            return self.getkeys(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step))

    def keys(self, argv: list) -> list:
        """The key names ``argv`` touches."""
        return [argv[i] for i in self.key_indexes(argv)]


# name -> CommandSpec for top-level commands; subcommands hang off their container.
COMMANDS = {}


def command(name: str, arity: int, flags: str = "", keys=(0, 0, 0), group: str = "generic",
            since: str = "1.0.0", summary: str = "", complexity: str = "", acl: str = "",
            getkeys=None, container: bool = False, key_specs=None, tips: str = ""):
    """Declare a command. Used as a decorator on its handler ``handler(ctx, argv)``."""

    def register(handler):
        spec = CommandSpec(
            name=name, arity=arity, flags=tuple(flags.split()), first_key=keys[0],
            last_key=keys[1], key_step=keys[2], group=group, handler=handler, since=since,
            summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
            complexity=complexity, acl=tuple(acl.split()), getkeys=getkeys,
            key_specs=tuple(key_specs) if key_specs is not None else None,
            tips=tuple(tips.split()),
        )
        if "|" in name:
            parent_name, sub = name.split("|", 1)
            parent = COMMANDS[parent_name]
            spec.parent = parent
            parent.subcommands[sub] = spec
        else:
            if name in COMMANDS:
                raise ValueError(f"command {name} declared twice")
            COMMANDS[name] = spec
        return handler

    if container:
        register(None)
        return None
    return register


def lookup(argv: list):
    """Find the spec for ``argv``: (spec, None), or (None, error-kind) for unknown names.

    For containers the subcommand's spec is returned; an unknown subcommand returns
    (container, "subcommand").
    """
    spec = COMMANDS.get(argv[0].lower().decode("latin-1"))
    if spec is None:
        return None, "command"
    if spec.subcommands and len(argv) > 1:
        sub = spec.subcommands.get(argv[1].lower().decode("latin-1"))
        if sub is None:
            return spec, "subcommand"
        return sub, None
    return spec, None


def all_commands():
    """Every top-level spec, in name order."""
    return [COMMANDS[name] for name in sorted(COMMANDS)]

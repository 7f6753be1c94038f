"""COMMAND and its subcommands: the command table, as Redis 7.2 shapes it.

Everything here is read from the one table (:mod:`ember.commands.registry`): names,
arity, flags, key positions, ACL categories, key specs (:mod:`ember.commands.keyspecs`),
and the documentation (summary = first line of the handler's docstring, since, group,
complexity). Nothing about a command is written down twice.
"""

from ember.commands.keyspecs import default_flags, flags_by_position, has_keys, key_specs
from ember.commands.registry import COMMANDS, all_commands, command, lookup
from ember.errors import SYNTAX, ReplyError
from ember.protocol.replies import SetReply, Status
from ember.storage.glob import compile_glob

# Redis's ACL categories in the order COMMAND INFO lists them (acl.c's table).
CATEGORY_ORDER = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)
_CATEGORY_RANK = {name: i for i, name in enumerate(CATEGORY_ORDER)}

# Flags Redis keeps out of COMMAND INFO on purpose (server.c addReplyFlagsForCommand).
_HIDDEN_FLAGS = frozenset(("may_replicate", "sentinel", "only_sentinel", "protected"))

_HELP = (
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
)


# ---- reading the table ------------------------------------------------------------------

def spec_by_name(name: bytes):
    """The spec for "get" or "config|get" (any case), or None (Redis's lookupCommandBySds)."""
    parts = name.decode("latin-1").lower().split("|")
    spec = COMMANDS.get(parts[0])
    if spec is None or len(parts) == 1:
        return spec
    if len(parts) > 2 or not spec.subcommands:
        return None
    return spec.subcommands.get(parts[1])


def acl_categories(spec) -> list:
    """The command's ACL categories (without "@"), in Redis's order."""
    names = [c[1:] for c in spec.acl_categories]
    return sorted(names, key=lambda c: _CATEGORY_RANK.get(c, len(CATEGORY_ORDER)))


def command_info(spec) -> list:
    """The 10-element COMMAND INFO entry of one command (subcommands nested)."""
    if spec.subcommands:
        subs = [command_info(sub) for sub in spec.subcommands.values()]
    else:
        subs = SetReply()
    return [
        spec.name.encode(),
        spec.arity,
        SetReply(Status(f) for f in spec.flags if f not in _HIDDEN_FLAGS),
        spec.first_key,
        spec.last_key,
        spec.key_step,
        SetReply(Status("@" + c) for c in acl_categories(spec)),
        SetReply(tip.encode() for tip in spec.tips),
        SetReply(ks.as_reply() for ks in key_specs(spec)),
        subs,
    ]


def command_docs(spec) -> dict:
    """The COMMAND DOCS map of one command: summary, since, group, complexity, subcommands."""
    docs = {}
    summary = spec.summary
    if not summary and spec.subcommands:
        summary = f"A container for {spec.name.upper()} commands."
    if summary:
        docs[b"summary"] = summary.encode()
    if spec.since:
        docs[b"since"] = spec.since.encode()
    docs[b"group"] = spec.group.encode()
    complexity = spec.complexity
    if not complexity and spec.subcommands and spec.handler is None:
        complexity = "Depends on subcommand."
    if complexity:
        docs[b"complexity"] = complexity.encode()
    if spec.subcommands:
        docs[b"subcommands"] = {sub.name.encode(): command_docs(sub)
                                for sub in spec.subcommands.values()}
    return docs


def every_spec():
    """Every command and subcommand, containers before their subcommands."""
    for spec in all_commands():
        yield spec
        yield from spec.subcommands.values()


# ---- the commands -----------------------------------------------------------------------

_CMD = dict(flags="loading stale", group="server", acl="connection")


@command("command", arity=-1, since="2.8.13", tips="nondeterministic_output_order",
         complexity="O(N) where N is the total number of Redis commands", **_CMD)
def command_(ctx, argv):
    """Returns detailed information about all commands."""
    return [command_info(spec) for spec in all_commands()]


@command("command|count", arity=2, since="2.8.13", complexity="O(1)", **_CMD)
def command_count(ctx, argv):
    """Returns a count of commands."""
    return len(COMMANDS)


@command("command|info", arity=-2, since="2.8.13", tips="nondeterministic_output_order",
         complexity="O(N) where N is the number of commands to look up", **_CMD)
def command_info_(ctx, argv):
    """Returns information about one, multiple or all commands."""
    if len(argv) == 2:
        return [command_info(spec) for spec in all_commands()]
    out = []
    for name in argv[2:]:
        spec = spec_by_name(name)
        out.append(command_info(spec) if spec is not None else None)
    return out


@command("command|docs", arity=-2, since="7.0.0", tips="nondeterministic_output_order",
         complexity="O(N) where N is the number of commands to look up", **_CMD)
def command_docs_(ctx, argv):
    """Returns documentary information about one, multiple or all commands."""
    if len(argv) == 2:
        return {spec.name.encode(): command_docs(spec) for spec in all_commands()}
    out = {}
    for name in argv[2:]:
        spec = spec_by_name(name)
        if spec is not None:
            out[spec.name.encode()] = command_docs(spec)
    return out


@command("command|list", arity=-2, since="7.0.0", tips="nondeterministic_output_order",
         complexity="O(N) where N is the total number of Redis commands", **_CMD)
def command_list(ctx, argv):
    """Returns a list of command names."""
    keep = None
    i = 2
    while i < len(argv):
        if argv[i].lower() != b"filterby" or len(argv) - 1 - i != 2:
            raise ReplyError(SYNTAX)
        kind, arg = argv[i + 1].lower(), argv[i + 2]
        if kind == b"module":
            keep = _no_command                  # ember loads no modules
        elif kind == b"aclcat":
            keep = _in_category(arg.decode("latin-1").lower())
        elif kind == b"pattern":
            keep = _matches(compile_glob(arg, nocase=True))
        else:
            raise ReplyError(SYNTAX)
        i += 3
    return [spec.name.encode() for spec in every_spec() if keep is None or keep(spec)]


def _no_command(spec) -> bool:
    return False


def _in_category(category: str):
    return lambda spec: category in acl_categories(spec)


def _matches(glob):
    return lambda spec: glob.match(spec.name.encode())


def _keys_and_flags(argv: list) -> list:
    """(index, flags) of the keys in the full command argv[2:]; Redis's errors."""
    target = argv[2:]
    spec, missing = lookup(target)
    if spec is None or missing:
        raise ReplyError("ERR Invalid command specified")
    if not has_keys(spec):
        raise ReplyError("ERR The command has no key arguments")
    argc = len(target)
    if (spec.arity > 0 and spec.arity != argc) or argc < -spec.arity:
        raise ReplyError("ERR Invalid number of arguments specified for command")
    try:
        positions = [i for i in spec.key_indexes(target) if 0 < i < argc]
    except (ReplyError, ValueError, IndexError):
        positions = []
    if not positions:
        if "no_mandatory_keys" in spec.flags:
            return []
        raise ReplyError("ERR Invalid arguments specified for command")
    known = flags_by_position(spec, target)
    default = tuple(default_flags(spec).split())
    return [(target[i], known.get(i, default)) for i in positions]


@command("command|getkeys", arity=-3, since="2.8.13",
         complexity="O(N) where N is the number of arguments to the command", **_CMD)
def command_getkeys(ctx, argv):
    """Extracts the key names from an arbitrary command."""
    return [key for key, _ in _keys_and_flags(argv)]


@command("command|getkeysandflags", arity=-3, since="7.0.0",
         complexity="O(N) where N is the number of arguments to the command", **_CMD)
def command_getkeysandflags(ctx, argv):
    """Extracts the key names and access flags for an arbitrary command."""
    return [[key, SetReply(Status(f) for f in flags)] for key, flags in _keys_and_flags(argv)]


@command("command|help", arity=2, since="5.0.0", complexity="O(1)", **_CMD)
def command_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return [Status(line) for line in _HELP]

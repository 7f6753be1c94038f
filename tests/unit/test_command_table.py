"""The command table against Redis's facts, and the table-driven COMMAND replies (no sockets).

tests/data/redis-commands.tsv lists every Redis 7.0-7.4 command and subcommand as
COMMAND reports it on a real server. Every command ember registers must be declared with
exactly those facts (arity, flags, key positions; group and first version for COMMAND
DOCS), must have a handler, and the handler must have a docstring (its summary).
"""

import csv
from pathlib import Path

import pytest

import ember.commands
from ember.commands.engine import Engine
from ember.commands.introspection import command_info, every_spec, spec_by_name
from ember.commands.keyspecs import KeySpec, flags_by_position, has_keys, key_specs
from ember.commands.registry import COMMANDS, CommandSpec
from ember.errors import ReplyError
from ember.server.config import Config

ember.commands.load_all()

TSV = Path(__file__).resolve().parent.parent / "data" / "redis-commands.tsv"
# The TSV spells two groups differently from COMMAND DOCS (and the registry).
GROUP_NAMES = {"generic/keyspace": "generic", "sorted_set": "sorted-set"}


def load_facts() -> dict:
    """TSV rows keyed by ember's spec name ("get", "config|get")."""
    with TSV.open() as fh:
        lines = [line for line in fh if not line.startswith("#")]
    facts = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        facts[row["name"].lower().replace(" ", "|")] = row
    return facts


FACTS = load_facts()


def fact_mismatches(spec, facts=FACTS) -> list:
    """Differences between a spec's declared arity/flags/keys and Redis's facts."""
    row = facts.get(spec.name)
    if row is None:
        return [f"{spec.name}: not a Redis 7.x command (missing from {TSV.name})"]
    problems = []
    if spec.arity != int(row["arity"]):
        problems.append(f"{spec.name}: arity {spec.arity}, Redis says {row['arity']}")
    want_flags = set(filter(None, row["flags"].split(",")))
    if set(spec.flags) != want_flags:
        problems.append(f"{spec.name}: flags {sorted(spec.flags)}, Redis says "
                        f"{sorted(want_flags)}")
    keys = (spec.first_key, spec.last_key, spec.key_step)
    want_keys = (int(row["first_key"]), int(row["last_key"]), int(row["step"]))
    if keys != want_keys:
        problems.append(f"{spec.name}: keys {keys}, Redis says {want_keys}")
    return problems


def doc_mismatches(spec, facts=FACTS) -> list:
    """Differences in what COMMAND DOCS reports: group and first version."""
    row = facts.get(spec.name)
    if row is None:
        return []
    problems = []
    group = GROUP_NAMES.get(row["group"], row["group"])
    if spec.group != group:
        problems.append(f"{spec.name}: group {spec.group!r}, Redis says {group!r}")
    if spec.since != row["since"]:
        problems.append(f"{spec.name}: since {spec.since!r}, Redis says {row['since']!r}")
    return problems


def all_specs() -> list:
    return list(every_spec())


# ---- the table against Redis ------------------------------------------------------------

def test_table_is_not_empty_and_reads_the_tsv():
    assert len(FACTS) > 300
    assert FACTS["get"]["arity"] == "2"
    assert "getkeys" in COMMANDS["command"].subcommands
    assert {"get", "set", "command"} <= set(COMMANDS)


def test_every_registered_command_has_redis_arity_flags_and_keys():
    problems = [p for spec in all_specs() for p in fact_mismatches(spec)]
    assert not problems, "\n".join(problems)


def test_every_registered_command_has_redis_group_and_since():
    problems = [p for spec in all_specs() for p in doc_mismatches(spec)]
    assert not problems, "\n".join(problems)


def test_the_check_catches_wrong_facts():
    good = COMMANDS["get"]
    assert fact_mismatches(good) == []
    wrong = [
        CommandSpec(name="get", arity=-2, flags=("readonly", "fast"), first_key=1,
                    last_key=1, key_step=1),
        CommandSpec(name="get", arity=2, flags=("readonly",), first_key=1, last_key=1,
                    key_step=1),
        CommandSpec(name="get", arity=2, flags=("readonly", "fast"), first_key=1,
                    last_key=-1, key_step=1),
        CommandSpec(name="getx", arity=2, flags=("readonly", "fast")),
    ]
    for spec in wrong:
        assert fact_mismatches(spec), spec
    assert doc_mismatches(CommandSpec(name="get", arity=2, flags=(), group="generic",
                                      since="1.0.0"))
    assert doc_mismatches(CommandSpec(name="get", arity=2, flags=(), group="string",
                                      since="2.0.0"))


def handler_problems(specs) -> list:
    """Commands declared without a handler, handlers without a docstring/summary."""
    problems = []
    for spec in specs:
        if spec.handler is None:
            if not spec.subcommands:
                problems.append(f"{spec.name}: declared without a handler")
            continue
        if not (spec.handler.__doc__ or "").strip():
            problems.append(f"{spec.name}: handler {spec.handler.__name__} has no docstring")
        if not spec.summary:
            problems.append(f"{spec.name}: no summary for COMMAND DOCS")
    return problems


def test_every_command_has_a_handler_with_a_docstring():
    problems = handler_problems(all_specs())
    assert not problems, "\n".join(problems)


def test_the_handler_check_catches_missing_handlers_and_docstrings():
    def undocumented(ctx, argv):
        return None

    container = CommandSpec(name="box", arity=-2, flags=())
    container.subcommands["a"] = CommandSpec(name="box|a", arity=2, flags=(),
                                             handler=COMMANDS["get"].handler, summary="x")
    assert handler_problems([container, *container.subcommands.values()]) == []
    assert handler_problems([CommandSpec(name="x", arity=1, flags=())])
    assert handler_problems([CommandSpec(name="x", arity=1, flags=(), handler=undocumented)])


def test_subcommands_hang_off_their_container():
    for spec in COMMANDS.values():
        assert spec.name == spec.name.lower() and "|" not in spec.name
        for sub_name, sub in spec.subcommands.items():
            assert sub.name == f"{spec.name}|{sub_name}"
            assert sub.parent is spec
            assert not sub.subcommands


# ---- key specs --------------------------------------------------------------------------

def test_derived_key_specs_follow_first_last_step():
    get, dels, mset = COMMANDS["get"], COMMANDS["del"], COMMANDS["mset"]
    (ks,) = key_specs(get)
    assert ks.flags == ("RO", "access")
    assert ks.begin == ("index", 1) and ks.find == ("range", 0, 1, 0)
    (ks,) = key_specs(dels)
    assert ks.flags == ("RW", "delete") and ks.find == ("range", -1, 1, 0)
    (ks,) = key_specs(mset)
    assert ks.flags == ("RW", "update") and ks.find == ("range", -1, 2, 0)
    assert key_specs(COMMANDS["ping"]) == ()
    assert not has_keys(COMMANDS["ping"])
    assert has_keys(get)


def test_every_derived_key_spec_finds_the_same_keys_as_the_table():
    for spec in all_specs():
        if spec.key_specs is not None or spec.getkeys is not None or spec.first_key <= 0:
            continue
        argc = max(abs(spec.arity), spec.first_key + 1, spec.last_key + 1) + 3
        argv = [b"%d" % i for i in range(argc)]
        if spec.arity > 0:
            argv = argv[:spec.arity]
        expected = spec.key_indexes(argv)
        assert sorted(flags_by_position(spec, argv)) == expected, spec.name


def test_keyspec_index_range_and_limit():
    argv = [b"cmd", b"a", b"b", b"c", b"d"]
    assert KeySpec("RO", index=1).positions(argv) == [1]
    assert KeySpec("RO", index=1, lastkey=-1).positions(argv) == [1, 2, 3, 4]
    assert KeySpec("RO", index=1, lastkey=-2).positions(argv) == [1, 2, 3]
    assert KeySpec("RO", index=1, lastkey=-1, keystep=2).positions(argv) == [1, 3]
    # XREAD-style: the first half of what follows STREAMS.
    xread = [b"xread", b"count", b"1", b"STREAMS", b"s1", b"s2", b"0", b"0"]
    spec = KeySpec("RO access", keyword="STREAMS", startfrom=1, lastkey=-1, limit=2)
    assert spec.positions(xread) == [4, 5]


def test_keyspec_keyword_and_keynum():
    zu = [b"zunionstore", b"dst", b"2", b"a", b"b", b"WEIGHTS", b"1", b"2"]
    assert KeySpec("RO access", index=2, keynum=(0, 1, 1)).positions(zu) == [3, 4]
    assert KeySpec("RO", index=2, keynum=(0, 1, 1)).positions(
        [b"zunionstore", b"d", b"x", b"a"]) is None
    assert KeySpec("RO", index=2, keynum=(0, 1, 1)).positions(
        [b"zunionstore", b"d", b"-1", b"a"]) is None
    sort = [b"sort", b"k", b"BY", b"w", b"store", b"dst"]
    assert KeySpec("OW update", keyword="STORE", startfrom=1).positions(sort) == [5]
    assert KeySpec("OW update", keyword="STORE", startfrom=-1).positions(sort) == [5]
    assert KeySpec("OW update", keyword="STORE", startfrom=1).positions(sort[:2]) == []
    assert KeySpec("RO incomplete").positions(sort) is None


def test_keyspec_reply_shape_and_flag_validation():
    reply = KeySpec("access RW", index=2, keynum=(0, 1, 1), notes="n").as_reply()
    assert list(reply) == [b"notes", b"flags", b"begin_search", b"find_keys"]
    assert reply[b"flags"] == ["RW", "access"]
    assert reply[b"find_keys"] == {b"type": b"keynum",
                                   b"spec": {b"keynumidx": 0, b"firstkey": 1, b"keystep": 1}}
    unknown = KeySpec("RW incomplete").as_reply()
    assert unknown[b"begin_search"] == {b"type": b"unknown", b"spec": {}}
    with pytest.raises(ValueError):
        KeySpec("RW bogus", index=1)


# ---- COMMAND replies built from the table ------------------------------------------------

@pytest.fixture
def run():
    engine = Engine(Config())
    client = engine.new_client()

    def execute(*args):
        return engine.execute(client, [a.encode() if isinstance(a, str) else a for a in args])
    return execute


def test_command_info_entries(run):
    (get,) = run("COMMAND", "INFO", "GET")
    assert get[:7] == [b"get", 2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"]]
    assert get[7] == [] and get[9] == [] and len(get[8]) == 1
    assert run("COMMAND", "INFO", "nosuch", "config|nosuch|x", "get|x") == [None, None, None]
    (sub,) = run("COMMAND", "INFO", "COMMAND|getkeys")
    assert sub[:7] == [b"command|getkeys", -3, ["loading", "stale"], 0, 0, 0,
                       ["@slow", "@connection"]]
    (container,) = run("COMMAND", "INFO", "command")
    assert sorted(entry[0] for entry in container[9]) == sorted(
        s.name.encode() for s in COMMANDS["command"].subcommands.values())
    every = run("COMMAND")
    assert len(every) == run("COMMAND", "COUNT") == len(COMMANDS)
    assert every == run("COMMAND", "INFO")
    assert [e[0] for e in every] == sorted(n.encode() for n in COMMANDS)


def test_command_info_hides_the_flags_redis_hides():
    spec = CommandSpec(name="x", arity=1, flags=("write", "may_replicate", "protected"))
    assert command_info(spec)[2] == ["write"]


def test_command_docs(run):
    docs = run("COMMAND", "DOCS", "get", "nosuch", "command")
    assert list(docs) == [b"get", b"command"]
    assert docs[b"get"][b"summary"] == COMMANDS["get"].summary.encode()
    assert docs[b"get"][b"since"] == b"1.0.0" and docs[b"get"][b"group"] == b"string"
    subs = docs[b"command"][b"subcommands"]
    assert subs[b"command|docs"][b"since"] == b"7.0.0"
    assert b"subcommands" not in docs[b"get"]
    assert run("COMMAND", "DOCS", "nosuch") == {}
    assert len(run("COMMAND", "DOCS")) == len(COMMANDS)


def test_command_list_and_filters(run):
    names = run("COMMAND", "LIST")
    assert len(names) == sum(1 + len(s.subcommands) for s in COMMANDS.values())
    assert b"command|getkeys" in names and b"get" in names
    assert run("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert run("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    strings = run("COMMAND", "LIST", "FILTERBY", "aclcat", "STRING")
    assert b"get" in strings and b"del" not in strings
    assert run("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|G*") == [
        b"command|getkeys", b"command|getkeysandflags"]
    assert run("COMMAND", "LIST", "FILTERBY", "PATTERN", "c?mmand|[h-i]*") == [
        b"command|info", b"command|help"]
    for bad in (("x",), ("FILTERBY",), ("FILTERBY", "FOO", "x"), ("FILTERBY", "PATTERN"),
                ("FILTERBY", "PATTERN", "x", "y")):
        assert run("COMMAND", "LIST", *bad) == ReplyError("ERR syntax error"), bad


def test_command_getkeys_and_errors(run):
    assert run("COMMAND", "GETKEYS", "mset", "a", "1", "b") == [b"a", b"b"]
    assert run("COMMAND", "GETKEYS", "DEL", "a", "b") == [b"a", b"b"]
    assert run("COMMAND", "GETKEYSANDFLAGS", "get", "k") == [[b"k", ["RO", "access"]]]
    assert run("COMMAND", "GETKEYS", "nosuch", "a") == ReplyError(
        "ERR Invalid command specified")
    assert run("COMMAND", "GETKEYS", "command", "nosuch", "a") == ReplyError(
        "ERR Invalid command specified")
    assert run("COMMAND", "GETKEYS", "ping") == ReplyError(
        "ERR The command has no key arguments")
    assert run("COMMAND", "GETKEYS", "get", "a", "b") == ReplyError(
        "ERR Invalid number of arguments specified for command")
    assert run("COMMAND", "GETKEYS", "set", "k") == ReplyError(
        "ERR Invalid number of arguments specified for command")


def test_command_getkeys_uses_getkeys_and_declared_specs(run):
    """A movable-keys command: keys from its getkeys function, flags from its specs."""
    def getkeys(argv):
        count = int(argv[2])
        if count <= 0:
            raise ReplyError("ERR numkeys")
        return [1] + list(range(3, 3 + count))

    spec = CommandSpec(name="testzstore", arity=-4, flags=("write", "denyoom", "movablekeys"),
                       first_key=1, last_key=1, key_step=1, getkeys=getkeys,
                       key_specs=(KeySpec("OW update", index=1),
                                  KeySpec("RO access", index=2, keynum=(0, 1, 1))))
    COMMANDS["testzstore"] = spec
    try:
        assert run("COMMAND", "GETKEYSANDFLAGS", "testzstore", "d", "2", "a", "b") == [
            [b"d", ["OW", "update"]], [b"a", ["RO", "access"]], [b"b", ["RO", "access"]]]
        assert run("COMMAND", "GETKEYS", "testzstore", "d", "0", "a") == ReplyError(
            "ERR Invalid arguments specified for command")
    finally:
        del COMMANDS["testzstore"]


def test_command_help_and_bare_container(run):
    help_lines = run("COMMAND", "HELP")
    assert help_lines[0].startswith("COMMAND <subcommand>") and help_lines[-1].endswith("help.")
    assert run("COMMAND", "NOSUCH") == ReplyError(
        "ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP.")


def test_spec_by_name():
    assert spec_by_name(b"GET") is COMMANDS["get"]
    assert spec_by_name(b"Command|Info") is COMMANDS["command"].subcommands["info"]
    for name in (b"get|x", b"command|nosuch", b"command|info|x", b"nosuch", b"command|"):
        assert spec_by_name(name) is None, name

"""COMMAND and its subcommands, byte for byte against redis-server where ember can match.

Redis's own tips, argument docs and hand-written key specs are not in ember's table, so
whole COMMAND / COMMAND DOCS replies cannot be identical; those are compared field by
field (name, arity, flags, key positions) for every command both servers have.
"""


# Declarations Redis 7.2 changed from 7.0 (blocking commands allowed in scripts, ZRANK's
# WITHSCORE, WAIT, CLUSTER SLOTS/SHARDS while loading, COMMAND GETKEYS of commands without
# arguments). ember follows 7.2 (the table test checks that); an older reference server
# differs on exactly these.
CHANGED_IN_7_2 = frozenset({
    "wait", "zrank", "zrevrank", "blpop", "brpop", "blmove", "brpoplpush", "bzpopmax",
    "bzpopmin", "cluster|shards", "cluster|slots", "command|getkeys",
    "command|getkeysandflags",
})


def redis_version(compat) -> tuple:
    info = compat.redis.call("INFO", "server").decode()
    line = next(x for x in info.splitlines() if x.startswith("redis_version:"))
    return tuple(int(p) for p in line.split(":", 1)[1].split("."))


def walk(entries):
    for entry in entries:
        yield entry
        yield from walk(entry[9])


def head(entry) -> tuple:
    """Name, arity, flags, first, last, step of one COMMAND INFO entry."""
    return (entry[0], entry[1], sorted(entry[2]), entry[3], entry[4], entry[5])


def test_command_info_fields_match_for_every_shared_command(compat):
    ours = {e[0]: e for e in walk(compat.ember.call("COMMAND"))}
    theirs = {e[0]: e for e in walk(compat.redis.call("COMMAND"))}
    assert b"get" in ours and b"command|info" in ours
    skip = CHANGED_IN_7_2 if redis_version(compat) < (7, 2) else frozenset()
    problems = []
    for name, entry in ours.items():
        if name in theirs and name.decode() not in skip:
            if head(entry) != head(theirs[name]):
                problems.append(f"{head(entry)} != redis {head(theirs[name])}")
    assert not problems, "\n".join(problems)


def test_command_info_exact_replies(compat):
    compat.script([
        ("COMMAND", "INFO", "get"),
        ("COMMAND", "INFO", "GET", "nosuch"),
        ("COMMAND", "INFO", "echo", "select"),
        ("COMMAND", "INFO", "command|count", "Command|Help", "command|list"),
        ("COMMAND", "INFO", "nosuch", "command|nosuch", "get|x", "command|info|x"),
        ("COMMAND", "NOSUCH"),
        ("COMMAND", "HELP"),
        ("COMMAND", "HELP", "x"),
        ("COMMAND", "COUNT", "x"),
    ])


def test_command_info_exact_replies_resp3(compat):
    compat.ember.call("HELLO", "3")
    compat.redis.call("HELLO", "3")
    compat.script([
        ("COMMAND", "INFO", "get", "nosuch"),
        ("COMMAND", "INFO", "command|count"),
        ("COMMAND", "DOCS", "nosuch"),
        ("COMMAND", "GETKEYSANDFLAGS", "get", "k"),
    ])


def test_command_list_filters(compat):
    compat.script([
        ("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"),
        ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "get"),
        ("COMMAND", "LIST", "x"),
        ("COMMAND", "LIST", "FILTERBY"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN"),
        ("COMMAND", "LIST", "FILTERBY", "FOO", "x"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y"),
        ("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "FILTERBY", "PATTERN", "b"),
    ])
    compat.check_unordered("COMMAND", "LIST", "FILTERBY", "PATTERN", "command*")
    compat.check_unordered("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|G*")
    compat.check_unordered("COMMAND", "LIST", "FILTERBY", "PATTERN", "c?mmand|[a-h]*")


def test_command_list_aclcat_subset(compat):
    """Every command ember files under @string, Redis files there too (and vice versa)."""
    ours = set(compat.ember.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"))
    theirs = set(compat.redis.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"))
    everything = set(compat.ember.call("COMMAND", "LIST"))
    assert ours and ours == theirs & everything


def test_command_docs_fields(compat):
    ours = compat.ember.call("COMMAND", "DOCS", "get", "nosuch", "command")
    theirs = compat.redis.call("COMMAND", "DOCS", "get", "nosuch", "command")
    ours = dict(zip(ours[::2], ours[1::2]))
    theirs = dict(zip(theirs[::2], theirs[1::2]))
    assert list(ours) == list(theirs) == [b"get", b"command"]
    for name in ours:
        mine = dict(zip(ours[name][::2], ours[name][1::2]))
        ref = dict(zip(theirs[name][::2], theirs[name][1::2]))
        assert mine[b"group"] == ref[b"group"] and mine[b"since"] == ref[b"since"]
        assert mine[b"summary"]
    compat.check("COMMAND", "DOCS", "nosuch", "get|x")


def test_command_getkeys(compat):
    compat.script([
        ("COMMAND", "GETKEYS", "get", "k"),
        ("COMMAND", "GETKEYS", "GET", "k"),
        ("COMMAND", "GETKEYS", "set", "k", "v", "EX", "10"),
        ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
        ("COMMAND", "GETKEYS", "mset", "a", "1", "b"),
        ("COMMAND", "GETKEYS", "del", "a", "b", "c"),
        ("COMMAND", "GETKEYSANDFLAGS", "get", "k"),
        ("COMMAND", "GETKEYS", "nosuch", "a"),
        ("COMMAND", "GETKEYS", "command", "nosuch", "a"),
        ("COMMAND", "GETKEYS", "echo", "x"),
        ("COMMAND", "GETKEYS", "ping", "x"),
        ("COMMAND", "GETKEYS", "command", "info"),
        ("COMMAND", "GETKEYS", "get", "a", "b"),
        ("COMMAND", "GETKEYS", "set", "k"),
        ("COMMAND", "GETKEYSANDFLAGS", "mset", "a"),
        ("COMMAND", "GETKEYS"),
    ])


def test_command_getkeys_of_argumentless_command(compat):
    if redis_version(compat) >= (7, 2):
        compat.check("COMMAND", "GETKEYS", "ping")
        compat.check("COMMAND", "GETKEYS", "get")
        return
    # 7.0 declared GETKEYS with arity -4 (a bare command name was an arity error);
    # 7.2 made it -3, so ember answers as 7.2 does.
    assert compat.ember.call_raw("COMMAND", "GETKEYS", "ping") == \
        b"-ERR The command has no key arguments\r\n"
    assert compat.ember.call_raw("COMMAND", "GETKEYS", "get") == \
        b"-ERR Invalid number of arguments specified for command\r\n"

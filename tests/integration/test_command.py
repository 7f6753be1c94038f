"""COMMAND over TCP on a real ember-server: redis-py's parsers, RESP2 and RESP3 shapes."""

import redis

from tests.rawclient import RawClient

GET_INFO_RESP2 = (
    b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
    b"*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n"
    b"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n"
    b"$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n"
    b"$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n"
    b"*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
)


def test_command_info_get_exact_bytes(raw):
    assert raw.call_raw("COMMAND", "INFO", "get") == GET_INFO_RESP2


def test_command_info_resp3_uses_sets_and_maps(ember_server):
    client = RawClient(ember_server.port)
    try:
        client.call("HELLO", "3")
        reply = client.call_raw("COMMAND", "INFO", "get", "nosuch")
        assert reply.startswith(b"*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n")
        assert b"~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n" \
            in reply
        assert reply.endswith(b"~0\r\n_\r\n")
        docs = client.call_raw("COMMAND", "DOCS", "command")
        assert docs.startswith(b"%1\r\n$7\r\ncommand\r\n%5\r\n$7\r\nsummary\r\n")
    finally:
        client.close()


def test_redis_py_parses_command(r):
    table = r.command()
    assert table["get"]["arity"] == 2
    assert table["get"]["flags"] == ["readonly", "fast"]
    assert table["mset"]["step_count"] == 2 and table["del"]["last_key_pos"] == -1
    assert table["get"]["acl_categories"] == ["@read", "@string", "@fast"]
    assert table["command"]["subcommands"]
    assert r.command_count() == len(table)
    assert r.command_getkeys("MSET", "a", 1, "b", 2) == ["a", "b"]


def test_redis_py_resp3_command_table(r3):
    table = r3.command()
    assert table["get"]["arity"] == 2
    assert "command" in table


def test_command_list_and_docs(r):
    names = r.command_list()
    assert b"command|getkeysandflags" in names
    assert len(names) > r.command_count()
    filtered = r.command_list(pattern="g*")
    assert b"get" in filtered and all(n.lower().startswith(b"g") for n in filtered)
    assert b"get" in r.command_list(category="string")
    docs = r.execute_command("COMMAND DOCS", "get")
    assert docs[0] == b"get"
    fields = dict(zip(docs[1][::2], docs[1][1::2]))
    assert fields[b"group"] == b"string" and fields[b"since"] == b"1.0.0"
    assert fields[b"summary"]


def test_getkeys_errors_over_the_wire(raw):
    assert raw.call_raw("COMMAND", "GETKEYS", "nosuch", "x") == \
        b"-ERR Invalid command specified\r\n"
    assert raw.call_raw("COMMAND", "GETKEYS", "ping") == \
        b"-ERR The command has no key arguments\r\n"
    assert raw.call_raw("COMMAND", "GETKEYS", "get") == \
        b"-ERR Invalid number of arguments specified for command\r\n"
    assert raw.call_raw("COMMAND", "GETKEYS") == \
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    assert raw.call_raw("COMMAND", "GETKEYSANDFLAGS", "get", "k") == \
        b"*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n"


def test_bare_command_and_bad_subcommand(r):
    assert len(r.execute_command("COMMAND")) == r.command_count()
    try:
        r.execute_command("COMMAND", "NOPE")
    except redis.ResponseError as exc:
        assert str(exc) == "unknown subcommand 'NOPE'. Try COMMAND HELP."
    else:
        raise AssertionError("COMMAND NOPE did not fail")

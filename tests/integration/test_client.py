"""CLIENT over TCP: ID, names, LIST/INFO fields, KILL, REPLY, NO-EVICT/NO-TOUCH, PAUSE."""

import re
import select

import pytest
import redis

from tests.rawclient import RawClient, encode_command
from tests.servers import wait_until

LIST_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
               "psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs",
               "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir",
               "resp", "lib-name", "lib-ver"]


def parse_line(line: str) -> dict:
    return dict(field.split("=", 1) for field in line.split(" "))


def client_lines(raw, *args) -> list:
    text = raw.call("CLIENT", "LIST", *args).decode()
    assert text == "" or text.endswith("\n")
    return [parse_line(line) for line in text.split("\n") if line]


@pytest.fixture
def other(ember_server):
    client = RawClient(ember_server.port)
    yield client
    client.close()


def no_reply_within(client: RawClient, seconds: float) -> bool:
    """True if nothing arrives on the socket for ``seconds`` (for a held-back command)."""
    readable, _, _ = select.select([client.sock], [], [], seconds)
    return not readable


def test_id_is_unique_and_matches_list(raw, other):
    mine, theirs = raw.call("CLIENT", "ID"), other.call("CLIENT", "ID")
    assert isinstance(mine, int) and mine != theirs
    (me,) = client_lines(raw, "ID", str(mine))
    assert me["id"] == str(mine)


def test_setname_getname(raw):
    assert raw.call("CLIENT", "GETNAME") is None
    assert raw.call("CLIENT", "SETNAME", "worker-1") == "OK"
    assert raw.call("CLIENT", "GETNAME") == b"worker-1"
    assert raw.call_raw("CLIENT", "SETNAME", "a b") == (
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
    assert raw.call("CLIENT", "GETNAME") == b"worker-1"
    assert raw.call("CLIENT", "SETNAME", "") == "OK"
    assert raw.call("CLIENT", "GETNAME") is None


def test_list_fields_in_redis_order(raw, other):
    other.call("CLIENT", "SETNAME", "other")
    other.call("SELECT", "2")
    lines = raw.call("CLIENT", "LIST").decode().rstrip("\n").split("\n")
    for line in lines:
        assert [f.split("=", 1)[0] for f in line.split(" ")] == LIST_FIELDS
    by_name = {fields["name"]: fields for fields in map(parse_line, lines)}
    theirs = by_name["other"]
    assert theirs["db"] == "2" and theirs["cmd"] == "select" and theirs["flags"] == "N"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", theirs["addr"])
    assert theirs["multi"] == "-1" and theirs["resp"] == "2" and theirs["user"] == "default"
    me = parse_line(raw.call("CLIENT", "INFO").decode().rstrip("\n"))
    assert me["cmd"] == "client|info" and me["idle"] == "0" and me["argv-mem"] == "10"


def test_list_filters_and_errors(raw, other):
    mine, theirs = raw.call("CLIENT", "ID"), other.call("CLIENT", "ID")
    assert [c["id"] for c in client_lines(raw, "ID", str(theirs), "999999", str(mine))] == [
        str(theirs), str(mine)]
    assert {c["id"] for c in client_lines(raw, "TYPE", "normal")} >= {str(mine), str(theirs)}
    assert client_lines(raw, "TYPE", "master") == []
    assert client_lines(raw, "TYPE", "replica") == []
    assert raw.call_raw("CLIENT", "LIST", "TYPE", "foo") == (
        b"-ERR Unknown client type 'foo'\r\n")
    assert raw.call_raw("CLIENT", "LIST", "ID", "abc") == b"-ERR Invalid client ID\r\n"
    assert raw.call_raw("CLIENT", "LIST", "foo") == b"-ERR syntax error\r\n"


def test_redis_py_sets_lib_name_and_setinfo(r, raw):
    listed = {c["id"]: c for c in client_lines(raw)}
    mine = listed[str(r.client_id())]
    assert mine["lib-name"] == "redis-py" and mine["lib-ver"] == redis.__version__
    assert raw.call("CLIENT", "SETINFO", "LIB-NAME", "mylib") == "OK"
    assert raw.call("CLIENT", "SETINFO", "lib-ver", "1.2") == "OK"
    me = parse_line(raw.call("CLIENT", "INFO").decode().rstrip("\n"))
    assert me["lib-name"] == "mylib" and me["lib-ver"] == "1.2"
    assert raw.call_raw("CLIENT", "SETINFO", "foo", "x") == (
        b"-ERR Unrecognized option 'foo'\r\n")
    assert raw.call_raw("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        b"-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n")


def test_client_info_in_resp3_is_verbatim(raw):
    raw.call("HELLO", "3")
    reply = raw.call_raw("CLIENT", "INFO")
    assert reply.startswith(b"=") and b"\r\ntxt:id=" in reply and b"resp=3" in reply


def test_kill_old_form_by_address(raw, other):
    theirs = other.call("CLIENT", "ID")
    (entry,) = client_lines(raw, "ID", str(theirs))
    assert raw.call("CLIENT", "KILL", entry["addr"]) == "OK"
    assert other.closed_by_server()
    assert client_lines(raw, "ID", str(theirs)) == []
    assert raw.call_raw("CLIENT", "KILL", "1.2.3.4:5") == b"-ERR No such client\r\n"


def test_kill_filters(raw, other, ember_server):
    theirs = other.call("CLIENT", "ID")
    assert raw.call("CLIENT", "KILL", "ID", "999999") == 0
    assert raw.call("CLIENT", "KILL", "ID", str(theirs)) == 1
    assert other.closed_by_server()
    third = RawClient(ember_server.port)
    try:
        third.call("PING")
        (entry,) = client_lines(raw, "ID", str(third.call("CLIENT", "ID")))
        assert raw.call("CLIENT", "KILL", "LADDR", entry["laddr"], "ADDR", entry["addr"],
                        "USER", "default", "TYPE", "normal") == 1
        assert third.closed_by_server()
    finally:
        third.close()
    for args, error in [
        (("ID", "0"), b"-ERR client-id should be greater than 0\r\n"),
        (("ID", "abc"), b"-ERR client-id should be greater than 0\r\n"),
        (("TYPE", "xx"), b"-ERR Unknown client type 'xx'\r\n"),
        (("USER", "nouser"), b"-ERR No such user 'nouser'\r\n"),
        (("SKIPME", "maybe"), b"-ERR syntax error\r\n"),
        (("foo", "bar"), b"-ERR syntax error\r\n"),
        (("ID", "1", "TYPE"), b"-ERR syntax error\r\n"),
        (("MAXAGE", "0"), b"-ERR maxage should be greater than 0\r\n"),
        (("MAXAGE", "x"), b"-ERR maxage is not an integer or out of range\r\n"),
    ]:
        assert raw.call_raw("CLIENT", "KILL", *args) == error, args


def test_kill_maxage_spares_young_clients(raw, other):
    other.call("PING")
    assert raw.call("CLIENT", "KILL", "MAXAGE", "1000") == 0
    assert other.call("PING") == "PONG"


def test_kill_skipme_and_killing_yourself(raw, other):
    mine = raw.call("CLIENT", "ID")
    # SKIPME defaults to yes: a filter matching only me kills nobody.
    assert raw.call("CLIENT", "KILL", "ID", str(mine)) == 0
    assert raw.call("PING") == "PONG"
    assert raw.call("CLIENT", "KILL", "ID", str(mine), "SKIPME", "no") == 1
    assert raw.closed_by_server()
    assert other.call("PING") == "PONG"


def test_reply_off_on_skip(raw):
    raw.send(b"".join(encode_command(*c) for c in [
        ("CLIENT", "REPLY", "SKIP"), ("PING", "skipped"), ("PING", "a"),
        ("CLIENT", "REPLY", "OFF"), ("PING", "off"), ("CLIENT", "REPLY", "SKIP"),
        ("CLIENT", "REPLY", "ON"), ("PING", "b")]))
    assert raw.read_raw() == b"$1\r\na\r\n"
    assert raw.read_raw() == b"+OK\r\n"
    assert raw.read_raw() == b"$1\r\nb\r\n"
    assert raw.call_raw("CLIENT", "REPLY", "maybe") == b"-ERR syntax error\r\n"


def test_no_evict_and_no_touch_flags(raw):
    assert raw.call("CLIENT", "NO-EVICT", "on") == "OK"
    assert parse_line(raw.call("CLIENT", "INFO").decode().strip())["flags"] == "e"
    assert raw.call("CLIENT", "NO-TOUCH", "ON") == "OK"
    assert parse_line(raw.call("CLIENT", "INFO").decode().strip())["flags"] == "eT"
    assert raw.call("CLIENT", "NO-EVICT", "off") == "OK"
    assert raw.call("CLIENT", "NO-TOUCH", "off") == "OK"
    assert parse_line(raw.call("CLIENT", "INFO").decode().strip())["flags"] == "N"
    assert raw.call_raw("CLIENT", "NO-EVICT", "maybe") == b"-ERR syntax error\r\n"
    assert raw.call_raw("CLIENT", "NO-TOUCH", "maybe") == b"-ERR syntax error\r\n"


def test_pause_write_holds_writes_but_not_reads(raw, other, r):
    r.set("k", "before")
    writer_id = other.call("CLIENT", "ID")
    assert raw.call("CLIENT", "PAUSE", "20000", "WRITE") == "OK"
    try:
        other.send(encode_command("SET", "k", "after"))
        # The write is held: the client shows as blocked, and a read still runs.
        assert wait_until(lambda: client_lines(raw, "ID", str(writer_id))[0]["flags"] == "b")
        assert raw.call("GET", "k") == b"before"
        assert raw.call("CLIENT", "ID") > 0
        assert no_reply_within(other, 0.1)
    finally:
        assert raw.call("CLIENT", "UNPAUSE") == "OK"
    assert other.read_raw() == b"+OK\r\n"
    assert raw.call("GET", "k") == b"after"


def test_pause_all_holds_reads_until_timeout(raw, other):
    raw.call("SET", "k", "v")
    assert raw.call("CLIENT", "PAUSE", "500", "ALL") == "OK"
    other.send(encode_command("GET", "k"))
    # Errors found before the pause check (an unknown command) are not held, as in Redis.
    assert raw.call_raw("NOSUCH").startswith(b"-ERR unknown command")
    assert no_reply_within(other, 0.1)
    # The GET waits for the pause to end by itself.
    assert other.read_raw() == b"$1\r\nv\r\n"
    assert raw.call("CLIENT", "ID") > 0


def test_pause_errors(raw):
    for args, error in [
        (("abc",), b"-ERR timeout is not an integer or out of range\r\n"),
        (("-1",), b"-ERR timeout is negative\r\n"),
        (("10", "foo"), b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"),
        (("10", "WRITE", "x"), b"-ERR unknown subcommand or wrong number of arguments for "
                               b"'PAUSE'. Try CLIENT HELP.\r\n"),
    ]:
        assert raw.call_raw("CLIENT", "PAUSE", *args) == error, args
    assert raw.call("CLIENT", "UNPAUSE") == "OK"


def test_help(raw):
    lines = raw.call("CLIENT", "HELP")
    assert lines[0] == "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert "SETINFO <option> <value>" in lines and "NO-TOUCH (ON|OFF)" in lines
    assert lines[-2:] == ["HELP", "    Prints this help."]
    assert raw.call_raw("CLIENT", "NOSUCH") == (
        b"-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n")
    assert raw.call_raw("CLIENT", "ID", "x") == (
        b"-ERR wrong number of arguments for 'client|id' command\r\n")


def test_redis_py_client_api(r, ember_server):
    other = redis.Redis(port=ember_server.port)
    try:
        other.client_setname("py-other")
        names = [c["name"] for c in r.client_list()]
        assert "py-other" in names
        assert r.client_kill_filter(_id=other.client_id()) == 1
        assert r.client_info()["cmd"] == "client|info"
    finally:
        other.close()

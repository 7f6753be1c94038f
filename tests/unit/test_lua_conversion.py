"""The conversion rules between Lua and RESP, in both directions and both protocols,
checked on a sandbox without an engine (the compat tests check the same against
redis-server); Hypothesis drives nested values through them and through the JSON and
MessagePack libraries.
"""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ember.errors import ReplyError
from ember.protocol.replies import (
    NULL_ARRAY,
    BigNumber,
    Raw,
    SetReply,
    Status,
    Verbatim,
)
from ember.scripting.sandbox import Host, LuaSandbox


class FixedReply(Host):
    """A host whose every command replies ``reply``."""

    def __init__(self):
        self.reply = None
        self.resp = 2

    def command(self, argv):
        return self.reply

    def setresp(self, resp):
        self.resp = resp


@pytest.fixture(scope="module")
def sandbox():
    return LuaSandbox("eval", FixedReply())


def run(sandbox, code: str, caller_resp3: bool = False, keys=(), args=()):
    fn, error = sandbox.compile(code.encode(), b"@user_script")
    assert fn is not None, error
    return sandbox.run(fn, list(keys), list(args), caller_resp3, True)


def resp(sandbox, code: str, caller_resp3: bool = False) -> bytes:
    result = run(sandbox, code, caller_resp3)
    assert result[0], result
    return result[1]


# ---- Lua -> RESP ----------------------------------------------------------------------

LUA_TO_RESP = [
    # script, RESP2 caller, RESP3 caller
    ("return 42", b":42\r\n", b":42\r\n"),
    ("return 3.99", b":3\r\n", b":3\r\n"),
    ("return -3.99", b":-3\r\n", b":-3\r\n"),
    ("return 1/0", b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    ("return 'hi'", b"$2\r\nhi\r\n", b"$2\r\nhi\r\n"),
    ("return true", b":1\r\n", b":1\r\n"),
    ("return false", b"$-1\r\n", b"_\r\n"),
    ("return nil", b"$-1\r\n", b"_\r\n"),
    ("return {1, 'a', {2}}", b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n",
     b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n"),
    ("return {1, nil, 3}", b"*1\r\n:1\r\n", b"*1\r\n:1\r\n"),
    ("return {1, false, 3}", b"*3\r\n:1\r\n$-1\r\n:3\r\n", b"*3\r\n:1\r\n_\r\n:3\r\n"),
    ("return {1, cjson.null, 3}", b"*3\r\n:1\r\n$-1\r\n:3\r\n", b"*3\r\n:1\r\n_\r\n:3\r\n"),
    ("return {ok = 'fine'}", b"+fine\r\n", b"+fine\r\n"),
    ("return {ok = 'a\\r\\nb'}", b"+a  b\r\n", b"+a  b\r\n"),
    ("return {1, {err = 'E x'}}", b"*2\r\n:1\r\n-E x\r\n", b"*2\r\n:1\r\n-E x\r\n"),
    ("return {double = 1.5}", b"$3\r\n1.5\r\n", b",1.5\r\n"),
    ("return {big_number = '123'}", b"$3\r\n123\r\n", b"(123\r\n"),
    ("return {map = {a = 1}}", b"*2\r\n$1\r\na\r\n:1\r\n", b"%1\r\n$1\r\na\r\n:1\r\n"),
    ("return {set = {a = true}}", b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    ("return {verbatim_string = {format = 'txt', string = 'hi'}}", b"$2\r\nhi\r\n",
     b"=6\r\ntxt:hi\r\n"),
]


@pytest.mark.parametrize("code, resp2, resp3", LUA_TO_RESP)
def test_lua_to_resp(sandbox, code, resp2, resp3):
    assert resp(sandbox, code) == resp2
    assert resp(sandbox, code, caller_resp3=True) == resp3


def test_booleans_under_setresp3(sandbox):
    assert resp(sandbox, "redis.setresp(3) return {true, false}") == b"*2\r\n:1\r\n:0\r\n"
    assert resp(sandbox, "redis.setresp(3) return {true, false}", True) == \
        b"*2\r\n#t\r\n#f\r\n"


def test_returned_error_tables(sandbox):
    assert run(sandbox, "return {err = 'MY bad'}") == (False, b"MY bad", None, None, None)
    assert run(sandbox, "return redis.error_reply('oops')")[:2] == (False, b"ERR oops")
    assert run(sandbox, "error('x')")[1:4] == (b"ERR user_script:1: x", b"@user_script",
                                                b"1")


def lua_literal(value) -> str:
    """Lua source for a value of the model below."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return '"' + "".join("\\%d" % b for b in value) + '"'
    return "{" + ", ".join(lua_literal(v) for v in value) + "}"


def expected_resp(value, caller_resp3: bool) -> bytes:
    """Redis's conversion of the model value (script in RESP2 mode)."""
    if isinstance(value, bool):
        if value:
            return b":1\r\n"
        return b"_\r\n" if caller_resp3 else b"$-1\r\n"
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    return b"*%d\r\n" % len(value) + b"".join(expected_resp(v, caller_resp3) for v in value)


lua_values = st.recursive(
    st.integers(-2**53, 2**53) | st.binary(max_size=8) | st.booleans(),
    lambda children: st.lists(children, max_size=4), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(lua_values, st.booleans())
def test_nested_values_convert_as_redis_does(value, caller_resp3):
    box = LuaSandbox("eval", FixedReply())
    assert resp(box, "return " + lua_literal(value), caller_resp3) == \
        expected_resp(value, caller_resp3)


# ---- RESP -> Lua (redis.call) -----------------------------------------------------------

DESCRIBE = r"""
local function d(v)
  local t = type(v)
  if t == 'table' then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = d(k) .. '=' .. d(v[k]) end
    return '{' .. table.concat(parts, ',') .. '}'
  end
  if t == 'string' then return '"' .. v .. '"' end
  return tostring(v)
end
"""


def described(sandbox, reply, script_resp: int) -> bytes:
    sandbox.host.reply = reply
    code = DESCRIBE + "redis.setresp(%d) return d(redis.pcall('x'))" % script_resp
    return resp(sandbox, code).split(b"\r\n")[1]


RESP_TO_LUA = [
    # reply value, as a RESP2 script sees it, as a RESP3 script sees it
    (b"bulk", b'"bulk"', b'"bulk"'),
    (7, b"7", b"7"),
    (None, b"false", b"nil"),
    (NULL_ARRAY, b"false", b"nil"),
    (Status("OK"), b'{"ok"="OK"}', b'{"ok"="OK"}'),
    (ReplyError("ERR no"), b'{"err"="ERR no","ignore_error_stats_update"=true}',
     b'{"err"="ERR no","ignore_error_stats_update"=true}'),
    ([b"a", 1, None], b'{1="a",2=1,3=false}', b'{1="a",2=1}'),
    ({b"k": b"v"}, b'{1="k",2="v"}', b'{"map"={"k"="v"}}'),
    (SetReply([b"m"]), b'{1="m"}', b'{"set"={"m"=true}}'),
    (1.5, b'"1.5"', b'{"double"=1.5}'),
    (True, b"1", b"true"),
    (False, b"0", b"false"),
    (BigNumber(12345678901234567890), b'"12345678901234567890"',
     b'{"big_number"="12345678901234567890"}'),
    (Verbatim(b"text"), b'"text"', b'{"verbatim_string"={"format"="txt","string"="text"}}'),
    (Raw(b"+OK\r\n"), b'{"ok"="OK"}', b'{"ok"="OK"}'),
    ([Status("QUEUED"), [b"x"]], b'{1={"ok"="QUEUED"},2={1="x"}}',
     b'{1={"ok"="QUEUED"},2={1="x"}}'),
]


@pytest.mark.parametrize("reply, as_resp2, as_resp3", RESP_TO_LUA)
def test_resp_to_lua(sandbox, reply, as_resp2, as_resp3):
    assert described(sandbox, reply, 2) == as_resp2
    assert described(sandbox, reply, 3) == as_resp3


def test_redis_call_raises_what_pcall_returns(sandbox):
    sandbox.host.reply = ReplyError("WRONGTYPE Operation against a key")
    result = run(sandbox, "return redis.call('x')")
    assert result == (False, b"WRONGTYPE Operation against a key", b"@user_script", b"1",
                      True)
    assert run(sandbox, "return redis.pcall('x')") == \
        (False, b"WRONGTYPE Operation against a key", None, None, True)


def test_arguments_to_redis_call(sandbox):
    seen = []

    class Recorder(Host):
        def command(self, argv):
            seen.append(argv)
            return b"ok"

    box = LuaSandbox("eval", Recorder())
    run(box, "redis.call('set', 'k', 3.5) redis.call('set', 'k', 0.1) "
        "redis.call('set', 'k', 2^53) redis.call('set', 'k', 1e20) redis.call('set', 'k', -7)")
    assert [argv[2] for argv in seen] == [b"3.5", b"0.10000000000000001", b"9007199254740992",
                                          b"1e+20", b"-7"]
    for bad in ("nil", "{}", "true", "function() end"):
        result = run(box, "return redis.call('get', %s)" % bad)
        assert result[1] == b"ERR Lua redis lib command arguments must be strings or integers"


# ---- the libraries, round trips -------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
    lambda children: st.lists(children, min_size=1, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, min_size=1, max_size=4),
    max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_cjson_decode_encode_round_trip(value):
    box = LuaSandbox("eval", FixedReply())
    result = run(box, "return cjson.encode(cjson.decode(ARGV[1]))",
                 args=[json.dumps(value).encode()])
    assert result[0], result
    encoded = result[1].split(b"\r\n", 1)[1][:-2]
    assert json.loads(encoded) == value


msgpack_values = st.recursive(
    st.booleans() | st.integers(-2**63, 2**63 - 1) | st.binary(max_size=40)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, min_size=1, max_size=4), max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(msgpack_values)
def test_cmsgpack_pack_unpack_round_trip(value):
    box = LuaSandbox("eval", FixedReply())
    code = ("local v = %s local again = cmsgpack.unpack(cmsgpack.pack(v)) "
            "return cmsgpack.pack(again) == cmsgpack.pack(v) and "
            "struct.pack('>d', 0) ~= nil" % lua_number_literal(value))
    assert resp(box, code) == b":1\r\n"


def lua_number_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "(%d)" % value
    if isinstance(value, float):
        return "(%r)" % value
    if isinstance(value, bytes):
        return '"' + "".join("\\%d" % b for b in value) + '"'
    return "{" + ", ".join(lua_number_literal(v) for v in value) + "}"

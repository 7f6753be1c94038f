"""EVAL & co. against a real redis-server: replies compared byte for byte.

The Lua -> RESP conversion for every shape a script can return, in RESP2 and RESP3 and
for both ``redis.setresp`` modes; RESP -> Lua for what ``redis.call`` hands back; error
texts (compile errors, runtime errors, errors from redis.call and pcall, refused
commands, flags); the sandbox; SCRIPT LOAD/EXISTS/FLUSH and EVALSHA; the libraries
(cjson, cmsgpack, struct, bit). Where Redis 7.2 differs from the 7.0 reference, the 7.2
bytes are asserted explicitly.
"""

import pytest

pytestmark = pytest.mark.compat


def resp3(compat) -> None:
    """Switch both connections to RESP3."""
    compat.ember.call("HELLO", "3")
    compat.redis.call("HELLO", "3")


def both_protocols(compat, *command) -> None:
    """Check a command in RESP2, then in RESP3, then back in RESP2."""
    compat.check(*command)
    resp3(compat)
    compat.check(*command)
    compat.ember.call("HELLO", "2")
    compat.redis.call("HELLO", "2")


# ---- Lua -> RESP ----------------------------------------------------------------------

RETURNS = [
    "return 42", "return -7", "return 3.99", "return -3.99", "return 0.5", "return 2^53",
    "return 2^63", "return -2^63", "return 1/0", "return -1/0", "return 0/0",
    "return 'text'", "return ''", "return 'a\\0b\\r\\n'",
    "return true", "return false", "return nil", "return", "return function() end",
    "return {}", "return {1, 2, 3}", "return {1, 'two', {3, {4}}, true, false}",
    "return {1, 2, nil, 4}", "return {nil, 2}", "return {1, false, 3}",
    "return {1, cjson.null, 3}", "return {a = 1, b = 2}", "return {1, 2, x = 'y'}",
    "return {ok = 'fine'}", "return {ok = 'a\\r\\nb'}", "return {ok = 3}",
    "return {err = 'MYERR something'}", "return {err = ''}", "return {err = 3}",
    "return {ok = 'fine', err = 'bad'}", "return {1, {err = 'inner'}, {ok = 'ok'}}",
    "return redis.error_reply('oops')", "return redis.error_reply('-X oops')",
    "return redis.error_reply('')", "return redis.error_reply()",
    "return redis.status_reply('PONG')", "return redis.status_reply(1)",
    "return {double = 3.5}", "return {double = 'x'}", "return {big_number = '12345'}",
    "return {big_number = '-98765432109876543210'}", "return {map = {a = 1}}",
    "return {map = {}}", "return {set = {a = true}}", "return {set = {}}",
    "return {verbatim_string = {format = 'txt', string = 'hi'}}",
    "return {verbatim_string = {format = 'txt'}}",
    "return setmetatable({}, {__index = function() error('boom') end})",
    "return {{double = 1.5}, {map = {k = {1, 2}}}, {set = {s = true}}}",
]


@pytest.mark.parametrize("script", RETURNS)
def test_lua_values_to_resp2_and_resp3(compat, script):
    both_protocols(compat, "EVAL", script, "0")


@pytest.mark.parametrize("script", RETURNS)
def test_lua_values_with_setresp3(compat, script):
    both_protocols(compat, "EVAL", "redis.setresp(3) " + script, "0")


def test_double_is_formatted_as_redis_7_2_does(compat):
    # Redis 7.0 prints doubles with %.17g ("0.10000000000000001"); 7.2 the shortest form.
    assert compat.ember.call_raw("EVAL", "return {double = 0.1}", "0") == b"$3\r\n0.1\r\n"
    resp3(compat)
    assert compat.ember.call_raw("EVAL", "return {double = 0.1}", "0") == b",0.1\r\n"


# ---- RESP -> Lua ----------------------------------------------------------------------

CALLS = [
    ("SET", "s", "v"), ("GET", "s"), ("GET", "missing"), ("INCR", "n"),
    ("RPUSH", "l", "a", "b", "c"), ("LRANGE", "l", "0", "-1"), ("LPOP", "missing"),
    ("HSET", "h", "f", "v", "g", "w"), ("HGETALL", "h"), ("HGETALL", "missing"),
    ("SADD", "set", "m"), ("SMEMBERS", "set"), ("ZADD", "z", "1.5", "m"),
    ("ZSCORE", "z", "m"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("PING",),
    ("TYPE", "h"), ("EXISTS", "s", "h", "nope"),
]


@pytest.mark.parametrize("resp", ["2", "3"])
def test_redis_call_replies_to_lua(compat, resp):
    wrap = ("redis.setresp(%s) local r = redis.call(unpack(ARGV)) "
            "if type(r) == 'table' then return {'table', r, r.ok, r.err, r.double, "
            "r.map, r.set, #r} end return {type(r), r}" % resp)
    for call in CALLS:
        compat.check("EVAL", wrap, "0", *call)


def test_redis_call_of_a_double_in_resp3_gives_a_double_table(compat):
    compat.check("ZADD", "z", "2.5", "m")
    compat.check("EVAL", "redis.setresp(3) return redis.call('ZSCORE', 'z', 'm').double", "0")
    compat.check("EVAL", "redis.setresp(3) local t = redis.call('HGETALL', 'nokey') "
                 "return {type(t.map), #t}", "0")


def test_numbers_as_command_arguments(compat):
    for value in ("3.5", "0.1", "1e20", "2^53", "-0.25", "100"):
        compat.check("EVAL", "redis.call('SET', 'x', %s) return redis.call('GET', 'x')"
                     % value, "0")


def test_keys_and_argv(compat):
    compat.check("EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}",
                 "2", "k1", "k2", "a1", "a2")
    compat.check("EVAL", "KEYS[1] = 'changed' return KEYS", "1", "k")
    compat.check("EVAL", "return redis.call('SET', 'not-declared', '1')", "0")
    compat.check("GET", "not-declared")
    many = [str(i) for i in range(1, 9001)]
    compat.check("EVAL", "return {#KEYS, #ARGV, KEYS[9000], ARGV[9000]}", "9000", *many,
                 *many)


# ---- errors ---------------------------------------------------------------------------

ERRORS = [
    "syntax error here", "return 1 end", "local x =", "return x", "x = 1",
    "error('boom')", "error({err = 'MY bad'})", "error(nil)", "error(12)", "error('x', 0)",
    "error({err = 12})", "error({err = 'X', source = 's', line = 5})",
    "local a = 1 + nil", "return string.rep(nil)",
    "return redis.call('nosuch')", "return redis.call('get')",
    "return redis.call('set', 'a')", "return redis.call('incr', 'k', 'extra')",
    "return redis.call()", "return redis.pcall()", "return redis.call('get', {})",
    "return redis.call('get', nil)", "return redis.call('eval', 'return 1', '0')",
    "return redis.call('multi')", "return redis.call('subscribe', 'c')",
    "redis.call('set', 'str', 'v') return redis.call('lpush', 'str', 'a')",
    "redis.call('set', 'str', 'v') return redis.pcall('lpush', 'str', 'a')",
    "redis.call('set', 'str', 'v') return {redis.pcall('lpush', 'str', 'a')}",
    "return {pcall(redis.call, 'nosuch')}", "return {pcall(error, {err = 'x'})}",
    "return {pcall(error, 'x')}",
    "return {xpcall(function() error({err = 'x'}) end, function(e) return e end)}",
    "return redis.sha1hex()", "redis.log(99, 'x')", "redis.log('x', 'y')",
    "redis.log(1)", "redis.setresp(4)", "redis.setresp()", "redis.set_repl(99)",
    "redis.set_repl()", "return redis.acl_check_cmd('nosuch')",
    "return math.random(1, 2, 3)", "return math.random('x')", "return math.random(0)",
    "return coroutine.wrap(function() x = 1 end)()",
    "local co = coroutine.create(function() redis.call('nosuch') end) "
    "return {coroutine.resume(co)}",
    "local co = coroutine.create(function() redis.setresp(3) "
    "return redis.call('hgetall', 'x') end) return {coroutine.resume(co)}",
    "return {coroutine.resume(coroutine.create(function() return bit.band('x') end))}",
    "return coroutine.wrap(function() return redis.call('nosuch') end)()",
    "local co = coroutine.create(function() coroutine.yield(1) "
    "return struct.pack('z') end) coroutine.resume(co) return {coroutine.resume(co)}",
    "#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')",
    "#!lua flags=no-writes,bad\nreturn 1", "#!lua foo=bar\nreturn 1",
    "#!luax\nreturn 1", "#!lua", "#! lua\nreturn 1", "#!lua\nreturn x",
]


@pytest.mark.parametrize("script", ERRORS)
def test_error_texts(compat, script):
    compat.check("EVAL", script, "0")


def test_number_of_keys_errors(compat):
    compat.check("EVAL", "return 1", "x")
    compat.check("EVAL", "return 1", "2", "a")
    compat.check("EVAL", "return 1", "-1")
    compat.check("EVALSHA", "abc", "x")
    compat.check("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x")


def test_read_only_variants(compat):
    compat.check("EVAL_RO", "return redis.call('set', 'a', 'b')", "0")
    compat.check("EVAL_RO", "#!lua\nreturn 1", "0")
    compat.check("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0")
    compat.check("EVAL_RO", "return redis.call('get', 'a')", "0")
    sha = compat.check("SCRIPT", "LOAD", "return redis.call('set', 'a', 'b')")
    compat.check("EVALSHA_RO", sha.split(b"\r\n")[1], "0")
    compat.check("GET", "a")


def test_flags_shebang_spellings(compat):
    for script in ("#!lua  flags=no-writes\nreturn 1", "#!lua flags=\nreturn 1",
                   "#!lua flags=allow-oom,allow-stale,no-cluster\nreturn 1",
                   "#!lua flags=allow-cross-slot-keys\nreturn 1",
                   "#!lua flags=no-writes,,allow-oom\nreturn 1"):
        compat.check("EVAL", script, "0")


def test_blocking_commands_answer_nil_in_scripts_as_in_redis_7_2(compat):
    # Redis 7.0 refuses them ("not allowed from script"); 7.2 runs them without blocking.
    assert compat.ember.call_raw("EVAL", "return redis.call('blpop', 'empty', '0')",
                                 "0") == b"$-1\r\n"
    compat.check("RPUSH", "full", "x")
    assert compat.ember.call_raw("EVAL", "return redis.call('blpop', 'full', '0')",
                                 "0") == b"*2\r\n$4\r\nfull\r\n$1\r\nx\r\n"


def test_error_statistics(compat):
    compat.check("SET", "str", "v")
    compat.check("CONFIG", "RESETSTAT")
    for script in ("return redis.call('lpush', 'str', 'a')",
                   "return redis.pcall('lpush', 'str', 'a')", "return redis.call('nosuch')",
                   "return {err = 'FOO bar'}", "error('x')",
                   "local e = redis.pcall('lpush', 'str', 'a') return 1"):
        compat.check("EVAL", script, "0")
    ember = compat.ember.call("INFO", "errorstats").decode()
    redis = compat.redis.call("INFO", "errorstats").decode()
    assert sorted(ember.split()) == sorted(redis.split())
    for name in ("eval", "lpush"):
        ember_line = [line for line in compat.ember.call("INFO", "commandstats").decode()
                      .split("\r\n") if line.startswith(f"cmdstat_{name}:")][0]
        redis_line = [line for line in compat.redis.call("INFO", "commandstats").decode()
                      .split("\r\n") if line.startswith(f"cmdstat_{name}:")][0]
        pick = lambda line: [f for f in line.split(",")  # noqa: E731
                             if f.startswith(("calls", "rejected", "failed"))
                             or "calls=" in f]
        assert pick(ember_line) == pick(redis_line)


# ---- the sandbox ----------------------------------------------------------------------

SANDBOX = [
    "return os", "return io", "return require", "return dofile", "return loadfile",
    "return print", "return getfenv", "return setfenv", "return debug", "return module",
    "return newproxy", "return package", "return python",
    "local t = {} for k, v in pairs(_G) do t[#t + 1] = k .. '=' .. type(v) end "
    "table.sort(t) return t",
    "local t = {} for k, v in pairs(redis) do t[#t + 1] = k .. '=' .. type(v) end "
    "table.sort(t) return t",
    "local t = {} for k in pairs(string) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(math) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(table) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(bit) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(struct) do t[#t + 1] = k end table.sort(t) return t",
    "local t = {} for k in pairs(cmsgpack) do t[#t + 1] = k end table.sort(t) return t",
    "return _G.KEYS[1]", "return _VERSION", "return rawget(_G, 'nosuch')",
    "return type(getmetatable(_G))", "return type(getmetatable(string))",
    "return tostring(getmetatable('').__index == string)",
    "setmetatable(_G, {})", "rawset(_G, 'x', 1)", "string.x = 1", "redis.call = nil",
    "table.insert(string, 1)", "getmetatable('').__index.upper = nil",
    "local mt = getmetatable('') mt.__index = nil", "_G.x = 1", "_G = nil",
    "return loadstring('return 5')()", "local f = loadstring('x = 5') f() return 1",
    "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}",
    "return #_G", "return tostring(cjson.null)",
    "math.randomseed(42) return {math.random(100), math.random(1, 6), "
    "tostring(math.random() < 1)}",
]


@pytest.mark.parametrize("script", SANDBOX)
def test_sandbox(compat, script):
    compat.check("EVAL", script, "0")


def test_globals_stay_protected_across_scripts(compat):
    compat.check("EVAL", "pcall(function() string.rep = nil end) return string.rep('a', 3)",
                 "0")
    compat.check("EVAL", "return string.rep('b', 2)", "0")


# ---- the script cache -----------------------------------------------------------------

def test_script_load_exists_flush_and_evalsha(compat):
    sha = compat.check("SCRIPT", "LOAD", "return 'cached'").split(b"\r\n")[1]
    compat.check("SCRIPT", "EXISTS", sha, sha.upper(), "0" * 40)
    compat.check("EVALSHA", sha, "0")
    compat.check("EVALSHA", sha.upper(), "0")
    compat.check("EVALSHA_RO", sha, "0")
    compat.check("SCRIPT", "FLUSH")
    compat.check("SCRIPT", "EXISTS", sha)
    compat.check("EVALSHA", sha, "0")
    compat.check("EVAL", "return 'cached'", "0")
    compat.check("SCRIPT", "EXISTS", sha)
    compat.check("SCRIPT", "FLUSH", "ASYNC")
    compat.check("SCRIPT", "FLUSH", "SYNC")
    compat.check("SCRIPT", "FLUSH", "x")
    compat.check("SCRIPT", "LOAD", "syntax error here")
    compat.check("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1")
    compat.check("SCRIPT", "KILL")
    compat.check("SCRIPT", "DEBUG", "x")
    compat.check("SCRIPT", "DEBUG", "NO")
    compat.check("SCRIPT", "HELP")
    compat.check("SCRIPT", "FOO")
    compat.check("SCRIPT", "LOAD")


def test_script_commands_in_command_info(compat):
    for name in ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"):
        compat.check("COMMAND", "INFO", name)
    compat.check("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c")
    compat.check("COMMAND", "GETKEYS", "FCALL", "f", "1", "a", "b")


# ---- libraries ------------------------------------------------------------------------

LIBRARIES = [
    # cjson
    "return cjson.encode({string.char(127), '/', 'a\"b', '\\1\\2\\8\\9\\10', 'é'})",
    # (-0 is left out: lupa hands whole numbers to Python as ints, losing the sign)
    "return cjson.encode({})", "return cjson.encode({1, 2.5, 1e20, 0.1, 1/3, "
    "123456789012345})", "return cjson.encode({[1] = 1, [3] = 3})",
    "return cjson.encode({[1] = 1, [20] = 3})", "return cjson.encode({a = 1})",
    "return cjson.encode({[1.5] = 1})", "return cjson.encode({[true] = 1})",
    "return cjson.encode(function() end)", "return cjson.encode(0/0)",
    "return cjson.encode(cjson.null)", "return cjson.encode()", "return cjson.encode(nil)",
    "return cjson.encode({1, nil, 3})",
    "local t = {} t[1] = t return cjson.encode(t)",
    "return cjson.encode(cjson.decode('{\"b\":1,\"a\":2,\"c\":{\"x\":[1,2]}}'))",
    "return cjson.decode('[1,2,{\"a\":[true,false,null]}]')[3].a[1]",
    "return cjson.decode('garbage')", "return cjson.decode('[1,2')",
    "return cjson.decode('{\"a\" 1}')", "return cjson.decode('{1:2}')",
    "return cjson.decode('[1 2]')", "return cjson.decode('1 2')",
    "return cjson.decode('\"abc')", "return cjson.decode('\"a\\\\qb\"')",
    "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", "return cjson.decode('0x10')",
    "return tostring(cjson.decode('nan'))", "return cjson.decode('007')",
    "return cjson.decode('+5')", "return cjson.decode('-')", "return cjson.decode('tru')",
    "return cjson.decode('')", "return cjson.decode(string.rep('[', 1001))",
    "return cjson.decode('[1,2]', 3)", "return cjson.decode('{\"k\": \"v\"}').k",
    "return cjson.decode('[1.5, -2e3, 1E2]')",
    "return {cjson.encode_max_depth(), cjson.encode_number_precision(), "
    "cjson.encode_keep_buffer(), cjson.decode_max_depth()}",
    "return {cjson.encode_sparse_array()}",
    "return {cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}",
    "return cjson._VERSION",
    # cmsgpack
    "return cmsgpack.pack(1, -1, 127, 128, -33, 255, 65536, -2^31, 2^40, 1.5, 0.1)",
    "return cmsgpack.pack('short', string.rep('x', 40), string.rep('y', 300))",
    "return cmsgpack.pack({1, 2, 3}, {a = 1}, {}, true, false, nil)",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, {k = 'v'}, true))}",
    "return cmsgpack.unpack(cmsgpack.pack({a = {b = {c = 'deep'}}})).a.b.c",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return cmsgpack.unpack('\\205')", "return cmsgpack.unpack('\\193')",
    "return cmsgpack.pack()",
    # struct
    "return struct.pack('>I2', 258)", "return {struct.unpack('>I2', '\\1\\2')}",
    "return struct.pack('<i4i8hHbBc3s', -1, 2^40, -2, 65535, -128, 255, 'abc', 'zs')",
    "return {struct.unpack('<i4', struct.pack('<i4', -123))}",
    "return {struct.unpack('c0', '\\3abc')}", "return {struct.unpack('>d', "
    "struct.pack('>d', 1.25))}", "return struct.size('>i4hc5')",
    "return struct.pack('z')", "return struct.unpack('>I4', 'ab')",
    "return struct.size('s')", "return {struct.unpack('!4bi4', struct.pack('!4bi4', 1, 2))}",
    # bit
    "return {bit.band(7, 3), bit.bor(1, 2, 4), bit.bxor(5, 1), bit.bnot(0), "
    "bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), "
    "bit.ror(1, 1), bit.bswap(0x12345678), bit.tobit(2^32 + 5)}",
    "return {bit.tohex(255), bit.tohex(-1, -4), bit.tohex(305419896, 2)}",
    "return bit.band()", "return bit.band('x')", "return bit.bor(1, {})",
    "return bit.tobit('12')",
]


@pytest.mark.parametrize("script", LIBRARIES)
def test_libraries(compat, script):
    compat.check("EVAL", script, "0")


def read_until(client, suffix: bytes) -> bytes:
    """Raw bytes up to and including ``suffix`` (replies too deep for the reply reader)."""
    data = b""
    while not data.endswith(suffix):
        chunk = client.sock.recv(1 << 16)
        assert chunk, "connection closed"
        data += chunk
    return data


@pytest.mark.parametrize("script", [
    "local t = {} t[1] = t return t",
    "local t = {} t.map = {} t.map[1] = t return t",
    "local t = {} t.set = {} t.set[t] = true return t",
    "local t = {map = {}} t.map.k = t return t",
])
def test_self_referencing_tables_stop_at_redis_stack_limit(compat, script):
    from tests.rawclient import encode_command
    request = encode_command("EVAL", script, "0") + encode_command("PING")
    compat.ember.send(request)
    compat.redis.send(request)
    ember = read_until(compat.ember, b"+PONG\r\n")
    assert b"-ERR reached lua stack limit\r\n" in ember
    assert ember == read_until(compat.redis, b"+PONG\r\n")

"""FUNCTION and FCALL against a real redis-server: replies compared byte for byte.

Each test starts with FUNCTION FLUSH on both servers (FLUSHALL keeps functions). Where a
reply lists several libraries, one library is used so that Redis's dict order does not
matter. FUNCTION DUMP payloads differ by design (Redis 7.0 writes RDB version 10, ember
7.2's 11), so the dump of each server is restored into the other where that is possible
and the result compared.
"""

import pytest

pytestmark = pytest.mark.compat

LIB = ("#!lua name=mylib\n"
       "redis.register_function('incr_by', function(keys, args) "
       "return redis.call('INCRBY', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='get_ro', callback=function(keys) "
       "return redis.call('GET', keys[1]) end, flags={'no-writes'}, "
       "description='reads a key'}\n"
       "redis.register_function{function_name='write_ro', callback=function(keys) "
       "return redis.call('SET', keys[1], 'x') end, flags={'no-writes'}}\n"
       "redis.register_function('fail', function(keys, args) error('boom') end)\n"
       "redis.register_function('keys_and_args', function(keys, args) "
       "return {keys, args, #keys, #args} end)\n"
       "redis.register_function('globals', function() return KEYS end)\n"
       "redis.register_function('call', function(keys, args) "
       "return redis.call(unpack(args)) end)\n"
       "redis.register_function('resp3', function(keys, args) redis.setresp(3) "
       "return redis.call('HGETALL', keys[1]) end)\n")


@pytest.fixture
def fn(compat):
    """The compat pair with no function libraries loaded."""
    compat.check("FUNCTION", "FLUSH")
    yield compat
    compat.check("FUNCTION", "FLUSH")


def test_load_and_call(fn):
    fn.check("FUNCTION", "LOAD", LIB)
    fn.script([
        ("FCALL", "incr_by", "1", "counter", "5"), ("FCALL", "INCR_BY", "1", "counter", "2"),
        ("FCALL", "get_ro", "1", "counter"), ("FCALL_RO", "get_ro", "1", "counter"),
        ("FCALL_RO", "incr_by", "1", "counter", "1"), ("FCALL", "write_ro", "1", "k"),
        ("FCALL_RO", "write_ro", "1", "k"), ("FCALL", "fail", "0"),
        ("FCALL", "keys_and_args", "2", "a", "b", "c"), ("FCALL", "globals", "0"),
        ("FCALL", "call", "0", "nosuch"), ("FCALL", "call", "0", "PING"),
        ("FCALL", "call", "0", "SET", "v", "1"), ("FCALL", "call", "0", "LPUSH", "v", "1"),
        ("HSET", "h", "f", "v"), ("FCALL", "resp3", "1", "h"),
        ("FCALL", "nosuch", "0"), ("FCALL", "incr_by", "x"), ("FCALL", "incr_by", "5", "a"),
        ("FCALL", "incr_by", "-1"),
    ])


SMALL = ("#!lua name=small\nredis.register_function{function_name='only', "
         "callback=function() return 1 end, flags={'no-writes', 'allow-oom', 'no-cluster', "
         "'allow-stale', 'allow-cross-slot-keys'}, description='the one'}")


def test_function_list_and_stats(fn):
    # Redis lists a library's functions in hash order: compare those replies unordered.
    fn.check("FUNCTION", "LOAD", LIB)
    for command in [("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"),
                    ("FUNCTION", "LIST", "LIBRARYNAME", "my*"),
                    ("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "MYLIB")]:
        fn.check_unordered(*command)
    fn.script([
        ("FUNCTION", "LIST", "LIBRARYNAME", "x*"), ("FUNCTION", "LIST", "LIBRARYNAME"),
        ("FUNCTION", "LIST", "foo"), ("FUNCTION", "LIST", "WITHCODE", "WITHCODE"),
        ("FUNCTION", "STATS"), ("FUNCTION", "DELETE", "mylib"), ("FUNCTION", "LOAD", SMALL),
        ("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"), ("FUNCTION", "STATS"),
    ])
    fn.ember.call("HELLO", "3")
    fn.redis.call("HELLO", "3")
    fn.check("FUNCTION", "LIST", "WITHCODE")
    fn.check("FUNCTION", "STATS")


LOAD_ERRORS = [
    "#!lua name=mylib\nredis.register_function('incr_by', function() return 1 end)",
    "#!lua name=other\nredis.register_function('incr_by', function() return 1 end)",
    "#!lua name=l2\nlocal x = string.format('a')\nredis.register_function('f2', "
    "function() return 1 end)",
    "#!lua name=l3\nredis.call('ping')", "#!lua name=l3\nreturn 1", "#!lua name=l3",
    "#!lua\nreturn 1", "#!lua name=a-b\nreturn 1", "#!py name=ab\nreturn 1",
    "#!lua name=ab foo=bar\nreturn 1", "#!lua name=ab name=cd\nreturn 1", "no shebang",
    "#!lua name=ab\nx = 1", "#!lua name=ab\nlocal y = x", "#!lua name=ab\nsyntax error",
    "#!lua name=ab\nerror('boom')",
    "#!lua name=ab\nredis.register_function('a-b', function() end)",
    "#!lua name=ab\nredis.register_function('x', function() end) "
    "redis.register_function('x', function() end)",
    "#!lua name=ab\nredis.register_function{function_name='x', callback=function() end, "
    "flags={'no-writes','bad'}}",
    "#!lua name=ab\nredis.register_function{function_name='y', callback=function() end, "
    "foo=1}",
    "#!lua name=ab\nredis.register_function{function_name='y'}",
    "#!lua name=ab\nredis.register_function('y')",
    "#!lua name=ab\nredis.register_function(1, 2, 3)",
    "#!lua name=ab\nredis.register_function(function() end, 'y')",
    "#!lua name=ab\nredis.register_function('y', 'z')",
    "#!lua name=ab\nredis.register_function{callback=function() end}",
    "#!lua name=ab\nredis.register_function{function_name='y', callback=function() end, "
    "flags='no-writes'}",
    "#!lua name=ab\nredis.register_function('y', function() end) return redis.setresp",
    "#!lua name=ab\nlocal t = {} for k in pairs(redis) do t[#t+1]=k end",
    "#!lua name=ab\nredis.log(redis.LOG_DEBUG, 'loading', redis.REDIS_VERSION_NUM > 0) "
    "redis.register_function('y', function() return 1 end)",
]


@pytest.mark.parametrize("code", LOAD_ERRORS)
def test_load_errors(fn, code):
    fn.check("FUNCTION", "LOAD", LIB)
    fn.check("FUNCTION", "LOAD", code)
    fn.check_unordered("FUNCTION", "LIST", "LIBRARYNAME", "mylib")


def test_load_options_and_replace(fn):
    fn.script([
        ("FUNCTION", "LOAD", "REPLACE"), ("FUNCTION", "LOAD", "FOO", "x"),
        ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", "REPLACE", LIB),
        ("FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nreturn 1"),
        ("FCALL", "incr_by", "1", "k", "1"),
        ("FUNCTION", "LOAD", "replace", "#!lua name=mylib\n"
         "redis.register_function('only_one', function() return 'new' end)"),
        ("FCALL", "only_one", "0"), ("FCALL", "incr_by", "1", "k", "1"),
        ("FUNCTION", "LIST"),
    ])


def test_delete_flush_kill_help(fn):
    fn.script([
        ("FUNCTION", "LOAD", LIB), ("FUNCTION", "DELETE", "nosuch"),
        ("FUNCTION", "DELETE", "mylib"), ("FCALL", "incr_by", "1", "k", "1"),
        ("FUNCTION", "LIST"), ("FUNCTION", "LOAD", LIB), ("FUNCTION", "FLUSH", "foo"),
        ("FUNCTION", "FLUSH", "a", "b"), ("FUNCTION", "FLUSH", "ASYNC"),
        ("FUNCTION", "LIST"), ("FUNCTION", "LOAD", LIB), ("FUNCTION", "FLUSH", "sync"),
        ("FUNCTION", "STATS"), ("FUNCTION", "KILL"), ("FUNCTION", "HELP"),
        ("FUNCTION", "FOO"), ("FUNCTION",),
    ])


def test_restore_errors(fn):
    fn.script([
        ("FUNCTION", "RESTORE", "garbage"), ("FUNCTION", "RESTORE", "garbage", "foo"),
        ("FUNCTION", "RESTORE", "garbage", "flush", "x"), ("FUNCTION", "RESTORE", ""),
        ("FUNCTION", "RESTORE", "x" * 40),
    ])


def test_dump_of_redis_restores_in_ember(fn):
    fn.check("FUNCTION", "LOAD", LIB)
    payload = fn.redis.call("FUNCTION", "DUMP")
    fn.check("FUNCTION", "FLUSH")
    fn.check("FUNCTION", "RESTORE", payload)
    fn.check_unordered("FUNCTION", "LIST", "WITHCODE")
    fn.check("FUNCTION", "RESTORE", payload)             # APPEND: the library exists
    fn.check("FUNCTION", "RESTORE", payload, "APPEND")
    fn.check("FUNCTION", "RESTORE", payload, "REPLACE")
    fn.check("FUNCTION", "RESTORE", payload, "FLUSH")
    fn.check("FCALL", "incr_by", "1", "k", "3")
    fn.check("FUNCTION", "DELETE", "mylib")
    fn.check("FUNCTION", "LOAD", "#!lua name=taker\n"
             "redis.register_function('incr_by', function() return 0 end)")
    fn.check("FUNCTION", "RESTORE", payload, "REPLACE")  # function name taken
    fn.check("FUNCTION", "LIST", "LIBRARYNAME", "mylib")
    fn.check_unordered("FUNCTION", "LIST")
    corrupted = payload[:-1] + bytes([payload[-1] ^ 1])
    fn.check("FUNCTION", "RESTORE", corrupted)


def test_ember_dump_round_trips(fn):
    fn.check("FUNCTION", "LOAD", LIB)
    payload = fn.ember.call("FUNCTION", "DUMP")
    # Same layout as Redis's (opcode 245, the code as an RDB string), 7.2's RDB version.
    assert payload.startswith(b"\xf5") and payload[-10:-8] == b"\x0b\x00"
    fn.ember.call("FUNCTION", "FLUSH")
    assert fn.ember.call("FUNCTION", "RESTORE", payload) == "OK"
    assert fn.ember.call("FCALL", "incr_by", "1", "k", "4") == 4
    listed = fn.ember.call("FUNCTION", "LIST", "WITHCODE")
    assert listed[0][-1] == LIB.encode()


def test_fcall_in_command_info_and_getkeys(fn):
    fn.check("COMMAND", "INFO", "fcall", "fcall_ro", "function|load", "function|list",
             "function|stats", "function|restore", "script|load", "script|kill")
    fn.check("COMMAND", "GETKEYS", "FCALL_RO", "f", "2", "a", "b", "c")

"""Scripting on an engine without sockets: propagation, the time limit and SCRIPT KILL,
script flags, FUNCTION LOAD/DUMP/RESTORE, blocked clients woken by scripts.

The server's busy responder is replaced by a stand-in installed in
``engine.hooks["script_busy"]`` that runs other clients' commands through the engine
from the Lua hook, as the real one does with commands read from sockets.
"""

import pytest

from ember.errors import ReplyError
from ember.protocol.reader import ReplyReader
from ember.server.config import Config
from tests.unit.harness import Harness

KILLED = "ERR Script killed by user with SCRIPT KILL... script: %s, on @user_script:1."


def value(raw):
    """A script reply (pre-encoded bytes) as a Python value."""
    reader = ReplyReader()
    reader.feed(bytes(raw))
    return reader.get()


class BusyStandIn:
    """What the server layer does for a timed-out script, driven by a test: on each poll,
    run the next queued command as another client and keep its reply."""

    def __init__(self, harness, commands):
        self.engine = harness.engine
        self.client = harness.engine.new_client()
        self.commands = list(commands)
        self.replies = []
        self.began = self.ended = 0
        self.run = None

    def begin(self, run):
        self.began += 1
        self.run = run

    def poll(self):
        if self.commands:
            argv = [a.encode() if isinstance(a, str) else a for a in self.commands.pop(0)]
            reply = self.engine.execute(self.client, argv)
            self.replies.append(reply.message if isinstance(reply, ReplyError) else reply)

    def end(self, run):
        self.ended += 1


@pytest.fixture
def busy_h():
    config = Config()
    config.set("busy-reply-threshold", ["20"])
    return Harness(config)


def sha(h, script: str) -> str:
    return h("SCRIPT", "LOAD", script).decode()


# ---- propagation ----------------------------------------------------------------------

def test_one_write_propagates_as_itself_and_the_eval_never(h):
    h("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v")
    assert h.propagated == [[b"SET", b"k", b"v"]]


def test_several_writes_are_wrapped_in_multi_exec(h):
    h("EVAL", "redis.call('SET', 'a', '1') redis.call('INCR', 'n') "
      "redis.call('GET', 'a') return redis.call('DEL', 'nothing')", "0")
    assert h.propagated == [[b"MULTI"], [b"SET", b"a", b"1"], [b"INCR", b"n"], [b"EXEC"]]


def test_reads_and_failed_writes_propagate_nothing(h):
    h("SET", "s", "v")
    h.propagated.clear()
    h("EVAL", "redis.call('GET', 's') local e = redis.pcall('LPUSH', 's', 'x') "
      "return e.err", "0")
    h("EVAL_RO", "return redis.call('GET', 's')", "0")
    assert h.propagated == []


def test_relative_times_propagate_absolute(h):
    h("EVAL", "return redis.call('SET', 'k', 'v', 'EX', '100')", "0")
    assert h.propagated == [[b"SET", b"k", b"v", b"PXAT", b"%d" % (h.now + 100_000)]]


def test_set_repl_none_stops_propagating_the_following_writes(h):
    h("EVAL", "redis.call('SET', 'a', '1') redis.set_repl(redis.REPL_NONE) "
      "redis.call('SET', 'b', '2') redis.set_repl(redis.REPL_ALL) "
      "return redis.call('SET', 'c', '3')", "0")
    assert h.propagated == [[b"MULTI"], [b"SET", b"a", b"1"], [b"SET", b"c", b"3"],
                            [b"EXEC"]]


def test_writes_in_another_database_propagate_with_it(h):
    seen = []
    h.engine.propagators.append(lambda db, argv: seen.append((db, argv[0])))
    h("EVAL", "redis.call('SET', 'a', '1') redis.call('SELECT', '3') "
      "return redis.call('SET', 'b', '2')", "0")
    assert h.client.db.id == 0     # the script's SELECT is its own
    assert seen == [(0, b"MULTI"), (0, b"SET"), (3, b"SET"), (3, b"EXEC")]


def test_script_inside_exec_joins_the_transaction(h):
    h("MULTI")
    h("SET", "x", "1")
    h("EVAL", "redis.call('SET', 'y', '2') return redis.call('SET', 'z', '3')", "0")
    h("EXEC")
    assert h.propagated == [[b"MULTI"], [b"SET", b"x", b"1"], [b"SET", b"y", b"2"],
                            [b"SET", b"z", b"3"], [b"EXEC"]]


def test_function_changes_propagate_as_themselves(h):
    code = "#!lua name=lib\nredis.register_function('f', function() return 1 end)"
    h("FUNCTION", "LOAD", code)
    payload = h("FUNCTION", "DUMP")
    h("FUNCTION", "DELETE", "lib")
    h("FUNCTION", "RESTORE", payload)
    h("FUNCTION", "FLUSH")
    assert [argv[:2] for argv in h.propagated] == [
        [b"FUNCTION", b"LOAD"], [b"FUNCTION", b"DELETE"], [b"FUNCTION", b"RESTORE"],
        [b"FUNCTION", b"FLUSH"]]
    with pytest.raises(ReplyError):
        h("FUNCTION", "DELETE", "lib")
    assert len(h.propagated) == 4


def test_fcall_propagates_its_effects(h):
    h("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('bump', "
      "function(keys) redis.call('INCR', keys[1]) return redis.call('INCR', keys[1]) end)")
    h.propagated.clear()
    assert value(h("FCALL", "bump", "1", "n")) == 2
    assert h.propagated == [[b"MULTI"], [b"INCR", b"n"], [b"INCR", b"n"], [b"EXEC"]]


# ---- the time limit and SCRIPT KILL ---------------------------------------------------

def test_script_kill_stops_a_timed_out_script(busy_h):
    h = busy_h
    busy = BusyStandIn(h, [("PING",), ("SCRIPT", "KILL")])
    h.engine.hooks["script_busy"] = busy
    script = "while true do end"
    with pytest.raises(ReplyError) as error:
        h("EVAL", script, "0")
    assert error.value.message == KILLED % sha(h, script)
    assert busy.began == busy.ended == 1
    assert busy.replies[1] == "OK"
    with pytest.raises(ReplyError, match="NOTBUSY No scripts in execution right now."):
        h("SCRIPT", "KILL")


def test_pcall_cannot_swallow_the_kill(busy_h):
    h = busy_h
    h.engine.hooks["script_busy"] = BusyStandIn(h, [("SCRIPT", "KILL")])
    script = ("local n = 0 while true do pcall(function() while true do end end) "
              "n = n + 1 end")
    with pytest.raises(ReplyError, match="Script killed by user with SCRIPT KILL"):
        h("EVAL", script, "0")


def test_a_script_that_wrote_is_unkillable(busy_h):
    h = busy_h
    busy = BusyStandIn(h, [("SCRIPT", "KILL"), ("FUNCTION", "KILL"), ("GET", "k")])
    h.engine.hooks["script_busy"] = busy
    script = ("redis.call('SET', 'k', 'v') local t = redis.call('TIME') "
              "local i = 0 while i < 3000000 do i = i + 1 end return i")
    assert value(h("EVAL", script, "0")) == 3000000
    assert busy.replies[0].startswith("UNKILLABLE Sorry the script already executed write")
    assert busy.replies[1].startswith("UNKILLABLE")
    # GET ran through the engine here (the server answers BUSY before dispatching).
    assert h("GET", "k") == b"v"


def test_kill_commands_must_match_the_kind_of_script(busy_h):
    h = busy_h
    h("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('spin', "
      "function() while true do end end)")
    busy = BusyStandIn(h, [("SCRIPT", "KILL"), ("FUNCTION", "STATS"), ("FUNCTION", "KILL")])
    h.engine.hooks["script_busy"] = busy
    with pytest.raises(ReplyError) as error:
        h("FCALL", "spin", "0")
    assert error.value.message.startswith("ERR Script killed by user with SCRIPT KILL... "
                                          "script: spin, on @user_function:2.")
    assert busy.replies[0] == ("BUSY Redis is busy running a script. You can only call "
                               "FUNCTION KILL or SHUTDOWN NOSAVE.")
    stats = busy.replies[1]
    assert stats[b"running_script"][b"name"] == b"spin"
    assert stats[b"running_script"][b"command"] == [b"FCALL", b"spin", b"0"]
    assert busy.replies[2] == "OK"

    busy = BusyStandIn(h, [("FUNCTION", "KILL"), ("FUNCTION", "STATS"), ("SCRIPT", "KILL")])
    h.engine.hooks["script_busy"] = busy
    with pytest.raises(ReplyError):
        h("EVAL", "while true do end", "0")
    slow_eval = ("BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                 "SHUTDOWN NOSAVE.")
    assert busy.replies[:2] == [slow_eval, slow_eval]
    assert busy.replies[2] == "OK"


def test_no_threshold_means_no_hook(h):
    h("CONFIG", "SET", "busy-reply-threshold", "0")
    busy = BusyStandIn(h, [("SCRIPT", "KILL")])
    h.engine.hooks["script_busy"] = busy
    assert value(h("EVAL", "local i = 0 while i < 500000 do i = i + 1 end return i",
                   "0")) == 500000
    assert busy.began == 0


def test_function_load_has_a_time_limit(h):
    with pytest.raises(ReplyError, match="^ERR Error registering functions: ERR FUNCTION "
                                         "LOAD timeout$"):
        h("FUNCTION", "LOAD", "#!lua name=spin\nwhile true do end")
    assert h("FUNCTION", "LIST") == []


# ---- flags, cache, functions ----------------------------------------------------------

def test_flags_are_kept_on_scripts_and_functions(h):
    digest = sha(h, "#!lua flags=no-writes,allow-oom\nreturn 1")
    script = h.engine.scripting.scripts[digest.encode()]
    assert script.flags == {"no-writes", "allow-oom"} and not script.compat
    assert h.engine.scripting.scripts[sha(h, "return 1").encode()].compat
    h("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f', "
      "callback=function() return 1 end, flags={'allow-stale', 'NO-WRITES'}}")
    from ember.commands.functions import libraries
    assert libraries(h.engine).functions[b"f"].flags == {"allow-stale", "no-writes"}


def test_script_flush_forgets_scripts_and_globals_state(h):
    digest = sha(h, "return 'x'")
    h("SCRIPT", "FLUSH")
    with pytest.raises(ReplyError, match="NOSCRIPT"):
        h("EVALSHA", digest, "0")
    assert h("SCRIPT", "EXISTS", digest) == [0]


def test_function_dump_restore_policies(h):
    one = "#!lua name=one\nredis.register_function('f1', function() return 1 end)"
    two = "#!lua name=two\nredis.register_function('f2', function() return 2 end)"
    h("FUNCTION", "LOAD", one)
    dump_one = h("FUNCTION", "DUMP")
    h("FUNCTION", "LOAD", two)
    dump_both = h("FUNCTION", "DUMP")
    h("FUNCTION", "FLUSH")
    assert h("FUNCTION", "RESTORE", dump_both) == "OK"
    names = [lib[b"library_name"] for lib in h("FUNCTION", "LIST")]
    assert names == [b"one", b"two"]
    with pytest.raises(ReplyError, match="^ERR Library one already exists$"):
        h("FUNCTION", "RESTORE", dump_one)
    assert h("FUNCTION", "RESTORE", dump_one, "REPLACE") == "OK"
    assert h("FUNCTION", "RESTORE", dump_one, "FLUSH") == "OK"
    assert [lib[b"library_name"] for lib in h("FUNCTION", "LIST")] == [b"one"]
    for garbage in (b"", b"x" * 20, dump_one[:-1] + b"\x00", dump_one[:5] + dump_one[6:]):
        with pytest.raises(ReplyError, match="DUMP payload version or checksum are wrong"):
            h("FUNCTION", "RESTORE", garbage)


def test_replaced_library_stays_when_the_new_code_fails(h):
    h("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() "
      "return 'old' end)")
    with pytest.raises(ReplyError):
        h("FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\nerror('no')")
    assert value(h("FCALL", "f", "0")) == b"old"


# ---- blocking, clients, sandbox -------------------------------------------------------

def test_clients_blocked_on_a_key_are_served_after_the_script(h):
    client = h.engine.new_client()
    h.engine.execute(client, [b"BLPOP", b"queue", b"0"])
    waiter = client.blocked
    assert waiter is not None
    h("EVAL", "redis.call('RPUSH', 'queue', 'a', 'b') return redis.call('LLEN', 'queue')",
      "0")
    assert client.blocked is None
    assert waiter.reply == [b"queue", b"a"]      # no server: the registry keeps the reply
    assert h("LRANGE", "queue", "0", "-1") == [b"b"]


def test_script_client_is_not_the_caller(h):
    h("SELECT", "2")
    h("EVAL", "redis.call('SELECT', '5') return redis.call('SET', 'k', 'v')", "0")
    assert h.client.db.id == 2
    assert h.engine.dbs[5].peek(b"k") == b"v"
    assert h.engine.dbs[2].peek(b"k") is None


def test_python_objects_are_out_of_reach(h):
    assert value(h("EVAL", "return {type(redis.call), type(math.random), "
                   "type(cjson.encode), type(bit.band)}", "0")) == [b"function"] * 4
    for script in ("return redis.call.__class__", "return python",
                   "return getmetatable(redis.call)", "return cjson.encode.__globals__"):
        try:
            reply = h("EVAL", script, "0")
        except ReplyError as exc:
            assert "Python" not in exc.message and "object" not in exc.message
        else:
            assert value(reply) is None


def test_redis_version_is_ember_s(h):
    from ember import REDIS_VERSION
    major, minor, patch = (int(p) for p in REDIS_VERSION.split("."))
    assert value(h("EVAL", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "0")) \
        == [REDIS_VERSION.encode(), (major << 16) | (minor << 8) | patch]


def test_math_random_is_redis_s_generator(h):
    # The first values of Redis's redisLrand48 after seeding with 1 (checked against
    # redis-server: math.randomseed(1) return {math.random(100), math.random(100)}).
    assert value(h("EVAL", "math.randomseed(1) return {math.random(100), math.random(100)}",
                   "0")) == [5, 46]

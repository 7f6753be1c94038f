"""Scripts and functions over maxmemory, compared byte for byte with redis-server.

Redis refuses, at dispatch, an EVAL/EVALSHA/FCALL whose script or function declares it
may write (a shebang or function without ``no-writes``/``allow-oom``): getCommandFlags
gives it ``denyoom``. A script without a shebang keeps EVAL's flags and is refused at its
first command that may grow memory, unless it already wrote (scriptVerifyOOM).
"""

ROLLING = "#!lua\nreturn redis.call('get', KEYS[1])"
NO_WRITES = "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])"
ALLOW_OOM = "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'oom-ok')"
COMPAT_WRITE = "return redis.call('set', KEYS[1], 'x')"
COMPAT_READ = "return redis.call('get', KEYS[1])"
COMPAT_PCALL = "local e = redis.pcall('set', KEYS[1], 'x') return e"
COMPAT_DEL_THEN_SET = "redis.call('del', KEYS[1]) return redis.call('set', KEYS[1], 'y')"
COMPAT_READ_THEN_SET = "redis.call('get', KEYS[1]) return redis.call('incr', 'n')"

LIBRARY = """#!lua name=oomlib
redis.register_function('w', function(keys) return redis.call('set', keys[1], 'f') end)
redis.register_function{function_name='r', callback=function(keys)
  return redis.call('get', keys[1]) end, flags={'no-writes'}}
redis.register_function{function_name='a', callback=function(keys)
  return redis.call('set', keys[1], 'fa') end, flags={'allow-oom'}}
"""


def _restore(compat):
    for side in (compat.ember, compat.redis):
        side.call("CONFIG", "SET", "maxmemory", "0")
        side.call("FUNCTION", "FLUSH")


def test_eval_and_evalsha_over_maxmemory(compat):
    compat.script([("SET", "k", "v"), ("SCRIPT", "LOAD", ROLLING),
                   ("SCRIPT", "LOAD", NO_WRITES), ("SCRIPT", "LOAD", COMPAT_WRITE)])
    rolling_sha = compat.ember.call("SCRIPT", "LOAD", ROLLING)
    compat_sha = compat.ember.call("SCRIPT", "LOAD", COMPAT_WRITE)
    try:
        compat.script([
            ("CONFIG", "SET", "maxmemory", "1"),
            ("EVAL", ROLLING, "1", "k"),            # declared flags: refused at dispatch
            ("EVALSHA", rolling_sha, "1", "k"),
            ("EVAL_RO", ROLLING, "1", "k"),
            ("EVAL", NO_WRITES, "1", "k"),          # no-writes implies allow-oom
            ("EVAL_RO", NO_WRITES, "1", "k"),
            ("EVAL", ALLOW_OOM, "1", "k"), ("GET", "k"),
            ("EVAL", COMPAT_READ, "1", "k"),        # no shebang: reads run
            ("EVAL", COMPAT_WRITE, "1", "k"),       # ... the first denyoom write fails
            ("EVALSHA", compat_sha, "1", "k"),
            ("EVAL", COMPAT_PCALL, "1", "k"),       # the error as a table
            ("EVAL", COMPAT_READ_THEN_SET, "1", "k"),
            ("EVAL", COMPAT_DEL_THEN_SET, "1", "k"),  # after a write it cannot stop
            ("GET", "k"),
            ("EVAL", "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 1)",
             "1", "k"),
            ("EVALSHA", "0" * 40, "0"),             # unknown script: NOSCRIPT as usual
            ("EVAL", "#!lua flags=bogus\nreturn 1", "0"),
            ("CONFIG", "SET", "maxmemory", "0"),
            ("EVAL", ROLLING, "1", "k"),
        ])
    finally:
        _restore(compat)


def test_fcall_over_maxmemory(compat):
    compat.script([("FUNCTION", "LOAD", LIBRARY), ("SET", "k", "v")])
    try:
        compat.script([
            ("CONFIG", "SET", "maxmemory", "1"),
            ("FCALL", "w", "1", "k"), ("FCALL_RO", "w", "1", "k"),
            ("FCALL", "r", "1", "k"), ("FCALL_RO", "r", "1", "k"),
            ("FCALL", "a", "1", "k"), ("GET", "k"),
            ("FCALL", "nosuch", "0"),
        ])
    finally:
        _restore(compat)


def test_scripts_in_multi_over_maxmemory(compat):
    compat.script([("SET", "k", "v")])
    try:
        compat.script([
            # queued under the limit, EXEC over it: refused when one may write
            ("MULTI",), ("EVAL", ROLLING, "1", "k"),
            ("CONFIG", "SET", "maxmemory", "1"), ("EXEC",),
            ("CONFIG", "SET", "maxmemory", "0"),
            ("MULTI",), ("EVAL", NO_WRITES, "1", "k"), ("EVAL", COMPAT_WRITE, "1", "k"),
            ("CONFIG", "SET", "maxmemory", "1"), ("EXEC",),
            ("GET", "k"),
            ("MULTI",),                              # over the limit: queueing refused
            ("EVAL", NO_WRITES, "1", "k"), ("EXEC",),
        ])
    finally:
        _restore(compat)


def test_script_refusals_counted(compat):
    try:
        compat.script([("CONFIG", "SET", "maxmemory", "1"), ("CONFIG", "RESETSTAT",),
                       ("EVAL", ROLLING, "1", "k"), ("EVAL", COMPAT_WRITE, "1", "k"),
                       ("CONFIG", "SET", "maxmemory", "0")])
        for side in (compat.ember, compat.redis):
            info = side.call("INFO", "errorstats")
            assert b"errorstat_OOM:count=2" in info, info
            stats = side.call("INFO", "commandstats")
            line = [x for x in stats.split(b"\r\n") if x.startswith(b"cmdstat_eval:")]
            assert b"rejected_calls=1" in line[0], line
            set_line = [x for x in stats.split(b"\r\n") if x.startswith(b"cmdstat_set:")]
            assert b"rejected_calls=1" in set_line[0], set_line
    finally:
        _restore(compat)

"""Scripts and functions through redis-py against a real ember-server (RESP2 and RESP3):
the EVALSHA/NOSCRIPT dance of ``register_script``, redis-py's ``Lock``, a rate limiter
written as a Lua script, functions, pipelines and MONITOR.
"""

import threading
import time

import pytest
import redis
from redis.exceptions import LockNotOwnedError, NoScriptError, ResponseError

RATE_LIMIT = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if current > tonumber(ARGV[1]) then
  return {0, redis.call('PTTL', KEYS[1])}
end
return {1, tonumber(ARGV[1]) - current}
"""


def test_register_script_loads_on_noscript(r):
    r.script_flush()
    script = r.register_script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
    assert script(keys=["counter"], args=["x"]) == [b"counter", b"x", 1]
    assert r.script_exists(script.sha) == [True]
    assert script(keys=["counter"], args=["y"]) == [b"counter", b"y", 2]
    with pytest.raises(NoScriptError):
        r.evalsha("0" * 40, 0)


def test_lock_acquire_extend_release(r):
    lock = r.lock("resource", timeout=5, blocking_timeout=1)
    assert lock.acquire()
    token = r.get("resource")
    assert token and lock.owned()
    assert r.pttl("resource") <= 5000
    assert lock.extend(10)
    assert 5000 < r.pttl("resource") <= 15000
    assert lock.extend(20, replace_ttl=True)
    assert 15000 < r.pttl("resource") <= 20000
    assert lock.reacquire()
    other = r.lock("resource", timeout=5, blocking_timeout=0.2)
    assert not other.acquire()
    lock.release()
    assert r.get("resource") is None
    assert other.acquire()
    r.delete("resource")                  # the lock expired under its owner
    with pytest.raises(LockNotOwnedError):
        other.extend(1)
    with pytest.raises(LockNotOwnedError):
        other.reacquire()
    with pytest.raises(LockNotOwnedError):
        other.release()


def test_lock_serializes_threads(ember_server):
    counter_key = "guarded"
    clients = [redis.Redis(port=ember_server.port) for _ in range(4)]
    clients[0].delete(counter_key, "mutex")

    def work(client):
        for _ in range(10):
            with client.lock("mutex", timeout=5, blocking_timeout=10, sleep=0.001):
                value = int(client.get(counter_key) or 0)
                client.set(counter_key, value + 1)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert int(clients[0].get(counter_key)) == 40
    for client in clients:
        client.close()


def test_rate_limiter_script(r):
    limiter = r.register_script(RATE_LIMIT)
    results = [limiter(keys=["rate:user1"], args=[5, 60000]) for _ in range(7)]
    assert [allowed for allowed, _ in results] == [1, 1, 1, 1, 1, 0, 0]
    assert [left for _, left in results[:5]] == [4, 3, 2, 1, 0]
    assert 0 < results[5][1] <= 60000
    assert 0 < r.pttl("rate:user1") <= 60000
    assert limiter(keys=["rate:user2"], args=[5, 60000]) == [1, 4]


def test_rate_limiter_window_expires(r):
    limiter = r.register_script(RATE_LIMIT)
    assert limiter(keys=["rate:short"], args=[1, 50]) == [1, 0]
    assert limiter(keys=["rate:short"], args=[1, 50])[0] == 0
    deadline = time.monotonic() + 5
    while r.exists("rate:short") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert limiter(keys=["rate:short"], args=[1, 50]) == [1, 0]


def test_resp3_client_sees_resp3_types(r3):
    assert r3.eval("return {map = {a = 1}}", 0) == {b"a": 1}
    assert r3.eval("return {double = 1.5}", 0) == 1.5
    assert r3.eval("redis.setresp(3) return redis.call('HGETALL', KEYS[1])", 1, "h") == {}
    r3.hset("h", mapping={"f": "v"})
    assert r3.eval("redis.setresp(3) return redis.call('HGETALL', KEYS[1])", 1, "h") == \
        {b"f": b"v"}
    assert r3.eval("return false", 0) is None
    assert r3.eval("redis.setresp(3) return false", 0) is False


def test_errors_reach_the_client(r):
    r.set("string", "v")
    with pytest.raises(ResponseError, match="WRONGTYPE Operation against a key holding the "
                                            "wrong kind of value script: .*, on "
                                            "@user_script:1."):
        r.eval("return redis.call('LPUSH', KEYS[1], 'x')", 1, "string")
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only "
                                            "scripts"):
        r.eval_ro("return redis.call('SET', KEYS[1], 'x')", 1, "k")


def test_functions(r):
    r.function_flush()
    code = ("#!lua name=counters\n"
            "redis.register_function('bump', function(keys, args) "
            "return redis.call('INCRBY', keys[1], args[1]) end)\n"
            "redis.register_function{function_name='peek', callback=function(keys) "
            "return redis.call('GET', keys[1]) end, flags={'no-writes'}}")
    assert r.function_load(code) == "counters" or r.function_load(code, replace=True)
    assert r.fcall("bump", 1, "hits", 5) == 5
    assert r.fcall_ro("peek", 1, "hits") == b"5"
    with pytest.raises(ResponseError, match="Can not execute a script with write flag"):
        r.fcall_ro("bump", 1, "hits", 1)
    listed = r.function_list()
    assert listed[0][1] == b"counters"
    payload = r.function_dump()
    r.function_flush()
    assert r.function_restore(payload)
    assert r.fcall("bump", 1, "hits", 1) == 6
    r.function_flush()


def test_scripts_in_pipelines_and_transactions(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1")
    pipe.eval("return redis.call('INCR', KEYS[1])", 1, "a")
    pipe.eval("return redis.call('GET', KEYS[1])", 1, "a")
    assert pipe.execute() == [True, 2, b"2"]
    pipe = r.pipeline(transaction=False)
    for _ in range(50):
        pipe.eval("return redis.call('INCR', KEYS[1])", 1, "n")
    assert pipe.execute() == list(range(1, 51))


def test_monitor_shows_the_script_before_its_commands(ember_server, r):
    with r.monitor() as monitor:
        r.eval("return redis.call('SET', KEYS[1], 'v')", 1, "watched")
        seen = []
        while len(seen) < 2:
            command = monitor.next_command()
            if command["command"].startswith(("EVAL", "SET")):
                seen.append((command["command"], command["client_type"]))
    assert seen[0][0].startswith("EVAL ")
    assert seen[1] == ("SET watched v", "lua")

"""Lua scripting, engine-independent parts: the sandboxed Lua 5.1 runtime (lupa) and the
libraries and conversions Redis scripts rely on.

* :mod:`~ember.scripting.sandbox` -- a :class:`LuaSandbox` per script engine (one for
  EVAL, one for FUNCTION), built from the Lua source in :mod:`~ember.scripting.prelude`:
  Redis 7's globals and their read-only protection, ``redis.*``, the error handler that
  formats errors as Redis does, and the replies converted to RESP inside Lua.
* :mod:`~ember.scripting.convert` -- command reply values -> Lua values (``redis.call``).
* :mod:`~ember.scripting.meta` -- script shebangs (``#!lua flags=...``) and library
  metadata (``#!lua name=...``).
* :mod:`~ember.scripting.payload` -- the FUNCTION DUMP / RESTORE payload (RDB encoding).
* :mod:`~ember.scripting.libs` -- cjson, cmsgpack, struct, bit and Redis's math.random.

Nothing here knows the command table or the network: the commands layer
(:mod:`ember.commands.script_run`) hands a *host* object whose methods run
``redis.call``, log, and answer the time-limit hook.
"""

"""The Lua side of the sandbox: run once in every new Lua state (see sandbox.py).

Redis 7 patches Lua with read-only tables; stock Lua 5.1 has none, so protection is
built from proxies: every protected table (the globals, each library, the ``redis``
table, the string metatable) is an empty table whose metatable reads from the real one
and refuses writes ("Attempt to modify a readonly table"). The functions that reach
around metatables (rawset, rawget, next, pairs, ipairs, setmetatable, getmetatable,
table.insert/remove/sort) are wrapped to see through the proxies as Redis's C functions
see its read-only tables. The thread's global environment is the globals proxy, so
``loadstring``-compiled chunks and coroutines are protected too; binary chunks are
refused as Redis refuses them.

Errors: the handler turns whatever was raised into Redis's error table
``{err=, source=, line=}`` taking source/line from the first frame that is neither a C
function nor this prelude (chunk name ``=ember``), which is what Redis's handler finds
with its one-frame skip. Replies are encoded to RESP here (``encode``), following
luaReplyToRedisReply: tables are read raw, arrays stop at the first nil.

The chunk receives ``mode`` ("eval" or "function") and a table of Python callables
(``host``) and returns the API table that :class:`~ember.scripting.sandbox.LuaSandbox`
drives.
"""

PRELUDE = r"""
local mode, host, libs = ...
local as_function = python.as_function
local unwrap = host.unwrap
local type, error, tostring, tonumber = type, error, tostring, tonumber
local select, unpack = select, unpack
local raw_rawget, raw_rawset, raw_next, raw_pairs, raw_ipairs = rawget, rawset, next, pairs, ipairs
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local raw_pcall, raw_xpcall, raw_loadstring, raw_load = pcall, xpcall, loadstring, load
local setfenv = setfenv
local getinfo, sethook = debug.getinfo, debug.sethook
local concat, floor, huge = table.concat, math.floor, math.huge
local tinsert, tremove, tsort = table.insert, table.remove, table.sort
local gsub, strbyte, strformat, strsub = string.gsub, string.byte, string.format, string.sub
local newproxy = newproxy
local INTERNAL = "=ember"
local READONLY = "Attempt to modify a readonly table"
local api = {}

-- ---- read-only proxies ---------------------------------------------------------------

local backing_of = raw_setmetatable({}, {__mode = "k"})   -- proxy -> real table
local meta_view = raw_setmetatable({}, {__mode = "k"})    -- proxy -> what getmetatable shows

local function refuse_write() error(READONLY, 2) end

local function protect(real, view)
  local proxy = raw_setmetatable({}, {__index = real, __newindex = refuse_write,
                                      __metatable = false})
  backing_of[proxy] = real
  meta_view[proxy] = view
  return proxy
end

local function missing_global(t, name)
  local kind = type(name)
  if kind ~= "string" and kind ~= "number" then
    error("Second argument to luaProtectedTableError must be a string or number", 2)
  end
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local error_meta = {__index = missing_global}

local function real(t) return backing_of[t] or t end

local G = {}               -- the real globals; scripts see only the proxy
raw_setmetatable(G, error_meta)

local function w_rawset(t, k, v)
  if backing_of[t] then error(READONLY, 0) end
  return raw_rawset(t, k, v)
end
local function w_rawget(t, k) return raw_rawget(real(t), k) end
local function w_next(t, k) return raw_next(real(t), k) end
local function w_pairs(t)
  if backing_of[t] then return w_next, t, nil end
  return raw_pairs(t)
end
local function w_ipairs(t) return raw_ipairs(real(t)) end
local function w_setmetatable(t, m)
  if backing_of[t] then error(READONLY, 0) end
  return raw_setmetatable(t, m)
end
local function w_getmetatable(t)
  if backing_of[t] then return meta_view[t] end
  return raw_getmetatable(t)
end
local function guarded(f)
  return function(t, ...)
    if backing_of[t] then error(READONLY, 0) end
    return f(t, ...)
  end
end

-- Redis refuses precompiled chunks: they fail to parse as text.
local globals   -- the proxy scripts see as their globals (set below)
local function w_loadstring(s, name)
  if type(s) == "string" and strbyte(s, 1) == 27 then
    return raw_loadstring(" " .. s, name or s)
  end
  local f, err = raw_loadstring(s, name)
  if f then setfenv(f, globals) end
  return f, err
end
local function w_load(f, name)
  if type(f) ~= "function" then return raw_load(f, name) end
  local parts = {}
  while true do
    local piece = f()
    if piece == nil or piece == "" then break end
    if type(piece) ~= "string" then return nil, "reader function must return a string" end
    parts[#parts + 1] = piece
  end
  return w_loadstring(concat(parts), name or "=(load)")
end

-- Redis's pcall hands back the message of its error tables, as Redis 6 did.
local function collect(...) return select("#", ...), {...} end
local function w_pcall(f, ...)
  local n, r = collect(raw_pcall(f, ...))
  if not r[1] then
    local e = r[2]
    if type(e) == "userdata" then e = unwrap(e) r[2] = e end
    if type(e) == "table" then
      local msg = raw_rawget(e, "err")
      if type(msg) == "string" or type(msg) == "number" then r[2] = msg end
    end
  end
  return unpack(r, 1, n)
end

-- ---- errors ---------------------------------------------------------------------------

local function user_frame()
  local level = 3
  local info = getinfo(level, "Sl")
  while info and (info.what == "C" or info.source == INTERNAL) do
    level = level + 1
    info = getinfo(level, "Sl")
  end
  return info
end

local function err_handler(err)
  local info = user_frame()
  if type(err) == "userdata" then err = unwrap(err) end
  if type(err) ~= "table" then err = {err = "ERR " .. tostring(err)} end
  if info then
    raw_rawset(err, "source", info.source)
    raw_rawset(err, "line", info.currentline)
  end
  return err
end

local function push_error(msg)
  -- luaPushError: "-CODE msg" keeps its code, anything else gets "ERR".
  if strsub(msg, 1, 1) == "-" then
    local space = msg:find(" ", 1, true)
    if space then
      msg = strsub(msg, 2, space - 1) .. " " .. strsub(msg, space + 1)
    else
      msg = "ERR " .. strsub(msg, 2)
    end
  else
    msg = "ERR " .. msg
  end
  msg = gsub(gsub(msg, "^[\r\n]+", ""), "[\r\n]+$", "")
  return {err = msg}
end

-- ---- the redis table ------------------------------------------------------------------
-- Functions that can raise are Python callables made C functions (python.as_function):
-- a Lua "return f()" tail call then keeps the caller's frame for the error position.

local function r_error_reply(...)
  local s = ...
  if select("#", ...) ~= 1 or type(s) ~= "string" then
    return push_error("wrong number or type of arguments")
  end
  if strsub(s, 1, 1) ~= "-" then s = "-" .. s end
  return push_error(s)
end

local function r_status_reply(...)
  local s = ...
  if select("#", ...) ~= 1 or type(s) ~= "string" then
    return push_error("wrong number or type of arguments")
  end
  return {ok = s}
end

local redis = {
  error_reply = r_error_reply, status_reply = r_status_reply,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  REDIS_VERSION = host.version, REDIS_VERSION_NUM = host.version_num,
}
for _, name in raw_ipairs({"call", "pcall", "sha1hex", "log", "setresp", "set_repl",
                           "acl_check_cmd"}) do
  redis[name] = as_function(host[name])
end
if mode == "eval" then
  redis.breakpoint = function() return false end
  redis.debug = function() end
  redis.replicate_commands = function() return true end
end

-- ---- the libraries --------------------------------------------------------------------

local function copy(t)
  local c = {}
  for k, v in raw_pairs(t) do c[k] = v end
  return c
end

local NULL = newproxy(true)
raw_getmetatable(NULL).__tostring = function() return "userdata: (nil)" end
raw_getmetatable(NULL).__metatable = false
api.null = NULL

local math_lib = copy(math)
math_lib.random, math_lib.randomseed = as_function(host.random), as_function(host.randomseed)
local table_lib = copy(table)
table_lib.insert, table_lib.remove = guarded(tinsert), guarded(tremove)
table_lib.sort = guarded(tsort)

local lua_libs = {
  string = copy(string), table = table_lib, math = math_lib, coroutine = copy(coroutine),
}
for name, members in raw_pairs(libs) do
  local lib = {}
  for key, value in raw_pairs(members) do
    if type(value) == "userdata" then value = as_function(value) end
    lib[key] = value
  end
  lua_libs[name] = lib
end
lua_libs.cjson.null = NULL

-- Errors raised from Python reach Lua as the exception object: take its Lua value.
-- The coroutines being resumed, innermost last: where() looks at their stacks.
local raw_resume = coroutine.resume
local resumed = {}
lua_libs.coroutine.resume = function(co, ...)
  resumed[#resumed + 1] = co
  local n, r = collect(raw_resume(co, ...))
  resumed[#resumed] = nil
  if not r[1] and type(r[2]) == "userdata" then r[2] = unwrap(r[2]) end
  return unpack(r, 1, n)
end
local function w_xpcall(f, handler)
  return raw_xpcall(f, function(e)
    if type(e) == "userdata" then e = unwrap(e) end
    return handler(e)
  end)
end

local string_meta = raw_getmetatable("")

for name, lib in raw_pairs(lua_libs) do G[name] = protect(lib, nil) end
-- The string metatable stays real (method calls), but what scripts see is read-only.
string_meta.__metatable = protect({__index = G.string}, nil)

G.redis = protect(redis, nil)
for _, name in raw_ipairs({"assert", "collectgarbage", "error", "gcinfo", "select",
                           "tonumber", "tostring", "type", "unpack",
                           "rawequal", "coroutine"}) do
  if raw_rawget(G, name) == nil then G[name] = _G[name] end
end
G._VERSION = _VERSION
G.rawset, G.rawget, G.next, G.pairs, G.ipairs = w_rawset, w_rawget, w_next, w_pairs, w_ipairs
G.setmetatable, G.getmetatable = w_setmetatable, w_getmetatable
G.loadstring, G.load, G.pcall, G.xpcall = w_loadstring, w_load, w_pcall, w_xpcall
if mode == "eval" then G.__redis__err__handler = err_handler end

globals = protect(G, nil)
meta_view[globals] = protect(error_meta, nil)
G._G = globals

-- ---- FUNCTION LOAD's environment ------------------------------------------------------

local globals_meta = debug.getmetatable(globals)
local load_redis = raw_setmetatable({
  register_function = as_function(host.register),
  log = redis.log, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = host.version, REDIS_VERSION_NUM = host.version_num,
}, error_meta)
local load_api = raw_setmetatable({redis = protect(load_redis, nil)}, error_meta)

-- ---- replies: Lua values -> RESP (luaReplyToRedisReply) --------------------------------

local fmt_double = host.fmt_double
local LLONG_MIN = "-9223372036854775808"

local function integer(v)
  if v ~= v or v >= 9223372036854775808 or v < -9223372036854775808 then return LLONG_MIN end
  return strformat("%d", v)
end

local function spaced(s) return (gsub(s, "[\r\n]", " ")) end

-- ``slots`` follows the Lua stack depth of Redis's recursive conversion: past
-- LUAI_MAXCSTACK (8000) it answers "reached lua stack limit" for that element.
local STACK_LIMIT = 8000
local function encode(v, out, caller3, script3, errs, slots)
  if slots + 4 > STACK_LIMIT then
    out[#out + 1] = "-ERR reached lua stack limit\r\n"
    errs[#errs + 1] = "ERR reached lua stack limit"
    return
  end
  local t = type(v)
  if t == "string" then
    out[#out + 1] = "$" .. #v .. "\r\n" .. v .. "\r\n"
  elseif t == "number" then
    out[#out + 1] = ":" .. integer(v) .. "\r\n"
  elseif t == "boolean" then
    if not script3 then
      out[#out + 1] = v and ":1\r\n" or (caller3 and "_\r\n" or "$-1\r\n")
    elseif caller3 then
      out[#out + 1] = v and "#t\r\n" or "#f\r\n"
    else
      out[#out + 1] = v and ":1\r\n" or ":0\r\n"
    end
  elseif t == "table" then
    local f = raw_rawget(v, "err")
    if type(f) == "string" then
      out[#out + 1] = "-" .. spaced(f) .. "\r\n"
      if not raw_rawget(v, "ignore_error_stats_update") then errs[#errs + 1] = f end
      return
    end
    f = raw_rawget(v, "ok")
    if type(f) == "string" then out[#out + 1] = "+" .. spaced(f) .. "\r\n" return end
    f = raw_rawget(v, "double")
    if type(f) == "number" then
      local d = fmt_double(f)
      if caller3 then out[#out + 1] = "," .. d .. "\r\n"
      else out[#out + 1] = "$" .. #d .. "\r\n" .. d .. "\r\n" end
      return
    end
    f = raw_rawget(v, "big_number")
    if type(f) == "string" then
      f = spaced(f)
      if caller3 then out[#out + 1] = "(" .. f .. "\r\n"
      else out[#out + 1] = "$" .. #f .. "\r\n" .. f .. "\r\n" end
      return
    end
    f = raw_rawget(v, "verbatim_string")
    if type(f) == "table" then
      local fmt, s = raw_rawget(f, "format"), raw_rawget(f, "string")
      if type(fmt) == "string" and type(s) == "string" then
        if caller3 then
          local ext = strsub(fmt .. "\0\0\0", 1, 3)
          out[#out + 1] = "=" .. (#s + 4) .. "\r\n" .. ext .. ":" .. s .. "\r\n"
        else
          out[#out + 1] = "$" .. #s .. "\r\n" .. s .. "\r\n"
        end
        return
      end
    end
    f = raw_rawget(v, "map")
    if type(f) == "table" then
      local slot = #out + 1
      out[slot] = ""
      local n, k, x = 0, raw_next(f)
      while k ~= nil do
        encode(k, out, caller3, script3, errs, slots + 4)
        encode(x, out, caller3, script3, errs, slots + 3)
        n = n + 1
        k, x = raw_next(f, k)
      end
      out[slot] = caller3 and ("%" .. n .. "\r\n") or ("*" .. (2 * n) .. "\r\n")
      return
    end
    f = raw_rawget(v, "set")
    if type(f) == "table" then
      local slot = #out + 1
      out[slot] = ""
      local n, k = 0, raw_next(f)
      while k ~= nil do
        encode(k, out, caller3, script3, errs, slots + 3)
        n = n + 1
        k = raw_next(f, k)
      end
      out[slot] = (caller3 and "~" or "*") .. n .. "\r\n"
      return
    end
    local slot = #out + 1
    out[slot] = ""
    local n = 0
    local x = raw_rawget(v, 1)
    while x ~= nil do
      encode(x, out, caller3, script3, errs, slots + 1)
      n = n + 1
      x = raw_rawget(v, n + 1)
    end
    out[slot] = "*" .. n .. "\r\n"
  else
    out[#out + 1] = caller3 and "_\r\n" or "$-1\r\n"
  end
end

-- The outcome of a run: true, resp, nested_errors | false, message, source, line, counted
local function outcome(ok, res, caller3)
  if not ok then
    if type(res) ~= "table" then return false, "ERR " .. tostring(res) end
    local msg = raw_rawget(res, "err")
    if type(msg) == "number" then msg = tostring(msg) end
    if type(msg) ~= "string" then msg = "ERR unknown error" end
    local line = raw_rawget(res, "line")
    if type(line) == "number" then line = tostring(line) end
    local source = raw_rawget(res, "source")
    if type(source) ~= "string" or type(line) ~= "string" then source, line = nil, nil end
    return false, msg, source, line, raw_rawget(res, "ignore_error_stats_update") and true
  end
  if type(res) == "table" then
    local msg = raw_rawget(res, "err")
    if type(msg) == "string" then
      return false, msg, nil, nil, raw_rawget(res, "ignore_error_stats_update") and true
    end
  end
  local kind = type(res)
  if kind == "number" then return true, ":" .. integer(res) .. "\r\n" end
  if kind == "string" then return true, "$" .. #res .. "\r\n" .. res .. "\r\n" end
  local out, errs = {}, {}
  encode(res, out, caller3, api.resp == 3, errs, 2)
  return true, concat(out), errs[1] and errs or nil
end

-- ---- running scripts ------------------------------------------------------------------

-- Once killed, the hook runs on every line (as Redis's) so that pcall cannot swallow the
-- kill; it never raises inside this prelude (the runner's last lines, the handler).
local host_hook = host.hook
local function hook()
  local kill = host_hook()
  if kill then
    local info = getinfo(2, "S")
    if info and info.source == INTERNAL then return end
    sethook(hook, "l")
    error(push_error(kill), 0)
  end
end

local function args_table(first, last, ...)
  local t = {}
  for i = first, last do t[i - first + 1] = (select(i, ...)) end
  return t
end

function api.compile(code, chunkname)
  local f, err = w_loadstring(code, chunkname)
  if not f then return nil, err end
  return f
end

-- KEYS and ARGV come as varargs, or (nkeys = -1) as two tables built by Python when
-- there are too many values for the Lua stack.
local function split(nkeys, ...)
  if nkeys == -1 then return ... end
  local n = select("#", ...)
  if n == 0 then return {}, {} end
  local all = {...}
  local keys, argv = {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, n do argv[i - nkeys] = all[i] end
  return keys, argv
end

function api.run_eval(fn, caller3, timed, nkeys, ...)
  G.KEYS, G.ARGV = split(nkeys, ...)
  api.resp = 2
  if timed then sethook(hook, "", 100000) end
  local ok, res = raw_xpcall(fn, err_handler)
  if timed then sethook() end
  return outcome(ok, res, caller3)
end

function api.run_function(fn, caller3, timed, nkeys, ...)
  local keys, argv = split(nkeys, ...)
  api.resp = 2
  if timed then sethook(hook, "", 100000) end
  local ok, res = raw_xpcall(function() return fn(keys, argv) end, err_handler)
  if timed then sethook() end
  return outcome(ok, res, caller3)
end

-- FUNCTION LOAD: run the library code with only redis.register_function & co. visible.
function api.load_library(code)
  local f, err = w_loadstring(code, "@user_function")
  if not f then return false, "Error compiling function: " .. err end
  globals_meta.__index = load_api
  sethook(hook, "", 100000)
  local ok, res = raw_xpcall(f, err_handler)
  sethook()
  globals_meta.__index = G
  if ok then return true end
  if type(res) == "table" then res = raw_rawget(res, "err") end
  return false, "Error registering functions: " .. tostring(res)
end

-- register_function's arguments, checked as Redis does: name, callback, flags, description.
function api.named_args(t)
  if type(t) ~= "table" then
    return nil, "calling redis.register_function with a single argument is only applicable "
      .. "to Lua table (representing named arguments)."
  end
  local name, desc, cb, flags
  for k, v in raw_pairs(t) do
    if type(k) ~= "string" and type(k) ~= "number" then
      return nil, "named argument key given to redis.register_function is not a string"
    end
    local key = tostring(k):lower()
    if key == "function_name" then
      if type(v) ~= "string" and type(v) ~= "number" then
        return nil, "function_name argument given to redis.register_function must be a string"
      end
      name = tostring(v)
    elseif key == "description" then
      if type(v) ~= "string" and type(v) ~= "number" then
        return nil, "description argument given to redis.register_function must be a string"
      end
      desc = tostring(v)
    elseif key == "callback" then
      if type(v) ~= "function" then
        return nil, "callback argument given to redis.register_function must be a function"
      end
      cb = v
    elseif key == "flags" then
      if type(v) ~= "table" then
        return nil, "flags argument to redis.register_function must be a table representing "
          .. "function flags"
      end
      flags = {}
      local i = 1
      while true do
        local f = v[i]
        if f == nil then break end
        if type(f) ~= "string" and type(f) ~= "number" then return nil, "unknown flag given" end
        flags[i] = tostring(f)
        i = i + 1
      end
    else
      return nil, "unknown argument given to redis.register_function"
    end
  end
  if name == nil then return nil, "redis.register_function must get a function name argument" end
  if cb == nil then return nil, "redis.register_function must get a callback argument" end
  return name, cb, flags or {}, desc
end

-- luaL_where(L, 1) for a Python library function: the position of its caller.
function api.where()
  local co = resumed[#resumed]
  local info
  if co then
    info = getinfo(co, 1, "Sl")     -- level 0 is the Python function itself
  else
    info = getinfo(3, "Sl")
  end
  if info and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

function api.push_error(msg) return push_error(msg) end
function api.set_resp(v) api.resp = v end
function api.is_function(v) return type(v) == "function" end
function api.is_string(v) return type(v) == "string" or type(v) == "number" end
function api.tostr(v) return tostring(v) end

return api
"""

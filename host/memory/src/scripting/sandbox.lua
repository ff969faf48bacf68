-- The scripts' world, built once per Lua state (chunk name "=redis", which error
-- locations skip). Scripts run with `env` as their environment: reading a missing global
-- is an error, creating one is refused, and the library tables are read-only proxies.
-- Nothing here is reachable from a script except through `env`.
local handler, call, pcall_redis, killed, convert, sha1hex, log, setresp = ...

local error, type, tostring, tonumber, select, setmetatable, getmetatable, rawset, pcall,
  xpcall, setfenv, loadstring =
  error, type, tostring, tonumber, select, setmetatable, getmetatable, rawset, pcall,
  xpcall, setfenv, loadstring

local READONLY = 'Attempt to modify a readonly table'
local protected = setmetatable({}, { __mode = 'k' })

local function readonly(t)
  local proxy = setmetatable({}, {
    __index = t,
    __newindex = function() error(READONLY, 2) end,
    __metatable = false,
  })
  protected[proxy] = true
  return proxy
end

local G = {}
local env = setmetatable({}, {
  __index = function(_, k)
    local v = G[k]
    if v == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
    end
    return v
  end,
  __newindex = function() error(READONLY, 2) end,
  __metatable = false,
})
protected[env] = true

-- A script that catches the abort of an exhausted budget is aborted again right away.
-- Like Redis 7.0's pcall, an error `{err = message}` is caught as its message; errors the
-- redis.* functions (Rust) raise reach an xpcall handler as `{err = message}`.
local function check(ok, ...)
  if killed() then error('Script killed: the execution budget is exhausted', 0) end
  if ok then return ok, ... end
  local e = convert((...), false)
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end

for _, name in ipairs({ 'assert', 'error', 'ipairs', 'next', 'pairs', 'rawequal', 'rawget',
  'select', 'setmetatable', 'getmetatable', 'tonumber', 'tostring', 'type', 'unpack' }) do
  G[name] = _G[name]
end
G._VERSION = _VERSION
G._G = env
G.pcall = function(...) return check(pcall(...)) end
G.xpcall = function(f, h)
  local ok, r = xpcall(f, function(e) return h(convert(e, true)) end)
  if killed() then error('Script killed: the execution budget is exhausted', 0) end
  return ok, r
end
G.rawset = function(t, k, v)
  if protected[t] then error(READONLY, 0) end
  return rawset(t, k, v)
end
G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then
    return nil, 'loading binary chunks is not allowed'
  end
  local f, e = loadstring(s, name)
  if f then setfenv(f, env) end
  return f, e
end
-- Lua 5.1 matches a pattern by C recursion, one level per quantifier or capture, with no
-- limit: a long enough pattern overflows the C stack and kills the process. Lua 5.2 and
-- later stop at 200 levels with "pattern too complex"; so do these wrappers, by counting
-- the characters that can open a level (an escaped one counts too: erring on the safe
-- side) before the match. They replace the originals in `string` itself, which the
-- string metatable's __index also reaches (`s:find(p)`).
local MAX_PATTERN_DEPTH = 200
local gsub, tostring_ = string.gsub, tostring
local function bounded(name, f, skip_if_plain)
  string[name] = function(s, p, a3, a4, ...)
    if not (skip_if_plain and a4) and (type(p) == 'string' or type(p) == 'number') then
      local _, levels = gsub(tostring_(p), '[%(%)%?%*%+%-]', '')
      if levels > MAX_PATTERN_DEPTH then error('pattern too complex', 2) end
    end
    return f(s, p, a3, a4, ...)
  end
end
bounded('find', string.find, true)
for _, name in ipairs({ 'match', 'gmatch', 'gsub', 'gfind' }) do
  if string[name] then bounded(name, string[name], false) end
end
G.string = readonly(string)
G.table = readonly(table)
G.math = readonly(math)
-- getmetatable('') shows a read-only view; the real string metatable stays out of reach.
getmetatable('').__metatable = readonly({ __index = G.string })

local function trim(s)
  return (s:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', ''))
end

local redis = { call = call, pcall = pcall_redis }
redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return { err = 'ERR wrong number or type of arguments' }
  end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  local space = e:find(' ', 1, true)
  if space then
    return { err = e:sub(2, space - 1) .. ' ' .. trim(e:sub(space + 1)) }
  end
  return { err = 'ERR ' .. trim(e:sub(2)) }
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return { err = 'ERR wrong number or type of arguments' }
  end
  return { ok = s }
end
redis.sha1hex, redis.log, redis.setresp = sha1hex, log, setresp
redis.replicate_commands = function() return true end
redis.set_repl = function() end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = '7.0.15', 0x07000f
G.redis = readonly(redis)

local function run(f) return xpcall(f, handler) end
return run, G, env

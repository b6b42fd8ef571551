-- The admin API under /_sandbox/ (no auth; never logged, never faulted):
--   GET    /_sandbox/health     {"ok":true,"users":N}
--   POST   /_sandbox/reset      restore the world as loaded; a world in the
--                               body replaces it (and becomes the one reset restores)
--   POST   /_sandbox/world      add items to the running world (see world.lua, State:add)
--   POST   /_sandbox/faults     add a fault or a list of faults (see faults.lua)
--   GET    /_sandbox/faults     the faults still pending
--   DELETE /_sandbox/faults     drop them
--   GET    /_sandbox/requests   the request log since the last clear
--   DELETE /_sandbox/requests   clear it
--   POST   /_sandbox/config     change settings (see world.DEFAULT_SETTINGS)
--   GET    /_sandbox/config     the settings in force
--   POST   /_sandbox/advance    {"seconds": n}: moves the sandbox's clock
--                               forward (rate-limit windows, CSRF token ages,
--                               stalls and latency waits); answers the offset
--   POST   /_sandbox/clock      {"frozen": true|false}: stops the clock (then
--                               only advance moves it) or lets it run again
--   DELETE /_sandbox/limits     zero the rate-limit counts: of every caller,
--                               or of one, {"account": i}, {"user_id": id}
--                               or {"peer": "127.0.0.1"}; answers {"forgot": n}
--   POST   /_sandbox/rotate-cookie  {"account": i} (default 1): a new cookie
--                               for accounts[i], the old one refused; answers
--                               {"account": i, "user_id": .., "cookie": ".."}
--   GET    /_sandbox/credentials    the accounts' credentials as they are now
--   POST   /_sandbox/shutdown   answer, then stop the server
local json = require "robloxsocial.sandbox.json"
local reply = require "robloxsocial.sandbox.reply"
local world = require "robloxsocial.sandbox.world"
local settings = require "robloxsocial.sandbox.settings"
local ratelimit = require "robloxsocial.sandbox.ratelimit"
local clock = require "robloxsocial.sandbox.clock"
local faults = require "robloxsocial.sandbox.faults"
local util = require "robloxsocial.sandbox.util"

local admin = {}

local function bad(msg)
  return reply.plain_error(400, 0, "sandbox: " .. msg)
end

local function decode(req)
  if req.body == "" then return nil end
  return json.decode(req.body)
end

local function do_reset(app, req)
  if req.body == "" then
    app:reset()
  else
    local data, err = world.parse(req.body)
    if not data then return bad(err) end
    app:reset(data)
  end
  return reply.ok { ok = true }
end

-- POST /_sandbox/world: items added to the running world (State:add).
local function add_items(app, req)
  local body = decode(req)
  if type(body) ~= "table" then return bad("the body must be an object of items to add") end
  local ok, err = app.st:add(body)
  if not ok then return bad(err) end
  return reply.ok { ok = true }
end

local function add_faults(app, req)
  local body = decode(req)
  if type(body) ~= "table" then return bad("the body must be a fault or a list of faults") end
  local list = util.is_list(body) and body or { body }
  local checked = {}
  for _, f in ipairs(list) do
    local ok, err = faults.normalise(f)
    if not ok then return bad(err) end
    checked[#checked + 1] = ok
  end
  for _, f in ipairs(checked) do app.faults[#app.faults + 1] = f end
  return reply.ok { ok = true, pending = #app.faults }
end

local function configure(app, req)
  local body = decode(req)
  if type(body) ~= "table" then return bad("the body must be an object of settings") end
  for key, value in pairs(body) do
    local err = settings.problem(key, value)
    if err then return bad(err) end
  end
  local current = app:settings()
  for key, value in pairs(body) do
    current[key] = value
    if key == "rate_limits" or key == "rate_limit_default" then app.counters = {} end
  end
  return reply.ok(current)
end

-- POST /_sandbox/advance {"seconds": n}: moves the sandbox's clock forward.
local function advance(app, req)
  local body = decode(req)
  local seconds = type(body) == "table" and body.seconds
  if type(seconds) ~= "number" or seconds < 0 or seconds ~= seconds or seconds == math.huge then
    return bad("advance takes {\"seconds\": a number >= 0}")
  end
  return reply.ok { ok = true, offset = clock.advance(seconds), now = app:now() }
end

-- POST /_sandbox/clock {"frozen": bool}
local function set_clock(app, req)
  local body = decode(req)
  if type(body) ~= "table" or type(body.frozen) ~= "boolean" then
    return bad("clock takes {\"frozen\": true or false}")
  end
  return reply.ok { frozen = clock.freeze(body.frozen), now = app:now() }
end

-- The caller key ("user:<id>", "peer:<address>") a limits body names; nil
-- for every caller; false, msg when it names nothing.
local function limits_caller(app, body)
  if body == nil or (type(body) == "table" and next(body) == nil) then return nil end
  if type(body) ~= "table" then return false, "limits takes {}, {account}, {user_id} or {peer}" end
  if body.account ~= nil then
    local a = math.tointeger(body.account) and app.st.accounts[body.account]
    if not a then return false, "no account " .. tostring(body.account) end
    return "user:" .. a.user_id
  end
  if math.tointeger(body.user_id) then return "user:" .. body.user_id end
  if type(body.peer) == "string" then return "peer:" .. body.peer end
  return false, "limits takes {}, {account}, {user_id} or {peer}"
end

-- DELETE /_sandbox/limits [{"account"|"user_id"|"peer": ..}]
local function forget_limits(app, req)
  local caller, err = limits_caller(app, decode(req))
  if caller == false then return bad(err) end
  return reply.ok { forgot = ratelimit.forget(app.counters, caller) }
end

local function rotate_cookie(app, req)
  local body = decode(req)
  local i = type(body) == "table" and body.account or 1
  i = math.tointeger(i)
  local value = i and app:rotate_cookie(i)
  if not value then return bad("no account " .. tostring(i)) end
  return reply.ok { account = i, user_id = app.st.accounts[i].user_id, cookie = value }
end

local function credentials(app)
  local out = json.array()
  for i, a in ipairs(app.st.accounts) do
    out[i] = { user_id = a.user_id, cookie = json.opt(a.cookie), api_key = json.opt(a.api_key),
               access_token = json.opt(a.access_token) }
  end
  return reply.ok(out)
end

local function list_or_clear(app, field)
  return {
    GET = function() return reply.ok(json.array(util.copy_list(app[field]))) end,
    DELETE = function() app[field] = {}; return reply.ok { ok = true } end,
  }
end

local function table_for(app)
  return {
    ["/_sandbox/health"] = { GET = function()
      local n = 0
      for _ in pairs(app.st.users) do n = n + 1 end
      return reply.ok { ok = true, users = n }
    end },
    ["/_sandbox/reset"] = { POST = function(req) return do_reset(app, req) end },
    ["/_sandbox/world"] = { POST = function(req) return add_items(app, req) end },
    ["/_sandbox/faults"] = {
      POST = function(req) return add_faults(app, req) end,
      GET = list_or_clear(app, "faults").GET, DELETE = list_or_clear(app, "faults").DELETE },
    ["/_sandbox/requests"] = list_or_clear(app, "log"),
    ["/_sandbox/config"] = {
      POST = function(req) return configure(app, req) end,
      GET = function() return reply.ok(app:settings()) end },
    ["/_sandbox/advance"] = { POST = function(req) return advance(app, req) end },
    ["/_sandbox/clock"] = { POST = function(req) return set_clock(app, req) end },
    ["/_sandbox/limits"] = { DELETE = function(req) return forget_limits(app, req) end },
    ["/_sandbox/rotate-cookie"] = { POST = function(req) return rotate_cookie(app, req) end },
    ["/_sandbox/credentials"] = { GET = function() return credentials(app) end },
    ["/_sandbox/shutdown"] = { POST = function()
      if app.on_shutdown then app.on_shutdown() end
      local r = reply.ok { ok = true }
      r.close = true
      return r
    end },
  }
end

function admin.handle(app, req)
  app.last_activity = os.time()
  local path = req.path:gsub("/+$", "")
  local methods = table_for(app)[path]
  if not methods then return reply.not_found() end
  local fn = methods[req.method]
  if not fn then
    local allowed = {}
    for m in pairs(methods) do allowed[#allowed + 1] = m end
    return reply.method_not_allowed(req.method, allowed)
  end
  return fn(req)
end

return admin

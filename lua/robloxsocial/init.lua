-- robloxsocial: the Roblox social web APIs (friends, presence, groups,
-- contacts, private messages) for Lua 5.4.
--
--   local robloxsocial = require "robloxsocial"
--   local client = robloxsocial.new{ cookie = os.getenv("ROBLOSECURITY") }
--   local answer, err = client:friends_count(1)
--
-- The C core (robloxsocial.core) does HTTP on a curl multi loop and exact
-- JSON; this layer adds the methods generated from endpoints.lua,
-- batching, iterators and tasks.

local core = require "robloxsocial.core"
local endpoints = require "robloxsocial.endpoints"
local methods = require "robloxsocial.methods"
local batch = require "robloxsocial.batch"
local request = require "robloxsocial.request"
local tasks = require "robloxsocial.tasks"
local limits = require "robloxsocial.limits"

local robloxsocial = {
  _NAME = "robloxsocial",
  _VERSION = core.VERSION,
  VERSION = core.VERSION,
  null = core.null,             -- stands for JSON null in decoded bodies
  array_mt = core.array_mt,     -- setmetatable({}, array_mt) encodes as []
  error_mt = core.error_mt,     -- the metatable of error objects
  endpoints = endpoints,
  -- Doing many things at once (csrc/sched.c, through tasks.lua).
  spawn = tasks.spawn,
  step = tasks.step,
  run = tasks.run,
  sleep = tasks.sleep,
  next_timeout = tasks.next_timeout,
  -- Inside a host's event loop (csrc/poll.c, csrc/host.c): the protocol of
  -- a pollable object, which cqueues.poll(robloxsocial) and uv.new_poll use.
  pollfd = core.pollfd,
  events = function() return "r" end,
  timeout = tasks.next_timeout,
  strict = core.strict,
}

methods.install(core.methods, endpoints, core.client_mt)
core.methods.request = request.method(core.client_mt)

-- client:rate_limit(service[, method]): the core names buckets by key.
local core_rate_limit = core.methods.rate_limit
function core.methods.rate_limit(self, service, method)
  if method == nil then return core_rate_limit(self, service) end
  local key = type(method) == "string" and limits.key_of(method)
  if not key then
    error(("bad argument #2 to 'rate_limit' ('%s' is not a method)"):format(tostring(method)), 2)
  end
  return core_rate_limit(self, service, key)
end

-- The batch methods and their default sizes, for checking batch_sizes.
local batch_defaults = {}
for _, row in ipairs(endpoints) do
  if row.batch then batch_defaults[row.name] = row.batch.size end
end
robloxsocial.batch_sizes = batch_defaults

local function check_batch_sizes(sizes)
  if type(sizes) ~= "table" then
    error("bad argument #1 to 'new' (option 'batch_sizes' must be a table)", 3)
  end
  local copy = {}
  for name, size in pairs(sizes) do
    if not batch_defaults[name] then
      error(("bad argument #1 to 'new' (batch_sizes: '%s' is not a batch method)"):format(tostring(name)), 3)
    end
    if math.type(size) == nil or not math.tointeger(size) or size < 1 then
      error(("bad argument #1 to 'new' (batch_sizes.%s must be a positive integer)"):format(name), 3)
    end
    copy[name] = math.tointeger(size)
  end
  return copy
end

-- The options that this layer handles: the core never sees them.
local LUA_OPTIONS = { batch_sizes = true }

-- new(options) -> client.  Every option of the contract; batch_sizes is
-- handled here, rate_limits turned from method names into the core's
-- bucket keys, the rest by the core, which raises on anything unknown.
function robloxsocial.new(options)
  if options ~= nil and type(options) ~= "table" then
    error("bad argument #1 to 'new' (table expected, got " .. type(options) .. ")", 2)
  end
  local sizes, rest = nil, options
  if options and (options.batch_sizes ~= nil or options.rate_limits ~= nil) then
    if options.batch_sizes ~= nil then sizes = check_batch_sizes(options.batch_sizes) end
    rest = {}
    for k, v in pairs(options) do
      if not LUA_OPTIONS[k] then rest[k] = v end
    end
    if options.rate_limits ~= nil then rest.rate_limits = limits.check(options.rate_limits, 2) end
  end
  local ok, client = pcall(core.new, rest)
  if not ok then
    -- Point the core's argument error at the caller, not at this file.
    error(type(client) == "string" and client:gsub("^[^\n]-:%d+: ", "") or client, 2)
  end
  batch.set_sizes(client, sizes)
  return client
end

return robloxsocial

-- robloxsocial.sandbox: start a local stand-in for the Roblox social
-- services in a separate process, and drive it from Lua (busted specs,
-- scripts, examples).
--
--   local sandbox = require "robloxsocial.sandbox"
--   local sb = sandbox.start()               -- or start{ world = "my_world.json" }
--   local client = robloxsocial.new{ base_url = sb.base_url, cookie = sb.credentials.cookie }
--   sb:fault{ path = "/v1/users/123/friends/count", kind = "status", status = 503 }
--   sb:requests(); sb:clear_requests(); sb:advance(60); sb:reset(); sb:stop()
--
-- The launcher talks to the admin API with LuaSocket's socket.http, never
-- with the robloxsocial client, which is what the sandbox is there to test.
local socket = require "socket"
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local json = require "robloxsocial.sandbox.json"
local world = require "robloxsocial.sandbox.world"
local util = require "robloxsocial.sandbox.util"

local alive, own_pid = util.process_alive, util.own_pid
local shell_quote, read_all = util.shell_quote, util.read_file

local sandbox = { _NAME = "robloxsocial.sandbox", _VERSION = "0.1.0" }

local Sandbox = {}
Sandbox.__index = Sandbox

-- The interpreter running this launcher, when it looks like a Lua 5.4
-- (busted and scripts run under one); else "lua5.4" from the PATH.  Read
-- from /proc rather than with a readlink process: no child is spawned.
local function default_lua()
  local pid = own_pid()
  local f = pid and io.open("/proc/" .. pid .. "/cmdline", "rb")
  local argv0 = f and (f:read("a") or ""):match("^[^%z]+")
  if f then f:close() end
  if argv0 and argv0:match("^[%w/._-]*lua[%d.]*$") and _VERSION == "Lua 5.4" then return argv0 end
  return "lua5.4"
end

-- Under scripts/sanitize.sh the server inherits the ASan preload (it loads
-- the instrumented core).  It is a fixture, not the code under test, so
-- its leak check at exit is skipped.
local function sanitizer_env()
  if (os.getenv("LD_PRELOAD") or "") == "" then return "" end
  return ("ASAN_OPTIONS=%s "):format(shell_quote((os.getenv("ASAN_OPTIONS") or "") .. ":detect_leaks=0"))
end

local function server_command(opts, log_path)
  local args = { "--host", opts.host or "127.0.0.1", "--port", tostring(opts.port or 0),
                 "--world", opts.world, "--quiet", "--idle-exit", tostring(opts.idle_exit or 900) }
  if opts.latency then args[#args + 1] = "--latency"; args[#args + 1] = tostring(opts.latency * 1000) end
  local pid = own_pid()
  if pid then args[#args + 1] = "--watch-pid"; args[#args + 1] = tostring(pid) end
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = ("%q"):format(a) end
  local chunk = ('os.exit(require("robloxsocial.sandbox.cli").main{%s})'):format(table.concat(quoted, ","))
  return ("%sLUA_PATH_5_4=%s LUA_CPATH_5_4=%s %s -e %s </dev/null >%s 2>&1 & echo $!"):format(
    sanitizer_env(),
    shell_quote(package.path), shell_quote(package.cpath), shell_quote(opts.lua),
    shell_quote(chunk), shell_quote(log_path))
end

-- Waits for the "listening on" line; returns the base URL or nil, log text.
local function wait_listening(pid, log_path, timeout)
  local deadline = socket.gettime() + timeout
  repeat
    local log = read_all(log_path)
    local url = log:match("listening on (http://%S+)")
    if url then return url end
    if not alive(pid) then return nil, log end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  return nil, read_all(log_path)
end

-- A world given as a Lua table, checked as a world file is, and written to
-- a temporary file for the server.  Returns the path; raises naming the
-- first problem (an unknown key, say).
local function world_file(t, level)
  local text = json.encode(t)
  local data, err = world.parse(text)
  if not data then error("robloxsocial.sandbox: " .. err, level + 1) end
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Starts a sandbox.  opts (all optional): world (a world file, or a world
-- as a Lua table; default the file installed with the module), lua (the
-- interpreter; default the one running now, else "lua5.4"),
-- host, port (default 0: a free port), idle_exit (seconds, default 900),
-- timeout (seconds to wait for the server, default 10), latency (seconds
-- before each answer, kept across reset()).
function sandbox.start(given)
  local opts = {}
  for k, v in pairs(given or {}) do opts[k] = v end
  opts.world = opts.world or world.default_path()
  local temp_world
  if type(opts.world) == "table" then
    temp_world = world_file(opts.world, 2)
    opts.world = temp_world
  end
  opts.lua = opts.lua or default_lua()
  local data, err = world.load(opts.world)
  if not data then
    if temp_world then os.remove(temp_world) end
    error("robloxsocial.sandbox: " .. err, 2)
  end
  local log_path = os.tmpname()
  local p = assert(io.popen(server_command(opts, log_path), "r"))
  local pid = math.tointeger(tonumber(p:read("l")))
  p:close()
  if not pid then
    if temp_world then os.remove(temp_world) end
    error("robloxsocial.sandbox: could not start " .. opts.lua, 2)
  end
  local url, log = wait_listening(pid, log_path, opts.timeout or 10)
  if not url then
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(log_path)
    if temp_world then os.remove(temp_world) end
    error("robloxsocial.sandbox: the server did not start:\n" .. (log or ""), 2)
  end
  local a = data.accounts[1]
  return setmetatable({
    base_url = url, port = math.tointeger(tonumber(url:match(":(%d+)$"))), pid = pid,
    log_path = log_path, world_path = opts.world, temp_world = temp_world,
    world_text = read_all(opts.world),
    credentials = { cookie = a.cookie, api_key = a.api_key, access_token = a.access_token,
                    user_id = a.user_id },
    loaded_credentials = { cookie = a.cookie, api_key = a.api_key, access_token = a.access_token,
                           user_id = a.user_id },
    accounts = data.accounts,
  }, Sandbox)
end

-- One admin call; returns the decoded answer, raises on failure.
function Sandbox:admin(method, path, body)
  assert(not self.stopped, "robloxsocial.sandbox: the sandbox has been stopped")
  local text = body ~= nil and (type(body) == "string" and body or json.encode(body)) or ""
  local out = {}
  local ok, status = socket_http.request {
    url = self.base_url .. "/_sandbox/" .. path, method = method,
    source = ltn12.source.string(text), sink = ltn12.sink.table(out),
    headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#text) },
  }
  local answer = table.concat(out)
  if not ok or status ~= 200 then
    local decoded = json.decode(answer)
    local e = type(decoded) == "table" and type(decoded.errors) == "table" and decoded.errors[1]
    if type(e) == "table" and type(e.message) == "string" then answer = e.message end
    error(("robloxsocial.sandbox: %s /_sandbox/%s: %s %s"):format(method, path, tostring(status), answer), 3)
  end
  return json.decode(answer)
end

-- Restores the world the sandbox was started with, whatever world a reset
-- loaded since; or, given the path of a world file or a world as a Lua
-- table, loads that one until the next reset.  Faults, the request log,
-- rate-limit counts, CSRF tokens and config changes are cleared either way.
-- A world that does not check raises, naming the problem.
function Sandbox:reset(new_world)
  for k, v in pairs(self.loaded_credentials) do self.credentials[k] = v end
  local text = self.world_text
  if type(new_world) == "string" then
    text = read_all(new_world)
    assert(text ~= "", "robloxsocial.sandbox: cannot read " .. new_world)
  elseif type(new_world) == "table" then
    text = json.encode(new_world)
  elseif new_world ~= nil then
    error("robloxsocial.sandbox: reset takes a world file, a world table or nothing", 2)
  end
  local ok, err = world.parse(text)
  if not ok then error("robloxsocial.sandbox: " .. err, 2) end
  return self:admin("POST", "reset", text)
end

-- Adds items to the running world, as a world file writes them:
--   sb:add{ users = { { id = 42, name = "Newcomer" } }, friendships = { { 42, me } },
--           friend_requests = { { from = 42, to = me } },
--           messages = { { id = 7, from = 42, to = me, subject = "Hi" } } }
-- Also tags, contacts, friending_tokens, qr_sessions, announcements and
-- groups.  They last until the next reset.  A bad item raises, naming it.
function Sandbox:add(items)
  if type(items) ~= "table" then error("robloxsocial.sandbox: add takes a table of items", 2) end
  return self:admin("POST", "world", items)
end

-- Adds a fault or a list of faults (see robloxsocial/sandbox/faults.lua).
function Sandbox:fault(spec)
  return self:admin("POST", "faults", spec)
end

function Sandbox:faults() return self:admin("GET", "faults") end
function Sandbox:clear_faults() return self:admin("DELETE", "faults") end
function Sandbox:requests() return self:admin("GET", "requests") end
function Sandbox:clear_requests() return self:admin("DELETE", "requests") end
function Sandbox:configure(settings) return self:admin("POST", "config", settings) end
function Sandbox:config() return self:admin("GET", "config") end

-- Moves the sandbox's clock forward by `seconds`: rate-limit windows
-- reset, CSRF tokens age and stalls and latency waits end as if that much
-- time had passed, so a spec need not sleep through a window.  The clock
-- never goes back (reset() keeps it).  Returns the total offset.
function Sandbox:advance(seconds)
  if type(seconds) ~= "number" or seconds < 0 or seconds ~= seconds or seconds == math.huge then
    error("robloxsocial.sandbox: advance takes a number of seconds >= 0", 2)
  end
  return self:admin("POST", "advance", { seconds = seconds }).offset
end

-- Freezes the sandbox's clock (on true or nil) or lets it run again (on
-- false).  Frozen, only advance() moves it, so rate-limit resets read
-- exactly; stalls and latency waits then end only by advance().  reset()
-- lets it run again.  Returns whether it is frozen.
function Sandbox:freeze_clock(on)
  return self:admin("POST", "clock", { frozen = on ~= false }).frozen
end

-- Zeroes rate-limit counts: every caller's, or one caller's:
-- { account = i }, { user_id = id } or { peer = "127.0.0.1" } (anonymous
-- callers are counted by address).  Returns how many callers were forgotten.
function Sandbox:reset_limits(who)
  if who ~= nil and type(who) ~= "table" then
    error("robloxsocial.sandbox: reset_limits takes nothing or { account | user_id | peer }", 2)
  end
  return self:admin("DELETE", "limits", who or {}).forgot
end

-- Gives account i (default 1, the main user) a new .ROBLOSECURITY cookie;
-- the old one is refused from now on, until reset().  Returns the new
-- value, which sb.credentials.cookie holds too when i is 1.
function Sandbox:rotate_cookie(i)
  local r = self:admin("POST", "rotate-cookie", { account = i or 1 })
  if r.account == 1 then self.credentials.cookie = r.cookie end
  return r.cookie
end

-- The credentials of account i (default 1) as the server has them now
-- (after a rotate fault, say); for account 1 sb.credentials is updated too.
-- (Not sb:credentials(): sb.credentials is the table of the main user's.)
function Sandbox:refresh_credentials(i)
  local list = self:admin("GET", "credentials")
  local a = list[i or 1]
  if not a then return nil end
  local c = { user_id = a.user_id }
  for _, k in ipairs { "cookie", "api_key", "access_token" } do
    if type(a[k]) == "string" then c[k] = a[k] end
  end
  if (i or 1) == 1 then
    for k, v in pairs(c) do self.credentials[k] = v end
  end
  return c
end

-- Stops the server and waits for it to exit.  Safe to call twice.
function Sandbox:stop()
  if self.stopped then return end
  pcall(self.admin, self, "POST", "shutdown")
  self.stopped = true
  local deadline = socket.gettime() + 3
  while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  if alive(self.pid) then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  os.remove(self.log_path)
  if self.temp_world then os.remove(self.temp_world) end
end

Sandbox.__gc = Sandbox.stop
Sandbox.__close = Sandbox.stop

-- The path of the default world file.
sandbox.default_world = world.default_path

return sandbox

-- The HTTP/2 test server of spec/h2server.py, for specs: TLS (a throwaway
-- CA made by spec/tls.lua's openssl commands) with ALPN h2 on 127.0.0.1.
--
--   local h2server = require "spec.h2server"
--   local ok, why = h2server.available()      -- python3-h2, openssl
--   local srv = h2server.start{ refuse = { 1 } }   -- the plan: see h2server.py
--   client = robloxsocial.new{ base_url = srv.base_url, cainfo = srv.cainfo }
--   srv.events("processed")                    -- { {n, method, path, stream, connection}, ... }
--   srv.stop()                                 -- safe twice; also on __gc and __close
local socket = require "socket"
local json = require "cjson"
local tls = require "spec.tls"
local util = require "robloxsocial.sandbox.util"

local h2server = {}

local PYTHON = "/usr/bin/python3"
local SCRIPT = "spec/h2server.py"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- true, or nil and why not.
function h2server.available()
  local ok, why = tls.available()
  if not ok then return nil, why end
  if not os.execute(tls.CLEAN_ENV .. PYTHON .. " -c 'import h2' >/dev/null 2>&1") then
    return nil, "python3-h2 is not installed (apt-get install python3-h2)"
  end
  return true
end

local function parse(path)
  local out = {}
  for line in read_all(path):gmatch("[^\n]+") do
    local ok, ev = pcall(json.decode, line)
    if ok and type(ev) == "table" then out[#out + 1] = ev end
  end
  return out
end

-- Starts the server with plan (a table: refuse, goaway, die, hold lists
-- of request numbers); raises when it cannot.
function h2server.start(plan)
  local dir = io.popen(tls.CLEAN_ENV .. "mktemp -d /tmp/robloxsocial-h2.XXXXXX"):read("l")
  tls.make_certificates(dir)
  local plan_json = next(plan or {}) and json.encode(plan) or "{}"
  local p = assert(io.popen((tls.CLEAN_ENV .. "%s %s %s %s %s </dev/null >%s 2>%s & echo $!"):format(PYTHON,
    quote(SCRIPT), quote(plan_json), quote(dir .. "/server.pem"), quote(dir .. "/server.key"),
    quote(dir .. "/events"), quote(dir .. "/stderr"))))
  local pid = math.tointeger(tonumber(p:read("l")))
  p:close()
  local srv = { cainfo = dir .. "/ca.pem", dir = dir, pid = pid }
  local stopped = false
  function srv.stop()
    if stopped then return end
    stopped = true
    if util.process_alive(pid) then os.execute(tls.CLEAN_ENV .. "kill " .. pid .. " 2>/dev/null") end
    local deadline = socket.gettime() + 5
    while util.process_alive(pid) and socket.gettime() < deadline do socket.sleep(0.02) end
    os.execute(tls.CLEAN_ENV .. "rm -rf " .. quote(dir))
  end
  -- The events of that kind (all when nil), in order.
  function srv.events(kind)
    local out = {}
    for _, ev in ipairs(parse(dir .. "/events")) do
      if kind == nil or ev.event == kind then out[#out + 1] = ev end
    end
    return out
  end
  setmetatable(srv, { __gc = srv.stop, __close = srv.stop })
  local deadline = socket.gettime() + 10
  while not srv.port do
    local first = srv.events("listening")[1]
    if first then
      srv.port = math.tointeger(first.port)
    elseif not util.process_alive(pid) or socket.gettime() > deadline then
      local why = read_all(dir .. "/stderr")
      srv.stop()
      error("spec.h2server: the server did not start:\n" .. why, 2)
    else
      socket.sleep(0.02)
    end
  end
  srv.base_url = ("https://127.0.0.1:%d"):format(srv.port)
  return srv
end

return h2server

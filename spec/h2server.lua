-- The HTTP/2 test server of spec/h2server.py, for specs: TLS (a throwaway
-- CA made by spec/tls.lua's openssl commands) with ALPN h2 on 127.0.0.1.
--
--   local h2server = require "spec.h2server"
--   local ok, why = h2server.available()      -- python3-h2, openssl
--   local srv = h2server.start{ refuse = { 1 } }   -- the plan: see h2server.py
--   client = robloxsocial.new{ base_url = srv.base_url, cainfo = srv.cainfo }
--   srv.events("processed")                    -- { {n, method, path, stream, connection}, ... }
--   srv.stop()                                 -- safe twice; also on __gc and __close
local json = require "cjson"
local tls = require "spec.tls"
local proc = require "spec.proc"

local h2server = {}

local PYTHON = "/usr/bin/python3"
local SCRIPT = "spec/h2server.py"

local quote, read_all = proc.quote, proc.read_file

-- true, or nil and why not.
function h2server.available()
  local ok, why = tls.available()
  if not ok then return nil, why end
  if not os.execute(proc.CLEAN_ENV .. PYTHON .. " -c 'import h2' >/dev/null 2>&1") then
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
  local dir = proc.temp_dir("h2")
  tls.make_certificates(dir)
  local plan_json = next(plan or {}) and json.encode(plan) or "{}"
  local pid = proc.spawn(("%s %s %s %s %s </dev/null >%s 2>%s"):format(PYTHON,
    quote(SCRIPT), quote(plan_json), quote(dir .. "/server.pem"), quote(dir .. "/server.key"),
    quote(dir .. "/events"), quote(dir .. "/stderr")))
  local srv = { cainfo = dir .. "/ca.pem", dir = dir, pid = pid }
  local stopped = false
  function srv.stop()
    if stopped then return end
    stopped = true
    proc.kill(pid)
    proc.remove(dir)
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
  local listening = function()
    local first = srv.events("listening")[1]
    srv.port = first and math.tointeger(first.port)
    return srv.port
  end
  if not proc.wait_ready(pid, listening, 10) then
    local why = read_all(dir .. "/stderr")
    srv.stop()
    error("spec.h2server: the server did not start:\n" .. why, 2)
  end
  srv.base_url = ("https://127.0.0.1:%d"):format(srv.port)
  return srv
end

return h2server

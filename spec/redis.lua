-- A Redis server for specs: Debian's redis-server on a free port of
-- 127.0.0.1, no persistence, in a temporary directory.
--
--   local redis = require "spec.redis"
--   local ok, why = redis.available()        -- redis-server installed?
--   local r = redis.start()                  -- { url, port, dir, pid }
--   r.cli("ZCARD", key)                      -- redis-cli's answer, as text
--   r.stop()  r.restart()                    -- stop: safe twice; also on __gc, __close, exit
local socket = require "socket"
local util = require "robloxsocial.sandbox.util"
local own_pid, alive = util.own_pid, util.process_alive

local redis = {}

local SERVER, CLI = "/usr/bin/redis-server", "/usr/bin/redis-cli"
local CLEAN_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS -u LSAN_OPTIONS "

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function read_cmd(cmd)
  local p = assert(io.popen(CLEAN_ENV .. "sh -c " .. quote(cmd .. " 2>&1")))
  local out = p:read("a")
  p:close()
  return out
end

function redis.available()
  if not exists(SERVER) then return nil, "redis-server is not installed (apt-get install redis-server)" end
  if not exists(CLI) then return nil, "redis-cli is not installed (apt-get install redis-tools)" end
  return true
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return math.tointeger(tonumber(port))
end

local function accepts(port)
  local s = socket.connect("127.0.0.1", port)
  if s then s:close() end
  return s ~= nil
end

-- Starts redis-server; raises when it cannot.
function redis.start()
  local ok, why = redis.available()
  if not ok then error("spec.redis: " .. why, 2) end
  local dir = read_cmd("mktemp -d /tmp/robloxsocial-redis.XXXXXX"):match("^(%S+)")
  local port = free_port()
  local r = { port = port, dir = dir, url = ("redis://127.0.0.1:%d/0"):format(port) }
  local function launch()
    local p = assert(io.popen((CLEAN_ENV .. "%s --port %d --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command local"
      .. " --dir %s --daemonize no </dev/null >%s 2>&1 & echo $!"):format(SERVER, port, quote(dir),
      quote(dir .. "/log"))))
    r.pid = math.tointeger(tonumber(p:read("l")))
    p:close()
    local deadline = socket.gettime() + 10
    while not accepts(port) do
      if not alive(r.pid) or socket.gettime() > deadline then
        error("spec.redis: redis-server did not start:\n" .. read_cmd("cat " .. quote(dir .. "/log")), 3)
      end
      socket.sleep(0.02)
    end
  end
  launch()
  local me = own_pid()
  if me then          -- a watchdog: ends the server once the process that started it has gone
    os.execute(CLEAN_ENV .. ("sh -c %s </dev/null >/dev/null 2>&1 &"):format(quote(
      ("while kill -0 %d 2>/dev/null; do sleep 1; done; redis-cli -p %d shutdown nosave; sleep 1; rm -rf %s")
      :format(me, port, quote(dir)))))
  end
  -- Stops the server (kill -9: a crash, not a clean shutdown).
  function r.kill()
    if r.pid and alive(r.pid) then os.execute(CLEAN_ENV .. "kill -9 " .. r.pid .. " 2>/dev/null") end
    local deadline = socket.gettime() + 5
    while r.pid and alive(r.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  end
  function r.restart()
    r.kill()
    launch()
  end
  local stopped = false
  function r.stop()
    if stopped then return end
    stopped = true
    r.kill()
    os.execute(CLEAN_ENV .. "rm -rf " .. quote(dir))
  end
  function r.cli(...)
    local args = {}
    for i, a in ipairs({ ... }) do args[i] = quote(a) end
    return (read_cmd(("%s -p %d %s"):format(CLI, port, table.concat(args, " "))):gsub("\n$", ""))
  end
  setmetatable(r, { __gc = r.stop, __close = r.stop })
  return r
end

redis.free_port = free_port
return redis

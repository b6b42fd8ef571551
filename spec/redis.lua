-- A Redis server for specs: Debian's redis-server on a free port of
-- 127.0.0.1, no persistence, in a temporary directory.
--
--   local redis = require "spec.redis"
--   local ok, why = redis.available()        -- redis-server installed?
--   local r = redis.start()                  -- { url, port, dir, pid }
--   r.cli("ZCARD", key)                      -- redis-cli's answer, as text
--   r.stop()  r.restart()                    -- stop: safe twice; also on __gc, __close, exit
local proc = require "spec.proc"

local redis = {}

local SERVER, CLI = "/usr/bin/redis-server", "/usr/bin/redis-cli"
local quote, exists, read_cmd = proc.quote, proc.exists, proc.read_cmd

function redis.available()
  if not exists(SERVER) then return nil, "redis-server is not installed (apt-get install redis-server)" end
  if not exists(CLI) then return nil, "redis-cli is not installed (apt-get install redis-tools)" end
  return true
end

-- Starts redis-server; raises when it cannot.
function redis.start()
  local ok, why = redis.available()
  if not ok then error("spec.redis: " .. why, 2) end
  local dir = proc.temp_dir("redis")
  local port = proc.free_port()
  local r = { port = port, dir = dir, url = ("redis://127.0.0.1:%d/0"):format(port) }
  local function launch()
    r.pid = proc.spawn(("%s --port %d --bind 127.0.0.1 --save '' --appendonly no --enable-debug-command local"
      .. " --dir %s --daemonize no </dev/null >%s 2>&1"):format(SERVER, port, quote(dir), quote(dir .. "/log")))
    if not proc.wait_ready(r.pid, function() return proc.accepts(port) end, 10) then
      error("spec.redis: redis-server did not start:\n" .. proc.read_file(dir .. "/log"), 3)
    end
  end
  launch()
  -- Ends the server once the process that started it has gone.
  proc.watchdog(("redis-cli -p %d shutdown nosave; sleep 1; rm -rf %s"):format(port, quote(dir)))
  -- Stops the server (kill -9: a crash, not a clean shutdown).
  function r.kill() proc.kill(r.pid, "-9") end
  function r.restart()
    r.kill()
    launch()
  end
  local stopped = false
  function r.stop()
    if stopped then return end
    stopped = true
    r.kill()
    proc.remove(dir)
  end
  function r.cli(...)
    local args = {}
    for i, a in ipairs({ ... }) do args[i] = quote(a) end
    return (read_cmd(("%s -p %d %s"):format(CLI, port, table.concat(args, " "))):gsub("\n$", ""))
  end
  setmetatable(r, { __gc = r.stop, __close = r.stop })
  return r
end

redis.free_port = proc.free_port     -- the fleet specs'
return redis

-- How long client:close() takes with N calls queued behind one that
-- stalls: N tasks, each making one call, on a client of concurrency 1.
-- Usage (from the repository root):
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/?.so;;' lua5.4 bench/close.lua [N] [limit_seconds]
-- Prints the seconds close() took and the run that resumes the tasks,
-- and PASS or FAIL against the limit (default 5 s for close and run).
local robloxsocial = require "robloxsocial"
local sandbox = require "robloxsocial.sandbox"
local core = require "robloxsocial.core"

local n = tonumber(arg[1]) or 1000000
local limit = tonumber(arg[2]) or 5

local sb = sandbox.start{}
sb:fault{ method = "GET", path = "*", kind = "stall", seconds = 30 }
local client = robloxsocial.new{ base_url = sb.base_url, cookie = sb.credentials.cookie,
                                 concurrency = 1, timeout = 60 }
local cancelled = 0
local function call()
  local answer, err = client:friends_count(1)
  if not answer and err.kind == "cancelled" then cancelled = cancelled + 1 end
end
local t0 = os.clock()
for _ = 1, n do robloxsocial.spawn(call) end
local queued = os.clock() - t0
robloxsocial.step(0.05)                       -- the first one on the network
t0 = os.clock()
client:close()
local closing = os.clock() - t0
t0 = os.clock()
local ran = robloxsocial.run(60)
local resuming = os.clock() - t0
sb:stop()
local ok = ran and cancelled == n and closing < limit and core.stats().in_flight == 0
print(("calls %d  queue %.2f s  close %.3f s  resume %.2f s  cancelled %d  %s"):format(
  n, queued, closing, resuming, cancelled, ok and "PASS" or "FAIL"))
os.exit(ok and 0 or 1)

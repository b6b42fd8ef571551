-- How long it takes to end N calls waiting for a slot of a client of
-- concurrency 1 whose first request stalls.  Modes:
--   close   N tasks, one call each; client:close()           (default)
--   cancel  N tasks, one call each; task:cancel(), newest first
--   batch   one task, one batch of N ids of batch size 1; client:close()
-- Usage (from the repository root):
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/?.so;;' \
--     lua5.4 bench/close.lua [N] [mode] [limit_seconds]
-- Prints the seconds the ending took (close, or all the cancels) and the
-- run that resumes the tasks, and PASS or FAIL against the limit (5 s).
local robloxsocial = require "robloxsocial"
local sandbox = require "robloxsocial.sandbox"
local core = require "robloxsocial.core"

local n = tonumber(arg[1]) or 1000000
local mode = arg[2] or "close"
local limit = tonumber(arg[3]) or 5

local sb = sandbox.start{}
sb:fault{ method = "*", path = "*", kind = "stall", seconds = 30 }
local client = robloxsocial.new{ base_url = sb.base_url, api_key = sb.credentials.api_key,
                                 concurrency = 1, timeout = 60, batch_sizes = { presence = 1 } }
local cancelled, tasks = 0, {}
local function call()
  local answer, err = client:friends_count(1)
  if not answer and err.kind == "cancelled" then cancelled = cancelled + 1 end
end
local function batch()
  local ids = {}
  for i = 1, n do ids[i] = i end
  local answer, err = client:presence(ids)
  if not answer and err.kind == "cancelled" then cancelled = #err.failed end
end
local t0 = os.clock()
if mode == "batch" then
  tasks[1] = robloxsocial.spawn(batch)
else
  for i = 1, n do tasks[i] = robloxsocial.spawn(call) end
end
local queued = os.clock() - t0
robloxsocial.step(0.05)                       -- the first one on the network
t0 = os.clock()
if mode == "cancel" then
  for i = n, 1, -1 do tasks[i]:cancel() end
  cancelled = n
else
  client:close()
end
local ending = os.clock() - t0
t0 = os.clock()
local ran = robloxsocial.run(60)
local resuming = os.clock() - t0
client:close()
sb:stop()
local ok = ran and cancelled == n and ending < limit and core.stats().in_flight == 0
print(("%s: calls %d  queue %.2f s  %s %.3f s  resume %.2f s  cancelled %d  %s"):format(
  mode, n, queued, mode, ending, resuming, cancelled, ok and "PASS" or "FAIL"))
os.exit(ok and 0 or 1)

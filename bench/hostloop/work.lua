-- The work of the wake-up bench (bench/hostloop/README.md), shared by its
-- luv host (luv_host.lua) and its C host (wakes.c): one of
--   sequential  one task making 100 requests in a row
--   concurrent  100 tasks making one request each, all at once
--   stall       the same, every request stalled 2 s by the sandbox
-- against the sandbox 50 ms away.  The host calls work.wake(now) each time
-- it wakes and steps, work.done() to know when to stop, work.report().
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local sandbox = require "robloxsocial.sandbox"

local N, STALL = 100, 2
local work = {}
local sb, kind, started, wakes, tasks = nil, nil, nil, {}, {}

function work.start(which, host)
  kind = which
  sb = sandbox.start{ latency = 0.05 }
  local me = sb.credentials.user_id
  local client = robloxsocial.new{ base_url = sb.base_url, cookie = sb.credentials.cookie,
                                   timeout = 10, concurrency = N }
  -- one request first, so that every kind starts on an open connection
  assert(client:friends_count(me))
  if kind == "stall" then
    sb:fault{ path = "/v1/users/" .. me .. "/friends/count", kind = "stall", seconds = STALL, count = N }
  end
  work.host = host
  started = core.now()
  if kind == "sequential" then
    tasks[1] = robloxsocial.spawn(function()
      for _ = 1, N do assert(client:friends_count(me)) end
    end)
  else
    for i = 1, N do
      tasks[i] = robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    end
  end
end

function work.wake()
  wakes[#wakes + 1] = core.now() - started
end

function work.done()
  for _, t in ipairs(tasks) do if not t:done() then return false end end
  return true
end

function work.report()
  for _, t in ipairs(tasks) do t:wait() end       -- raises a task's error
  local quiet = 0       -- wakes while every request waits on the stall
  for _, w in ipairs(wakes) do
    if w > 0.3 and w < STALL - 0.05 then quiet = quiet + 1 end
  end
  local line = ("%-22s %-10s %5d requests  %5d wake-ups  %5.2f per request  %6.2f s")
    :format(work.host, kind, N, #wakes, #wakes / N, core.now() - started)
  if kind == "stall" then line = line .. ("  %d wake-ups in the stall (0.3 s to %.2f s)"):format(quiet, STALL - 0.05) end
  print(line)
  sb:stop()
end

return work

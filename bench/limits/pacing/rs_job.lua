-- robloxsocial's side of the pacing bench (issue 20): one job against the
-- bench's server, with the client's defaults but base_url, cookie and
-- concurrency; prints one JSON line like peers.mjs:
-- { wall, failed_calls, failed_requests, msg_latency, seen_429 }.  The
-- cookie comes from BENCH_COOKIE, never from the command line.
--
--   BENCH_COOKIE=... lua5.4 rs_job.lua JOB BASE_URL CONCURRENCY IDS TASKS AT [LIMITS]
--
-- JOB: presence (one presence call of IDS ids), friends (TASKS tasks of one
-- friends_count each), both (the two at once), messages (a presence call
-- of IDS ids, and one messages call started AT seconds later, in tasks).
-- LIMITS ("presence=120/2,friends_count=200/2") gives the client
-- `rate_limits`; a core that does not know that option prints
-- { "error": ... } and the runner shows n/a.

local robloxsocial = require "robloxsocial"
local now = require("robloxsocial.core").now

local job, base_url, cookie = arg[1], arg[2], os.getenv("BENCH_COOKIE")
local concurrency, n_ids, n_tasks, at = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5]), tonumber(arg[6])
local FIRST_ID = 4294967297

local options = { base_url = base_url, cookie = cookie, concurrency = concurrency }
if arg[7] and arg[7] ~= "" then
  local limits = {}
  for name, n, w in arg[7]:gmatch("([%w_]+)=([%d.]+)/([%d.]+)") do limits[name] = { tonumber(n), tonumber(w) } end
  options.rate_limits = limits
end

local made, client = pcall(robloxsocial.new, options)
if not made then
  print(('{"error":%q}'):format(tostring(client):gsub("\n", " ")))
  os.exit(0)
end

local failed_calls, failed_requests, msg_latency = 0, 0, nil

local function presence()
  local ids = {}
  for i = 1, n_ids do ids[i] = FIRST_ID + i - 1 end
  local answer, err = client:presence(ids)
  if not answer then
    failed_calls = failed_calls + 1
    failed_requests = failed_requests + math.ceil(#(err.failed or ids) / 50)
  elseif #answer.userPresences ~= n_ids then
    error("presence: a short answer")
  end
end

local function friends()
  for i = 1, n_tasks do
    local id = FIRST_ID + i - 1
    robloxsocial.spawn(function()
      if not client:friends_count(id) then
        failed_calls = failed_calls + 1
        failed_requests = failed_requests + 1
      end
    end)
  end
end

local t0 = now()
if job == "presence" then
  presence()
elseif job == "friends" then
  friends()
  robloxsocial.run()
elseif job == "both" then
  robloxsocial.spawn(presence)
  friends()
  robloxsocial.run()
elseif job == "messages" then
  robloxsocial.spawn(presence)
  robloxsocial.spawn(function()
    robloxsocial.sleep(at)
    local t = now()
    local answer = client:messages()
    msg_latency = now() - t
    if not answer then failed_calls, failed_requests = failed_calls + 1, failed_requests + 1 end
  end)
  robloxsocial.run()
else
  error("unknown job " .. tostring(job))
end
local wall = now() - t0
client:close()
print(('{"wall":%.4f,"failed_calls":%d,"failed_requests":%d,"msg_latency":%s,"seen_429":null}')
  :format(wall, failed_calls, failed_requests, msg_latency and ("%.4f"):format(msg_latency) or "null"))

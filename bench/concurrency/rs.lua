-- robloxsocial's side of curl_multi.c (issue 9).  One untimed round
-- first (it opens the connections), then ROUNDS timed ones; prints
-- "ms M1 M2 ..." like curl_multi.  Raises on any failed call.
--
--   lua5.4 rs.lua presence BASE_URL ROUNDS CONCURRENCY    client:presence(5,000 ids)
--   lua5.4 rs.lua count    BASE_URL ROUNDS CONCURRENCY N  N tasks of one friends_count each, run()
--   lua5.4 rs.lua sequential BASE_URL N                   N friends_count calls, no task, concurrency 1
--   lua5.4 rs.lua rss-tasks BASE_URL ROUNDS N [collect|pause100]   ROUNDS+1 rounds of N tasks of one request
--   lua5.4 rs.lua rss-sequential BASE_URL N               N sequential friends_count calls
--
-- The rss modes print "baseline_kb B peak_kb P end_kb E growth_kb G":
-- B after the first round (tasks) or the first 1,000 requests
-- (sequential), read from /proc/self/statm; P the largest value read
-- after each round (tasks) or every 100 requests (sequential).  With
-- "collect", a full collection runs before each reading: what is left is
-- what the program still holds, not what the collector has not reached.
-- rss-tasks also prints "rounds_kb R0 R1 ...", the reading of each round.
--
-- The client authenticates with an api_key (BENCH_API_KEY, default
-- "bench"): no CSRF handshake, the same headers as curl_multi.

local robloxsocial = require "robloxsocial"
local now = require("robloxsocial.core").now     -- monotonic seconds

local mode, base_url = arg[1], arg[2]
local key = os.getenv("BENCH_API_KEY") or "bench"
local FIRST_ID = 4294967297                       -- as curl_multi.c

local function client_of(concurrency)
  return robloxsocial.new{ base_url = base_url, api_key = key, concurrency = concurrency,
                           max_retries = 0 }
end

local function timed(rounds, once)
  once()
  local out = {}
  for r = 1, rounds do
    local t0 = now()
    once()
    out[r] = ("%.3f"):format((now() - t0) * 1000)
  end
  print("ms " .. table.concat(out, " "))
end

if mode == "presence" then
  local rounds, concurrency = tonumber(arg[3]), tonumber(arg[4])
  local client = client_of(concurrency)
  local ids = {}
  for i = 1, 5000 do ids[i] = FIRST_ID + i - 1 end
  timed(rounds, function()
    local answer, err = client:presence(ids)
    if not answer then error("presence: " .. tostring(err), 0) end
    local got = answer.userPresences
    if #got ~= 5000 or got[5000].userId ~= ids[5000] then error("presence: a short answer", 0) end
  end)
elseif mode == "count" then
  local rounds, concurrency, n = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
  local client = client_of(concurrency)
  local spawn, run = robloxsocial.spawn, robloxsocial.run
  local failures = 0
  timed(rounds, function()
    -- As users write it: a closure per task.
    for i = 1, n do
      local id = FIRST_ID + i - 1
      spawn(function()
        if not client:friends_count(id) then failures = failures + 1 end
      end)
    end
    run()
    if failures > 0 then error(("count: %d calls failed"):format(failures), 0) end
  end)
elseif mode == "sequential" then
  local n = tonumber(arg[3])
  local client = client_of(1)
  for i = 1, n do
    local answer, err = client:friends_count(FIRST_ID + (i - 1) % 1000)
    if not answer then error(("request %d: %s"):format(i, tostring(err)), 0) end
  end
  print("requests " .. n)
elseif mode == "rss-tasks" or mode == "rss-sequential" then
  local page_kb = (function()
    local p = assert(io.popen("getconf PAGESIZE"))
    local size = tonumber(p:read("l"))
    p:close()
    return size // 1024
  end)()
  local function rss_kb()
    local f = assert(io.open("/proc/self/statm"))
    local _, resident = f:read("n", "n")
    f:close()
    return resident * page_kb
  end
  local baseline, peak = nil, 0
  local function sample()
    local kb = rss_kb()
    if baseline and kb > peak then peak = kb end
    return kb
  end
  if mode == "rss-tasks" then
    local rounds, n, collect = tonumber(arg[3]), tonumber(arg[4]), arg[5] == "collect"
    -- "pause100": the program sets the collector as the README suggests
    if arg[5] == "pause100" then collectgarbage("incremental", 100) end
    local client = client_of(8)
    local readings = {}
    local spawn, run = robloxsocial.spawn, robloxsocial.run
    local failures = 0
    local function one(id)
      if not client:friends_count(id) then failures = failures + 1 end
    end
    for r = 0, rounds do
      for i = 1, n do spawn(one, FIRST_ID + i - 1) end
      run()
      if failures > 0 then error(("rss-tasks: %d calls failed"):format(failures), 0) end
      if collect then collectgarbage(); collectgarbage() end
      local kb = sample()
      readings[#readings + 1] = kb
      if r == 0 then baseline = kb end
    end
    print("rounds_kb " .. table.concat(readings, " "))
  else
    local n = tonumber(arg[3])
    local client = client_of(1)
    for i = 1, n do
      local answer, err = client:friends_count(FIRST_ID + (i - 1) % 1000)
      if not answer then error(("request %d: %s"):format(i, tostring(err)), 0) end
      if i % 100 == 0 then
        local kb = sample()
        if i == 1000 then baseline = kb end
      end
    end
  end
  local last = rss_kb()
  print(("baseline_kb %d peak_kb %d end_kb %d growth_kb %d"):format(baseline, peak, last, peak - baseline))
else
  error("usage: lua5.4 rs.lua presence|count|sequential BASE_URL ...", 0)
end

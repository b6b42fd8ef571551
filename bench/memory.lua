-- Resident memory of a long run, read from /proc/self/statm as it goes.
--
--   lua5.4 memory.lua iterate  BASE_URL ITEMS   each_friend over ITEMS friends
--   lua5.4 memory.lua requests BASE_URL N       N friends_count calls
--
-- The baseline is taken once the run is warm (after the first page of 50
-- friends, or after the first 1,000 requests): what comes before is
-- start-up, buffers and the collector finding its pace, not growth.  The
-- peak is the largest of the samples taken every SAMPLE items/requests.
-- Prints "count C baseline_kb B peak_kb P growth_kb G end_kb E".

local robloxsocial = require "robloxsocial"

local mode, base_url, total = arg[1], arg[2], tonumber(arg[3])
assert((mode == "iterate" or mode == "requests") and base_url and total,
  "usage: lua5.4 memory.lua iterate|requests BASE_URL COUNT")

local USER = 4294967297
local SAMPLE = mode == "iterate" and 50 or 100
local WARM = mode == "iterate" and 50 or 1000

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

local client = robloxsocial.new{ base_url = base_url, cookie = "bench", max_retries = 0 }
local baseline, peak, count = nil, 0, 0

local function tick()
  count = count + 1
  if count % SAMPLE ~= 0 then return end
  local now = rss_kb()
  if count == WARM then baseline = now end
  if baseline and now > peak then peak = now end
end

if mode == "iterate" then
  for friend in client:each_friend(USER, { limit = 50 }) do
    assert(math.type(friend.id) == "integer", "a friend without an integer id")
    tick()
    -- The canned pages never end (HasMore is always true): stop here.
    if count == total then break end
  end
else
  for i = 1, total do
    local answer, err = client:friends_count(USER)
    if not answer then error(("request %d: %s"):format(i, tostring(err)), 0) end
    tick()
  end
end

assert(count == total and baseline, "the run ended early")
print(("count %d baseline_kb %d peak_kb %d growth_kb %d end_kb %d"):format(
  count, baseline, peak, peak - baseline, rss_kb()))
client:close()

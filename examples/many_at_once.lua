-- Many requests at once, without threads: the same job done one request at
-- a time and then concurrently, with the time each took.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" ROBLOX_USER_ID=... lua5.4 examples/many_at_once.lua
-- `make demo` runs it against the local sandbox, 50 ms away.
local robloxsocial = require "robloxsocial"

local me = math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or ""))
assert(me, "set ROBLOX_USER_ID to your user id")

local function client(concurrency)
  return robloxsocial.new{ cookie = os.getenv("ROBLOSECURITY"), base_url = os.getenv("ROBLOX_BASE_URL"),
                           concurrency = concurrency }
end

local function clock()
  return require("robloxsocial.core").now()
end

-- The job: every friend's presence (a batch), and the friend count of the
-- first 24 friends (one request each, as tasks).
local function job(c)
  local ids = {}
  for f in c:each_friend(me) do ids[#ids + 1] = f.id end
  local presence = assert(c:presence(ids))
  local counts, tasks = 0, {}
  for i = 1, math.min(24, #ids) do
    tasks[i] = robloxsocial.spawn(function()
      local answer, err = c:friends_count(ids[i])
      if not answer then error(err) end
      return answer.count
    end)
  end
  for _, t in ipairs(tasks) do counts = counts + t:wait() end
  local online = 0
  for _, p in ipairs(presence.userPresences) do
    if p.userPresenceType ~= 0 then online = online + 1 end
  end
  return #ids, online, counts
end

for _, concurrency in ipairs { 1, 16 } do
  local c <close> = client(concurrency)
  local started = clock()
  local friends, online, counts = job(c)
  print(("concurrency %2d: %d friends, %d online, the first 24 have %d friends in all: %.2f s")
    :format(concurrency, friends, online, counts, clock() - started))
end

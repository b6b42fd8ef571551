-- One process of a fleet, for spec/fleet_spec.lua: n friends_count calls
-- of the sandbox's main user, in tasks, or (method "presence") one
-- presence call of n * 50 ids, with the cookie from the environment
-- (never on a command line).  Prints "failed <n> shared <b> done <b>".
-- Bounded: a call fails past 20 s (the client's deadline) and run() gives
-- up then, so the spec's wait for this process ends (its coreutils
-- timeout, 30 s, is the last resort).
--   lua5.4 spec/fleet_child.lua base_url user_id n redis_url|none limit seconds [presence]
local robloxsocial = require "robloxsocial"

local base_url, me, n, url, limit, seconds = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4],
  tonumber(arg[5]), tonumber(arg[6])
local client = robloxsocial.new {
  base_url = base_url, cookie = os.getenv("FLEET_COOKIE"), concurrency = 4, timeout = 10,
  retry_delay = 0.01, connect_timeout = 1, deadline = 20,
  shared_limits = url ~= "none" and url or nil,
  rate_limits = { friends_count = { limit, seconds }, presence = { limit, seconds } },
}
local failed = 0
if arg[7] == "presence" then
  local ids = {}
  for i = 1, n * 50 do ids[i] = 1000000 + i end
  local answer = client:presence(ids)
  io.write(("failed %d shared %s done true\n"):format(answer and 0 or 1,
    tostring(client:rate_limit("presence", "presence").shared)))
  client:close()
  return
end
for _ = 1, n do
  robloxsocial.spawn(function()
    if not client:friends_count(me) then failed = failed + 1 end
  end)
end
local done = robloxsocial.run(20)
local view = client:rate_limit("friends", "friends_count")
io.write(("failed %d shared %s done %s\n"):format(failed, tostring(view and view.shared), tostring(done)))
client:close()

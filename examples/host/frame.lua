-- The script examples/host/host.c runs: it spawns the tasks a game's HUD
-- would, and returns the function the host calls once its frame loop has
-- run them all.  That function prints each result and returns how many
-- failed.  The host, not this script, calls robloxsocial.step(0).
--   build/host lua examples/host/frame.lua     (make host-example)
local robloxsocial = require "robloxsocial"

-- Not <close>: the chunk returns before the host's frame loop runs the
-- tasks; the finishing function closes the client.
local client = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}
local me = math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or ""))
assert(me, "set ROBLOX_USER_ID to your user id")

-- Each job is a task; each call in it suspends only its task, so the
-- frame loop keeps its rate while they are on the network.
local jobs = {
  { "friends online", function()
      local ids = {}
      for f in client:each_friend(me, { prefetch = true }) do ids[#ids + 1] = f.id end
      local presence = assert(client:presence(ids))
      local online = 0
      for _, p in ipairs(presence.userPresences) do
        if p.userPresenceType ~= 0 then online = online + 1 end
      end
      return ("%d of %d"):format(online, #ids)
    end },
  { "unread messages", function()
      return assert(client:unread_messages_count()).count
    end },
  { "friend requests", function()
      return assert(client:friend_requests_count()).count
    end },
  { "greeting, shown after a second", function()
      robloxsocial.sleep(1)    -- a timer: the frames go on meanwhile
      local meta = assert(client:friends_metadata(me))
      return ("hello %s (@%s)"):format(meta.displayName, meta.userName)
    end },
}
for _, job in ipairs(jobs) do job.task = robloxsocial.spawn(job[2]) end

return function()
  local failures = 0
  for _, job in ipairs(jobs) do
    if not job.task:done() then
      print(("  %-32s not done"):format(job[1]))
      failures = failures + 1
    else
      local ok, result = pcall(job.task.wait, job.task)
      print(("  %-32s %s%s"):format(job[1], ok and "" or "FAILED: ", tostring(result)))
      if not ok then failures = failures + 1 end
    end
  end
  client:close()
  return failures
end

-- Recipe: a long job with a progress line.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" lua5.4 examples/long_job.lua
-- The presence of 20,000 users: 400 requests of 50 ids.  Under the live
-- services' rate limit (about 60 presence requests a minute) that takes
-- minutes; the call neither fails for it nor holds other calls back, and
-- on_progress shows how far it got.  opts.deadline would end it early.
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}

local ids = {}
for i = 1, 20000 do ids[i] = 1000000 + i end

local tty = os.getenv("TERM") ~= nil and os.getenv("CI") == nil
local online = 0
local handled, err = client:presence(ids, {
  -- called once per request answered: ids handled so far, and the total
  on_progress = function(done, total)
    if tty then
      io.stderr:write(("\r%d / %d (%d%%)"):format(done, total, done * 100 // total))
    elseif done == total or done % 5000 == 0 then
      print(("%d / %d"):format(done, total))
    end
  end,
  -- each answer as it comes, instead of one merged table of 20,000
  on_chunk = function(answer)
    for _, p in ipairs(answer.userPresences) do
      if p.userPresenceType ~= 0 then online = online + 1 end
    end
  end,
})
if tty then io.stderr:write("\n") end
if not handled then
  -- err.failed holds the ids not handled: call again with them to finish
  io.stderr:write(("long_job: %d handled, then %s\n"):format(err.done, tostring(err)))
  os.exit(1)
end
print(("%d users, %d not offline"):format(handled, online))

-- lua5.4 requests.lua BASE_URL USER_ID N: N sequential friends_count calls
-- of one client (no task, concurrency 1, no hook), after one to warm it.
local robloxsocial = require "robloxsocial"
local base_url, id, n = arg[1], math.tointeger(tonumber(arg[2])), math.tointeger(tonumber(arg[3]))
local client <close> = robloxsocial.new{ base_url = base_url, cookie = "bench", concurrency = 1 }
assert(client:friends_count(id))
for _ = 1, n do assert(client:friends_count(id)) end

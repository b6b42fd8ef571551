-- Which friends are in a game right now, and where.
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),
}
local me = assert(math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or "")), "set ROBLOX_USER_ID")

local IN_GAME = 2
local friends = {}
for friend in client:each_friend(me) do friends[#friends + 1] = friend.id end

local answer = assert(client:presence(friends))
local playing = 0
for _, p in ipairs(answer.userPresences) do
  if p.userPresenceType == IN_GAME then
    playing = playing + 1
    print(("%d is in %s (place %s)"):format(p.userId, p.lastLocation, tostring(p.placeId)))
  end
end
print(("%d of %d friends are in a game"):format(playing, #friends))

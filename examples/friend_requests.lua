-- Accepts the pending friend requests that come with mutual friends and
-- declines the rest.  Prints what it did.
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),
}

local function worth_accepting(request)
  return #request.mutualFriendsList > 0 and not request.isBanned
end

-- Collected first to report the total; accepting inside the loop would be
-- fine too (see moderation_bot.lua): cursors do not move when requests go.
local pending = {}
for request in client:each_friend_request{ limit = 50 } do pending[#pending + 1] = request end

local accepted, declined = 0, 0
for _, request in ipairs(pending) do
  local ok, err
  if worth_accepting(request) then
    ok, err = client:accept_friend_request(request.id)
    accepted = accepted + (ok and 1 or 0)
  else
    ok, err = client:decline_friend_request(request.id)
    declined = declined + (ok and 1 or 0)
  end
  if not ok then io.stderr:write(("request from %d: %s\n"):format(request.id, tostring(err))) end
end
print(("%d pending: accepted %d, declined %d; %d left"):format(
  #pending, accepted, declined, assert(client:friend_requests_count()).count))

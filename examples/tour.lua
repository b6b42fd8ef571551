-- A read-only tour of the social APIs for the authenticated user.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" ROBLOX_USER_ID=... lua5.4 examples/tour.lua
-- `make demo` runs it against the local sandbox (ROBLOX_BASE_URL set).
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}
local me = math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or ""))
assert(me, "set ROBLOX_USER_ID to your user id")

-- Every call returns the answer, or nil and an error object.
local function must(answer, err)
  if answer == nil then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return answer
end

local meta = must(client:friends_metadata(me))
print(("Hello %s (@%s, id %d)"):format(meta.displayName, meta.userName, me))
print(("friends: %d, pending requests: %d, unread messages: %d"):format(
  must(client:friends_count(me)).count,
  must(client:friend_requests_count()).count,
  must(client:unread_messages_count()).count))

-- The iterator fetches a page of 50 only when the previous one is used up.
local ids = {}
for friend in client:each_friend(me, { limit = 50 }) do ids[#ids + 1] = friend.id end
print(("walked %d friends page by page; the first is %d"):format(#ids, ids[1]))

-- presence() takes any number of ids and sends them 50 at a time.
local kinds = { [0] = "offline", "online", "in game", "in Studio", "invisible" }
local tally = {}
for _, p in ipairs(must(client:presence(ids)).userPresences) do
  local kind = kinds[p.userPresenceType] or "unknown"
  tally[kind] = (tally[kind] or 0) + 1
end
for _, kind in ipairs{ "online", "in game", "in Studio", "offline" } do
  print(("  %-9s %d"):format(kind, tally[kind] or 0))
end

for friend in client:each_friend_request{ limit = 10 } do
  print(("newest request: %s (@%s), mutual friends: %d"):format(
    friend.displayName, friend.name, #friend.mutualFriendsList))
  break
end

local inbox = must(client:messages{ tab = "Inbox" })
print(("inbox: %d messages on %d pages"):format(inbox.totalCollectionSize, inbox.totalPages))
for i = 1, math.min(3, #inbox.collection) do
  local m = inbox.collection[i]
  print(("  %s %-28s from %s"):format(m.isRead and " " or "*", m.subject, m.sender.name))
end

for _, a in ipairs(must(client:announcements()).collection) do
  print("announcement: " .. a.subject)
end

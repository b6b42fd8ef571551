-- Recipe: a moderation bot for friend requests.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" lua5.4 examples/moderation_bot.lua
-- Declines requests from banned accounts, requests whose nickname or name
-- holds a blocked word and stale ones (sent before a day, no mutual
-- friends); accepts those that come with mutual friends; leaves the rest
-- pending for a human.  Accepting and declining inside the loop is fine:
-- the paging cursors do not move when requests go.
local robloxsocial = require "robloxsocial"

local BLOCKED = { "badword", "freerobux" }
local STALE = "2026-06-01T00:00:00.000Z"   -- sentAt is an ISO 8601 string: compare as strings

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}

local function blocked(text)
  text = text:lower()
  for _, word in ipairs(BLOCKED) do
    if text:find(word, 1, true) then return word end
  end
end

-- A request (a robloxsocial.FriendRequest) and what to do with it.
local function decide(request)
  if request.isBanned then return "decline", "banned account" end
  local word = blocked(request.friendRequest.senderNickname) or blocked(request.name)
  if word then return "decline", "blocked word " .. word end
  if #request.mutualFriendsList > 0 then
    -- mutualFriendsList holds names, not ids
    return "accept", "friends with " .. table.concat(request.mutualFriendsList, ", ")
  end
  if request.friendRequest.sentAt < STALE then return "decline", "stale, no mutual friends" end
  return "keep", "no mutual friends"
end

local tally = { accept = 0, decline = 0, keep = 0, failed = 0 }

-- The iterator raises the error object when a page cannot be fetched
-- (returning nil would look like the end of the list): catch it.
local ok, err = pcall(function()
  for request in client:each_friend_request{ limit = 50 } do
    local action, why = decide(request)
    local done, call_err = true, nil
    if action == "accept" then
      done, call_err = client:accept_friend_request(request.id)
    elseif action == "decline" then
      done, call_err = client:decline_friend_request(request.id)
    end
    if done then
      tally[action] = tally[action] + 1
      print(("%-7s %-24s %s"):format(action, request.name, why))
    else
      -- e.g. code 10: someone else handled the request meanwhile
      tally.failed = tally.failed + 1
      io.stderr:write(("could not %s %s: %s\n"):format(action, request.name, tostring(call_err)))
    end
  end
end)
if not ok then
  io.stderr:write("stopped early: ", tostring(err), "\n")
  os.exit(1)
end

local left, count_err = client:friend_requests_count()
if not left then
  io.stderr:write(tostring(count_err), "\n")
  os.exit(1)
end
print(("accepted %d, declined %d, kept %d, failed %d; %d still pending"):format(
  tally.accept, tally.decline, tally.keep, tally.failed, left.count))
if left.count ~= tally.keep + tally.failed then os.exit(1) end

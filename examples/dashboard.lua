-- Recipe: a community dashboard for one user's friends.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" ROBLOX_USER_ID=... lua5.4 examples/dashboard.lua
-- Who is online and where, the most frequent friends, and the groups most
-- of them are in.  Read-only.
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
}
local me = math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or ""))
assert(me, "set ROBLOX_USER_ID to the user id to show")

-- Every call returns the answer, or nil and an error object.
local function must(answer, err)
  if answer == nil then
    io.stderr:write("dashboard: ", tostring(err), "\n")
    os.exit(1)
  end
  return answer
end

-- friends() has the names in one call (each_friend items carry only ids).
-- sort = "StatusFrequents": online first, then the most frequent.
local friends = must(client:friends(me, { sort = "StatusFrequents" })).data
local by_id, ids = {}, {}
for i, f in ipairs(friends) do
  by_id[f.id] = f
  ids[i] = f.id
end
print(("%d friends"):format(#friends))

-- presence() takes any number of ids and sends them 50 at a time.
local PRESENCE = { [0] = "offline", "online", "in a game", "in Studio" }
local counts = {}
for _, p in ipairs(must(client:presence(ids)).userPresences) do
  local kind = PRESENCE[p.userPresenceType] or "unknown"
  counts[kind] = (counts[kind] or 0) + 1
end
for _, kind in ipairs { "online", "in a game", "in Studio", "offline" } do
  print(("  %-10s %d"):format(kind, counts[kind] or 0))
end

-- Who is in which experience: online_friends() names the place.
print("playing now:")
for _, f in ipairs(must(client:online_friends(me)).data) do
  local p = f.userPresence
  if p.UserPresenceType == "InGame" then
    print(("  %-20s %s (place %s)"):format(f.displayName, p.lastLocation,
      p.placeId ~= robloxsocial.null and tostring(p.placeId) or "?"))
  end
end

print("most frequent:")
local ranked = {}
for i, f in ipairs(friends) do ranked[i] = f end
table.sort(ranked, function(a, b) return a.friendFrequentRank < b.friendFrequentRank end)
for i = 1, math.min(5, #ranked) do
  print(("  %d. %s"):format(ranked[i].friendFrequentRank, ranked[i].displayName))
end

-- The groups of the friends, by how many friends are in each.
local groups, names = {}, {}
for _, entry in ipairs(must(client:friends_group_roles(me)).data) do
  for _, m in ipairs(entry.groups) do
    groups[m.group.id] = (groups[m.group.id] or 0) + 1
    names[m.group.id] = m.group.name
  end
end
local order = {}
for id in pairs(groups) do order[#order + 1] = id end
table.sort(order, function(a, b) return groups[a] > groups[b] or (groups[a] == groups[b] and a < b) end)
print("groups:")
for _, id in ipairs(order) do print(("  %-20s %d friends"):format(names[id], groups[id])) end

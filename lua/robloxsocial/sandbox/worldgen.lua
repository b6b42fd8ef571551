-- Generates the default world (world.json).  Deterministic: the same file
-- every run.  Regenerate with
--   lua5.4 -e 'require("robloxsocial.sandbox.worldgen").main()' > lua/robloxsocial/sandbox/world.json
--
-- THE WORLD FILE SCHEMA (every id a JSON integer; all times ISO 8601 UTC)
--   accounts         [{user_id, cookie, api_key, access_token}]  the first is
--                    the main user, whose credentials the launcher hands out
--   settings         {csrf_ttl, max_tag_length, max_nickname_length, max_friends,
--                     moderated_words, rate_limits, rate_limit_default, latency,
--                     unauthorized, too_many_requests, anonymous_csrf} (all optional;
--                     see settings.lua)
--   users            [{id, name, displayName, description, created, hasVerifiedBadge,
--                      isBanned, isDeleted, inactive, frequentScore,
--                      presencePrivacy ("everyone", "friends", "noone": who sees
--                      the place of a user in a game; default "everyone"),
--                      presence: {type 0..4, lastLocation, placeId, rootPlaceId,
--                                 gameId, universeId}}]
--   friendships      [[userId, userId]]  (order = order of befriending)
--   trusted_friends  [[userId, userId]]  trusted friends (mutual; friends too),
--                    what friends/find?findFriendsType=1 lists
--   friend_requests  [{from, to, sentAt, nickname, originSourceType, sourceUniverseId, new}]
--   tags             [{owner, target, tag}]
--   contacts         [{contactId, user}]       for /v1/contacts/{id}/request-friendship
--   friending_tokens [{token, sender}]         for accept-friend-request-with-token
--   qr_sessions      [userId]                  users with an active QR session
--   messages         [{id, from, to, subject, body, created, updated, isRead,
--                      archived, isSystemMessage, isReportAbuseDisplayed}]
--   announcements    [{id, sender, subject, body, created, updated}]
--   groups           [{id, name, description, owner, memberCount, hasVerifiedBadge,
--                      isBuildersClubOnly, publicEntryAllowed, isLocked,
--                      shout: {body, poster, created, updated},
--                      hasSocialModules, communityTier (an object, or null),
--                      roles: [{id, name, rank, color (0-16), isBase}],
--                      members: [{user, role, primary}]}]
-- A key not listed here is refused, naming it; keys starting with "_" are
-- comments.
local worldgen = {}

local NULL = {}   -- written as JSON null

local seed = 20240611
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end

local ADJ = { "Swift", "Brave", "Quiet", "Lucky", "Cosmic", "Pixel", "Turbo", "Mellow",
              "Fuzzy", "Neon", "Rusty", "Sunny", "Frosty", "Mighty", "Sneaky", "Jolly" }
local NOUN = { "Builder", "Otter", "Falcon", "Knight", "Noodle", "Rocket", "Panda", "Wizard",
               "Comet", "Badger", "Ninja", "Pirate", "Robot", "Dragon", "Lemur", "Golem" }
local GAMES = { { "Obby Tower", 1818, 1818, 13058 }, { "Pet Simulator", 6284583030, 6284583030, 2316994223 },
                { "Brookhaven", 4924922222, 4924922222, 1686885941 }, { "Jailbreak", 606849621, 606849621, 245662005 } }

local MAIN, SIDEKICK, ROBLOX = 1234567890123456, 4398046511104, 1
local users, friendships, requests, messages = {}, {}, {}, {}

local function iso(day, hour, min)
  return ("2026-%02d-%02dT%02d:%02d:00.000Z"):format(day > 30 and 6 or 5, (day - 1) % 30 + 1, hour, min)
end

local function user(id, name, display, extra)
  local u = { id = id, name = name, displayName = display or name,
              description = "Hi, I'm " .. (display or name) .. ".",
              created = ("20%02d-%02d-%02dT12:00:00.000Z"):format(12 + rand(12), rand(12), rand(28)),
              hasVerifiedBadge = false, frequentScore = 0,
              presence = { type = 0 } }
  iso(rand(40), rand(23), rand(59)) -- was lastOnline; keeps the names of the world as they were
  for k, v in pairs(extra or {}) do u[k] = v end
  users[#users + 1] = u
  return u
end

local function presence_for(i)
  if i <= 10 then return { type = 1, lastLocation = "Website" } end
  if i <= 18 then
    local g = GAMES[(i % #GAMES) + 1]
    return { type = 2, lastLocation = g[1], placeId = g[2], rootPlaceId = g[3], universeId = g[4],
             gameId = ("%08x-4e1a-4c2b-9d3e-%012x"):format(i * 7919, i * 104729) }
  end
  if i <= 21 then return { type = 3, lastLocation = "Studio" } end
  if i <= 23 then return { type = 4, lastLocation = "" } end
  return { type = 0, lastLocation = "" }
end

-- The main user's 130 friends; 23 of them answer a search for "bob".
local function make_friends()
  local ids = {}
  for i = 1, 130 do
    local id = i % 2 == 0 and 5000000000 + i * 7919 or 1234567890200000 + i * 37
    local name = ADJ[rand(#ADJ)] .. NOUN[rand(#NOUN)] .. i
    local display = name
    if i % 6 == 0 then name = "Bob" .. NOUN[rand(#NOUN)] .. i
    elseif i % 6 == 3 and i < 50 then display = "bobby " .. ADJ[rand(#ADJ)] end
    local p = presence_for(i)
    if i > 23 then iso(rand(40), rand(23), rand(59)) end -- was lastOnline, as above
    user(id, name, display, { presence = p, frequentScore = (i * 37) % 101,
                              hasVerifiedBadge = i % 25 == 0, inactive = i > 115 })
    friendships[#friendships + 1] = { MAIN, id }
    ids[#ids + 1] = id
  end
  return ids
end

local SOURCES = { "UserProfile", "PlayerSearch", "InGame", "QrCode", "FriendRecommendations" }

-- 34 users who asked the main user for friendship (6 of them new), each
-- with a few mutual friends.
local function make_requesters(friend_ids)
  for i = 1, 34 do
    local id = 2000000000000 + i * 101
    user(id, "Hopeful" .. NOUN[rand(#NOUN)] .. i, nil)
    for k = 1, i % 4 do friendships[#friendships + 1] = { id, friend_ids[(i * 7 + k * 13) % 130 + 1] } end
    requests[#requests + 1] = {
      from = id, to = MAIN, sentAt = iso(10 + i, rand(23), rand(59)), new = i > 28,
      nickname = i % 5 == 0 and ("Pal" .. i) or "", originSourceType = SOURCES[i % #SOURCES + 1],
      sourceUniverseId = i % 3 == 0 and 13058 or 0 }
  end
end

local function make_strangers()
  local ids = {}
  for i = 1, 20 do
    local id = 7000000000 + i * 13
    user(id, "Stranger" .. NOUN[rand(#NOUN)] .. i, nil, { isDeleted = i == 20 })
    ids[#ids + 1] = id
  end
  user(9007199254740991, "EdgeOfFloat", "Edge Of Float")
  ids[#ids + 1] = 9007199254740991
  requests[#requests + 1] = { from = MAIN, to = ids[1], sentAt = iso(35, 8, 0), originSourceType = "PlayerSearch" }
  requests[#requests + 1] = { from = MAIN, to = ids[2], sentAt = iso(36, 8, 0), originSourceType = "UserProfile" }
  return ids
end

local SUBJECTS = { "Trade?", "Game night", "Your build", "Thanks!", "Group invite", "Hello", "Re: obby" }

local function message(id, from, to, day, extra)
  local m = { id = id, from = from, to = to, subject = SUBJECTS[rand(#SUBJECTS)],
              body = "Message " .. id .. " from the sandbox.", created = iso(day, rand(23), rand(59)),
              isRead = false, archived = false, isSystemMessage = false, isReportAbuseDisplayed = true }
  m.updated = m.created
  for k, v in pairs(extra or {}) do m[k] = v end
  messages[#messages + 1] = m
end

-- 48 in the inbox (20 unread, 3 from Roblox), 6 sent, 4 archived, and 2
-- for the sidekick that the main user must not see.
local function make_messages(friend_ids)
  local base = 4503599627370496
  for i = 1, 48 do
    local system = i % 16 == 0
    message(base + i * 977, system and ROBLOX or friend_ids[rand(130)], MAIN, i % 40 + 1,
            { isRead = i % 12 >= 5, isSystemMessage = system, isReportAbuseDisplayed = not system })
  end
  for i = 1, 6 do message(base + 100000 + i * 977, MAIN, friend_ids[i * 3], i + 20, { isRead = true }) end
  for i = 1, 4 do message(base + 200000 + i * 977, friend_ids[i * 5], MAIN, i + 2, { archived = true, isRead = i % 2 == 0 }) end
  for i = 1, 2 do message(base + 300000 + i * 977, friend_ids[i], SIDEKICK, i + 5) end
end

local function make_groups(friend_ids)
  local groups = {}
  local names = { "Builders Guild", "Obby Makers", "Pet Collectors", "Speedrunners" }
  for g = 1, 4 do
    local group = { id = 3000000000 + g * 17, name = names[g], memberCount = 1000 * g + 234,
                    description = "The " .. names[g] .. " of the sandbox.",
                    hasVerifiedBadge = g == 1, publicEntryAllowed = g ~= 4,
                    hasSocialModules = g <= 2,
                    roles = { { id = 40000000 + g * 10 + 1, name = "Member", rank = 1, isBase = true },
                              { id = 40000000 + g * 10 + 2, name = "Admin", rank = 200, color = 4 + g },
                              { id = 40000000 + g * 10 + 3, name = "Owner", rank = 255, color = 16 } },
                    members = {} }
    -- communityTier's fields are not documented: a made-up one, a null,
    -- and (groups 3 and 4) none at all, as the service may leave it out.
    if g == 1 then group.communityTier = { tier = 2, name = "Established" } end
    if g == 2 then group.communityTier = NULL end
    for k = 1, 12 do
      local role = group.roles[k == 1 and 3 or (k % 4 == 0 and 2 or 1)]
      group.members[k] = { user = friend_ids[(g * 11 + k * 9) % 130 + 1], role = role.id,
                           primary = k % 3 == 0 or nil }
    end
    group.owner = group.members[1].user
    if g <= 2 then
      group.shout = { body = "Welcome to " .. names[g] .. "!", poster = group.owner,
                      created = "2026-05-20T18:00:00.000Z", updated = "2026-05-20T18:00:00.000Z" }
    end
    groups[g] = group
  end
  return groups
end

local function secret(kind, n)
  return ("rbxsb-%s-%04d-not-a-real-secret"):format(kind, n)
end

local function account(user_id, n)
  return { user_id = user_id, cookie = "_|WARNING:-DO-NOT-SHARE-THIS.--" .. secret("cookie", n),
           api_key = secret("api-key", n), access_token = secret("access-token", n) }
end

local function announcements()
  return {
    { id = 4503599627470001, sender = ROBLOX, subject = "Welcome to the sandbox",
      body = "Everything here is make-believe.", created = "2026-05-01T10:00:00.000Z" },
    { id = 4503599627470002, sender = ROBLOX, subject = "New features",
      body = "Friends, tags and messages all work.", created = "2026-05-15T10:00:00.000Z" },
    { id = 4503599627470003, sender = ROBLOX, subject = "Stay safe",
      body = "Never share your cookie.", created = "2026-06-01T10:00:00.000Z" },
  }
end

local function tags(friend_ids)
  local names = { [1] = "Best builder", [2] = "School", [3] = "Cousin", [11] = "Trading buddy",
                  [40] = "Met in Jailbreak" }
  local out = {}
  for _, i in ipairs { 1, 2, 3, 11, 40 } do
    out[#out + 1] = { owner = MAIN, target = friend_ids[i], tag = names[i] }
  end
  return out
end

function worldgen.build()
  user(ROBLOX, "Roblox", "Roblox", { hasVerifiedBadge = true, created = "2006-02-27T21:06:40.300Z" })
  user(MAIN, "SandboxHero", "Sandbox Hero", { created = "2016-03-14T15:09:26.535Z",
    presence = { type = 1, lastLocation = "Website" } })
  user(SIDEKICK, "SandboxSidekick", "Sandbox Sidekick", { created = "2018-07-01T08:00:00.000Z" })
  local friend_ids = make_friends()
  for k = 1, 12 do friendships[#friendships + 1] = { SIDEKICK, friend_ids[k * 10] } end
  -- 6 trusted friends of the main user: 2 online, 1 in a game, 1 in Studio
  -- (the first of friends/find's default order), 2 offline
  local trusted = {}
  for _, i in ipairs { 1, 4, 12, 19, 30, 60 } do trusted[#trusted + 1] = { MAIN, friend_ids[i] } end
  make_requesters(friend_ids)
  local strangers = make_strangers()
  make_messages(friend_ids)
  return {
    _about = "robloxsocial sandbox: the default world. Schema: lua/robloxsocial/sandbox/worldgen.lua.",
    accounts = { account(MAIN, 1), account(SIDEKICK, 2) },
    settings = { csrf_ttl = 300 },
    users = users, friendships = friendships, trusted_friends = trusted, friend_requests = requests,
    tags = tags(friend_ids),
    contacts = { { contactId = "c-1001", user = strangers[3] }, { contactId = "c-1002", user = strangers[4] },
                 { contactId = "c-1003", user = friend_ids[5] } },
    friending_tokens = { { token = "ft-alpha-0001", sender = strangers[5] },
                         { token = "ft-beta-0002", sender = strangers[6] } },
    qr_sessions = { friend_ids[7] },
    messages = messages, announcements = announcements(), groups = make_groups(friend_ids),
  }
end

---------------------------------------------------------------------------
-- A small writer with a fixed key order, so that the file reads well and
-- diffs well.

local ORDER = { "_about", "accounts", "settings", "users", "friendships", "trusted_friends", "friend_requests", "id", "user_id", "name", "displayName",
  "from", "to", "owner", "target", "sender", "user", "role", "contactId", "token" }

local function keys_of(t)
  local rank = {}
  for i, k in ipairs(ORDER) do rank[k] = i end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = rank[a] or 1000, rank[b] or 1000
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return keys
end

local function encode(v, indent, depth)
  if v == NULL then return "null" end
  if type(v) == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n" })[c] or ("\\u%04x"):format(c:byte())
    end) .. '"'
  elseif type(v) ~= "table" then
    return tostring(v)
  end
  local pad = depth < indent and ("\n" .. ("  "):rep(depth + 1)) or ""
  local close = depth < indent and ("\n" .. ("  "):rep(depth)) or ""
  local parts = {}
  if #v > 0 or next(v) == nil then
    for i, x in ipairs(v) do parts[i] = pad .. encode(x, indent, depth + 1) end
    return "[" .. table.concat(parts, ",") .. (#parts > 0 and close or "") .. "]"
  end
  for _, k in ipairs(keys_of(v)) do
    parts[#parts + 1] = pad .. encode(k, 0, 0) .. ":" .. (pad ~= "" and " " or "") .. encode(v[k], indent, depth + 1)
  end
  return "{" .. table.concat(parts, ",") .. close .. "}"
end

function worldgen.main()
  io.write(encode(worldgen.build(), 2, 0), "\n")
end

return worldgen

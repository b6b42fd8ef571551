-- The canned response bodies of the bench, in the shapes the real API
-- sends, with the Lua values they were written from.
--
--   lua5.4 gen_bodies.lua DIR    writes DIR/<name>.json and DIR/<name>.conf
--   require "gen_bodies"         returns { <name> = { json = ..., value = ... } }
--
-- The JSON is written here by hand, not by either decoder under test, so
-- that the exactness check compares against an independent source.  Ids
-- are above 2^32 and some have 16 digits, a few of them above 2^53, where
-- a float-only decoder (Debian's lua-cjson) starts losing them.

local format, concat = string.format, table.concat

local NULL = setmetatable({}, { __name = "null" })

-- An object keeps its key order in its metatable, so the text reads like
-- the service's.
local function object(order, fields)
  return setmetatable(fields, { order = order })
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode(v)
  if v == NULL then return "null" end
  local t = math.type(v) or type(v)
  if t == "integer" then return format("%d", v) end
  if t == "float" then return format("%.17g", v) end
  if t == "boolean" then return tostring(v) end
  if t == "string" then return quote(v) end
  local mt, parts = getmetatable(v), {}
  if mt and mt.order then
    for _, k in ipairs(mt.order) do parts[#parts + 1] = quote(k) .. ":" .. encode(v[k]) end
    return "{" .. concat(parts, ",") .. "}"
  end
  for i = 1, #v do parts[i] = encode(v[i]) end
  return "[" .. concat(parts, ",") .. "]"
end

-- Deterministic ids: most of them 10 digits above 2^32, one in eight of
-- 16 digits, and every 25th just above 2^53.
math.randomseed(20240501)
local function user_id(i)
  if i % 25 == 0 then return 9007199254740993 + 2 * math.random(0, 1 << 20) end
  if i % 8 == 0 then return math.random(1000000000000000, 8999999999999999) end
  return math.random(1 << 32, 9999999999)
end

local function uuid()
  return format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(0x8000, 0xbfff),
    math.random(0, 0xffffffffffff))
end

local function date(i)
  return format("2024-%02d-%02dT%02d:%02d:%02d.%03dZ", i % 12 + 1, i % 28 + 1,
    i % 24, i % 60, (i * 7) % 60, (i * 37) % 1000)
end

local PRESENCE_KEYS = { "userPresenceType", "lastLocation", "placeId", "rootPlaceId",
  "gameId", "universeId", "userId", "lastOnline", "invisibleModeExpiry" }
local places = { "Adopt Me!", "Brookhaven \u{1F3E1}RP", "Blox Fruits", "Tower of Hell" }

local function presence(i)
  local kind = i % 4            -- 0 offline, 1 online, 2 in game, 3 in Studio
  local in_place = kind >= 2
  local place = in_place and math.random(1 << 32, 99999999999) or NULL
  return object(PRESENCE_KEYS, {
    userPresenceType = kind,
    lastLocation = kind == 0 and "" or kind == 1 and "Website"
      or places[i % #places + 1],
    placeId = place, rootPlaceId = place,
    gameId = in_place and uuid() or NULL,
    universeId = in_place and math.random(1000000000, 9999999999) or NULL,
    userId = user_id(i),
    lastOnline = date(i),
    invisibleModeExpiry = NULL,
  })
end

local USER_KEYS = { "hasVerifiedBadge", "id", "name", "displayName" }
local function skinny_user(i)
  return object(USER_KEYS, { hasVerifiedBadge = i % 5 == 0, id = user_id(i),
    name = "builder_" .. i, displayName = "Builder \"" .. i .. "\"" })
end

local MESSAGE_KEYS = { "id", "sender", "recipient", "subject", "body", "created",
  "updated", "isRead", "isSystemMessage", "isReportAbuseDisplayed" }
local function message(i)
  return object(MESSAGE_KEYS, {
    id = math.random(1 << 33, 99999999999), sender = skinny_user(i * 2 + 1),
    recipient = skinny_user(i * 2 + 2), subject = "Trade offer #" .. i,
    body = "Hi!\nWould you trade your pet for mine? \u{00E9}t\u{00E9} \u{1F600}\n-- sent from the game\tthanks",
    created = date(i), updated = date(i + 1), isRead = i % 3 == 0,
    isSystemMessage = false, isReportAbuseDisplayed = i % 7 ~= 0,
  })
end

local function list(n, make)
  local t = {}
  for i = 1, n do t[i] = make(i) end
  return t
end

local FRIEND_KEYS = { "id", "hasVerifiedBadge" }
local PAGE_KEYS = { "PreviousCursor", "PageItems", "NextCursor", "HasMore" }
local friends_page = object(PAGE_KEYS, {
  PreviousCursor = NULL,
  PageItems = list(50, function(i)
    return object(FRIEND_KEYS, { id = user_id(i), hasVerifiedBadge = false })
  end),
  NextCursor = "@CURSOR@", HasMore = true,
})

local values = {
  count = object({ "count" }, { count = 1234 }),
  presence100 = object({ "userPresences" }, { userPresences = list(100, presence) }),
  messages20 = object({ "collection", "totalCollectionSize", "totalPages", "pageNumber" }, {
    collection = list(20, message), totalCollectionSize = 1000, totalPages = 50, pageNumber = 0,
  }),
  find_page = friends_page,
}

local bodies = { NULL = NULL }
for name, v in pairs(values) do bodies[name] = { json = encode(v), value = v } end

-- nginx answers each route from a config snippet written here.  A body
-- that fits in one nginx config token (4 KiB) is inlined as
-- `return 200 '<body>'`: answered from memory, for any method.  In nginx's
-- quoted strings '\\' and '\'' need a backslash; '$' starts a variable and
-- has no escape, so it must not occur.  A larger body is a static file;
-- nginx refuses a POST to one with 405, which error_page turns into a GET
-- of the same file.  The friends/find page differs on every answer: its
-- NextCursor is nginx's per-connection request counter, because the
-- iterator refuses a cursor answered twice in a row.
local INLINE_MAX = 3500

local function nginx_snippet(dir, name, text)
  if #text > INLINE_MAX then
    assert(not text:find("@CURSOR@", 1, true), name .. ": a cursor needs an inlined body")
    return ("default_type application/json;\nalias %s/%s.json;\nerror_page 405 =200 $uri;\n")
      :format(dir, name)
  end
  assert(not text:find("$", 1, true), name .. " holds a '$': nginx cannot return it")
  text = text:gsub("[\\']", "\\%0"):gsub("@CURSOR@", "c$connection_requests")
  return "default_type application/json;\nreturn 200 '" .. text .. "';\n"
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

if arg and arg[0] and arg[0]:match("gen_bodies%.lua$") and arg[1] then
  local dir = arg[1]
  for name, b in pairs(bodies) do
    if name ~= "NULL" then
      write(dir .. "/" .. name .. ".json", b.json)
      write(dir .. "/" .. name .. ".conf", nginx_snippet(dir, name, b.json))
    end
  end
end

return bodies

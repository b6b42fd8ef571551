-- friends.roblox.com, part 2: reading anyone's friend lists — the full
-- list, the count, the paged find and search, inactive and online friends,
-- friend statuses and multiget-are-friends.
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"
local models = require "robloxsocial.sandbox.models"
local paging = require "robloxsocial.sandbox.paging"
local catalog = require "robloxsocial.sandbox.catalog"

local fail = catalog.for_service("friends")
local ok = reply.ok

local MAX_IDS = 50

local function path_user(ctx)
  local u = ctx.st:user(util.to_id(ctx.params.userId))
  if u and not u.isDeleted then return u end
end

-- An optional integer query parameter within lo..hi; false when invalid.
local function int_param(q, name, default, lo, hi)
  local raw = util.qget(q, name)
  if raw == nil or raw == "" then return default end
  local v = util.to_int(raw)
  if not v or v < lo or v > hi then return false end
  return v
end

-- userSort: 0 Alphabetical, 1 StatusAlphabetical (online first, then by
-- name), 2 StatusFrequents (online first, then most frequent first).  The
-- services take the numbers or the names (any case).
local USER_SORTS = { [0] = "Alphabetical", "StatusAlphabetical", "StatusFrequents" }

-- The userSort asked for, `default` when none; false when invalid.
local function user_sort(q, default)
  local raw = util.qget(q, "userSort")
  if raw == nil or raw == "" then return default end
  local n = util.to_int(raw)
  if n then return USER_SORTS[n] and n or false end
  for i = 0, #USER_SORTS do
    if USER_SORTS[i]:lower() == raw:lower() then return i end
  end
  return false
end

-- The sort key of friend u under a userSort, and which of its parts run
-- from high to low (see paging.lua).
local function sort_key(st, u, sort, viewer)
  local t = st:visible_presence(u, viewer)
  local status = (t >= 1 and t <= 3) and 0 or 1
  if sort == 1 then return { status, u.name:lower(), u.id } end
  if sort == 2 then return { status, u.frequentScore, u.name:lower(), u.id } end
  return { u.name:lower(), u.id }
end
local DESC = { [2] = { false, true } }

-- Friends (user objects) as sorted paging entries { key, value = user }.
local function sorted_entries(st, users, sort, viewer)
  local entries, desc = {}, DESC[sort]
  for i, u in ipairs(users) do entries[i] = { key = sort_key(st, u, sort, viewer), value = u } end
  table.sort(entries, function(a, b) return paging.compare(a.key, b.key, desc) < 0 end)
  return entries, desc
end

local function friends_of(st, uid)
  local list = {}
  for i, id in ipairs(st:friend_ids(uid)) do list[i] = st:user(id) end
  return list
end

-- Friends of uid in the order userSort asks.
local function sorted_friends(st, uid, sort, viewer)
  local list = {}
  for i, e in ipairs((sorted_entries(st, friends_of(st, uid), sort, viewer))) do list[i] = e.value end
  return list
end

-- 1-based ranks of uid's friends by frequentScore (then name).
local function frequent_ranks(st, uid)
  local list = friends_of(st, uid)
  table.sort(list, function(a, b)
    if a.frequentScore ~= b.frequentScore then return a.frequentScore > b.frequentScore end
    if a.name:lower() ~= b.name:lower() then return a.name:lower() < b.name:lower() end
    return a.id < b.id
  end)
  local ranks = {}
  for i, u in ipairs(list) do ranks[u.id] = i end
  return ranks
end

local function user_list(ctx, keep, with_presence)
  local u = path_user(ctx)
  if not u then return fail(1) end
  local sort = user_sort(ctx.q, 0)
  if not sort then return fail(6) end
  local ranks = frequent_ranks(ctx.st, u.id)
  local data = json.array()
  for _, f in ipairs(sorted_friends(ctx.st, u.id, sort, ctx.uid)) do
    if keep(f) then
      local item = models.user_response(ctx.st, f, ctx.uid, ranks[f.id], with_presence)
      -- An anonymous caller gets every id but blank names, as live.
      if not ctx.uid then item.name, item.displayName = "", "" end
      data[#data + 1] = item
    end
  end
  return ok { data = data }
end

local function online_friends(ctx)
  local st, u = ctx.st, path_user(ctx)
  if not u then return fail(1) end
  local sort = user_sort(ctx.q, 0)
  if not sort then return fail(6) end
  local data = json.array()
  for _, f in ipairs(sorted_friends(st, u.id, sort, ctx.uid)) do
    local t = st:visible_presence(f, ctx.uid)
    if t >= 1 and t <= 3 then data[#data + 1] = models.online_item(st, f, ctx.uid) end
  end
  return ok { data = data }
end

-- Shared by find and search: a cursored page of {id, hasVerifiedBadge}.
-- HasMore is always null, as the services send it.
local function cursored(ctx, users, sort, default_limit, key)
  local limit = int_param(ctx.q, "limit", default_limit, 1, 50)
  if not limit then return fail(6) end
  local entries, desc = sorted_entries(ctx.st, users, sort, ctx.uid)
  for _, e in ipairs(entries) do e.value = { id = e.value.id, hasVerifiedBadge = e.value.hasVerifiedBadge } end
  local page, prev, nxt = paging.page(entries, util.qget(ctx.q, "cursor"), limit, key, desc)
  if not page then return fail(6) end
  return ok { PreviousCursor = prev, PageItems = page, NextCursor = nxt, HasMore = json.null }
end

-- The default userSort of find is 2 (StatusFrequents).  findFriendsType
-- 0 (the default) finds every friend, 1 only the trusted friends (the
-- world's trusted_friends).
local function find_friends(ctx)
  local st, u = ctx.st, path_user(ctx)
  if not u then return fail(1) end
  local sort = user_sort(ctx.q, 2)
  local find_type = int_param(ctx.q, "findFriendsType", 0, 0, 1)
  if not sort or not find_type then return fail(6) end
  local list = friends_of(st, u.id)
  if find_type == 1 then
    local trusted = {}
    for _, f in ipairs(list) do
      if st:are_trusted(u.id, f.id) then trusted[#trusted + 1] = f end
    end
    list = trusted
  end
  -- A cursor names a place in the sort order, so one cursor serves both
  -- find types (the client may switch between pages).
  local key = ("find:%d:%d"):format(u.id, sort)
  return cursored(ctx, list, sort, 50, key)
end

local function search_friends(ctx)
  local u = path_user(ctx)
  if not u then return fail(1) end
  local query = (util.qget(ctx.q, "query") or ""):lower()
  local hits = {}
  for _, f in ipairs(friends_of(ctx.st, u.id)) do
    if f.name:lower():find(query, 1, true) or f.displayName:lower():find(query, 1, true) then
      hits[#hits + 1] = f
    end
  end
  return cursored(ctx, hits, 0, 20, ("search:%d:%s"):format(u.id, query))
end

-- userIds as a repeated key or comma-separated; nil, code when invalid.
local function status_ids(q)
  local ids = {}
  for _, name in ipairs { "userids", "userids[]" } do
    for _, v in ipairs(q[name] or {}) do
      for part in (v .. ","):gmatch("([^,]*),") do
        local id = util.to_id(part:match("^%s*(.-)%s*$"))
        if not id then return nil, 16 end
        ids[#ids + 1] = id
      end
    end
  end
  if #ids == 0 then return nil, 16 end
  if #ids > MAX_IDS then return nil, 15 end
  return ids
end

local function friend_status(st, uid, other)
  if st:are_friends(uid, other) then return "Friends" end
  if st:find_request(uid, other) then return "RequestSent" end
  if st:find_request(other, uid) then return "RequestReceived" end
  return "NotFriends"
end

local function statuses(ctx)
  local u = path_user(ctx)
  if not u then return fail(1) end
  local ids, code = status_ids(ctx.q)
  if not ids then return fail(code) end
  local data = json.array()
  for i, id in ipairs(ids) do data[i] = { id = id, status = friend_status(ctx.st, u.id, id) } end
  return ok { data = data }
end

local function multiget(ctx)
  local u = path_user(ctx)
  if not u then return fail(1) end
  local ids = ctx.body.targetUserIds
  if not util.is_list(ids) then return fail(6) end
  if #ids > MAX_IDS then return fail(15) end
  local out = json.array()
  for _, v in ipairs(ids) do
    local id = util.to_id(v)
    if not id then return fail(6) end
    if ctx.st:are_friends(u.id, id) then out[#out + 1] = id end
  end
  return ok { friendsId = out }
end

local F = "friends"
return {
  { "POST", "/v1/user/{userId}/multiget-are-friends", service = F, body = true, handler = multiget },
  { "GET", "/v1/users/{userId}/friends", service = F,
    handler = function(ctx) return user_list(ctx, function() return true end) end },
  { "GET", "/v1/users/{userId}/friends/count", service = F,
    handler = function(ctx)
      local u = path_user(ctx)
      if not u then return fail(1) end
      return ok { count = #ctx.st:friend_ids(u.id) }
    end },
  { "GET", "/v1/users/{userId}/friends/find", service = F, handler = find_friends },
  { "GET", "/v1/users/{userId}/friends/inactive", service = F, auth = true,
    handler = function(ctx) return user_list(ctx, function(f) return f.inactive end, false) end },
  { "GET", "/v1/users/{userId}/friends/online", service = F, auth = true, handler = online_friends },
  { "GET", "/v1/users/{userId}/friends/search", service = F, auth = true, handler = search_friends },
  { "GET", "/v1/users/{userId}/friends/statuses", service = F, handler = statuses },
}

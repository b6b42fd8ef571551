-- The world: loading a world file and the live state built from it.
--
-- A world file is JSON (see world.json for the default, and the schema in
-- the comment block of worldgen.lua).  load() decodes and checks it once;
-- build() makes a fresh, mutable state from it, which is how a reset
-- restores the world exactly as loaded.
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"

local world = {}

world.DEFAULT_SETTINGS = {
  csrf_ttl = 300,            -- seconds an x-csrf-token stays valid
  max_tag_length = 100,      -- longest contact tag (characters)
  max_nickname_length = 20,  -- longest senderNickname (characters)
  max_friends = 1000,        -- friend limit (codes 11, 12, 31)
  hide_invisible = false,    -- show Invisible (4) as Offline (0) to others
  moderated_words = { "badword" },
  rate_limits = {},          -- see ratelimit.lua; empty = off
  latency = 0,               -- seconds before each answer; see App:latency_for
}

-- The path of the world.json installed beside this module.
function world.default_path()
  local source = debug.getinfo(1, "S").source
  local dir = source:match("^@(.*[/\\])") or "./"
  return dir .. "world.json"
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return text
end

local function check(cond, fmt, ...)
  if not cond then error({ world_error = ("world: " .. fmt):format(...) }) end
end

local function check_users(data)
  check(util.is_list(data.users) and #data.users > 0, "users must be a non-empty list")
  local seen = {}
  for i, u in ipairs(data.users) do
    check(type(u) == "table", "users[%d] must be an object", i)
    check(math.type(u.id) == "integer" and u.id > 0, "users[%d].id must be a positive integer", i)
    check(not seen[u.id], "users[%d].id %d appears twice", i, u.id)
    check(type(u.name) == "string", "users[%d].name must be a string", i)
    seen[u.id] = true
  end
  return seen
end

local function check_accounts(data, ids)
  check(util.is_list(data.accounts) and #data.accounts > 0, "accounts must be a non-empty list")
  for i, a in ipairs(data.accounts) do
    check(ids[a.user_id], "accounts[%d].user_id is not a user", i)
    check(type(a.cookie) == "string" or type(a.api_key) == "string"
      or type(a.access_token) == "string", "accounts[%d] needs a cookie, api_key or access_token", i)
  end
end

local function check_pairs(list, ids, what, a, b)
  for i, r in ipairs(list or {}) do
    check(ids[r[a]] and ids[r[b]], "%s[%d] names an unknown user", what, i)
  end
end

-- Checks a decoded world; raises {world_error = msg} on the first problem.
local function validate(data)
  check(type(data) == "table", "the world must be a JSON object")
  local ids = check_users(data)
  check_accounts(data, ids)
  for i, f in ipairs(data.friendships or {}) do
    check(util.is_list(f) and #f == 2 and ids[f[1]] and ids[f[2]],
      "friendships[%d] must be a pair of user ids", i)
  end
  check_pairs(data.friend_requests, ids, "friend_requests", "from", "to")
  check_pairs(data.tags, ids, "tags", "owner", "target")
  check_pairs(data.messages, ids, "messages", "from", "to")
  for i, m in ipairs(data.messages or {}) do
    check(math.type(m.id) == "integer", "messages[%d].id must be an integer", i)
  end
end

-- Decodes and checks a world from JSON text.  Returns data or nil, msg.
function world.parse(text)
  local data, err = json.decode(text)
  if data == nil then return nil, "world: invalid JSON: " .. tostring(err) end
  local ok, e = pcall(validate, data)
  if not ok then return nil, type(e) == "table" and e.world_error or tostring(e) end
  return data
end

function world.load(path)
  path = path or world.default_path()
  local text, err = read_file(path)
  if not text then return nil, "world: cannot read " .. tostring(err) end
  return world.parse(text)
end

---------------------------------------------------------------------------
-- The live state.

local State = {}
State.__index = State

local function merge_settings(base, over)
  local s = {}
  for k, v in pairs(base) do s[k] = v end
  for k, v in pairs(over or {}) do s[k] = v end
  return s
end

local function build_users(st, data)
  for _, u in ipairs(data.users) do
    local p = u.presence or {}
    st.users[u.id] = {
      id = u.id, name = u.name, displayName = u.displayName or u.name,
      description = u.description or "", created = u.created or "2015-01-01T00:00:00Z",
      hasVerifiedBadge = u.hasVerifiedBadge == true, isBanned = u.isBanned == true,
      isDeleted = u.isDeleted == true, inactive = u.inactive == true,
      frequentScore = u.frequentScore or 0,
      presence = { type = p.type or 0, lastLocation = p.lastLocation,
                   placeId = p.placeId, rootPlaceId = p.rootPlaceId,
                   gameId = p.gameId, universeId = p.universeId,
                   lastOnline = p.lastOnline or u.created or "2024-01-01T00:00:00Z" },
    }
    st.friends[u.id] = { list = {}, set = {} }
  end
end

local function build_social(st, data)
  for _, f in ipairs(data.friendships or {}) do st:befriend(f[1], f[2]) end
  for _, r in ipairs(data.friend_requests or {}) do
    st:add_request { from = r.from, to = r.to, sentAt = r.sentAt or util.now_iso(),
                     nickname = r.nickname, originSourceType = r.originSourceType or "UserProfile",
                     sourceUniverseId = r.sourceUniverseId, isNew = r.new == true }
  end
  for _, t in ipairs(data.tags or {}) do st:set_tag(t.owner, t.target, t.tag) end
  for _, c in ipairs(data.contacts or {}) do st.contacts[tostring(c.contactId)] = c.user end
  for _, t in ipairs(data.friending_tokens or {}) do st.friending_tokens[t.token] = t.sender end
  for _, id in ipairs(data.qr_sessions or {}) do st.qr_sessions[id] = true end
end

local function build_messages(st, data)
  for _, m in ipairs(data.messages or {}) do
    local msg = {
      id = m.id, from = m.from, to = m.to, subject = m.subject or "", body = m.body or "",
      created = m.created or util.now_iso(), isRead = m.isRead == true,
      archived = m.archived == true, isSystemMessage = m.isSystemMessage == true,
      isReportAbuseDisplayed = m.isReportAbuseDisplayed ~= false,
    }
    msg.updated = m.updated or msg.created
    st.messages[#st.messages + 1] = msg
    st.messages_by_id[msg.id] = msg
  end
  for _, a in ipairs(data.announcements or {}) do
    st.announcements[#st.announcements + 1] = {
      id = a.id, sender = a.sender, subject = a.subject or "", body = a.body or "",
      created = a.created or util.now_iso(), updated = a.updated or a.created or util.now_iso() }
  end
end

local function build_groups(st, data)
  for _, g in ipairs(data.groups or {}) do
    local roles = {}
    for _, r in ipairs(g.roles or {}) do roles[r.id] = r end
    local members = {}
    for _, m in ipairs(g.members or {}) do members[#members + 1] = { user = m.user, role = m.role } end
    st.groups[#st.groups + 1] = {
      id = g.id, name = g.name, hasVerifiedBadge = g.hasVerifiedBadge == true,
      memberCount = g.memberCount or #members, roles = roles, members = members }
  end
end

-- A fresh, mutable state from checked world data.
function world.build(data)
  local st = setmetatable({
    data = data, users = {}, friends = {}, requests = {}, tags = {},
    messages = {}, messages_by_id = {}, announcements = {}, groups = {},
    contacts = {}, friending_tokens = {}, qr_sessions = {},
    accounts = data.accounts,
    settings = merge_settings(world.DEFAULT_SETTINGS, data.settings),
  }, State)
  build_users(st, data)
  build_social(st, data)
  build_messages(st, data)
  build_groups(st, data)
  return st
end

function State:user(id)
  return id and self.users[id]
end

function State:main_account()
  return self.accounts[1]
end

function State:friend_ids(uid)
  return self.friends[uid].list
end

function State:are_friends(a, b)
  return self.friends[a] ~= nil and self.friends[a].set[b] == true
end

function State:befriend(a, b)
  if a == b or self:are_friends(a, b) then return end
  for _, pair in ipairs { { a, b }, { b, a } } do
    local f = self.friends[pair[1]]
    f.set[pair[2]] = true
    f.list[#f.list + 1] = pair[2]
  end
end

local function remove_value(list, v)
  for i = #list, 1, -1 do
    if list[i] == v then table.remove(list, i) end
  end
end

function State:unfriend(a, b)
  if not self:are_friends(a, b) then return false end
  for _, pair in ipairs { { a, b }, { b, a } } do
    local f = self.friends[pair[1]]
    f.set[pair[2]] = nil
    remove_value(f.list, pair[2])
  end
  return true
end

function State:find_request(from, to)
  for i, r in ipairs(self.requests) do
    if r.from == from and r.to == to then return r, i end
  end
end

function State:add_request(r)
  if self:find_request(r.from, r.to) then return end
  self.requests[#self.requests + 1] = r
end

function State:remove_request(from, to)
  local r, i = self:find_request(from, to)
  if i then table.remove(self.requests, i) end
  return r
end

-- Pending requests sent to uid, in the order they were made.
function State:requests_to(uid)
  local out = {}
  for _, r in ipairs(self.requests) do
    if r.to == uid then out[#out + 1] = r end
  end
  return out
end

function State:set_tag(owner, target, tag)
  self.tags[owner] = self.tags[owner] or {}
  if tag == nil or tag == json.null or tag == "" then tag = nil end
  self.tags[owner][target] = tag
end

function State:get_tag(owner, target)
  return self.tags[owner] and self.tags[owner][target]
end

-- The presence type that `viewer` sees for `user`.
function State:visible_presence(user, viewer)
  local t = user.presence.type
  if t == 4 and self.settings.hide_invisible and viewer ~= user.id then return 0 end
  return t
end

return world

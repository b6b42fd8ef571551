-- The world: loading a world file and the live state built from it.
--
-- A world file is JSON (see world.json for the default, and the schema in
-- the comment block of worldgen.lua).  load() decodes and checks it once;
-- build() makes a fresh, mutable state from it, which is how a reset
-- restores the world exactly as loaded.
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local settings = require "robloxsocial.sandbox.settings"

local world = {}

world.DEFAULT_SETTINGS = settings.DEFAULT

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

-- The keys each kind of record may have; a key starting with "_" is a
-- comment and allowed anywhere.  Anything else is refused by name, so
-- that a typo does not silently fall back to a default.
local KEYS = {
  world = { "accounts", "settings", "users", "friendships", "trusted_friends", "friend_requests", "tags", "contacts",
            "friending_tokens", "qr_sessions", "messages", "announcements", "groups" },
  accounts = { "user_id", "cookie", "api_key", "access_token" },
  users = { "id", "name", "displayName", "description", "created", "hasVerifiedBadge", "isBanned",
            "isDeleted", "inactive", "frequentScore", "presence", "presencePrivacy" },
  presence = { "type", "lastLocation", "placeId", "rootPlaceId", "gameId", "universeId" },
  friend_requests = { "from", "to", "sentAt", "nickname", "originSourceType", "sourceUniverseId", "new" },
  tags = { "owner", "target", "tag" },
  contacts = { "contactId", "user" },
  friending_tokens = { "token", "sender" },
  messages = { "id", "from", "to", "subject", "body", "created", "updated", "isRead", "archived",
               "isSystemMessage", "isReportAbuseDisplayed" },
  announcements = { "id", "sender", "subject", "body", "created", "updated" },
  groups = { "id", "name", "description", "owner", "shout", "memberCount", "hasVerifiedBadge",
             "isBuildersClubOnly", "publicEntryAllowed", "isLocked", "roles", "members",
             "hasSocialModules", "communityTier" },
  shout = { "body", "poster", "created", "updated" },
  roles = { "id", "name", "rank", "color", "isBase" },
  members = { "user", "role", "primary" },
}
for kind, list in pairs(KEYS) do
  local set = {}
  for _, k in ipairs(list) do set[k] = true end
  KEYS[kind] = set
end

local function check_keys(t, kind, where)
  check(type(t) == "table" and (next(t) == nil or not util.is_list(t)), "%s must be an object", where)
  local unknown = {}
  for k in pairs(t) do
    if not KEYS[kind][k] and not (type(k) == "string" and k:sub(1, 1) == "_") then
      unknown[#unknown + 1] = tostring(k)
    end
  end
  table.sort(unknown)
  check(#unknown == 0, "%s has an unknown key %q", where, unknown[1])
end

-- Checks that each entry of data[name] (optional) is an object of its kind.
local function check_list(data, name)
  local list = data[name]
  if list == nil then return end
  check(util.is_list(list), "%s must be a list", name)
  if name == "friendships" or name == "trusted_friends" or name == "qr_sessions" then return end
  for i, r in ipairs(list) do check_keys(r, name, ("%s[%d]"):format(name, i)) end
end

local function check_settings(s)
  if s == nil then return end
  check(type(s) == "table", "settings must be an object")
  for k, v in pairs(s) do
    if not (type(k) == "string" and k:sub(1, 1) == "_") then
      check(world.DEFAULT_SETTINGS[k] ~= nil, "settings has an unknown key %q", tostring(k))
      local err = settings.problem(k, v)
      check(not err, "settings: %s", err)
    end
  end
end

-- Who may see where a user is (presence/users): everyone, friends only,
-- or no one but the user.
local PRIVACY = { everyone = true, friends = true, noone = true }

-- ids: the user ids known already (a running world's); new users are added.
local function check_users(data, ids, required)
  if required then
    check(util.is_list(data.users) and #data.users > 0, "users must be a non-empty list")
  end
  for i, u in ipairs(data.users or {}) do
    check(math.type(u.id) == "integer" and u.id > 0, "users[%d].id must be a positive integer", i)
    check(not ids[u.id], "users[%d].id %d appears twice", i, u.id)
    check(type(u.name) == "string", "users[%d].name must be a string", i)
    if u.presence ~= nil then check_keys(u.presence, "presence", ("users[%d].presence"):format(i)) end
    check(u.presencePrivacy == nil or PRIVACY[u.presencePrivacy],
      "users[%d].presencePrivacy must be \"everyone\", \"friends\" or \"noone\"", i)
    ids[u.id] = true
  end
  return ids
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

-- A role's color is a palette number since the services changed it (it
-- was a string like "#E2231A"); isBase marks the group's base role.
local function check_role(r, where)
  check_keys(r, "roles", where)
  check(r.color == nil or (math.type(r.color) == "integer" and r.color >= 0 and r.color <= 16),
    "%s.color must be an integer from 0 to 16", where)
  check(r.isBase == nil or type(r.isBase) == "boolean", "%s.isBase must be a boolean", where)
end

local function check_groups(groups)
  for i, g in ipairs(groups or {}) do
    local where = ("groups[%d]"):format(i)
    check(math.type(g.id) == "integer", "%s.id must be an integer", where)
    if g.shout ~= nil then check_keys(g.shout, "shout", where .. ".shout") end
    check(g.hasSocialModules == nil or type(g.hasSocialModules) == "boolean",
      "%s.hasSocialModules must be a boolean", where)
    check(g.communityTier == nil or g.communityTier == json.null
      or (type(g.communityTier) == "table" and (next(g.communityTier) == nil or not util.is_list(g.communityTier))),
      "%s.communityTier must be an object or null", where)
    for j, r in ipairs(g.roles or {}) do check_role(r, ("%s.roles[%d]"):format(where, j)) end
    for j, m in ipairs(g.members or {}) do check_keys(m, "members", ("%s.members[%d]"):format(where, j)) end
  end
end

-- Checks a world, or (partial = the running state's user ids) items to
-- add to one; raises {world_error = msg} on the first problem.
local function validate(data, known)
  check(type(data) == "table", "the world must be a JSON object")
  check_keys(data, "world", known and "the items to add" or "the world")
  for kind in pairs(KEYS.world) do
    if kind ~= "settings" then check_list(data, kind) end
  end
  local ids = {}
  for id in pairs(known or {}) do ids[id] = true end
  check_users(data, ids, not known)
  if known then
    check(data.accounts == nil and data.settings == nil, "accounts and settings cannot be added")
  else
    check_accounts(data, ids)
    check_settings(data.settings)
  end
  for _, kind in ipairs { "friendships", "trusted_friends" } do
    for i, f in ipairs(data[kind] or {}) do
      check(util.is_list(f) and #f == 2 and ids[f[1]] and ids[f[2]],
        "%s[%d] must be a pair of user ids", kind, i)
    end
  end
  check_pairs(data.friend_requests, ids, "friend_requests", "from", "to")
  check_pairs(data.tags, ids, "tags", "owner", "target")
  check_pairs(data.messages, ids, "messages", "from", "to")
  for i, m in ipairs(data.messages or {}) do
    check(math.type(m.id) == "integer", "messages[%d].id must be an integer", i)
  end
  check_groups(data.groups)
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
      frequentScore = u.frequentScore or 0, presencePrivacy = u.presencePrivacy or "everyone",
      presence = { type = p.type or 0, lastLocation = p.lastLocation,
                   placeId = p.placeId, rootPlaceId = p.rootPlaceId,
                   gameId = p.gameId, universeId = p.universeId },
    }
    st.friends[u.id] = { list = {}, set = {}, trusted = {} }
  end
end

local function build_social(st, data)
  for _, f in ipairs(data.friendships or {}) do st:befriend(f[1], f[2]) end
  for _, f in ipairs(data.trusted_friends or {}) do st:befriend(f[1], f[2], true) end
  for _, r in ipairs(data.friend_requests or {}) do
    st:add_request { from = r.from, to = r.to, sentAt = r.sentAt or util.now_iso(),
                     nickname = r.nickname, originSourceType = r.originSourceType or "UserProfile",
                     sourceUniverseId = r.sourceUniverseId or 0, isNew = r.new == true }
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

-- The id of a group's base role: the one marked isBase, else the one of
-- the lowest rank (where new members start).
local function base_role_of(roles)
  local lowest
  for _, r in ipairs(roles) do
    if r.isBase then return r.id end
    if not lowest or r.rank < lowest.rank then lowest = r end
  end
  return lowest and lowest.id
end

local function build_groups(st, data)
  for _, g in ipairs(data.groups or {}) do
    local roles, base = {}, base_role_of(g.roles or {})
    for _, r in ipairs(g.roles or {}) do roles[r.id] = r end
    local members = {}
    for _, m in ipairs(g.members or {}) do
      members[#members + 1] = { user = m.user, role = m.role, primary = m.primary == true }
    end
    st.groups[#st.groups + 1] = {
      id = g.id, name = g.name, description = g.description or "", owner = g.owner,
      shout = g.shout, hasVerifiedBadge = g.hasVerifiedBadge == true,
      isBuildersClubOnly = g.isBuildersClubOnly == true, publicEntryAllowed = g.publicEntryAllowed ~= false,
      isLocked = g.isLocked == true, memberCount = g.memberCount or #members, roles = roles,
      members = members, base_role = base, hasSocialModules = g.hasSocialModules == true,
      communityTier = g.communityTier }
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

-- Adds items to a running world: users, friendships, trusted_friends, friend_requests,
-- tags, contacts, friending_tokens, qr_sessions, messages, announcements
-- and groups, as in a world file.  Checked first; returns true or nil, msg.
function State:add(data)
  local ok, e = pcall(validate, data, self.users)
  if not ok then return nil, type(e) == "table" and e.world_error or tostring(e) end
  for _, m in ipairs(data.messages or {}) do
    if self.messages_by_id[m.id] then return nil, ("world: message id %d exists already"):format(m.id) end
  end
  build_users(self, { users = data.users or {} })
  build_social(self, data)
  build_messages(self, data)
  build_groups(self, data)
  return true
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

-- Makes a and b friends; trusted makes them trusted friends too (a
-- trusted friendship is mutual and implies the friendship).
function State:befriend(a, b, trusted)
  if a == b then return end
  if not self:are_friends(a, b) then
    for _, pair in ipairs { { a, b }, { b, a } } do
      local f = self.friends[pair[1]]
      f.set[pair[2]] = true
      f.list[#f.list + 1] = pair[2]
    end
  end
  if trusted then
    self.friends[a].trusted[b], self.friends[b].trusted[a] = true, true
  end
end

function State:are_trusted(a, b)
  return self.friends[a] ~= nil and self.friends[a].trusted[b] == true
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
    f.set[pair[2]], f.trusted[pair[2]] = nil, nil
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
  self.request_seq = (self.request_seq or 0) + 1
  r.seq = self.request_seq
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

-- The presence type that `viewer` sees for `user`: others see an
-- Invisible (4) user as Offline (0), as the services show them.
function State:visible_presence(user, viewer)
  local t = user.presence.type
  if t == 4 and viewer ~= user.id then return 0 end
  return t
end

-- Whether `viewer` (a user id, or nil for an anonymous caller) may see
-- where `user` is, by the user's presencePrivacy.
function State:may_see_place(user, viewer)
  if viewer == user.id or user.presencePrivacy == "everyone" then return true end
  return user.presencePrivacy == "friends" and viewer ~= nil and self:are_friends(user.id, viewer)
end

return world

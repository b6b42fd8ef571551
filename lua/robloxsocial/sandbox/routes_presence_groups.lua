-- presence.roblox.com (presence of a list of users) and groups.roblox.com
-- (the groups and roles of a user's friends).
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"
local models = require "robloxsocial.sandbox.models"
local catalog = require "robloxsocial.sandbox.catalog"

local ok = reply.ok
local MAX_PRESENCE_IDS = 50

-- One UserPresence per requested id, in the order asked (an unknown id is
-- reported Offline rather than refused).
local function presence(ctx)
  local ids = ctx.body.userIds
  if not util.is_list(ids) then return catalog.fail("presence", 0) end
  if #ids > MAX_PRESENCE_IDS then return catalog.fail("presence", 2) end
  local out = json.array()
  for i, v in ipairs(ids) do
    local id = util.to_id(v)
    if not id then return catalog.fail("presence", 0) end
    out[i] = models.user_presence(ctx.st, id, ctx.uid)
  end
  return ok { userPresences = out }
end

-- A user as the groups service writes it (buildersClubMembershipType is
-- 0 for everyone since Premium replaced Builders Club).
local function group_user(st, id)
  local u = st:user(id)
  if not u then return json.null end
  return { buildersClubMembershipType = 0, hasVerifiedBadge = u.hasVerifiedBadge,
           userId = u.id, username = u.name, displayName = u.displayName }
end

local function group_model(st, g)
  local shout = json.null
  if g.shout then
    shout = { body = g.shout.body or "", poster = group_user(st, g.shout.poster),
              created = g.shout.created or "2026-01-01T00:00:00.000Z",
              updated = g.shout.updated or g.shout.created or "2026-01-01T00:00:00.000Z" }
  end
  -- hasSocialModules and communityTier are newer than the documents;
  -- communityTier is sent only when the world gives one (null included).
  return { id = g.id, name = g.name, description = g.description,
           owner = g.owner and group_user(st, g.owner) or json.null, shout = shout,
           memberCount = g.memberCount, isBuildersClubOnly = g.isBuildersClubOnly,
           publicEntryAllowed = g.publicEntryAllowed, isLocked = g.isLocked,
           hasVerifiedBadge = g.hasVerifiedBadge, hasSocialModules = g.hasSocialModules,
           communityTier = g.communityTier }
end

-- A role as the service writes it: color is a palette number 0-16 now,
-- isBase true for the group's base role.
local function role_model(g, role_id)
  local r = g.roles[role_id] or { id = role_id, name = "Member", rank = 1 }
  return { id = r.id, name = r.name, rank = r.rank, isBase = r.id == g.base_role,
           color = r.color or 0 }
end

local function memberships(st, uid)
  local groups = json.array()
  for _, g in ipairs(st.groups) do
    for _, m in ipairs(g.members) do
      if m.user == uid then
        groups[#groups + 1] = {
          group = group_model(st, g),
          role = role_model(g, m.role),
          isPrimaryGroup = m.primary and true or json.null,
        }
      end
    end
  end
  return groups
end

local function friends_group_roles(ctx)
  local st = ctx.st
  local u = st:user(util.to_id(ctx.params.userId))
  if not u or u.isDeleted then return catalog.fail("groups", 3) end
  local data = json.array()
  for _, fid in ipairs(st:friend_ids(u.id)) do
    local groups = memberships(st, fid)
    if #groups > 0 then
      local f = st:user(fid)
      data[#data + 1] = {
        user = group_user(st, f.id),
        groups = groups,
      }
    end
  end
  return ok { data = data }
end

return {
  { "POST", "/v1/presence/users", service = "presence", body = true, handler = presence },
  { "GET", "/v1/users/{userId}/friends/groups/roles", service = "groups",
    handler = friends_group_roles },
}

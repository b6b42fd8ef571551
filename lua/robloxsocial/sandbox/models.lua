-- The response models the services share: users in their several shapes,
-- presence, and friend-request items.  Field names are exactly the live
-- services' (including friends/online's PascalCase presence fields).
local json = require "robloxsocial.sandbox.json"

local models = {}

local opt = json.opt

models.PRESENCE_NAMES = { [0] = "Offline", "Online", "InGame", "InStudio", "Invisible" }
local LOCATION_NAMES = { [0] = "Offline", "Website", "Game", "Studio", "Offline" }
local DEFAULT_LOCATION = { [0] = "", "Website", "", "Studio", "" }

models.SOURCE_TYPES = { [0] = "Unknown", "PlayerSearch", "QrCode", "InGame", "UserProfile",
  "QqContactImporter", "WeChatContactImporter", "ProfileShare", "PhoneContactImporter",
  "FriendRecommendations", "UserCommunities", "TrustedFriend", "SchoolMemberList" }

-- VerifiedSkinnyUserResponse (private messages) .
function models.skinny(u)
  return { hasVerifiedBadge = u.hasVerifiedBadge, id = u.id, name = u.name,
           displayName = u.displayName }
end

-- What friend lists carry for `created`: the services leave it unset, and
-- an unset .NET DateTime is written like this.
models.PLACEHOLDER_CREATED = "0001-01-01T05:51:00Z"

-- Roblox.Friends.Api.Models.Response.UserResponse, as friend lists fill
-- it: no description, a placeholder `created`.  Inactive friends carry no
-- presence fields (with_presence false).
function models.user_response(st, u, viewer, rank, with_presence)
  local item = {
    isDeleted = u.isDeleted,
    friendFrequentScore = u.frequentScore, friendFrequentRank = rank or 0,
    hasVerifiedBadge = u.hasVerifiedBadge, description = json.null,
    created = models.PLACEHOLDER_CREATED, isBanned = u.isBanned, externalAppDisplayName = json.null,
    id = u.id, name = u.name, displayName = u.displayName,
  }
  if with_presence ~= false then
    local ptype = st:visible_presence(u, viewer)
    item.isOnline, item.presenceType = ptype >= 1 and ptype <= 3, ptype
  end
  return item
end

local function in_game(ptype)
  return ptype == 2
end

-- friends/online's item: UserPresenceResponse, with its mixed-case model.
function models.online_item(st, u, viewer)
  local p, ptype = u.presence, st:visible_presence(u, viewer)
  local game = in_game(ptype)
  return {
    userPresence = {
      UserPresenceType = models.PRESENCE_NAMES[ptype],
      UserLocationType = LOCATION_NAMES[ptype],
      lastLocation = p.lastLocation or DEFAULT_LOCATION[ptype],
      placeId = game and opt(p.placeId) or json.null,
      rootPlaceId = game and opt(p.rootPlaceId) or json.null,
      gameInstanceId = game and opt(p.gameId) or json.null,
      universeId = game and opt(p.universeId) or json.null,
    },
    sortScore = u.frequentScore, id = u.id, name = u.name, displayName = u.displayName,
  }
end

-- presence/users' UserPresence, as the service answers it since 2025-10:
-- no lastOnline, no invisibleModeExpiry.  An unknown id is reported
-- offline; an offline user's lastLocation is "Website"; a user in a game
-- whose presencePrivacy hides it from the viewer shows type 2 with no
-- place (placeId, rootPlaceId, gameId, universeId null, lastLocation "").
function models.user_presence(st, id, viewer)
  local u = st:user(id)
  if not u then
    return { userPresenceType = 0, lastLocation = "Website", placeId = json.null,
             rootPlaceId = json.null, gameId = json.null, universeId = json.null,
             userId = id }
  end
  local p, ptype = u.presence, st:visible_presence(u, viewer)
  local game = in_game(ptype) and st:may_see_place(u, viewer)
  local location = p.lastLocation or DEFAULT_LOCATION[ptype]
  if ptype == 0 then location = "Website" elseif in_game(ptype) and not game then location = "" end
  return {
    userPresenceType = ptype, lastLocation = location,
    placeId = game and opt(p.placeId) or json.null,
    rootPlaceId = game and opt(p.rootPlaceId) or json.null,
    gameId = game and opt(p.gameId) or json.null,
    universeId = game and opt(p.universeId) or json.null,
    userId = u.id,
  }
end

local function mutual_names(st, a, b)
  local names = {}
  local fb = st.friends[b].set
  for _, id in ipairs(st:friend_ids(a)) do
    if fb[id] then names[#names + 1] = st:user(id).name end
  end
  return json.array(names)
end

-- An item of my/friends/requests: FriendRequestResponse.  isUnseen (since
-- 2026-08-12): not seen yet, until DELETE /v1/my/new-friend-requests.
function models.friend_request_item(st, r)
  local u = st:user(r.from)
  return {
    friendRequest = {
      sentAt = r.sentAt, senderId = r.from, sourceUniverseId = r.sourceUniverseId or 0,
      originSourceType = r.originSourceType, contactName = json.null,
      senderNickname = r.nickname or "",
    },
    mutualFriendsList = mutual_names(st, r.from, r.to),
    hasVerifiedBadge = u.hasVerifiedBadge, description = u.description,
    created = u.created, isBanned = u.isBanned, externalAppDisplayName = json.null,
    id = u.id, name = u.name, displayName = u.displayName,
    isUnseen = r.isNew == true,
  }
end

return models

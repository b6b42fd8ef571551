-- The answer models: what is inside the answer of every method, field by
-- field, written from the Models sections of the API documents (and, for
-- the nested items they leave out, from what the services send).
--
-- From this one table come the LuaLS classes of types.lua
-- (scripts/gen_annotations.lua), the README's "What is in an answer"
-- (scripts/gen_models.lua), and spec/models_spec.lua, which checks every
-- answer of the sandbox against the model of its endpoint.
--
-- A class is { name, doc = ..., fields = { { field, type, doc } ... } }.
-- Types: "integer", "number", "string", "boolean", "object" (any JSON
-- object, not looked into), a class name, any of
-- those with "[]" (a list), and a trailing "?" for "may be JSON null".
-- A field may carry values = { ... }: the only values it takes.  Every
-- field is present in every answer; no other field is, except that a
-- field marked optional = true may be left out.  since marks a field
-- that the services send and the API documents do not (see
-- ../shared/api/drift-2026.md): the date it came, or true when not known;
-- the README and the annotations say so.

local models = {}

-- originSourceType, 0 to 12 by position: 10 UserCommunities (2026-04),
-- 11 TrustedFriend (2026-06) and 12 SchoolMemberList (2026-08) are new.
local SOURCE_TYPES = { "Unknown", "PlayerSearch", "QrCode", "InGame", "UserProfile",
  "QqContactImporter", "WeChatContactImporter", "ProfileShare", "PhoneContactImporter",
  "FriendRecommendations", "UserCommunities", "TrustedFriend", "SchoolMemberList" }

local ISO = "ISO 8601 UTC time, a string (e.g. \"2026-05-04T12:00:00.000Z\")"

models.classes = {
  -- friends.roblox.com -------------------------------------------------
  { "CaptchaStatus", doc = "The answer of a friend request sent.",
    fields = { { "success", "boolean" },
               { "isCaptchaRequired", "boolean", "true when the request needs a captcha first" } } },
  { "FriendsMetadata", doc = "Friends page metadata.",
    fields = { { "isFriendsFilterBarEnabled", "boolean" },
               { "isFriendsPageSortExperimentEnabled", "boolean" },
               { "isFriendsUserDataStoreCacheEnabled", "boolean" },
               { "frequentFriendSortRollout", "integer" },
               { "userName", "string?", "the target user's name; null without a target" },
               { "displayName", "string?", "the target user's display name; null without a target" } } },
  { "Count", doc = "A count.", fields = { { "count", "integer" } } },
  { "QrSession", doc = "The answer of refresh_qr_session.", fields = { { "Success", "boolean" } } },
  { "FriendRequestsPage", doc = "One page of pending friend requests.",
    fields = { { "previousPageCursor", "string?" },
               { "nextPageCursor", "string?", "null on the last page" },
               { "data", "FriendRequest[]" } } },
  { "FriendRequest", doc = "A pending friend request: the sender, and the request itself.",
    fields = { { "friendRequest", "FriendRequestInfo" },
               { "mutualFriendsList", "string[]", "the names (not ids) of the friends in common" },
               { "hasVerifiedBadge", "boolean" },
               { "description", "string", "the sender's profile text" },
               { "created", "string", "when the sender's account was made: " .. ISO },
               { "isBanned", "boolean" },
               { "externalAppDisplayName", "string?" },
               { "id", "integer", "the sender's user id" },
               { "name", "string" },
               { "displayName", "string" },
               { "isUnseen", "boolean", "whether the request is new to the user (uprank_unseen asks for these first)",
                 since = "2026-08-12" } } },
  { "FriendRequestInfo", doc = "The request part of a FriendRequest.",
    fields = { { "sentAt", "string", ISO },
               { "senderId", "integer" },
               { "sourceUniverseId", "integer", "the experience it was sent from; 0 for none" },
               { "originSourceType", "string", "where it was sent from", values = SOURCE_TYPES },
               { "contactName", "string?" },
               { "senderNickname", "string", "\"\" when none was given" } } },
  { "NewRequestsCleared", doc = "The answer of clear_new_friend_requests.",
    fields = { { "status", "boolean" } } },
  { "DeclineAll", doc = "The answer of decline_all_friend_requests.",
    fields = { { "backgrounded", "boolean", "true when the service finishes the job later" } } },
  { "AreFriends", doc = "Which of the target users are friends.",
    fields = { { "friendsId", "integer[]", "the ids of the targets that are friends" } } },
  { "Empty", doc = "An empty object: the write was done.", fields = {} },
  { "FriendsList", doc = "A user's friends.", fields = { { "data", "Friend[]" } } },
  { "Friend", doc = "A friend in friends() (UserResponse).",
    fields = { { "isOnline", "boolean" },
               { "presenceType", "integer", "0 offline, 1 online, 2 in game, 3 in Studio",
                 values = { 0, 1, 2, 3 } },
               { "isDeleted", "boolean" },
               { "friendFrequentScore", "integer" },
               { "friendFrequentRank", "integer", "1 for the most frequent friend" },
               { "hasVerifiedBadge", "boolean" },
               { "description", "string?", "null: friend lists do not carry it" },
               { "created", "string", "a placeholder, \"0001-01-01T05:51:00Z\": friend lists do not carry it" },
               { "isBanned", "boolean" },
               { "externalAppDisplayName", "string?" },
               { "id", "integer" },
               { "name", "string" },
               { "displayName", "string" } } },
  { "InactiveFriendsList", doc = "A user's inactive friends.", fields = { { "data", "InactiveFriend[]" } } },
  { "InactiveFriend", doc = "A friend in inactive_friends(): a Friend without presence fields.",
    fields = { { "isDeleted", "boolean" },
               { "friendFrequentScore", "integer" },
               { "friendFrequentRank", "integer" },
               { "hasVerifiedBadge", "boolean" },
               { "description", "string?", "null" },
               { "created", "string", "a placeholder, \"0001-01-01T05:51:00Z\"" },
               { "isBanned", "boolean" },
               { "externalAppDisplayName", "string?" },
               { "id", "integer" },
               { "name", "string" },
               { "displayName", "string" } } },
  { "FriendsPage", doc = "One page of find_friends() or search_friends().",
    fields = { { "PreviousCursor", "string?" },
               { "PageItems", "FriendItem[]" },
               { "NextCursor", "string?", "null on the last page" },
               { "HasMore", "boolean?", "null: the services do not fill it; follow NextCursor" } } },
  { "FriendItem", doc = "A friend in find_friends(), search_friends(), each_friend() and each_friend_search(): only the id (fetch names with friends() or a users API).",
    fields = { { "id", "integer" }, { "hasVerifiedBadge", "boolean" } } },
  { "OnlineFriendsList", doc = "A user's online friends.", fields = { { "data", "OnlineFriend[]" } } },
  { "OnlineFriend", doc = "A friend in online_friends() (the services no longer send includeJoinability or joinability).",
    fields = { { "userPresence", "OnlineFriendPresence" },
               { "sortScore", "number", nil, since = "2025-08" },
               { "id", "integer" },
               { "name", "string" },
               { "displayName", "string" } } },
  { "OnlineFriendPresence", doc = "The presence part of an OnlineFriend; note the PascalCase names.",
    fields = { { "UserPresenceType", "string", nil, values = { "Online", "InGame", "InStudio" } },
               { "UserLocationType", "string", nil, values = { "Website", "Game", "Studio" } },
               { "lastLocation", "string" },
               { "placeId", "integer?", "set in a game" },
               { "rootPlaceId", "integer?" },
               { "gameInstanceId", "string?" },
               { "universeId", "integer?" } } },
  { "FriendStatuses", doc = "Friendship statuses.", fields = { { "data", "FriendStatus[]" } } },
  { "FriendStatus", doc = "The friendship status of one user.",
    fields = { { "id", "integer" },
               { "status", "string", nil, values = { "NotFriends", "Friends", "RequestSent", "RequestReceived" } } } },

  -- presence.roblox.com and groups.roblox.com --------------------------
  { "Presences", doc = "Presences, in the order asked.", fields = { { "userPresences", "Presence[]" } } },
  { "Presence", doc = "A user's presence (UserPresence). The services no longer send lastOnline and "
      .. "invisibleModeExpiry (2025-10). A user whose privacy settings hide the place shows "
      .. "userPresenceType 2 with placeId, rootPlaceId, gameId and universeId null and lastLocation \"\"; "
      .. "anonymous callers see what each user's settings allow.",
    fields = { { "userPresenceType", "integer",
                 "0 offline, 1 online, 2 in game, 3 in Studio; others see an invisible user as 0, only the user sees 4",
                 values = { 0, 1, 2, 3, 4 } },
               { "lastLocation", "string", "\"Website\" for an offline user; \"\" when the place is hidden" },
               { "placeId", "integer?", "set in a game" },
               { "rootPlaceId", "integer?" },
               { "gameId", "string?", "the server's job id" },
               { "universeId", "integer?" },
               { "userId", "integer" } } },
  { "FriendsGroupRoles", doc = "The groups of a user's friends.", fields = { { "data", "FriendGroups[]" } } },
  { "FriendGroups", doc = "One friend and the groups they are in.",
    fields = { { "user", "GroupUser" }, { "groups", "GroupMembership[]" } } },
  { "GroupUser", doc = "A user as the groups service writes it.",
    fields = { { "buildersClubMembershipType", "integer", "0 (Premium replaced Builders Club)" },
               { "hasVerifiedBadge", "boolean" },
               { "userId", "integer" },
               { "username", "string" },
               { "displayName", "string" } } },
  { "GroupMembership", doc = "A group, and the role in it.",
    fields = { { "group", "Group" }, { "role", "GroupRole" },
               { "isPrimaryGroup", "boolean?", "true for the user's primary group, else null" } } },
  { "Group", doc = "A group.",
    fields = { { "id", "integer" },
               { "name", "string" },
               { "description", "string" },
               { "owner", "GroupUser?", "null for a group without an owner" },
               { "shout", "GroupShout?", "null when there is none" },
               { "memberCount", "integer" },
               { "isBuildersClubOnly", "boolean" },
               { "publicEntryAllowed", "boolean" },
               { "isLocked", "boolean?" },
               { "hasVerifiedBadge", "boolean" },
               { "hasSocialModules", "boolean", nil, since = true },
               { "communityTier", "object?", "the group's community tier (a table; its fields are not documented)",
                 since = true, optional = true } } },
  { "GroupShout", doc = "A group's shout.",
    fields = { { "body", "string" }, { "poster", "GroupUser" },
               { "created", "string", ISO }, { "updated", "string", ISO } } },
  { "GroupRole", doc = "A role in a group.",
    fields = { { "id", "integer" }, { "name", "string" }, { "rank", "integer", "0 to 255" },
               { "isBase", "boolean", "true for the group's base role; may be left out otherwise",
                 since = true, optional = true },
               { "color", "integer", "the role's colour, a number from 0 to 16", since = true,
                 values = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } } } },

  -- contacts.roblox.com ------------------------------------------------
  { "TagValidation", doc = "Whether a tag is acceptable.",
    fields = { { "status", "string", nil, values = { "Success", "Moderated", "TooLong" } } } },
  { "TagSet", doc = "The answer of set_user_tag.",
    fields = { { "status", "string", "Moderated: refused, not saved", values = { "Success", "Moderated" } } } },
  { "UserTag", doc = "The tag given to one user (user_tags() answers a list of them).",
    fields = { { "targetUserId", "integer" },
               { "targetUserTag", "string?", "null when the user has no tag" } } },

  -- privatemessages.roblox.com -----------------------------------------
  { "Announcements", doc = "The announcements.",
    fields = { { "collection", "Announcement[]" }, { "totalCollectionSize", "integer" } } },
  { "Announcement", doc = "One announcement.",
    fields = { { "id", "integer" }, { "sender", "SkinnyUser?" }, { "subject", "string" },
               { "body", "string" }, { "created", "string", ISO }, { "updated", "string", ISO } } },
  { "AnnouncementsMetadata", doc = "How many announcements there are.",
    fields = { { "numOfAnnouncements", "integer" } } },
  { "MessagesPage", doc = "One page of messages.",
    fields = { { "collection", "Message[]" },
               { "totalCollectionSize", "integer", "messages in the tab" },
               { "totalPages", "integer" },
               { "pageNumber", "integer", "from 0" } } },
  { "Message", doc = "A private message.",
    fields = { { "id", "integer" },
               { "sender", "SkinnyUser" },
               { "recipient", "SkinnyUser" },
               { "subject", "string" },
               { "body", "string" },
               { "created", "string", ISO },
               { "updated", "string", ISO },
               { "isRead", "boolean" },
               { "isSystemMessage", "boolean" },
               { "isReportAbuseDisplayed", "boolean" } } },
  { "SkinnyUser", doc = "A user in a message (VerifiedSkinnyUserResponse).",
    fields = { { "hasVerifiedBadge", "boolean" }, { "id", "integer" }, { "name", "string" },
               { "displayName", "string" } } },
  { "BatchResult", doc = "The answer of a batch operation on messages.",
    fields = { { "failedMessages", "FailedMessage[]", "the ids that were not changed; empty when all were" } } },
  { "FailedMessage", doc = "A message a batch operation did not change.",
    fields = { { "messageId", "integer" }, { "errorMessage", "string" } } },
}

-- The model of each method's answer, by method name.
models.answers = {
  request_contact_friendship = "CaptchaStatus", friends_metadata = "FriendsMetadata",
  my_friends_count = "Count", refresh_qr_session = "QrSession",
  friend_requests = "FriendRequestsPage", check_qr_session = "boolean",
  clear_new_friend_requests = "NewRequestsCleared", new_friend_requests_count = "Count",
  friend_requests_count = "Count", decline_all_friend_requests = "DeclineAll",
  multiget_are_friends = "AreFriends", accept_friend_request = "Empty",
  decline_friend_request = "Empty", accept_friend_request_with_token = "Empty",
  request_friendship = "CaptchaStatus", unfriend = "Empty",
  friends = "FriendsList", friends_count = "Count", find_friends = "FriendsPage",
  inactive_friends = "InactiveFriendsList", online_friends = "OnlineFriendsList",
  search_friends = "FriendsPage", friend_statuses = "FriendStatuses",
  presence = "Presences", friends_group_roles = "FriendsGroupRoles",
  validate_tag = "TagValidation", user_tags = "UserTag[]", set_user_tag = "TagSet",
  announcements = "Announcements", announcements_metadata = "AnnouncementsMetadata",
  messages = "MessagesPage", message = "Message", unread_messages_count = "Count",
  archive_messages = "BatchResult", unarchive_messages = "BatchResult",
  mark_messages_read = "BatchResult", mark_messages_unread = "BatchResult",
}

local by_name = {}
for _, c in ipairs(models.classes) do by_name[c[1]] = c end
models.by_name = by_name

-- The notes of a field as the README and the annotations show them.
function models.notes(field)
  local notes, since = field[3], field.since
  if not since then return notes end
  local added = since == true and "new: not in the API documents" or "new since " .. since
  return notes and (notes .. " (" .. added .. ")") or added
end

local SCALARS = { integer = true, number = true, string = true, boolean = true, object = true }

-- Splits a type into its base, whether it is a list, whether it may be null.
function models.parse_type(t)
  local nullable = t:sub(-1) == "?"
  if nullable then t = t:sub(1, -2) end
  local list = t:sub(-2) == "[]"
  if list then t = t:sub(1, -3) end
  return t, list, nullable
end

-- The model of the items an iterator yields: the element class of the
-- answer's field `items`.
function models.item_type(method_name, items_field)
  local class = by_name[models.answers[method_name]]
  for _, f in ipairs(class and class.fields or {}) do
    if f[1] == items_field then return (models.parse_type(f[2])) end
  end
end

local function describe(v, null)
  if v == null then return "null" end
  return math.type(v) or type(v)
end

-- Is v a table with the keys 1..n only (a decoded JSON array)?
local function is_list(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

local check_value

local function check_scalar(v, base, path, out, null)
  local ok
  if base == "integer" then ok = math.type(v) == "integer"
  elseif base == "number" then ok = type(v) == "number"
  elseif base == "object" then ok = type(v) == "table"       -- any JSON object, not looked into
  else ok = type(v) == base end
  if not ok then out[#out + 1] = ("%s: %s expected, got %s"):format(path, base, describe(v, null)) end
end

local function check_object(v, class, path, out, null)
  if type(v) ~= "table" then
    out[#out + 1] = ("%s: %s (an object) expected, got %s"):format(path, class[1], describe(v, null))
    return
  end
  local known = {}
  for _, f in ipairs(class.fields) do
    known[f[1]] = true
    local fv = v[f[1]]
    local fpath = path .. "." .. f[1]
    if fv == nil then
      if not f.optional then out[#out + 1] = fpath .. ": missing" end
    else
      check_value(fv, f[2], fpath, out, null)
      if f.values and fv ~= null then
        local hit = false
        for _, allowed in ipairs(f.values) do hit = hit or fv == allowed end
        if not hit then out[#out + 1] = ("%s: %s is not one of its values"):format(fpath, tostring(fv)) end
      end
    end
  end
  local extra = {}
  for k in pairs(v) do
    if not known[k] then extra[#extra + 1] = tostring(k) end
  end
  table.sort(extra)
  for _, k in ipairs(extra) do out[#out + 1] = ("%s.%s: not in the model %s"):format(path, k, class[1]) end
end

function check_value(v, t, path, out, null)
  local base, list, nullable = models.parse_type(t)
  if v == null then
    if not nullable then out[#out + 1] = path .. ": null, but the model says " .. t end
    return
  end
  if list then
    if not is_list(v) then
      out[#out + 1] = ("%s: a list expected, got %s"):format(path, describe(v, null))
      return
    end
    for i, item in ipairs(v) do check_value(item, base, ("%s[%d]"):format(path, i), out, null) end
    return
  end
  if SCALARS[base] then return check_scalar(v, base, path, out, null) end
  local class = assert(by_name[base], "robloxsocial.models: no model " .. base)
  check_object(v, class, path, out, null)
end

-- Checks a decoded answer against a model (a type as above, e.g.
-- "FriendRequest" or "UserTag[]").  Returns a list of the problems, empty
-- when the answer fits: "answer.data[3].created: missing", ...
function models.check(value, t, path)
  local null = require("robloxsocial.core").null
  local out = {}
  check_value(value, t, path or "answer", out, null)
  return out
end

return models

-- friends.roblox.com, part 1: the caller's own friendship business —
-- friend requests (sending, accepting, declining, listing, counting),
-- unfriending, QR sessions and the page metadata.
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"
local models = require "robloxsocial.sandbox.models"
local paging = require "robloxsocial.sandbox.paging"
local catalog = require "robloxsocial.sandbox.catalog"

local fail = catalog.for_service("friends")
local ok = reply.ok

local CAPTCHA_OK = { success = true, isCaptchaRequired = false }

local function live_user(st, id)
  local u = st:user(util.to_id(id))
  if u and not u.isDeleted then return u end
end

local function friend_count(st, uid)
  return #st:friend_ids(uid)
end

-- Sends a friend request from the caller to target, or befriends at once
-- when target had already asked the caller (as the live service does).
local function send_request(ctx, target, source, nickname)
  local st, uid = ctx.st, ctx.uid
  if target == uid then return fail(7) end
  if st:are_friends(uid, target) then return fail(5) end
  if friend_count(st, uid) >= st.settings.max_friends then return fail(31) end
  if st:find_request(target, uid) then
    if friend_count(st, target) >= st.settings.max_friends then return fail(12) end
    st:remove_request(target, uid)
    st:befriend(uid, target)
    return ok(CAPTCHA_OK)
  end
  st:add_request { from = uid, to = target, sentAt = util.now_iso(), nickname = nickname,
                   originSourceType = source, isNew = true }
  return ok(CAPTCHA_OK)
end

-- friendshipOriginSourceType as an integer 0..12 or its name; nil if bad.
local function source_type(v)
  if json.is_null(v) then return "Unknown" end
  if math.type(v) == "integer" then return models.SOURCE_TYPES[v] end
  if type(v) == "string" then
    for i = 0, #models.SOURCE_TYPES do
      if models.SOURCE_TYPES[i]:lower() == v:lower() then return models.SOURCE_TYPES[i] end
    end
  end
end

local function nickname_ok(st, nick)
  if json.is_null(nick) or nick == "" then return true end
  if type(nick) ~= "string" or not utf8.len(nick) then return false end
  if utf8.len(nick) > st.settings.max_nickname_length or nick:find("%c") then return false end
  for _, word in ipairs(st.settings.moderated_words) do
    if nick:lower():find(word:lower(), 1, true) then return false end
  end
  return true
end

local function request_friendship(ctx)
  local target = live_user(ctx.st, ctx.params.targetUserId)
  if not target then return fail(1) end
  local source = source_type(ctx.body.friendshipOriginSourceType)
  if not source then return fail(6) end
  local nick = ctx.body.senderNickname
  if not nickname_ok(ctx.st, nick) then return fail(35) end
  return send_request(ctx, target.id, source, not json.is_null(nick) and nick or nil)
end

local function contact_request_friendship(ctx)
  local target = live_user(ctx.st, ctx.st.contacts[ctx.params.targetContactId])
  if not target then return fail(1) end
  return send_request(ctx, target.id, "PhoneContactImporter", nil)
end

-- Checks the friend limits before two users become friends.
local function befriend_checked(st, uid, other)
  if friend_count(st, uid) >= st.settings.max_friends then return fail(11) end
  if friend_count(st, other) >= st.settings.max_friends then return fail(12) end
  st:befriend(uid, other)
end

local function accept(ctx)
  local st = ctx.st
  local requester = live_user(st, ctx.params.requesterUserId)
  if not requester then return fail(1) end
  if not st:find_request(requester.id, ctx.uid) then return fail(10) end
  local err = befriend_checked(st, ctx.uid, requester.id)
  if err then return err end
  st:remove_request(requester.id, ctx.uid)
  return ok {}
end

local function decline(ctx)
  local requester = live_user(ctx.st, ctx.params.requesterUserId)
  if not requester then return fail(1) end
  if not ctx.st:remove_request(requester.id, ctx.uid) then return fail(10) end
  return ok {}
end

local function accept_with_token(ctx)
  local st = ctx.st
  local token = ctx.body.friendingToken
  if type(token) ~= "string" or token == "" then return fail(6) end
  local sender = live_user(st, ctx.params.senderUserId)
  if not sender then return fail(1) end
  if sender.id == ctx.uid then return fail(7) end
  if st:are_friends(ctx.uid, sender.id) then return fail(5) end
  if st.friending_tokens[token] ~= sender.id then return fail(6) end
  local err = befriend_checked(st, ctx.uid, sender.id)
  if err then return err end
  st.friending_tokens[token] = nil
  st:remove_request(sender.id, ctx.uid)
  return ok {}
end

local function unfriend(ctx)
  local target = live_user(ctx.st, ctx.params.targetUserId)
  if not target then return fail(1) end
  ctx.st:unfriend(ctx.uid, target.id)
  return ok {}
end

-- limit is any integer since 2025-11-06 (the enum 10/18/25/50/100 was
-- dropped); the sandbox takes 1 to 100, the old enum's range.
local MAX_REQUEST_LIMIT = 100

-- The number of friends the sender and the receiver of r have in common.
local function mutual_count(st, r)
  local n, theirs = 0, st.friends[r.to].set
  for _, id in ipairs(st:friend_ids(r.from)) do
    if theirs[id] then n = n + 1 end
  end
  return n
end

-- The sort key of request r: friendRequestSort 1 (the default) oldest
-- first, 0 newest first, 2 most mutual friends first (then newest first);
-- requests sent at the same time in the order they were made.  With
-- uprankUnseen, the unseen requests come first, each part in that order.
local function request_key(st, r, sort, uprank)
  local key = {}
  if uprank then key[1] = r.isNew and 0 or 1 end
  if sort == 2 then key[#key + 1] = mutual_count(st, r) end
  key[#key + 1] = r.sentAt
  key[#key + 1] = r.seq
  return key
end

local REQUEST_DESC = {
  [0] = { [false] = { true, true }, [true] = { false, true, true } },
  [2] = { [false] = { true, true, true }, [true] = { false, true, true, true } },
}

-- The caller's pending requests as paging entries, in the order asked.
local function sorted_requests(st, uid, sort, uprank)
  local desc = REQUEST_DESC[sort] and REQUEST_DESC[sort][uprank]
  local entries = {}
  for i, r in ipairs(st:requests_to(uid)) do entries[i] = { key = request_key(st, r, sort, uprank), value = r } end
  table.sort(entries, function(a, b) return paging.compare(a.key, b.key, desc) < 0 end)
  return entries, desc
end

local BOOLEANS = { ["true"] = true, ["false"] = false }

-- The query of my/friends/requests: limit, friendRequestSort, uprankUnseen
-- (sessionId is taken and changes nothing); nil when one is invalid.
local function request_query(q)
  local limit = util.to_int(util.qget(q, "limit") or "10")
  local sort = util.to_int(util.qget(q, "friendRequestSort") or "1")
  local uprank = BOOLEANS[(util.qget(q, "uprankUnseen") or "false"):lower()]
  if not limit or limit < 1 or limit > MAX_REQUEST_LIMIT or not sort or sort < 0 or sort > 2
    or uprank == nil then return nil end
  return limit, sort, uprank
end

local function list_requests(ctx)
  local q, st = ctx.q, ctx.st
  local limit, sort, uprank = request_query(q)
  if not limit then return fail(6) end
  local entries, desc = sorted_requests(st, ctx.uid, sort, uprank)
  local key = ("requests:%d:%d:%s"):format(ctx.uid, sort, uprank and "u" or "-")
  local page, prev, nxt = paging.page(entries, util.qget(q, "cursor"), limit, key, desc)
  if not page then return fail(6) end
  for i, r in ipairs(page) do page[i] = models.friend_request_item(st, r) end
  return ok { previousPageCursor = prev, nextPageCursor = nxt, data = page }
end

-- Without a targetUserId, userName and displayName are null (as the
-- services answer).
local function metadata(ctx)
  local st = ctx.st
  local target = util.qget(ctx.q, "targetUserId")
  local id
  if target ~= nil and target ~= "" then
    id = util.to_id(target)
    if not id then return fail(6) end
  end
  local u = st:user(id)
  return ok {
    isFriendsFilterBarEnabled = true, isFriendsPageSortExperimentEnabled = false,
    isFriendsUserDataStoreCacheEnabled = false, frequentFriendSortRollout = 0,
    userName = u and u.name or json.null, displayName = u and u.displayName or json.null,
  }
end

local function count_new(st, uid)
  local n = 0
  for _, r in ipairs(st:requests_to(uid)) do
    if r.isNew then n = n + 1 end
  end
  return n
end

local function clear_new(ctx)
  for _, r in ipairs(ctx.st:requests_to(ctx.uid)) do r.isNew = false end
  return ok { status = true }
end

local function decline_all(ctx)
  for _, r in ipairs(ctx.st:requests_to(ctx.uid)) do ctx.st:remove_request(r.from, r.to) end
  return ok { backgrounded = false }
end

local F = "friends"
return {
  { "POST", "/v1/contacts/{targetContactId}/request-friendship", service = F, auth = true,
    handler = contact_request_friendship },
  { "GET", "/v1/metadata", service = F, handler = metadata },
  { "GET", "/v1/my/friends/count", service = F, auth = true,
    handler = function(ctx) return ok { count = friend_count(ctx.st, ctx.uid) } end },
  { "POST", "/v1/my/friends/refresh-qr-session", service = F, auth = true,
    handler = function(ctx) ctx.st.qr_sessions[ctx.uid] = true; return ok { Success = true } end },
  { "GET", "/v1/my/friends/requests", service = F, auth = true, handler = list_requests },
  { "GET", "/v1/my/friends/{userId}/check-qr-session", service = F, auth = true,
    handler = function(ctx)
      return ok(ctx.st.qr_sessions[util.to_id(ctx.params.userId)] == true)
    end },
  { "DELETE", "/v1/my/new-friend-requests", service = F, auth = true, handler = clear_new },
  { "GET", "/v1/my/new-friend-requests/count", service = F, auth = true,
    handler = function(ctx) return ok { count = count_new(ctx.st, ctx.uid) } end },
  { "GET", "/v1/user/friend-requests/count", service = F, auth = true,
    handler = function(ctx) return ok { count = #ctx.st:requests_to(ctx.uid) } end },
  { "POST", "/v1/user/friend-requests/decline-all", service = F, auth = true, handler = decline_all },
  { "POST", "/v1/users/{requesterUserId}/accept-friend-request", service = F, auth = true,
    handler = accept },
  { "POST", "/v1/users/{requesterUserId}/decline-friend-request", service = F, auth = true,
    handler = decline },
  { "POST", "/v1/users/{senderUserId}/accept-friend-request-with-token", service = F,
    auth = true, body = true, handler = accept_with_token },
  { "POST", "/v1/users/{targetUserId}/request-friendship", service = F, auth = true,
    body = true, handler = request_friendship },
  { "POST", "/v1/users/{targetUserId}/unfriend", service = F, auth = true, handler = unfriend },
}

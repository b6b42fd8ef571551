-- Every method of the contract against the sandbox: the shape of a
-- success (field names as the API sends them, integer ids, booleans,
-- robloxsocial.null), at least one documented error code, what is sent
-- (method, path, query, body) and, for writes, the effect seen through a
-- later read.  Also: the client's method list equals the contract's, and
-- bad arguments raise before anything is sent.

local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local support = require "spec.support"

local null = robloxsocial.null
local sb, ME = support.main()  -- the main account, 130 friends

-- Users and things of the default world (lua/robloxsocial/sandbox/world.json).
local SIDEKICK = 4398046511104              -- the second account: not a friend, no request
local FRIEND = 1234567890200037             -- a friend of ME, tagged "Best builder"
local FRIEND2 = 5000015838                  -- another friend, tagged "School"
local UNTAGGED_FRIEND = 5001029470          -- a friend without a tag
local REQUESTER = 2000000000101             -- asked ME for friendship
local SENT_TO = 7000000013                  -- ME asked them for friendship
local STRANGER = 1                          -- exists; no friendship, no request
local UNKNOWN = 99                          -- no such user
local IN_GAME = 1234567890200407            -- a friend in Jailbreak (presence 2)
local QR_USER = 1234567890200259            -- has an active QR session
local CONTACT, CONTACT_USER = "c-1001", 7000000039
local TOKEN, TOKEN_SENDER = "ft-alpha-0001", 7000000065
local ANNOUNCER = 1
local NOT_MY_MESSAGE = 4503599627671473     -- between two other users
local NO_SUCH_MESSAGE = 1

local NO_AUTH = "Authorization has been denied for this request."
local NO_USER = "The target user is invalid or does not exist."

---------------------------------------------------------------------------
-- Helpers.

local sorted_keys, sent, query_of = support.sorted_keys, support.sent, support.query_lists

-- The table's field names are exactly `names`.
local function assert_fields(names, t)
  assert.is_table(t)
  local want = {}
  for i, n in ipairs(names) do want[i] = n end
  table.sort(want)
  assert.same(want, sorted_keys(t))
end

local function assert_integer(v)
  assert.equal("integer", math.type(v))
end

local function assert_boolean(v)
  assert.equal("boolean", type(v))
end

local function assert_http_error(status, code, message, answer, err)
  assert.is_nil(answer)
  assert.is_table(err)
  assert.equal("http", err.kind)
  assert.equal(status, err.status)
  assert.equal(code, err.code)
  assert_integer(err.status)
  assert_integer(err.code)
  if message then assert.equal(message, err.message) end
  assert.is_table(err.errors)
  assert.equal(code, err.errors[1].code)
end

local function body_of(entry)
  if entry.body == nil or entry.body == "" then return nil end
  return core.json_decode(entry.body)
end

-- The single request sent for method and path.
local function only(method, path)
  local list = sent(method, path)
  assert.equal(1, #list)
  return list[1]
end

local function anonymous()
  return robloxsocial.new{ base_url = sb.base_url, retry_delay = 0.01, timeout = 10 }
end

-- An `it` that calls a cookie-only method with a client without
-- credentials: it raises before anything is sent (Roblox would answer
-- 401 code 0; spec/auth_rules_spec.lua holds every row to this).
local function it_needs_credentials(name, ...)
  local args = table.pack(...)
  it("raises without a cookie, before anything is sent", function()
    local anon = anonymous()
    assert.has_error(function() anon[name](anon, table.unpack(args, 1, args.n)) end)
    assert.same({}, support.requests())
    anon:close()
  end)
end

local function status_of(client, target)
  local answer = assert(client:friend_statuses(ME, { target }))
  return answer.data[1].status
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

local function ids_of(list, field)
  local out = {}
  for i, item in ipairs(list) do out[i] = item[field or "id"] end
  return out
end

-- Every message of a tab, walking the pages with the plain method.
local function all_messages(client, tab)
  local out, page = {}, 0
  repeat
    local answer = assert(client:messages{ tab = tab, page = page })
    for _, m in ipairs(answer.collection) do out[#out + 1] = m end
    page = page + 1
  until page >= answer.totalPages
  return out
end

local client

before_each(function() client = support.fresh_client() end)

after_each(function()
  client:close()
end)

---------------------------------------------------------------------------
-- The method list.

describe("the client's methods", function()
  local CONTRACT = "../shared/contract.md"
  local f = io.open(CONTRACT, "r")
  local text = f and f:read("a")
  if f then f:close() end

  if not text then
    pending("equal the contract's list (" .. CONTRACT .. " is absent: skipped)")
    return
  end

  it("are exactly the contract's methods, its four iterators, request, rate_limit, stats and close", function()
    local section = assert(text:match("\n## The methods\n(.*)$"), "no '## The methods' section")
    local methods, seen = {}, {}
    for line in section:gmatch("[^\n]+") do
      local name = line:match("^|%s*`([%a_][%w_]*)%(")
      if name and not seen[name] then methods[#methods + 1], seen[name] = name, true end
    end
    assert.equal(37, #methods)

    local iterators = {}
    for name in text:gmatch("client:(each_[%w_]+)") do
      if not seen[name] then iterators[#iterators + 1], seen[name] = name, true end
    end
    table.sort(iterators)
    assert.same({ "each_friend", "each_friend_request", "each_friend_search", "each_message" }, iterators)

    assert.truthy(text:find("`client:rate_limit(service", 1, true))
    -- stats: issue 21 (HTTP/2 connections per host), not yet in the contract
    local expected = { request = true, close = true, rate_limit = true, stats = true }
    for _, name in ipairs(methods) do expected[name] = true end
    for _, name in ipairs(iterators) do expected[name] = true end

    local index = getmetatable(client).__index
    assert.is_table(index)
    local missing, extra = {}, {}
    for name in pairs(expected) do
      if type(index[name]) ~= "function" then missing[#missing + 1] = name end
    end
    for name in pairs(index) do
      if not expected[name] then extra[#extra + 1] = name end
    end
    table.sort(missing)
    table.sort(extra)
    assert.same({}, missing)
    assert.same({}, extra)
  end)

  it("are one row each in robloxsocial.endpoints", function()
    local names = {}
    for _, row in ipairs(robloxsocial.endpoints) do names[#names + 1] = row.name end
    local from_contract = {}
    for line in text:match("\n## The methods\n(.*)$"):gmatch("[^\n]+") do
      local name = line:match("^|%s*`([%a_][%w_]*)%(")
      if name then from_contract[#from_contract + 1] = name end
    end
    table.sort(names)
    table.sort(from_contract)
    assert.same(from_contract, names)
  end)
end)

---------------------------------------------------------------------------
-- Argument checks: programming errors raise before anything is sent.

describe("argument checks", function()
  local function raises(message, fn)
    assert.has_error(fn, message)
    assert.same({}, support.requests())
  end

  it("raise on a string id", function()
    raises("bad argument #1 to 'friends_count' (positive integer expected, got string)",
      function() client:friends_count("123") end)
  end)

  it("raise on 0 and on a negative id", function()
    raises("bad argument #1 to 'friends_count' (positive integer expected, got integer)",
      function() client:friends_count(0) end)
    raises("bad argument #1 to 'message' (positive integer expected, got integer)",
      function() client:message(-1) end)
  end)

  it("raise on a float id without an integral value", function()
    raises("bad argument #1 to 'unfriend' (positive integer expected, got float)",
      function() client:unfriend(1.5) end)
    raises("bad argument #1 to 'friends_count' (positive integer expected, got float)",
      function() client:friends_count(math.huge) end)
  end)

  it("raise on a missing id", function()
    assert.has_error(function() client:friends_count() end)
    assert.has_error(function() client:friend_statuses() end)
    assert.same({}, support.requests())
  end)

  it("raise on a list that holds a string", function()
    raises("bad argument #1 to 'presence' (list of positive integers expected, got string at index 2)",
      function() client:presence{ 1, "2" } end)
    raises("bad argument #2 to 'friend_statuses' (list of positive integers expected, got float at index 3)",
      function() client:friend_statuses(ME, { 1, 2, 2.5 }) end)
  end)

  it("raise on a list argument that is not a list", function()
    raises("bad argument #1 to 'archive_messages' (list of positive integers expected, got integer)",
      function() client:archive_messages(5) end)
    raises("bad argument #1 to 'user_tags' (list of positive integers expected, got a table with other keys)",
      function() client:user_tags{ 1, 2, x = 3 } end)
    assert.has_error(function() client:user_tags{ x = 3 } end)
    assert.same({}, support.requests())
  end)

  it("raise on a table with keys other than 1..n, wherever next() finds them", function()
    -- Which key next() visits first depends on the table's layout, so
    -- try many: a check that looks only past index n misses some of them.
    local accepted = {}
    for i = 1, 20 do
      local list = { ["k" .. i] = 1, [1] = 5 }
      if pcall(client.presence, client, list) then accepted[#accepted + 1] = "k" .. i end
    end
    assert.same({}, accepted)
    assert.same({}, support.requests())
  end)

  it("raise on a bad id before a list in the same call", function()
    raises("bad argument #1 to 'multiget_are_friends' (positive integer expected, got integer)",
      function() client:multiget_are_friends(0, { 1 }) end)
  end)

  it("raise on an unknown option", function()
    raises("bad argument #2 to 'find_friends' (unknown option 'bogus')",
      function() client:find_friends(ME, { bogus = 1 }) end)
    raises("bad argument #1 to 'messages' (unknown option 'pageNumber')",
      function() client:messages{ pageNumber = 1 } end)
  end)

  it("raise on opts that is not a table", function()
    raises("bad argument #2 to 'friends' (table of options expected, got string)",
      function() client:friends(ME, "sort") end)
  end)

  it("raise on a bad enum value", function()
    raises("bad argument #2 to 'find_friends' (option 'sort' must be one of 0, 1, 2, Alphabetical, "
      .. "StatusAlphabetical, StatusFrequents)", function() client:find_friends(ME, { sort = 3 }) end)
    raises("bad argument #1 to 'messages' (option 'tab' must be one of Inbox, Sent, Archive)",
      function() client:messages{ tab = "Outbox" } end)
    raises("bad argument #2 to 'request_friendship' (option 'source' must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)",
      function() client:request_friendship(SIDEKICK, { source = 13 }) end)
    raises("bad argument #1 to 'friend_requests' (option 'sort' must be one of 0, 1, 2)",
      function() client:friend_requests{ sort = 3 } end)
  end)

  it("raise on a bad count option", function()
    raises("bad argument #2 to 'find_friends' (option 'limit' must be a positive integer)",
      function() client:find_friends(ME, { limit = 0 }) end)
    raises("bad argument #1 to 'messages' (option 'page' must be an integer >= 0)",
      function() client:messages{ page = -1 } end)
    raises("bad argument #1 to 'friend_requests' (option 'cursor' must be a string)",
      function() client:friend_requests{ cursor = 5 } end)
  end)

  it("raise on a number where a string is due and on an empty string", function()
    raises("bad argument #1 to 'request_contact_friendship' (non-empty string expected, got integer)",
      function() client:request_contact_friendship(1001) end)
    raises("bad argument #1 to 'request_contact_friendship' (non-empty string expected, got string)",
      function() client:request_contact_friendship("") end)
    raises("bad argument #2 to 'search_friends' (string expected, got integer)",
      function() client:search_friends(ME, 5) end)
    raises("bad argument #2 to 'set_user_tag' (string expected, got no value)",
      function() client:set_user_tag(FRIEND) end)
  end)

  it("raise when a method is called with a dot", function()
    raises("bad self to 'friends_count' (call it as client:friends_count(...))",
      function() client.friends_count(ME) end)
  end)

  it("raise on a closed client", function()
    client:close()
    raises("robloxsocial: attempt to use a closed client", function() client:friends_count(ME) end)
    raises("robloxsocial: attempt to use a closed client", function() client:presence{ 1 } end)
    raises("robloxsocial: attempt to use a closed client", function() client:each_friend(ME) end)
  end)

  it("accept a float with an integral value as that integer", function()
    local answer = assert(client:friends_count(1234567890123456.0))
    assert.equal(130, answer.count)
    only("GET", "/v1/users/1234567890123456/friends/count")
  end)

  it("send an integral float in a list and an option as an integer", function()
    assert(client:presence{ 12.0 })
    assert.same({ userIds = { 12 } }, body_of(only("POST", "/v1/presence/users")))
    assert.equal("integer", math.type(body_of(only("POST", "/v1/presence/users")).userIds[1]))
    assert(client:find_friends(ME, { limit = 2.0 }))
    assert.same({ limit = { "2" } }, query_of(only("GET", "/v1/users/" .. ME .. "/friends/find")))
  end)

  it("send ids beyond 2^53 exactly", function()
    local big = 4611686018427387904 -- 2^62
    assert_http_error(400, 1, NO_USER, client:friends_count(big))
    only("GET", "/v1/users/4611686018427387904/friends/count")
    local answer = assert(client:presence{ big + 1 })
    assert.equal(big + 1, body_of(only("POST", "/v1/presence/users")).userIds[1])
    assert.equal(big + 1, answer.userPresences[1].userId)
    assert_integer(answer.userPresences[1].userId)
  end)

  it("keep the largest id of the world (2^53 - 1) exact both ways", function()
    local top = 9007199254740991
    local answer = assert(client:presence{ top })
    assert.equal(top, answer.userPresences[1].userId)
    assert_integer(answer.userPresences[1].userId)
    assert_integer(assert(client:friends_count(top)).count)
    only("GET", "/v1/users/9007199254740991/friends/count")
  end)
end)

---------------------------------------------------------------------------
-- friends.roblox.com

describe("client:request_contact_friendship()", function()
  it("sends a friend request to the contact's user", function()
    local answer = assert(client:request_contact_friendship(CONTACT))
    assert_fields({ "success", "isCaptchaRequired" }, answer)
    assert.is_true(answer.success)
    assert.is_false(answer.isCaptchaRequired)
    only("POST", "/v1/contacts/c-1001/request-friendship")
    assert.equal("RequestSent", status_of(client, CONTACT_USER))
  end)

  it("escapes the contact id in the path", function()
    assert_http_error(400, 1, NO_USER, client:request_contact_friendship("c 1/2"))
    only("POST", "/v1/contacts/c%201%2F2/request-friendship")
  end)

  it("returns nil and an error with code 1 when the contact is unknown", function()
    assert_http_error(400, 1, NO_USER, client:request_contact_friendship("c-nobody"))
  end)

  it_needs_credentials("request_contact_friendship", CONTACT)
end)

describe("client:friends_metadata()", function()
  local FIELDS = { "isFriendsFilterBarEnabled", "isFriendsPageSortExperimentEnabled",
                   "isFriendsUserDataStoreCacheEnabled", "frequentFriendSortRollout",
                   "userName", "displayName" }

  it("returns the page metadata, with null names when no target is given", function()
    local answer = assert(client:friends_metadata())
    assert_fields(FIELDS, answer)
    assert_boolean(answer.isFriendsFilterBarEnabled)
    assert_boolean(answer.isFriendsPageSortExperimentEnabled)
    assert_integer(answer.frequentFriendSortRollout)
    assert.equal(null, answer.userName)
    assert.equal(null, answer.displayName)
    assert.same({}, query_of(only("GET", "/v1/metadata")))
  end)

  it("sends targetUserId when a target is given", function()
    local answer = assert(client:friends_metadata(SIDEKICK))
    assert.equal("SandboxSidekick", answer.userName)
    assert.same({ targetUserId = { tostring(SIDEKICK) } }, query_of(only("GET", "/v1/metadata")))
  end)

  it("gives robloxsocial.null for the names of an anonymous caller", function()
    local anon = anonymous()
    local answer = assert(anon:friends_metadata())
    assert.equal(null, answer.userName)
    assert.equal(null, answer.displayName)
    anon:close()
  end)

  -- The document lists no error code for this endpoint: an error status
  -- must still come back as the contract's error table.
  it("returns nil and an http error when the service answers an error", function()
    sb:fault{ method = "GET", path = "/v1/metadata", kind = "status", status = 400, code = 6,
              message = "Invalid parameters." }
    assert_http_error(400, 6, "Invalid parameters.", client:friends_metadata())
  end)
end)

describe("client:my_friends_count()", function()
  it("returns the authenticated user's friend count", function()
    local answer = assert(client:my_friends_count())
    assert_fields({ "count" }, answer)
    assert_integer(answer.count)
    assert.equal(assert(client:friends_count(ME)).count, answer.count)
    only("GET", "/v1/my/friends/count")
  end)

  it_needs_credentials("my_friends_count")
end)

describe("client:refresh_qr_session()", function()
  it("opens a QR session that check_qr_session then sees", function()
    assert.is_false(client:check_qr_session(ME))
    local answer = assert(client:refresh_qr_session())
    assert_fields({ "Success" }, answer)
    assert.is_true(answer.Success)
    local r = only("POST", "/v1/my/friends/refresh-qr-session")
    assert.equal("", r.query)
    assert.is_true(client:check_qr_session(ME))
  end)

  it_needs_credentials("refresh_qr_session")
end)

describe("client:friend_requests()", function()
  local ITEM = { "friendRequest", "mutualFriendsList", "hasVerifiedBadge", "description", "created",
                 "isBanned", "externalAppDisplayName", "id", "name", "displayName", "isUnseen" }

  it("returns one page of pending requests", function()
    local answer = assert(client:friend_requests{ limit = 10 })
    assert_fields({ "previousPageCursor", "nextPageCursor", "data" }, answer)
    assert.equal(null, answer.previousPageCursor)
    assert.equal("string", type(answer.nextPageCursor))
    assert.equal(10, #answer.data)
    local item = answer.data[1]
    assert_fields(ITEM, item)
    assert_integer(item.id)
    assert_boolean(item.isBanned)
    assert.equal(null, item.externalAppDisplayName)
    assert.is_table(item.mutualFriendsList)
    assert_fields({ "sentAt", "senderId", "sourceUniverseId", "originSourceType", "contactName",
                    "senderNickname" }, item.friendRequest)
    assert.equal(item.id, item.friendRequest.senderId)
    assert.equal(null, item.friendRequest.contactName)
  end)

  it("sends limit, cursor, sessionId and friendRequestSort", function()
    local first = assert(client:friend_requests{ limit = 10, sort = 1 })
    assert(client:friend_requests{ limit = 10, sort = 1, cursor = first.nextPageCursor, session_id = "s-1" })
    local log = sent("GET", "/v1/my/friends/requests")
    assert.equal(2, #log)
    assert.same({ limit = { "10" }, friendRequestSort = { "1" } }, query_of(log[1]))
    assert.same({ limit = { "10" }, friendRequestSort = { "1" }, cursor = { first.nextPageCursor },
                  sessionId = { "s-1" } }, query_of(log[2]))
  end)

  it("follows the cursor to the next page", function()
    local first = assert(client:friend_requests{ limit = 10 })
    local second = assert(client:friend_requests{ limit = 10, cursor = first.nextPageCursor })
    assert.equal("string", type(second.previousPageCursor))
    assert.is_false(contains(ids_of(first.data), second.data[1].id))
  end)

  it("sorts oldest first with sort = 1", function()
    local newest = assert(client:friend_requests{ limit = 50, sort = 0 }).data
    local oldest = assert(client:friend_requests{ limit = 50, sort = 1 }).data
    assert.equal(#newest, #oldest)
    assert.equal(newest[1].id, oldest[#oldest].id)
    assert.is_true(oldest[1].friendRequest.sentAt < oldest[2].friendRequest.sentAt)
  end)

  -- The enum 10/18/25/50/100 was dropped on 2025-11-06 (drift-2026.md):
  -- any positive limit goes as it is, whatever this sandbox answers.
  it("sends any positive limit", function()
    client:friend_requests{ limit = 7 }
    client:friend_requests{ limit = 1000 }
    local log = sent("GET", "/v1/my/friends/requests")
    assert.same({ { "7" }, { "1000" } }, { query_of(log[1]).limit, query_of(log[2]).limit })
  end)

  it("sends uprank_unseen as uprankUnseen=true or false", function()
    client:friend_requests{ uprank_unseen = true }
    client:friend_requests{ uprank_unseen = false, limit = 10 }
    local log = sent("GET", "/v1/my/friends/requests")
    assert.same({ uprankUnseen = { "true" } }, query_of(log[1]))
    assert.same({ uprankUnseen = { "false" }, limit = { "10" } }, query_of(log[2]))
  end)

  it("raises when uprank_unseen is not a boolean", function()
    for _, bad in ipairs{ 1, "true", {} } do
      assert.has_error(function() client:friend_requests{ uprank_unseen = bad } end,
        "bad argument #1 to 'friend_requests' (option 'uprank_unseen' must be a boolean)")
    end
    assert.same({}, support.requests())
  end)

  it_needs_credentials("friend_requests")
end)

describe("client:check_qr_session()", function()
  it("returns a bare boolean", function()
    assert.is_true(client:check_qr_session(QR_USER))
    assert.is_false(client:check_qr_session(STRANGER))
    only("GET", "/v1/my/friends/" .. QR_USER .. "/check-qr-session")
  end)

  it_needs_credentials("check_qr_session", QR_USER)
end)

describe("client:clear_new_friend_requests()", function()
  it("marks the new requests as seen", function()
    local before = assert(client:new_friend_requests_count()).count
    assert.is_true(before > 0)
    local answer = assert(client:clear_new_friend_requests())
    assert_fields({ "status" }, answer)
    assert.is_true(answer.status)
    only("DELETE", "/v1/my/new-friend-requests")
    assert.equal(0, assert(client:new_friend_requests_count()).count)
    assert.equal(34, assert(client:friend_requests_count()).count)
  end)

  it_needs_credentials("clear_new_friend_requests")
end)

describe("client:new_friend_requests_count()", function()
  it("returns the number of requests not seen yet", function()
    local answer = assert(client:new_friend_requests_count())
    assert_fields({ "count" }, answer)
    assert_integer(answer.count)
    assert.equal(6, answer.count)
    only("GET", "/v1/my/new-friend-requests/count")
  end)

  it_needs_credentials("new_friend_requests_count")
end)

describe("client:friend_requests_count()", function()
  it("returns the number of pending requests", function()
    local answer = assert(client:friend_requests_count())
    assert_fields({ "count" }, answer)
    assert_integer(answer.count)
    assert.equal(#assert(client:friend_requests{ limit = 100 }).data, answer.count)
    only("GET", "/v1/user/friend-requests/count")
  end)

  it_needs_credentials("friend_requests_count")
end)

describe("client:decline_all_friend_requests()", function()
  it("declines every pending request", function()
    local friends_before = assert(client:my_friends_count()).count
    local answer = assert(client:decline_all_friend_requests())
    assert_fields({ "backgrounded" }, answer)
    assert.is_false(answer.backgrounded)
    only("POST", "/v1/user/friend-requests/decline-all")
    assert.equal(0, assert(client:friend_requests_count()).count)
    assert.equal(friends_before, assert(client:my_friends_count()).count)
    assert.equal("NotFriends", status_of(client, REQUESTER))
  end)

  it_needs_credentials("decline_all_friend_requests")
end)

describe("client:multiget_are_friends()", function()
  it("returns which of the targets are friends, in order", function()
    local answer = assert(client:multiget_are_friends(ME, { FRIEND2, STRANGER, FRIEND, UNKNOWN }))
    assert_fields({ "friendsId" }, answer)
    assert.same({ FRIEND2, FRIEND }, answer.friendsId)
    assert_integer(answer.friendsId[1])
    local r = only("POST", "/v1/user/" .. ME .. "/multiget-are-friends")
    assert.same({ targetUserIds = { FRIEND2, STRANGER, FRIEND, UNKNOWN } }, body_of(r))
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:multiget_are_friends(UNKNOWN, { FRIEND }))
  end)
end)

describe("client:accept_friend_request()", function()
  it("makes the requester a friend and removes the request", function()
    local friends_before = assert(client:friends_count(ME)).count
    local requests_before = assert(client:friend_requests_count()).count
    local answer = assert(client:accept_friend_request(REQUESTER))
    assert.same({}, answer)
    local r = only("POST", "/v1/users/" .. REQUESTER .. "/accept-friend-request")
    assert.equal("", r.query)
    assert.equal(friends_before + 1, assert(client:friends_count(ME)).count)
    assert.equal(requests_before - 1, assert(client:friend_requests_count()).count)
    assert.equal("Friends", status_of(client, REQUESTER))
  end)

  it("returns nil and an error with code 10 when there is no such request", function()
    assert_http_error(400, 10, "The friend request does not exist.", client:accept_friend_request(STRANGER))
  end)

  it("returns nil and an error with code 1 when the requester does not exist", function()
    assert_http_error(400, 1, NO_USER, client:accept_friend_request(UNKNOWN))
  end)

  it_needs_credentials("accept_friend_request", REQUESTER)
end)

describe("client:decline_friend_request()", function()
  it("removes the request without a friendship", function()
    local friends_before = assert(client:friends_count(ME)).count
    assert.same({}, assert(client:decline_friend_request(REQUESTER)))
    only("POST", "/v1/users/" .. REQUESTER .. "/decline-friend-request")
    assert.equal("NotFriends", status_of(client, REQUESTER))
    assert.equal(friends_before, assert(client:friends_count(ME)).count)
  end)

  it("returns nil and an error with code 10 when the request is already gone", function()
    assert(client:decline_friend_request(REQUESTER))
    assert_http_error(400, 10, "The friend request does not exist.", client:decline_friend_request(REQUESTER))
  end)

  it_needs_credentials("decline_friend_request", REQUESTER)
end)

describe("client:accept_friend_request_with_token()", function()
  it("befriends the sender of the token", function()
    assert.equal("NotFriends", status_of(client, TOKEN_SENDER))
    assert.same({}, assert(client:accept_friend_request_with_token(TOKEN_SENDER, TOKEN)))
    local r = only("POST", "/v1/users/" .. TOKEN_SENDER .. "/accept-friend-request-with-token")
    assert.same({ friendingToken = TOKEN }, body_of(r))
    assert.equal("Friends", status_of(client, TOKEN_SENDER))
  end)

  it("returns nil and an error with code 6 when the token is not the sender's", function()
    assert_http_error(400, 6, "Invalid parameters.", client:accept_friend_request_with_token(TOKEN_SENDER, "ft-wrong"))
  end)

  it("returns nil and an error with code 7 for the user's own id", function()
    assert_http_error(400, 7, "The user cannot be friends with itself.",
      client:accept_friend_request_with_token(ME, TOKEN))
  end)

  it_needs_credentials("accept_friend_request_with_token", TOKEN_SENDER, TOKEN)
end)

describe("client:request_friendship()", function()
  it("sends a friend request that the target then sees", function()
    local answer = assert(client:request_friendship(SIDEKICK, { source = 4, nickname = "Pal" }))
    assert_fields({ "success", "isCaptchaRequired" }, answer)
    assert.is_true(answer.success)
    assert.is_false(answer.isCaptchaRequired)
    assert.equal("RequestSent", status_of(client, SIDEKICK))

    local sidekick = support.client{ cookie = sb.accounts[2].cookie }
    local seen = assert(sidekick:friend_requests{ limit = 10 }).data
    sidekick:close()
    local mine
    for _, item in ipairs(seen) do
      if item.id == ME then mine = item end
    end
    assert.is_table(mine)
    assert.equal("Pal", mine.friendRequest.senderNickname)
    assert.equal("UserProfile", mine.friendRequest.originSourceType)
  end)

  it("sends friendshipOriginSourceType and senderNickname in the JSON body", function()
    assert(client:request_friendship(SIDEKICK, { source = 1, nickname = "Pal" }))
    local r = only("POST", "/v1/users/" .. SIDEKICK .. "/request-friendship")
    assert.same({ friendshipOriginSourceType = 1, senderNickname = "Pal" }, body_of(r))
    assert.matches("json", r.content_type)
  end)

  it("sends the newest source types, 10 to 12, as they are", function()
    for _, source in ipairs{ 10, 11, 12 } do
      client:request_friendship(SIDEKICK, { source = source })
    end
    local log = sent("POST", "/v1/users/" .. SIDEKICK .. "/request-friendship")
    local sources = {}
    for i, r in ipairs(log) do sources[i] = body_of(r).friendshipOriginSourceType end
    assert.same({ 10, 11, 12 }, sources)
  end)

  it("sends an empty JSON object without options", function()
    assert(client:request_friendship(SIDEKICK))
    assert.same({}, body_of(only("POST", "/v1/users/" .. SIDEKICK .. "/request-friendship")))
  end)

  it("returns nil and an error with code 7 for the user's own id", function()
    assert_http_error(400, 7, "The user cannot be friends with itself.", client:request_friendship(ME))
  end)

  it("returns nil and an error with code 5 for a friend", function()
    assert_http_error(400, 5, "The target user is already a friend.", client:request_friendship(FRIEND))
  end)

  it("returns nil and an error with code 35 for an invalid nickname", function()
    assert_http_error(400, 35, "Invalid nickname.",
      client:request_friendship(SIDEKICK, { nickname = string.rep("x", 21) }))
    assert_http_error(400, 35, "Invalid nickname.",
      client:request_friendship(SIDEKICK, { nickname = "badword" }))
    assert.equal("NotFriends", status_of(client, SIDEKICK))
  end)

  it("returns nil and an error with code 1 when the target does not exist", function()
    assert_http_error(400, 1, NO_USER, client:request_friendship(UNKNOWN))
  end)

  it_needs_credentials("request_friendship", SIDEKICK)
end)

describe("client:unfriend()", function()
  it("ends the friendship", function()
    local before = assert(client:friends_count(ME)).count
    assert.same({}, assert(client:unfriend(FRIEND)))
    only("POST", "/v1/users/" .. FRIEND .. "/unfriend")
    assert.equal(before - 1, assert(client:friends_count(ME)).count)
    assert.same({}, assert(client:multiget_are_friends(ME, { FRIEND })).friendsId)
  end)

  it("returns nil and an error with code 1 when the target does not exist", function()
    assert_http_error(400, 1, NO_USER, client:unfriend(UNKNOWN))
  end)

  it_needs_credentials("unfriend", FRIEND)
end)

local USER_RESPONSE = { "isOnline", "presenceType", "isDeleted", "friendFrequentScore",
                        "friendFrequentRank", "hasVerifiedBadge", "description", "created",
                        "isBanned", "externalAppDisplayName", "id", "name", "displayName" }

describe("client:friends()", function()
  it("returns every friend with their details", function()
    local answer = assert(client:friends(ME))
    assert_fields({ "data" }, answer)
    assert.equal(assert(client:friends_count(ME)).count, #answer.data)
    local f = answer.data[1]
    assert_fields(USER_RESPONSE, f)
    assert_integer(f.id)
    assert_integer(f.presenceType)
    assert_boolean(f.isOnline)
    assert_boolean(f.isDeleted)
    assert.equal(null, f.externalAppDisplayName)
    assert.same({}, query_of(only("GET", "/v1/users/" .. ME .. "/friends")))
  end)

  it("sends userSort", function()
    local answer = assert(client:friends(ME, { sort = 1 }))
    assert.same({ userSort = { "1" } }, query_of(only("GET", "/v1/users/" .. ME .. "/friends")))
    assert.is_true(answer.data[1].isOnline)
    assert.is_false(answer.data[#answer.data].isOnline)
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:friends(UNKNOWN))
  end)
end)

describe("client:friends_count()", function()
  it("returns the user's friend count", function()
    local answer = assert(client:friends_count(ME))
    assert_fields({ "count" }, answer)
    assert_integer(answer.count)
    assert.equal(130, answer.count)
    local r = only("GET", "/v1/users/" .. ME .. "/friends/count")
    assert.equal("cookie", r.auth)
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    local answer, err = client:friends_count(UNKNOWN)
    assert_http_error(400, 1, NO_USER, answer, err)
    assert.equal("GET", err.method)
    assert.equal(sb.base_url .. "/v1/users/99/friends/count", err.url)
  end)
end)

describe("client:find_friends()", function()
  it("returns one page of friends with a cursor", function()
    local answer = assert(client:find_friends(ME, { limit = 2 }))
    assert_fields({ "PreviousCursor", "PageItems", "NextCursor", "HasMore" }, answer)
    assert.equal(null, answer.PreviousCursor)
    assert.equal("string", type(answer.NextCursor))
    assert.equal(null, answer.HasMore)
    assert.equal(2, #answer.PageItems)
    assert_fields({ "id", "hasVerifiedBadge" }, answer.PageItems[1])
    assert_integer(answer.PageItems[1].id)
    assert_boolean(answer.PageItems[1].hasVerifiedBadge)
  end)

  it("sends limit, cursor, userSort and findFriendsType", function()
    local first = assert(client:find_friends(ME, { limit = 2 }))
    local second = assert(client:find_friends(ME, { limit = 2, cursor = first.NextCursor, sort = 2, find_type = 1 }))
    assert.equal("string", type(second.PreviousCursor))
    local log = sent("GET", "/v1/users/" .. ME .. "/friends/find")
    assert.same({ limit = { "2" } }, query_of(log[1]))
    assert.same({ limit = { "2" }, cursor = { first.NextCursor }, userSort = { "2" },
                  findFriendsType = { "1" } }, query_of(log[2]))
  end)

  it("returns nil and an error with code 6 when the limit is above 50", function()
    assert_http_error(400, 6, "Invalid parameters.", client:find_friends(ME, { limit = 51 }))
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:find_friends(UNKNOWN))
  end)
end)

describe("client:inactive_friends()", function()
  it("returns inactive friends with their details", function()
    local answer = assert(client:inactive_friends(ME))
    assert_fields({ "data" }, answer)
    assert.is_true(#answer.data > 0)
    local inactive_fields = {}
    for _, k in ipairs(USER_RESPONSE) do
      if k ~= "isOnline" and k ~= "presenceType" then inactive_fields[#inactive_fields + 1] = k end
    end
    assert_fields(inactive_fields, answer.data[1])
    local friends = ids_of(assert(client:friends(ME)).data)
    for _, f in ipairs(answer.data) do assert.is_true(contains(friends, f.id)) end
    only("GET", "/v1/users/" .. ME .. "/friends/inactive")
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:inactive_friends(UNKNOWN))
  end)

  it_needs_credentials("inactive_friends", ME)
end)

describe("client:online_friends()", function()
  local PRESENCE = { "UserPresenceType", "UserLocationType", "lastLocation", "placeId", "rootPlaceId",
                     "gameInstanceId", "universeId" }

  it("returns the friends who are online, with their presence", function()
    local answer = assert(client:online_friends(ME))
    assert_fields({ "data" }, answer)
    assert.is_true(#answer.data > 0)
    local game
    for _, f in ipairs(answer.data) do
      assert_fields({ "userPresence", "sortScore", "id", "name", "displayName" }, f)
      assert_fields(PRESENCE, f.userPresence)
      assert.is_true(contains({ "Online", "InGame", "InStudio" }, f.userPresence.UserPresenceType))
      if f.id == IN_GAME then game = f.userPresence end
    end
    assert.is_table(game)
    assert.equal("InGame", game.UserPresenceType)
    assert.equal(606849621, game.placeId)
    assert_integer(game.placeId)
    assert.same({}, query_of(only("GET", "/v1/users/" .. ME .. "/friends/online")))
  end)

  it("gives robloxsocial.null for the place of a friend who is not in a game", function()
    for _, f in ipairs(assert(client:online_friends(ME)).data) do
      if f.userPresence.UserPresenceType == "Online" then
        assert.equal(null, f.userPresence.placeId)
        assert.equal(null, f.userPresence.gameInstanceId)
        return
      end
    end
    error("no friend is merely online")
  end)

  it("sends userSort", function()
    assert(client:online_friends(ME, { sort = 2 }))
    assert.same({ userSort = { "2" } }, query_of(only("GET", "/v1/users/" .. ME .. "/friends/online")))
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:online_friends(UNKNOWN))
  end)

  it_needs_credentials("online_friends", ME)
end)

describe("client:search_friends()", function()
  it("returns one page of friends whose names match", function()
    local answer = assert(client:search_friends(ME, "bob", { limit = 5 }))
    assert_fields({ "PreviousCursor", "PageItems", "NextCursor", "HasMore" }, answer)
    assert.equal(5, #answer.PageItems)
    assert.equal(null, answer.HasMore)
    local friends = {}
    for _, f in ipairs(assert(client:friends(ME)).data) do friends[f.id] = f end
    for _, item in ipairs(answer.PageItems) do
      local f = friends[item.id]
      assert.is_table(f)
      assert.is_truthy((f.name .. " " .. f.displayName):lower():find("bob", 1, true))
    end
  end)

  it("sends query, limit and cursor", function()
    local first = assert(client:search_friends(ME, "bob", { limit = 5 }))
    assert(client:search_friends(ME, "bob", { limit = 5, cursor = first.NextCursor }))
    local log = sent("GET", "/v1/users/" .. ME .. "/friends/search")
    assert.same({ query = { "bob" }, limit = { "5" } }, query_of(log[1]))
    assert.same({ query = { "bob" }, limit = { "5" }, cursor = { first.NextCursor } }, query_of(log[2]))
  end)

  it("escapes the query", function()
    local answer = assert(client:search_friends(ME, "a b&c=d"))
    assert.same({}, answer.PageItems)
    local r = only("GET", "/v1/users/" .. ME .. "/friends/search")
    assert.same({ query = { "a b&c=d" } }, query_of(r))
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:search_friends(UNKNOWN, "bob"))
  end)

  it_needs_credentials("search_friends", ME, "bob")
end)

describe("client:friend_statuses()", function()
  it("returns the status of each user, in order", function()
    local answer = assert(client:friend_statuses(ME, { FRIEND, REQUESTER, SENT_TO, STRANGER }))
    assert_fields({ "data" }, answer)
    assert_fields({ "id", "status" }, answer.data[1])
    assert_integer(answer.data[1].id)
    assert.same({ { id = FRIEND, status = "Friends" }, { id = REQUESTER, status = "RequestReceived" },
                  { id = SENT_TO, status = "RequestSent" }, { id = STRANGER, status = "NotFriends" } },
                answer.data)
  end)

  it("sends userIds as a repeated key", function()
    assert(client:friend_statuses(ME, { FRIEND, STRANGER }))
    local r = only("GET", "/v1/users/" .. ME .. "/friends/statuses")
    assert.equal("userIds=" .. FRIEND .. "&userIds=" .. STRANGER, r.query)
  end)

  it("returns nil and an error with code 1 when the user does not exist", function()
    assert_http_error(400, 1, NO_USER, client:friend_statuses(UNKNOWN, { FRIEND }))
  end)

  it("returns nil and an error with code 15 when a batch is larger than the service takes", function()
    local big = support.client{ batch_sizes = { friend_statuses = 51 } }
    local ids = {}
    for i = 1, 51 do ids[i] = i end
    assert_http_error(400, 15, "Too many ids.", big:friend_statuses(ME, ids))
    big:close()
  end)

  it("raises on bad ids before sending", function()
    assert.has_error(function() client:friend_statuses(ME, { FRIEND, "x" }) end,
      "bad argument #2 to 'friend_statuses' (list of positive integers expected, got string at index 2)")
    assert.has_error(function() client:friend_statuses(ME, { FRIEND, 0 }) end,
      "bad argument #2 to 'friend_statuses' (list of positive integers expected, got integer at index 2)")
    assert.same({}, support.requests())
  end)
end)

---------------------------------------------------------------------------
-- presence.roblox.com and groups.roblox.com

describe("client:presence()", function()
  local PRESENCE = { "userPresenceType", "lastLocation", "placeId", "rootPlaceId", "gameId",
                     "universeId", "userId" }

  it("returns the presence of each user, in order", function()
    local answer = assert(client:presence{ IN_GAME, UNKNOWN })
    assert_fields({ "userPresences" }, answer)
    assert.equal(2, #answer.userPresences)
    local p, q = answer.userPresences[1], answer.userPresences[2]
    assert_fields(PRESENCE, p)
    assert.equal(IN_GAME, p.userId)
    assert.equal(2, p.userPresenceType)
    assert_integer(p.userPresenceType)
    assert.equal(606849621, p.placeId)
    assert_integer(p.universeId)
    assert.equal("Jailbreak", p.lastLocation)
    assert.equal(UNKNOWN, q.userId)
    assert.equal(0, q.userPresenceType)
    assert.equal(null, q.placeId)
    assert.equal(null, q.gameId)
  end)

  it("sends the ids as userIds in the JSON body", function()
    assert(client:presence{ IN_GAME, UNKNOWN })
    local r = only("POST", "/v1/presence/users")
    assert.same({ userIds = { IN_GAME, UNKNOWN } }, body_of(r))
    assert.equal("", r.query)
  end)

  it("returns nil and an error with code 2 when a batch is larger than the service takes", function()
    local big = support.client{ batch_sizes = { presence = 51 } }
    local ids = {}
    for i = 1, 51 do ids[i] = i end
    assert_http_error(400, 2, "Too many User Ids being sent in the request.", big:presence(ids))
    big:close()
  end)
end)

describe("client:friends_group_roles()", function()
  it("returns the groups and roles of the user's friends", function()
    local answer = assert(client:friends_group_roles(ME))
    assert_fields({ "data" }, answer)
    assert.is_true(#answer.data > 0)
    local friends = ids_of(assert(client:friends(ME)).data)
    for _, entry in ipairs(answer.data) do
      assert_fields({ "user", "groups" }, entry)
      assert_fields({ "buildersClubMembershipType", "userId", "username", "displayName", "hasVerifiedBadge" },
                    entry.user)
      assert_integer(entry.user.userId)
      assert.is_true(contains(friends, entry.user.userId))
      assert.is_true(#entry.groups > 0)
      local g = entry.groups[1]
      assert_fields({ "group", "role", "isPrimaryGroup" }, g)
      local group = {}                      -- communityTier may be left out
      for k, v in pairs(g.group) do if k ~= "communityTier" then group[k] = v end end
      assert_fields({ "id", "name", "description", "owner", "shout", "memberCount", "isBuildersClubOnly",
                      "publicEntryAllowed", "isLocked", "hasVerifiedBadge", "hasSocialModules" }, group)
      assert_fields({ "id", "name", "rank", "isBase", "color" }, g.role)
      assert_integer(g.group.id)
      assert_integer(g.role.rank)
    end
    only("GET", "/v1/users/" .. ME .. "/friends/groups/roles")
  end)

  it("returns nil and an error with code 3 when the user does not exist", function()
    assert_http_error(400, 3, "The user is invalid or does not exist.", client:friends_group_roles(UNKNOWN))
  end)
end)

---------------------------------------------------------------------------
-- contacts.roblox.com

describe("client:validate_tag()", function()
  it("returns Success, Moderated or TooLong", function()
    local answer = assert(client:validate_tag("Neighbour"))
    assert_fields({ "status" }, answer)
    assert.equal("Success", answer.status)
    assert.equal("Moderated", assert(client:validate_tag("my badword pal")).status)
    assert.equal("TooLong", assert(client:validate_tag(string.rep("x", 101))).status)
  end)

  it("sends the tag as alias", function()
    assert(client:validate_tag("Best & worst"))
    assert.same({ alias = { "Best & worst" } }, query_of(only("GET", "/v1/user/tag/validate")))
  end)

  it_needs_credentials("validate_tag", "Neighbour")
end)

describe("client:user_tags()", function()
  it("returns a list of tags, robloxsocial.null for an untagged user", function()
    local answer = assert(client:user_tags{ FRIEND, UNTAGGED_FRIEND, FRIEND2 })
    assert.equal(3, #answer)
    assert.is_nil(next(answer, #answer))
    assert_fields({ "targetUserId", "targetUserTag" }, answer[1])
    assert_integer(answer[1].targetUserId)
    assert.same({ targetUserId = FRIEND, targetUserTag = "Best builder" }, answer[1])
    assert.same({ targetUserId = UNTAGGED_FRIEND, targetUserTag = null }, answer[2])
    assert.same({ targetUserId = FRIEND2, targetUserTag = "School" }, answer[3])
  end)

  it("sends the ids as targetUserIds in the JSON body", function()
    assert(client:user_tags{ FRIEND, FRIEND2 })
    assert.same({ targetUserIds = { FRIEND, FRIEND2 } }, body_of(only("POST", "/v1/user/get-tags")))
  end)

  it("returns nil and an error with code 8 when a batch is larger than the service takes", function()
    local big = support.client{ batch_sizes = { user_tags = 201 } }
    local ids = {}
    for i = 1, 201 do ids[i] = i end
    assert_http_error(400, 8, "Too many user Tags are requested.", big:user_tags(ids))
    big:close()
  end)

  it_needs_credentials("user_tags", { FRIEND })
end)

describe("client:set_user_tag()", function()
  it("sets a tag that user_tags then sees", function()
    local answer = assert(client:set_user_tag(UNTAGGED_FRIEND, "Neighbour"))
    assert_fields({ "status" }, answer)
    assert.equal("Success", answer.status)
    assert.same({ { targetUserId = UNTAGGED_FRIEND, targetUserTag = "Neighbour" } },
                assert(client:user_tags{ UNTAGGED_FRIEND }))
  end)

  it("sends targetUserId and userTag in the JSON body", function()
    assert(client:set_user_tag(UNTAGGED_FRIEND, "Neighbour"))
    assert.same({ targetUserId = UNTAGGED_FRIEND, userTag = "Neighbour" }, body_of(only("POST", "/v1/user/tag")))
  end)

  it("does not save a moderated tag", function()
    assert.equal("Moderated", assert(client:set_user_tag(FRIEND, "badword")).status)
    assert.equal("Best builder", assert(client:user_tags{ FRIEND })[1].targetUserTag)
  end)

  it("returns nil and an error with code 6 when the tag is too long", function()
    assert_http_error(400, 6, "The userTag is too long.", client:set_user_tag(FRIEND, string.rep("x", 101)))
    assert.equal("Best builder", assert(client:user_tags{ FRIEND })[1].targetUserTag)
  end)

  it("returns nil and an error with status 403 and code 5 on the user's own id", function()
    assert_http_error(403, 5, "The user cannot tag themselves.", client:set_user_tag(ME, "me"))
  end)

  it("returns nil and an error with code 2 when the target does not exist", function()
    assert_http_error(400, 2, NO_USER, client:set_user_tag(UNKNOWN, "ghost"))
  end)

  it_needs_credentials("set_user_tag", FRIEND, "x")
end)

---------------------------------------------------------------------------
-- privatemessages.roblox.com

local MESSAGE = { "id", "sender", "recipient", "subject", "body", "created", "updated", "isRead",
                  "isSystemMessage", "isReportAbuseDisplayed" }
local SKINNY = { "hasVerifiedBadge", "id", "name", "displayName" }

describe("client:announcements()", function()
  it("returns the announcements", function()
    local answer = assert(client:announcements())
    assert_fields({ "collection", "totalCollectionSize" }, answer)
    assert_integer(answer.totalCollectionSize)
    assert.equal(#answer.collection, answer.totalCollectionSize)
    assert.is_true(#answer.collection > 0)
    local a = answer.collection[1]
    assert_fields({ "id", "sender", "subject", "body", "created", "updated" }, a)
    assert_integer(a.id)
    assert_fields(SKINNY, a.sender)
    assert.equal(ANNOUNCER, a.sender.id)
    only("GET", "/v1/announcements")
  end)

  it_needs_credentials("announcements")
end)

describe("client:announcements_metadata()", function()
  it("returns how many announcements there are", function()
    local answer = assert(client:announcements_metadata())
    assert_fields({ "numOfAnnouncements" }, answer)
    assert_integer(answer.numOfAnnouncements)
    assert.equal(assert(client:announcements()).totalCollectionSize, answer.numOfAnnouncements)
    only("GET", "/v1/announcements/metadata")
  end)

  it_needs_credentials("announcements_metadata")
end)

describe("client:messages()", function()
  it("returns one page of the inbox", function()
    local answer = assert(client:messages())
    assert_fields({ "collection", "totalCollectionSize", "totalPages", "pageNumber" }, answer)
    assert_integer(answer.totalCollectionSize)
    assert_integer(answer.totalPages)
    assert.equal(0, answer.pageNumber)
    assert.equal(20, #answer.collection)
    local m = answer.collection[1]
    assert_fields(MESSAGE, m)
    assert_integer(m.id)
    assert_boolean(m.isRead)
    assert_fields(SKINNY, m.sender)
    assert.equal(ME, m.recipient.id)
    assert.same({}, query_of(only("GET", "/v1/messages")))
  end)

  it("sends pageNumber, pageSize and messageTab", function()
    local answer = assert(client:messages{ page = 1, page_size = 3, tab = "Archive" })
    assert.same({ pageNumber = { "1" }, pageSize = { "3" }, messageTab = { "Archive" } },
                query_of(only("GET", "/v1/messages")))
    assert.equal(1, answer.pageNumber)
    assert.equal(1, #answer.collection)
    assert.equal(2, answer.totalPages)
    assert.equal(4, answer.totalCollectionSize)
  end)

  it("shows the messages the user sent in the Sent tab", function()
    local answer = assert(client:messages{ tab = "Sent" })
    assert.is_true(#answer.collection > 0)
    for _, m in ipairs(answer.collection) do assert.equal(ME, m.sender.id) end
  end)

  it_needs_credentials("messages")
end)

describe("client:message()", function()
  it("returns one message", function()
    local first = assert(client:messages()).collection[1]
    local answer = assert(client:message(first.id))
    assert_fields(MESSAGE, answer)
    assert.same(first, answer)
    only("GET", "/v1/messages/" .. first.id)
  end)

  it("returns nil and an error with code 2 when the message does not exist", function()
    assert_http_error(400, 2, "Message does not exist or the current user is not authorized to view it.",
      client:message(NO_SUCH_MESSAGE))
  end)

  it("returns nil and an error with code 2 for someone else's message", function()
    assert_http_error(400, 2, nil, client:message(NOT_MY_MESSAGE))
  end)

  it_needs_credentials("message", NO_SUCH_MESSAGE)
end)

describe("client:unread_messages_count()", function()
  it("returns the number of unread messages in the inbox", function()
    local answer = assert(client:unread_messages_count())
    assert_fields({ "count" }, answer)
    assert_integer(answer.count)
    local unread = 0
    for _, m in ipairs(all_messages(client, "Inbox")) do
      if not m.isRead then unread = unread + 1 end
    end
    assert.equal(unread, answer.count)
    assert.is_true(answer.count > 0)
  end)

  it_needs_credentials("unread_messages_count")
end)

local FAILED = "Message does not exist or the current user is not authorized to view it."

-- The first unread and the first read message of the inbox.
local function inbox_by_read(c)
  local unread, read
  for _, m in ipairs(all_messages(c, "Inbox")) do
    if not m.isRead and not unread then unread = m.id end
    if m.isRead and not read then read = m.id end
  end
  return assert(unread, "no unread message"), assert(read, "no read message")
end

local function too_many(name)
  it("returns nil and an error with code 5 when a batch is larger than the service takes", function()
    local big = support.client{ batch_sizes = { [name] = 21 } }
    local ids = {}
    for i = 1, 21 do ids[i] = i end
    assert_http_error(400, 5, "Too many ids in a batch request.", big[name](big, ids))
    big:close()
  end)
end

describe("client:archive_messages()", function()
  it("moves the messages to the Archive tab", function()
    local id = assert(client:messages()).collection[1].id
    local answer = assert(client:archive_messages{ id })
    assert_fields({ "failedMessages" }, answer)
    assert.same({}, answer.failedMessages)
    assert.same({ messageIds = { id } }, body_of(only("POST", "/v1/messages/archive")))
    assert.is_true(contains(ids_of(all_messages(client, "Archive")), id))
    assert.is_false(contains(ids_of(all_messages(client, "Inbox")), id))
  end)

  it("reports the messages it could not archive in failedMessages", function()
    local answer = assert(client:archive_messages{ NOT_MY_MESSAGE })
    assert.same({ { messageId = NOT_MY_MESSAGE, errorMessage = FAILED } }, answer.failedMessages)
    assert_integer(answer.failedMessages[1].messageId)
  end)

  too_many("archive_messages")
  it_needs_credentials("archive_messages", { NO_SUCH_MESSAGE })
end)

describe("client:unarchive_messages()", function()
  it("moves the messages back to the inbox", function()
    local id = all_messages(client, "Archive")[1].id
    local answer = assert(client:unarchive_messages{ id })
    assert.same({ failedMessages = {} }, answer)
    assert.same({ messageIds = { id } }, body_of(only("POST", "/v1/messages/unarchive")))
    assert.is_true(contains(ids_of(all_messages(client, "Inbox")), id))
    assert.is_false(contains(ids_of(all_messages(client, "Archive")), id))
  end)

  too_many("unarchive_messages")
  it_needs_credentials("unarchive_messages", { NO_SUCH_MESSAGE })
end)

describe("client:mark_messages_read()", function()
  it("marks the messages read and lowers the unread count", function()
    local unread = inbox_by_read(client)
    local before = assert(client:unread_messages_count()).count
    local answer = assert(client:mark_messages_read{ unread })
    assert.same({ failedMessages = {} }, answer)
    assert.same({ messageIds = { unread } }, body_of(only("POST", "/v1/messages/mark-read")))
    assert.equal(before - 1, assert(client:unread_messages_count()).count)
    assert.is_true(assert(client:message(unread)).isRead)
  end)

  it("reports a message that does not exist in failedMessages", function()
    local answer = assert(client:mark_messages_read{ NO_SUCH_MESSAGE })
    assert.same({ { messageId = NO_SUCH_MESSAGE, errorMessage = FAILED } }, answer.failedMessages)
  end)

  too_many("mark_messages_read")
  it_needs_credentials("mark_messages_read", { NO_SUCH_MESSAGE })
end)

describe("client:mark_messages_unread()", function()
  it("marks the messages unread and raises the unread count", function()
    local _, read = inbox_by_read(client)
    local before = assert(client:unread_messages_count()).count
    local answer = assert(client:mark_messages_unread{ read })
    assert.same({ failedMessages = {} }, answer)
    assert.same({ messageIds = { read } }, body_of(only("POST", "/v1/messages/mark-unread")))
    assert.equal(before + 1, assert(client:unread_messages_count()).count)
    assert.is_false(assert(client:message(read)).isRead)
  end)

  too_many("mark_messages_unread")
  it_needs_credentials("mark_messages_unread", { NO_SUCH_MESSAGE })
end)

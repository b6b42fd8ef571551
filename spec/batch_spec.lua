-- Methods that take a list of ids of any length: split into requests of
-- at most the batch size (defaults from the contract, overridable with
-- batch_sizes), sent concurrently up to the client's concurrency, merged
-- in the order of the list into one answer of the same shape as a single
-- one; an empty list sends nothing; a failing batch returns nil, err with
-- err.done, err.partial and err.failed, and starts no further request.

local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local support = require "spec.support"

local null = robloxsocial.null
local sb, ME = support.main()

local FRIEND = 1234567890200037           -- tagged "Best builder"
local FAILED = "Message does not exist or the current user is not authorized to view it."

---------------------------------------------------------------------------
-- Helpers.

local sent, sorted_keys = support.sent, support.sorted_keys

-- The values of a repeated query key, as integers.
local function query_ids(entry, key)
  local out = {}
  for i, v in ipairs(support.query_lists(entry)[key] or {}) do out[i] = math.tointeger(tonumber(v)) end
  return out
end

local range = support.range

local function concat(...)
  local out = {}
  for _, list in ipairs{ ... } do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return out
end

local function sizes(lists)
  local out = {}
  for i, list in ipairs(lists) do out[i] = #list end
  return out
end

-- The batches as the server saw them, put back in the order of the list:
-- sent concurrently, they may arrive in any order.
local function in_list_order(batches)
  table.sort(batches, function(a, b) return a[1] < b[1] end)
  return batches
end

-- Makes the next `n` requests to path go through untouched and the one
-- after them fail as `fault` says.
local function fail_after(n, method, path, fault)
  fault.method, fault.path, fault.after = method, path, n
  sb:fault(fault)
end

local client

before_each(function() client = support.fresh_client() end)

after_each(function()
  client:close()
end)

-- The main user's friends, in the order they were befriended.
local function my_friends()
  local out = {}
  for i, f in ipairs(assert(client:friends(ME)).data) do out[i] = f.id end
  return out
end

-- The inbox's message ids, newest first.
local function inbox_ids(c)
  local out, page = {}, 0
  repeat
    local answer = assert(c:messages{ page = page })
    for _, m in ipairs(answer.collection) do out[#out + 1] = m.id end
    page = page + 1
  until page >= answer.totalPages
  return out
end

---------------------------------------------------------------------------
-- Each batch method: how it calls, where its ids travel, how to read the
-- merged answer back as a list of ids in order.

local METHODS = {
  { name = "presence", size = 50, method = "POST", path = "/v1/presence/users",
    call = function(c, ids) return c:presence(ids) end,
    wire = function(r) return core.json_decode(r.body).userIds end,
    keys = { "userPresences" },
    merged = function(a) local o = {} for i, p in ipairs(a.userPresences) do o[i] = p.userId end return o end,
    empty = { userPresences = {} } },
  { name = "friend_statuses", size = 50, method = "GET", path = "/v1/users/" .. ME .. "/friends/statuses",
    call = function(c, ids) return c:friend_statuses(ME, ids) end,
    wire = function(r) return query_ids(r, "userIds") end,
    keys = { "data" },
    merged = function(a) local o = {} for i, s in ipairs(a.data) do o[i] = s.id end return o end,
    empty = { data = {} } },
  { name = "multiget_are_friends", size = 50, method = "POST", path = "/v1/user/" .. ME .. "/multiget-are-friends",
    call = function(c, ids) return c:multiget_are_friends(ME, ids) end,
    wire = function(r) return core.json_decode(r.body).targetUserIds end,
    keys = { "friendsId" },
    empty = { friendsId = {} } },
  { name = "user_tags", size = 200, method = "POST", path = "/v1/user/get-tags",
    call = function(c, ids) return c:user_tags(ids) end,
    wire = function(r) return core.json_decode(r.body).targetUserIds end,
    merged = function(a) local o = {} for i, t in ipairs(a) do o[i] = t.targetUserId end return o end,
    empty = {} },
}
for _, m in ipairs { { "archive_messages", "/v1/messages/archive" },
                     { "unarchive_messages", "/v1/messages/unarchive" },
                     { "mark_messages_read", "/v1/messages/mark-read" },
                     { "mark_messages_unread", "/v1/messages/mark-unread" } } do
  local name = m[1]
  METHODS[#METHODS + 1] = {
    name = name, size = 20, method = "POST", path = m[2],
    call = function(c, ids) return c[name](c, ids) end,
    wire = function(r) return core.json_decode(r.body).messageIds end,
    keys = { "failedMessages" },
    empty = { failedMessages = {} },
  }
end

---------------------------------------------------------------------------

describe("client:presence() with 123 ids", function()
  it("sends 50 + 50 + 23 ids and merges the answers in the order of the list", function()
    local ids = range(1001, 1123)
    local answer = assert(client:presence(ids))

    local log = sent("POST", "/v1/presence/users")
    assert.equal(3, #log)
    local batches = {}
    for i, r in ipairs(log) do batches[i] = core.json_decode(r.body).userIds end
    in_list_order(batches)
    assert.same({ 50, 50, 23 }, sizes(batches))
    assert.same(ids, concat(table.unpack(batches)))

    assert.same({ "userPresences" }, sorted_keys(answer))
    assert.equal(123, #answer.userPresences)
    for i, p in ipairs(answer.userPresences) do
      assert.equal(ids[i], p.userId)
      assert.equal("integer", math.type(p.userId))
      assert.equal(null, p.placeId)
    end
  end)
end)

describe("batch methods at their default sizes", function()
  for _, m in ipairs(METHODS) do
    describe("client:" .. m.name .. "()", function()
      it("splits " .. (2 * m.size + 1) .. " ids into " .. m.size .. " + " .. m.size .. " + 1, in order", function()
        local ids = range(1, 2 * m.size + 1)
        local answer = assert(m.call(client, ids))
        local log = sent(m.method, m.path)
        local batches = {}
        for i, r in ipairs(log) do batches[i] = m.wire(r) end
        in_list_order(batches)
        assert.same({ m.size, m.size, 1 }, sizes(batches))
        assert.same(ids, concat(table.unpack(batches)))
        if m.keys then assert.same(m.keys, sorted_keys(answer)) end
        if m.merged then assert.same(ids, m.merged(answer)) end
      end)

      it("sends exactly " .. m.size .. " ids in one request", function()
        assert(m.call(client, range(1, m.size)))
        local log = sent(m.method, m.path)
        assert.equal(1, #log)
        assert.equal(m.size, #m.wire(log[1]))
      end)

      it("returns the empty result and sends nothing for an empty list", function()
        local answer = assert(m.call(client, {}))
        assert.same(m.empty, answer)
        assert.same({}, support.requests())
      end)
    end)
  end
end)

describe("merging", function()
  it("keeps the friends of every batch of multiget_are_friends, in order", function()
    local friends = my_friends()
    local ids, expected = {}, {}
    for i = 1, 60 do           -- a friend, then a stranger, 120 ids in all
      ids[#ids + 1] = friends[i]
      ids[#ids + 1] = 9000000000 + i
      expected[i] = friends[i]
    end
    local answer = assert(client:multiget_are_friends(ME, ids))
    assert.same({ friendsId = expected }, answer)
    assert.equal(3, #sent("POST", "/v1/user/" .. ME .. "/multiget-are-friends"))
  end)

  it("keeps the statuses of friend_statuses in order across batches", function()
    local friends = my_friends()
    local ids = {}
    for i = 1, 30 do ids[#ids + 1] = friends[i]; ids[#ids + 1] = 9000000000 + i end
    local answer = assert(client:friend_statuses(ME, ids))
    assert.equal(60, #answer.data)
    for i, s in ipairs(answer.data) do
      assert.equal(ids[i], s.id)
      assert.equal(i % 2 == 1 and "Friends" or "NotFriends", s.status)
    end
  end)

  it("returns user_tags as one list, with the tags where they belong", function()
    local ids = range(1, 401)
    ids[333] = FRIEND
    local answer = assert(client:user_tags(ids))
    assert.equal(401, #answer)
    assert.is_nil(next(answer, #answer))
    assert.same({ targetUserId = FRIEND, targetUserTag = "Best builder" }, answer[333])
    assert.same({ targetUserId = 1, targetUserTag = null }, answer[1])
  end)

  it("concatenates failedMessages of every batch of a message method, in order", function()
    local inbox = inbox_ids(client)
    local ids = {}
    for i = 1, 38 do ids[#ids + 1] = inbox[i] end
    table.insert(ids, 20, 1)   -- the 20th id: last of the first batch
    table.insert(ids, 25, 2)   -- in the second batch
    ids[#ids + 1] = 3          -- the 41st: alone in the third batch
    local answer = assert(client:archive_messages(ids))
    assert.same({ failedMessages = {
      { messageId = 1, errorMessage = FAILED },
      { messageId = 2, errorMessage = FAILED },
      { messageId = 3, errorMessage = FAILED },
    } }, answer)
    assert.equal(3, #sent("POST", "/v1/messages/archive"))
    assert.equal(#inbox - 38, #inbox_ids(client))
  end)

  it("applies every batch of mark_messages_read", function()
    local inbox = inbox_ids(client)
    assert.is_true(#inbox > 40)
    assert(client:mark_messages_read(inbox))
    assert.equal(0, assert(client:unread_messages_count()).count)
    assert(client:mark_messages_unread(inbox))
    assert.equal(#inbox, assert(client:unread_messages_count()).count)
  end)
end)

describe("robloxsocial.new{ batch_sizes = ... }", function()
  it("overrides the size of one method: 100 ids for presence = 25 go in 4 requests", function()
    local small = support.client{ batch_sizes = { presence = 25 } }
    local ids = range(1, 100)
    local answer = assert(small:presence(ids))
    small:close()
    local log = sent("POST", "/v1/presence/users")
    assert.equal(4, #log)
    for _, r in ipairs(log) do assert.equal(25, #core.json_decode(r.body).userIds) end
    assert.equal(100, #answer.userPresences)
    assert.equal(100, answer.userPresences[100].userId)
  end)

  it("leaves the other methods at their defaults", function()
    local small = support.client{ batch_sizes = { presence = 25 } }
    assert(small:friend_statuses(ME, range(1, 60)))
    small:close()
    local log = sent("GET", "/v1/users/" .. ME .. "/friends/statuses")
    local sizes_seen = { #query_ids(log[1], "userIds"), #query_ids(log[2], "userIds") }
    table.sort(sizes_seen)                  -- sent concurrently: in any order
    assert.same({ 10, 50 }, sizes_seen)
  end)

  it("leaves other clients at the defaults", function()
    local small = support.client{ batch_sizes = { presence = 25 } }
    assert(client:presence(range(1, 100)))
    small:close()
    assert.equal(2, #sent("POST", "/v1/presence/users"))
  end)

  it("takes an integral float", function()
    local small = support.client{ batch_sizes = { user_tags = 10.0 } }
    assert(small:user_tags(range(1, 11)))
    small:close()
    assert.equal(2, #sent("POST", "/v1/user/get-tags"))
  end)

  local function raises(message, sizes_option)
    assert.has_error(function()
      robloxsocial.new{ base_url = sb.base_url, batch_sizes = sizes_option }
    end, message)
  end

  it("raises on a size that is not a positive integer", function()
    raises("bad argument #1 to 'new' (batch_sizes.presence must be a positive integer)", { presence = 0 })
    raises("bad argument #1 to 'new' (batch_sizes.presence must be a positive integer)", { presence = -5 })
    raises("bad argument #1 to 'new' (batch_sizes.presence must be a positive integer)", { presence = 2.5 })
    raises("bad argument #1 to 'new' (batch_sizes.user_tags must be a positive integer)", { user_tags = "10" })
  end)

  it("raises on a name that is not a batch method", function()
    raises("bad argument #1 to 'new' (batch_sizes: 'friends_count' is not a batch method)", { friends_count = 10 })
    raises("bad argument #1 to 'new' (batch_sizes: 'presense' is not a batch method)", { presense = 10 })
  end)

  it("raises when batch_sizes is not a table", function()
    raises("bad argument #1 to 'new' (option 'batch_sizes' must be a table)", 25)
  end)
end)

describe("an empty list", function()
  it("still raises on the other arguments", function()
    assert.has_error(function() client:friend_statuses(0, {}) end,
      "bad argument #1 to 'friend_statuses' (positive integer expected, got integer)")
    assert.has_error(function() client:multiget_are_friends("1", {}) end,
      "bad argument #1 to 'multiget_are_friends' (positive integer expected, got string)")
    assert.same({}, support.requests())
  end)

  it("gives a fresh result to every call", function()
    local a = assert(client:presence{})
    a.userPresences[1] = "scribbled"
    assert.same({ userPresences = {} }, assert(client:presence{}))
  end)
end)

describe("a batch that fails", function()
  -- One request at a time, so that "the second batch" is the second sent.
  before_each(function()
    client:close()
    client = support.client{ concurrency = 1 }
  end)

  it("returns nil and an error with err.done = 50 when the second presence batch fails", function()
    assert(client:presence{ 1 })        -- the CSRF handshake, out of the way
    sb:clear_requests()
    fail_after(1, "POST", "/v1/presence/users", { kind = "status", status = 503, count = -1 })
    local ids = range(1001, 1123)
    local answer, err = client:presence(ids)
    assert.is_nil(answer)
    assert.is_table(err)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal(50, err.done)
    assert.is_table(err.partial)
    assert.equal(50, #err.partial.userPresences)
    for i, p in ipairs(err.partial.userPresences) do assert.equal(ids[i], p.userId) end
    assert.is_nil(err.sent)             -- presence is a read sent as POST
    -- a read is retried after a 5xx (max_retries = 3), and the third batch is never sent
    assert.equal(1 + 4, #sent("POST", "/v1/presence/users"))
  end)

  it("returns err.done = 50 when the second friend_statuses batch is refused", function()
    fail_after(1, "GET", "/v1/users/" .. ME .. "/friends/statuses",
      { kind = "status", status = 400, code = 16, message = "Invalid ids." })
    local answer, err = client:friend_statuses(ME, range(1, 120))
    assert.is_nil(answer)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal(16, err.code)
    assert.equal(50, err.done)
    assert.equal(50, #err.partial.data)
    assert.equal(2, #sent("GET", "/v1/users/" .. ME .. "/friends/statuses"))
  end)

  it("returns err.partial as a list for user_tags", function()
    assert(client:user_tags{ 1 })
    sb:clear_requests()
    fail_after(1, "POST", "/v1/user/get-tags", { kind = "status", status = 400, code = 4 })
    local answer, err = client:user_tags(range(1, 401))
    assert.is_nil(answer)
    assert.equal(200, err.done)
    assert.equal(200, #err.partial)
    assert.equal(200, err.partial[200].targetUserId)
  end)

  it("returns err.done = 0 and an empty partial when the first batch fails", function()
    fail_after(0, "GET", "/v1/users/" .. ME .. "/friends/statuses",
      { kind = "status", status = 400, code = 16, message = "Invalid ids." })
    local answer, err = client:friend_statuses(ME, range(1, 120))
    assert.is_nil(answer)
    assert.equal(0, err.done)
    assert.same({ data = {} }, err.partial)
    assert.equal(1, #sent("GET", "/v1/users/" .. ME .. "/friends/statuses"))
  end)

  it("leaves the first batch of archive_messages done, the rest untouched", function()
    local inbox = inbox_ids(client)
    assert(client:archive_messages{ 1 })
    sb:clear_requests()
    fail_after(1, "POST", "/v1/messages/archive", { kind = "status", status = 503 })
    local ids = {}
    for i = 1, 41 do ids[i] = inbox[i] end
    local answer, err = client:archive_messages(ids)
    assert.is_nil(answer)
    assert.equal(20, err.done)
    assert.same({ failedMessages = {} }, err.partial)
    local left = inbox_ids(client)
    assert.equal(#inbox - 20, #left)
    for i = 21, #inbox do assert.equal(inbox[i], left[i - 20]) end
  end)

  it("retries a GET batch after a 503 and completes the merge", function()
    fail_after(1, "GET", "/v1/users/" .. ME .. "/friends/statuses", { kind = "status", status = 503 })
    local answer = assert(client:friend_statuses(ME, range(1, 120)))
    assert.equal(120, #answer.data)
    assert.equal(120, answer.data[120].id)
    assert.equal(4, #sent("GET", "/v1/users/" .. ME .. "/friends/statuses"))
  end)
end)

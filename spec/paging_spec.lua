-- The iterators: each_friend, each_friend_search, each_friend_request and
-- each_message.  Lazy (a page is fetched when the last one is used up),
-- walking every page by the endpoint's paging kind, and raising the error
-- object when a page fails: never ending early as if the list were complete.

local robloxsocial = require "robloxsocial"
local support = require "spec.support"

local sb, ME = support.main()  -- 130 friends, 34 pending requests, 48 messages in the inbox

local LONER = 1                          -- exists, has no friends

---------------------------------------------------------------------------
-- Helpers.

local query_of = support.query_params

local FIND = "/v1/users/" .. ME .. "/friends/find"
local SEARCH = "/v1/users/" .. ME .. "/friends/search"
local REQUESTS = "/v1/my/friends/requests"
local MESSAGES = "/v1/messages"

-- Lets the next n requests to path through and makes the one after fail
-- as fault says, for good (count -1) unless fault says otherwise.
local function fail_after(n, path, fault)
  fault.method, fault.path, fault.after = "GET", path, n
  fault.count = fault.count or -1
  sb:fault(fault)
end

-- Drains an iterator inside pcall: ok, error, number of items seen.
local function drain(iter)
  local n = 0
  local ok, err = pcall(function()
    for _ in iter do n = n + 1 end
  end)
  return ok, err, n
end

local function collect(iter, field)
  local out, seen, dups = {}, {}, 0
  for item in iter do
    local key = field and item[field] or item
    if seen[key] then dups = dups + 1 end
    seen[key] = true
    out[#out + 1] = item
  end
  return out, dups
end

local client

before_each(function() client = support.fresh_client() end)

after_each(function()
  client:close()
end)

---------------------------------------------------------------------------

describe("client:each_friend()", function()
  it("fetches a page only when the previous one is used up", function()
    local next_friend = client:each_friend(ME, { limit = 50 })
    assert.same({}, support.requests())
    local first = next_friend()
    assert.equal("integer", math.type(first.id))
    assert.equal(1, #support.requests("GET", FIND))
    for _ = 2, 50 do next_friend() end
    assert.equal(1, #support.requests("GET", FIND))
    assert.is_table(next_friend())   -- the 51st
    assert.equal(2, #support.requests("GET", FIND))
  end)

  it("walks every page: as many friends as friends_count, each once", function()
    local count = assert(client:friends_count(ME)).count
    local friends, dups = collect(client:each_friend(ME, { limit = 50 }), "id")
    assert.equal(count, #friends)
    assert.equal(0, dups)
    assert.equal(3, #support.requests("GET", FIND))
  end)

  it("yields the same friends, in the same order, as the pages of find_friends", function()
    local expected, cursor = {}, nil
    repeat
      local page = assert(client:find_friends(ME, { limit = 40, cursor = cursor }))
      for _, item in ipairs(page.PageItems) do expected[#expected + 1] = item end
      cursor = page.NextCursor
    until cursor == robloxsocial.null
    assert.same(expected, (collect(client:each_friend(ME, { limit = 40 }))))
  end)

  it("echoes NextCursor verbatim and keeps the other options", function()
    local first = assert(client:find_friends(ME, { limit = 50, sort = 2 }))
    sb:clear_requests()
    collect(client:each_friend(ME, { limit = 50, sort = 2 }))
    local log = support.requests("GET", FIND)
    assert.equal(3, #log)
    assert.same({ limit = "50", userSort = "2" }, query_of(log[1]))
    assert.same({ limit = "50", userSort = "2", cursor = first.NextCursor }, query_of(log[2]))
    assert.is_nil(query_of(log[1]).cursor)
  end)

  it("stops after the last page without asking for an empty one", function()
    local friends = collect(client:each_friend(ME, { limit = 26 }))   -- 130 = 5 x 26
    assert.equal(130, #friends)
    assert.equal(5, #support.requests("GET", FIND))
  end)

  it("yields nothing for a user without friends", function()
    local ok, err, n = drain(client:each_friend(LONER))
    assert.is_true(ok, tostring(err))
    assert.equal(0, n)
    assert.equal(1, #support.requests())
  end)

  it("raises the error object when the third page fails, after the retries", function()
    fail_after(2, FIND, { kind = "status", status = 503 })
    local ok, err, n = drain(client:each_friend(ME, { limit = 50 }))
    assert.is_false(ok)
    assert.equal(100, n)
    assert.is_table(err)
    assert.equal(robloxsocial.error_mt, getmetatable(err))
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal("GET", err.method)
    assert.equal(2 + 4, #support.requests("GET", FIND))   -- page 3: once and 3 retries
  end)

  it("raises the error object with its code when a page is refused", function()
    fail_after(1, FIND, { kind = "status", status = 400, code = 6, message = "Invalid parameters.", count = 1 })
    local ok, err, n = drain(client:each_friend(ME, { limit = 50 }))
    assert.is_false(ok)
    assert.equal(50, n)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal(6, err.code)
    assert.equal(2, #support.requests("GET", FIND))
  end)

  it("raises a decode error when a page is not JSON", function()
    fail_after(1, FIND, { kind = "malformed", count = 1 })
    local ok, err, n = drain(client:each_friend(ME, { limit = 50 }))
    assert.is_false(ok)
    assert.equal(50, n)
    assert.equal("decode", err.kind)
  end)

  it("raises the error of an unknown user at the first step", function()
    local ok, err, n = drain(client:each_friend(99))
    assert.is_false(ok)
    assert.equal(0, n)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal(1, err.code)
  end)

  it("raises on bad arguments at the call, before the loop", function()
    assert.has_error(function() client:each_friend("1") end,
      "bad argument #1 to 'each_friend' (positive integer expected, got string)")
    assert.has_error(function() client:each_friend(ME, { limit = 0 }) end,
      "bad argument #2 to 'each_friend' (option 'limit' must be a positive integer)")
    assert.has_error(function() client:each_friend(ME, { page = 2 }) end,
      "bad argument #2 to 'each_friend' (unknown option 'page')")
    assert.same({}, support.requests())
  end)
end)

describe("client:each_friend_search()", function()
  -- The friends whose name or display name holds the text.
  local function matching(text)
    local n = 0
    for _, f in ipairs(assert(client:friends(ME)).data) do
      if (f.name .. "\0" .. f.displayName):lower():find(text, 1, true) then n = n + 1 end
    end
    return n
  end

  it("walks every page of the search", function()
    local expected = matching("bob")
    assert.is_true(expected > 10)
    sb:clear_requests()
    local found, dups = collect(client:each_friend_search(ME, "bob", { limit = 10 }), "id")
    assert.equal(expected, #found)
    assert.equal(0, dups)
    local log = support.requests("GET", SEARCH)
    assert.equal(math.ceil(expected / 10), #log)
    for _, r in ipairs(log) do assert.equal("bob", query_of(r).query) end
    assert.equal(assert(client:search_friends(ME, "bob", { limit = 10 })).NextCursor, query_of(log[2]).cursor)
  end)

  it("is lazy", function()
    local next_friend = client:each_friend_search(ME, "bob", { limit = 10 })
    assert.same({}, support.requests())
    for _ = 1, 10 do next_friend() end
    assert.equal(1, #support.requests("GET", SEARCH))
    next_friend()
    assert.equal(2, #support.requests("GET", SEARCH))
  end)

  it("yields nothing when nothing matches", function()
    local ok, err, n = drain(client:each_friend_search(ME, "zzzz-nobody"))
    assert.is_true(ok, tostring(err))
    assert.equal(0, n)
  end)

  it("raises the error object when the third page fails", function()
    fail_after(2, SEARCH, { kind = "status", status = 500 })
    local ok, err, n = drain(client:each_friend_search(ME, "bob", { limit = 10 }))
    assert.is_false(ok)
    assert.equal(20, n)
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
  end)

  it("raises on bad arguments at the call, before the loop", function()
    assert.has_error(function() client:each_friend_search(ME) end,
      "bad argument #2 to 'each_friend_search' (string expected, got no value)")
    assert.has_error(function() client:each_friend_search(ME, "bob", { sort = 1 }) end,
      "bad argument #3 to 'each_friend_search' (unknown option 'sort')")
    assert.same({}, support.requests())
  end)
end)

describe("client:each_friend_request()", function()
  it("walks every page: as many requests as friend_requests_count", function()
    local count = assert(client:friend_requests_count()).count
    sb:clear_requests()
    local requests, dups = collect(client:each_friend_request{ limit = 10 }, "id")
    assert.equal(count, #requests)
    assert.equal(0, dups)
    assert.equal(math.ceil(count / 10), #support.requests("GET", REQUESTS))
    for _, r in ipairs(requests) do
      assert.equal(r.id, r.friendRequest.senderId)
      assert.equal("integer", math.type(r.id))
    end
  end)

  it("walks the pages with the service's default limit too", function()
    local count = assert(client:friend_requests_count()).count
    local requests = collect(client:each_friend_request())
    assert.equal(count, #requests)
  end)

  it("echoes nextPageCursor verbatim and keeps the sort", function()
    local first = assert(client:friend_requests{ limit = 10, sort = 1 })
    sb:clear_requests()
    local next_request = client:each_friend_request{ limit = 10, sort = 1 }
    for _ = 1, 11 do next_request() end
    local log = support.requests("GET", REQUESTS)
    assert.equal(2, #log)
    assert.same({ limit = "10", friendRequestSort = "1", cursor = first.nextPageCursor }, query_of(log[2]))
  end)

  it("sees what accept_friend_request changed", function()
    local before = collect(client:each_friend_request{ limit = 10 })
    assert(client:accept_friend_request(before[1].id))
    local after = collect(client:each_friend_request{ limit = 10 })
    assert.equal(#before - 1, #after)
  end)

  it("raises the error object when the third page fails", function()
    fail_after(2, REQUESTS, { kind = "status", status = 502 })
    local ok, err, n = drain(client:each_friend_request{ limit = 10 })
    assert.is_false(ok)
    assert.equal(20, n)
    assert.equal("http", err.kind)
    assert.equal(502, err.status)
  end)

  it("raises a 401 error object for a cookie the service does not take", function()
    local anon = robloxsocial.new{ base_url = sb.base_url, retry_delay = 0.01, cookie = "not-a-session" }
    local ok, err = drain(anon:each_friend_request())
    anon:close()
    assert.is_false(ok)
    assert.equal("http", err.kind)
    assert.equal(401, err.status)
    assert.equal(0, err.code)
  end)

  it("raises on bad arguments at the call, before the loop", function()
    assert.has_error(function() client:each_friend_request{ sort = 5 } end,
      "bad argument #1 to 'each_friend_request' (option 'sort' must be one of 0, 1, 2)")
    assert.has_error(function() client:each_friend_request("10") end,
      "bad argument #1 to 'each_friend_request' (table of options expected, got string)")
    assert.same({}, support.requests())
  end)
end)

describe("client:each_message()", function()
  it("follows pageNumber until totalPages when the service caps page_size = 50 at 20", function()
    local first = assert(client:messages{ tab = "Inbox" })
    assert.equal(20, #first.collection)
    assert.is_true(first.totalCollectionSize > 40)
    sb:clear_requests()
    local messages, dups = collect(client:each_message{ tab = "Inbox", page_size = 50 }, "id")
    assert.equal(first.totalCollectionSize, #messages)
    assert.equal(0, dups)
    local log = support.requests("GET", MESSAGES)
    assert.equal(first.totalPages, #log)
    for i, r in ipairs(log) do
      local q = query_of(r)
      assert.equal(i - 1, tonumber(q.pageNumber or "0"))
      assert.equal("50", q.pageSize)
      assert.equal("Inbox", q.messageTab)
    end
  end)

  it("walks every tab", function()
    for _, tab in ipairs { "Inbox", "Sent", "Archive" } do
      local total = assert(client:messages{ tab = tab }).totalCollectionSize
      local messages = collect(client:each_message{ tab = tab, page_size = 3 })
      assert.equal(total, #messages)
      for _, m in ipairs(messages) do
        if tab == "Sent" then assert.equal(ME, m.sender.id) else assert.equal(ME, m.recipient.id) end
      end
    end
  end)

  it("is lazy", function()
    local next_message = client:each_message{ page_size = 20 }
    assert.same({}, support.requests())
    for _ = 1, 20 do next_message() end
    assert.equal(1, #support.requests("GET", MESSAGES))
    next_message()
    assert.equal(2, #support.requests("GET", MESSAGES))
  end)

  it("yields nothing for an empty tab, after one request", function()
    local archived = {}
    for m in client:each_message{ tab = "Archive" } do archived[#archived + 1] = m.id end
    assert.is_true(#archived > 0)
    assert(client:unarchive_messages(archived))
    sb:clear_requests()
    local ok, err, n = drain(client:each_message{ tab = "Archive" })
    assert.is_true(ok, tostring(err))
    assert.equal(0, n)
    assert.equal(1, #support.requests("GET", MESSAGES))
  end)

  it("sees a message that archive_messages moved", function()
    local id = assert(client:messages()).collection[1].id
    assert(client:archive_messages{ id })
    local found = false
    for m in client:each_message{ tab = "Archive" } do found = found or m.id == id end
    assert.is_true(found)
  end)

  it("raises the error object when the third page fails", function()
    fail_after(2, MESSAGES, { kind = "status", status = 503 })
    local ok, err, n = drain(client:each_message{ page_size = 50 })
    assert.is_false(ok)
    assert.equal(40, n)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
  end)

  it("raises on bad arguments at the call, before the loop", function()
    assert.has_error(function() client:each_message{ tab = "Outbox" } end,
      "bad argument #1 to 'each_message' (option 'tab' must be one of Inbox, Sent, Archive)")
    assert.has_error(function() client:each_message{ page_size = 0 } end,
      "bad argument #1 to 'each_message' (option 'page_size' must be a positive integer)")
    assert.same({}, support.requests())
  end)
end)

describe("iterators facing a service that breaks the paging rules", function()
  local function find_path() return ("/v1/users/%d/friends/find"):format(ME) end

  local function page(cursor, has_more)
    return ('{"PreviousCursor":null,"PageItems":[{"id":5,"hasVerifiedBadge":false}],"NextCursor":%s,"HasMore":%s}')
      :format(cursor and ('"' .. cursor .. '"') or "null", tostring(has_more))
  end

  it("raises a decode error when the same cursor comes back twice, instead of looping", function()
    sb:fault{ method = "GET", path = find_path(), kind = "body", body = page("again", true), count = 2 }
    local seen = 0
    local ok, err = pcall(function()
      for _ in client:each_friend(ME) do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.same({ "decode", "the service answered a cursor it had answered before" }, { err.kind, err.message })
    assert.equal(1, seen)
    assert.equal(2, #support.requests("GET", find_path()))
  end)

  it("stops when HasMore is false, even with a cursor", function()
    sb:fault{ method = "GET", path = find_path(), kind = "body", body = page("more", false) }
    local seen = 0
    for _ in client:each_friend(ME) do seen = seen + 1 end
    assert.equal(1, seen)
    assert.equal(1, #support.requests("GET", find_path()))
  end)

  it("raises a decode error for a messages page without totalPages", function()
    sb:fault{ method = "GET", path = "/v1/messages", kind = "body",
              body = '{"collection":[{"id":1}],"totalCollectionSize":1,"pageNumber":0}' }
    local ok, err = pcall(function() for _ in client:each_message() do end end)
    assert.is_false(ok)
    assert.same({ "decode", "the answer has no totalPages" }, { err.kind, err.message })
  end)

  it("treats a page whose item list is null as empty", function()
    sb:fault{ method = "GET", path = find_path(), kind = "body",
              body = '{"PreviousCursor":null,"PageItems":null,"NextCursor":null,"HasMore":false}' }
    local seen = 0
    for _ in client:each_friend(ME) do seen = seen + 1 end
    assert.equal(0, seen)
  end)
end)

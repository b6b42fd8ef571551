-- Where the sandbox once differed from the services, as peer libraries
-- checked against the live services show them (issue #11): each point
-- through the client, as a user's own test would see it.

local robloxsocial = require "robloxsocial"
local support = require "spec.support"

local null = robloxsocial.null
local sb, ME = support.main()  -- 130 friends, 34 pending requests

local client

before_each(function() client = support.fresh_client() end)

after_each(function() client:close() end)

local function ids_of(list)
  local ids = {}
  for i, item in ipairs(list) do ids[i] = item.id end
  return ids
end

local function collect(iter)
  local items = {}
  for item in iter do items[#items + 1] = item end
  return items
end

describe("userSort", function()
  local NAMES = { [0] = "Alphabetical", "StatusAlphabetical", "StatusFrequents" }

  it("takes the names as well as the numbers, in the client and in the sandbox", function()
    for n = 0, 2 do
      local by_number = assert(client:friends(ME, { sort = n })).data
      local by_name = assert(client:friends(ME, { sort = NAMES[n] })).data
      assert.same(ids_of(by_number), ids_of(by_name))
    end
    local log = support.sent("GET", "/v1/users/" .. ME .. "/friends")
    assert.same({ userSort = "StatusFrequents" }, support.query_params(log[6]))
  end)

  it("is 0 Alphabetical: by name", function()
    local data = assert(client:friends(ME, { sort = 0 })).data
    for i = 2, #data do assert.is_true(data[i - 1].name:lower() < data[i].name:lower()) end
  end)

  it("is 1 StatusAlphabetical: online first, then by name", function()
    local data = assert(client:online_friends(ME)).data
    local online = {}
    for _, f in ipairs(data) do online[f.id] = true end
    local list = assert(client:friends(ME, { sort = 1 })).data
    for i = 2, #list do
      local a, b = list[i - 1], list[i]
      assert.is_true(online[a.id] or not online[b.id])
      if (online[a.id] or false) == (online[b.id] or false) then assert.is_true(a.name:lower() < b.name:lower()) end
    end
    assert.is_true(online[list[1].id])
  end)

  it("is 2 StatusFrequents: online first, then most frequent first", function()
    local list = assert(client:friends(ME, { sort = 2 })).data
    for i = 2, #list do
      local a, b = list[i - 1], list[i]
      assert.is_true(a.isOnline or not b.isOnline)
      if a.isOnline == b.isOnline then assert.is_true(a.friendFrequentScore >= b.friendFrequentScore) end
    end
  end)

  it("defaults to 2 in friends/find", function()
    local default = assert(client:find_friends(ME, { limit = 50 })).PageItems
    local two = assert(client:find_friends(ME, { limit = 50, sort = 2 })).PageItems
    local zero = assert(client:find_friends(ME, { limit = 50, sort = 0 })).PageItems
    assert.same(ids_of(two), ids_of(default))
    assert.are_not.same(ids_of(zero), ids_of(default))
  end)
end)

describe("friendRequestSort", function()
  it("defaults to 1, oldest first", function()
    local default = assert(client:friend_requests{ limit = 50 }).data
    assert.same(ids_of(assert(client:friend_requests{ limit = 50, sort = 1 }).data), ids_of(default))
    assert.equal(34, #default)
    for i = 2, #default do
      assert.is_true(default[i - 1].friendRequest.sentAt <= default[i].friendRequest.sentAt)
    end
  end)
end)

describe("presence", function()
  it("carries no lastOnline, and shows others 0 to 3 only (invisible looks offline)", function()
    local ids = {}
    for _, f in ipairs(assert(client:friends(ME)).data) do ids[#ids + 1] = f.id end
    local seen = {}
    for _, p in ipairs(assert(client:presence(ids)).userPresences) do
      assert.is_nil(p.lastOnline)
      assert.is_true(p.userPresenceType >= 0 and p.userPresenceType <= 3)
      seen[p.userPresenceType] = (seen[p.userPresenceType] or 0) + 1
    end
    -- the world's 2 invisible friends are among the offline ones
    assert.same({ [0] = 109, 10, 8, 3 }, seen)
    for _, f in ipairs(assert(client:online_friends(ME)).data) do assert.is_nil(f.userPresence.lastOnline) end
  end)
end)

describe("an invisible user", function()
  it("sees their own presence as 4, and others see it as 0", function()
    sb:reset{ accounts = { { user_id = 10, cookie = "invisible-cookie" } },
              users = { { id = 10, name = "Ghost", presence = { type = 4 } },
                        { id = 11, name = "Shade", presence = { type = 4 } } } }
    local ghost <close> = support.client{ cookie = "invisible-cookie" }
    local seen = assert(ghost:presence{ 10, 11 }).userPresences
    assert.same({ 4, 0 }, { seen[1].userPresenceType, seen[2].userPresenceType })
  end)
end)

describe("the friend lists", function()
  it("send HasMore null from find and search, even with a NextCursor", function()
    local find = assert(client:find_friends(ME, { limit = 10 }))
    local search = assert(client:search_friends(ME, "bob", { limit = 5 }))
    assert.same({ "string", null }, { type(find.NextCursor), find.HasMore })
    assert.same({ "string", null }, { type(search.NextCursor), search.HasMore })
  end)

  it("give each friend a null description and a placeholder created", function()
    for _, f in ipairs(assert(client:friends(ME)).data) do
      assert.same({ null, "0001-01-01T05:51:00Z" }, { f.description, f.created })
    end
    for _, f in ipairs(assert(client:inactive_friends(ME)).data) do
      assert.same({ null, "0001-01-01T05:51:00Z" }, { f.description, f.created })
    end
  end)

  it("give inactive friends no presence fields", function()
    local data = assert(client:inactive_friends(ME)).data
    assert.equal(15, #data)
    for _, f in ipairs(data) do assert.same({}, { f.isOnline, f.presenceType }) end
  end)
end)

describe("friends_metadata()", function()
  it("has null names without a target", function()
    local answer = assert(client:friends_metadata())
    assert.same({ null, null }, { answer.userName, answer.displayName })
    local mine = assert(client:friends_metadata(ME))
    assert.same({ "SandboxHero", "Sandbox Hero" }, { mine.userName, mine.displayName })
  end)
end)

describe("a friend request", function()
  it("has an integer sourceUniverseId, 0 when it came from no experience", function()
    local kinds = {}
    for r in client:each_friend_request() do
      local v = r.friendRequest.sourceUniverseId
      assert.equal("integer", math.type(v))
      kinds[v == 0 and "none" or "some"] = (kinds[v == 0 and "none" or "some"] or 0) + 1
    end
    assert.same({ none = 23, some = 11 }, kinds)
  end)
end)

describe("cursors", function()
  it("let each_friend_request accept every request while iterating: none skipped, none twice", function()
    local seen, n = {}, 0
    for r in client:each_friend_request() do
      assert.is_nil(seen[r.id])
      seen[r.id] = true
      n = n + 1
      assert(client:accept_friend_request(r.id))
    end
    assert.equal(34, n)
    assert.equal(0, assert(client:friend_requests_count()).count)
    assert.equal(130 + 34, assert(client:my_friends_count()).count)
    local statuses = {}
    local ids = {}
    for id in pairs(seen) do ids[#ids + 1] = id end
    for _, s in ipairs(assert(client:friend_statuses(ME, ids)).data) do statuses[s.status] = (statuses[s.status] or 0) + 1 end
    assert.same({ Friends = 34 }, statuses)
  end)

  it("let each_friend unfriend while iterating: none skipped, none twice", function()
    local seen, n = {}, 0
    for f in client:each_friend(ME, { limit = 7, sort = 0 }) do
      assert.is_nil(seen[f.id])
      seen[f.id] = true
      n = n + 1
      if n % 2 == 0 then assert(client:unfriend(f.id)) end
    end
    assert.equal(130, n)
    assert.equal(130 - 65, assert(client:my_friends_count()).count)
  end)

  it("lead back to the same page with the previous cursor after removals", function()
    local first = assert(client:friend_requests{ limit = 10 })
    local second = assert(client:friend_requests{ limit = 10, cursor = first.nextPageCursor })
    assert(client:accept_friend_request(first.data[10].id))
    local back = assert(client:friend_requests{ limit = 10, cursor = second.previousPageCursor })
    local want = ids_of(first.data)
    want[10] = nil
    assert.same(want, ids_of(back.data))
  end)
end)

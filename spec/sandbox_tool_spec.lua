-- The sandbox as a test tool for a user's own project: the world it was
-- started with stays the baseline, a world can be a Lua table, a world
-- with a key it does not know raises naming it, and items can be added to
-- a running world.

local robloxsocial = require "robloxsocial"
local sandbox = require "robloxsocial.sandbox"
local support = require "spec.support"

local ME = 1234567890123456

-- A small world of three users: me, a friend, a stranger.
local function small_world()
  return {
    accounts = { { user_id = 10, cookie = "small-world-cookie" } },
    users = { { id = 10, name = "Me" }, { id = 11, name = "Friend" }, { id = 12, name = "Stranger" } },
    friendships = { { 10, 11 } },
  }
end

local function client_of(sb, cookie)
  return robloxsocial.new{ base_url = sb.base_url, cookie = cookie or sb.credentials.cookie,
                           retry_delay = 0.01, timeout = 10 }
end

describe("sandbox:reset()", function()
  local sb = support.sandbox()
  after_each(function() support.reset() end)

  it("restores the world the sandbox was started with, not one a reset loaded", function()
    sb:reset(small_world())
    local small <close> = client_of(sb, "small-world-cookie")
    assert.equal(1, assert(small:friends_count(10)).count)
    sb:reset()
    local client <close> = support.client()
    assert.equal(130, assert(client:friends_count(ME)).count)
    local _, err = client:friends_count(10)
    assert.equal(1, err.code)
  end)

  it("raises naming an unknown key of a world table, and leaves the world as it was", function()
    local w = small_world()
    w.users[2].nmae = "typo"
    assert.has_error(function() sb:reset(w) end,
      'robloxsocial.sandbox: world: users[2] has an unknown key "nmae"')
    local client <close> = support.client()
    assert.equal(130, assert(client:friends_count(ME)).count)
  end)
end)

describe("sandbox.start{ world = table }", function()
  it("serves that world, with the first account's credentials", function()
    local sb <close> = sandbox.start{ world = small_world() }
    assert.equal(10, sb.credentials.user_id)
    local client <close> = client_of(sb)
    assert.same({ 11 }, { assert(client:friends(10)).data[1].id })
    sb:reset(support.sandbox().world_path)
    sb:reset()
    assert.equal(1, assert(client:friends_count(10)).count)
    local temp = sb.temp_world
    sb:stop()
    assert.is_nil(io.open(temp))
  end)

  it("raises naming an unknown key, at the top or deep inside", function()
    local w = small_world()
    w.frendships = w.friendships
    assert.has_error(function() sandbox.start{ world = w } end,
      'robloxsocial.sandbox: world: the world has an unknown key "frendships"')
    w = small_world()
    w.users[1].presence = { type = 1, lastOnline = "2026-01-01T00:00:00Z" }
    assert.has_error(function() sandbox.start{ world = w } end,
      'robloxsocial.sandbox: world: users[1].presence has an unknown key "lastOnline"')
  end)

  it("raises naming an unknown key in a world file too", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write('{"accounts":[{"user_id":1,"api_key":"k"}],"users":[{"id":1,"name":"A"}],',
            '"friend_requests":[{"from":1,"to":1,"sent":"yesterday"}]}')
    f:close()
    local ok, err = pcall(sandbox.start, { world = path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches('friend_requests%[1%] has an unknown key "sent"', err)
  end)
end)

describe("sandbox:add()", function()
  local sb = support.sandbox()
  local client
  before_each(function()
    support.reset()
    client = support.client()
  end)
  after_each(function() client:close() end)

  it("adds a user, a friendship, a friend request and a message to the running world", function()
    sb:add{
      users = { { id = 777, name = "Newcomer", displayName = "New Comer" },
                { id = 778, name = "Asker" } },
      friendships = { { ME, 777 } },
      friend_requests = { { from = 778, to = ME, sentAt = "2026-06-20T10:00:00.000Z", nickname = "Hi" } },
      messages = { { id = 99, from = 777, to = ME, subject = "Hello", body = "Welcome me",
                     created = "2026-06-20T10:00:00.000Z" } },
    }
    assert.equal(131, assert(client:friends_count(ME)).count)
    assert.equal(35, assert(client:friend_requests_count()).count)
    local newest = assert(client:friend_requests{ sort = 0 }).data[1]
    assert.same({ 778, "Hi", 0 }, { newest.id, newest.friendRequest.senderNickname,
                                   newest.friendRequest.sourceUniverseId })
    local m = assert(client:message(99))
    assert.same({ "Newcomer", "Hello", false }, { m.sender.name, m.subject, m.isRead })
    assert.same({ "Friends" }, { assert(client:friend_statuses(ME, { 777 })).data[1].status })
  end)

  it("lasts until the next reset", function()
    sb:add{ users = { { id = 777, name = "Newcomer" } }, friendships = { { ME, 777 } } }
    assert.equal(131, assert(client:friends_count(ME)).count)
    sb:reset()
    assert.equal(130, assert(client:friends_count(ME)).count)
  end)

  it("raises naming a bad item, and adds nothing then", function()
    assert.has_error(function() sb:add{ friendships = { { ME, 424242 } } } end)
    local ok, err = pcall(sb.add, sb, { users = { { id = ME, name = "Again" } } })
    assert.is_false(ok)
    assert.matches("users%[1%]%.id " .. ME .. " appears twice", err)
    ok, err = pcall(sb.add, sb, { users = { { id = 5, name = "x", age = 3 } } })
    assert.matches('users%[1%] has an unknown key "age"', err)
    ok, err = pcall(sb.add, sb, { accounts = { { user_id = ME, api_key = "x" } } })
    assert.matches("accounts and settings cannot be added", err)
    assert.equal(130, assert(client:friends_count(ME)).count)
  end)
end)

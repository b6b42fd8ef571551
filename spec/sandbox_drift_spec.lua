-- The sandbox sends what the live services changed after the API
-- documents (shared/api/drift-2026.md, "Endpoints changed since the
-- documents"): my/friends/requests' limit, friendRequestSort, sessionId,
-- uprankUnseen and isUnseen; the source types 10 to 12; the groups'
-- hasSocialModules, communityTier, isBase and color 0-16; friends/online's
-- sortScore; friends/find's trusted friends.  Driven with LuaSocket, never
-- with the robloxsocial client.  Credentials are never printed.
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local sandbox = require "robloxsocial.sandbox"
local json = require "robloxsocial.sandbox.json"

local MAIN = 1234567890123456
local SIDEKICK = 4398046511104
local STRANGER = 7000000039
local REQUESTS = 34                     -- the main user's pending requests, 6 of them unseen
local UNSEEN = 6

local sb

-- One request as the main user (opts.cookie = false: anonymous; opts.as:
-- another account).  A cookie write does the CSRF handshake.  Returns
-- { status, headers, data }.
local function call(method, path, opts)
  opts = opts or {}
  local headers = { ["user-agent"] = "sandbox-drift-spec/1" }
  local account = opts.as or sb.credentials
  if opts.cookie ~= false then headers.cookie = ".ROBLOSECURITY=" .. account.cookie end
  if opts.csrf then headers["x-csrf-token"] = opts.csrf end
  local body = opts.body and json.encode(opts.body) or (method ~= "GET" and "" or nil)
  if body then
    headers["content-type"] = "application/json"
    headers["content-length"] = tostring(#body)
  end
  local out = {}
  local _, status, h = socket_http.request {
    url = sb.base_url .. path .. (opts.query and ("?" .. opts.query) or ""), method = method,
    headers = headers, source = body and ltn12.source.string(body), sink = ltn12.sink.table(out) }
  h = h or {}
  if status == 403 and h["x-csrf-token"] and not opts.csrf then
    local again = {}
    for k, v in pairs(opts) do again[k] = v end
    again.csrf = h["x-csrf-token"]
    return call(method, path, again)
  end
  local text = table.concat(out)
  return { status = status, headers = h, data = json.decode(text) }
end

local function get(path, query, opts)
  opts = opts or {}
  opts.query = query
  return call("GET", path, opts)
end

local function u(path, id) return (path:gsub("{id}", tostring(id or MAIN))) end

local function requests(query, opts)
  local r = get("/v1/my/friends/requests", query, opts)
  assert.equal(200, r.status)
  return r.data.data
end

local function ids_of(items)
  local ids = {}
  for i, item in ipairs(items) do ids[i] = item.id end
  return ids
end

local function assert_invalid(r)
  assert.equal(400, r.status)
  assert.equal(6, r.data.errors[1].code)
end

describe("the sandbox, as the services changed after the documents", function()
  setup(function() sb = sandbox.start() end)
  teardown(function() sb:stop() end)
  before_each(function() sb:reset() end)

  describe("GET /v1/my/friends/requests", function()
    it("takes any limit from 1 to 100, not only 10, 18, 25, 50 and 100", function()
      for _, limit in ipairs { 1, 7, 20, 33, 100 } do
        assert.equal(math.min(limit, REQUESTS), #requests("limit=" .. limit), limit)
      end
      for _, bad in ipairs { "0", "-3", "101", "x", "7.5" } do
        assert_invalid(get("/v1/my/friends/requests", "limit=" .. bad))
      end
    end)

    it("sorts 1 (the default) oldest first, 0 newest first, 2 most mutual friends first", function()
      local default, oldest = requests("limit=100"), requests("limit=100&friendRequestSort=1")
      local newest, mutual = requests("limit=100&friendRequestSort=0"), requests("limit=100&friendRequestSort=2")
      assert.same(ids_of(oldest), ids_of(default))
      for i = 2, REQUESTS do
        assert.is_true(oldest[i - 1].friendRequest.sentAt <= oldest[i].friendRequest.sentAt)
        assert.equal(oldest[REQUESTS + 1 - i].id, newest[i].id)
        local a, b = mutual[i - 1], mutual[i]
        assert.is_true(#a.mutualFriendsList > #b.mutualFriendsList
          or (#a.mutualFriendsList == #b.mutualFriendsList and a.friendRequest.sentAt >= b.friendRequest.sentAt))
      end
      assert.are_not.same(ids_of(newest), ids_of(mutual))
      assert_invalid(get("/v1/my/friends/requests", "friendRequestSort=3"))
    end)

    it("pages sort 2 with cursors: every request once", function()
      local seen, cursor, pages = {}, nil, 0
      repeat
        local r = get("/v1/my/friends/requests", "limit=7&friendRequestSort=2" .. (cursor and ("&cursor=" .. cursor) or ""))
        pages = pages + 1
        for _, item in ipairs(r.data.data) do
          assert.is_nil(seen[item.id])
          seen[item.id] = true
        end
        cursor = r.data.nextPageCursor ~= json.null and r.data.nextPageCursor or nil
      until not cursor or pages > 10
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.same({ REQUESTS, 5 }, { n, pages })
    end)

    it("accepts a sessionId and answers as without one", function()
      assert.same(ids_of(requests("limit=25")), ids_of(requests("limit=25&sessionId=abc-123")))
    end)

    it("marks each request isUnseen until DELETE /v1/my/new-friend-requests, which the count follows", function()
      local function unseen(items)
        local n = 0
        for _, item in ipairs(items) do
          assert.is_boolean(item.isUnseen)
          if item.isUnseen then n = n + 1 end
        end
        return n
      end
      assert.equal(UNSEEN, unseen(requests("limit=100")))
      assert.equal(UNSEEN, get("/v1/my/new-friend-requests/count").data.count)
      assert.equal(200, call("DELETE", "/v1/my/new-friend-requests").status)
      assert.equal(0, unseen(requests("limit=100")))
      assert.equal(0, get("/v1/my/new-friend-requests/count").data.count)
    end)

    it("puts the unseen requests first with uprankUnseen=true, each part in the sort asked", function()
      assert.is_false(requests("limit=100")[1].isUnseen)
      for _, sort in ipairs { 0, 1, 2 } do
        local plain = requests("limit=100&friendRequestSort=" .. sort)
        local upranked = requests("limit=100&uprankUnseen=true&friendRequestSort=" .. sort)
        local expected = {}
        for _, part in ipairs { true, false } do
          for _, item in ipairs(plain) do
            if item.isUnseen == part then expected[#expected + 1] = item.id end
          end
        end
        assert.same(expected, ids_of(upranked))
      end
      assert.same(ids_of(requests("limit=100")), ids_of(requests("limit=100&uprankUnseen=false")))
      assert.equal(UNSEEN, #requests("limit=" .. UNSEEN .. "&uprankUnseen=True"))
      assert_invalid(get("/v1/my/friends/requests", "uprankUnseen=maybe"))
    end)
  end)

  describe("friendshipOriginSourceType", function()
    it("takes 10 UserCommunities, 11 TrustedFriend and 12 SchoolMemberList, by number or name", function()
      local cases = { { 10, "UserCommunities" }, { 11, "TrustedFriend" }, { "SchoolMemberList", "SchoolMemberList" } }
      for _, case in ipairs(cases) do
        sb:reset()
        local r = call("POST", u("/v1/users/{id}/request-friendship", SIDEKICK),
                       { body = { friendshipOriginSourceType = case[1] } })
        assert.equal(200, r.status, tostring(case[1]))
        local theirs = requests(nil, { as = sb.accounts[2] })[1]
        assert.same({ MAIN, case[2] }, { theirs.id, theirs.friendRequest.originSourceType })
      end
      local r = call("POST", u("/v1/users/{id}/request-friendship", SIDEKICK), { body = { friendshipOriginSourceType = 13 } })
      assert_invalid(r)
    end)
  end)

  describe("GET /v1/users/{userId}/friends/groups/roles", function()
    local function memberships()
      local out = {}
      for _, entry in ipairs(get(u "/v1/users/{id}/friends/groups/roles").data.data) do
        for _, m in ipairs(entry.groups) do out[#out + 1] = m end
      end
      return out
    end

    it("sends group.hasSocialModules, role.isBase and role.color as a number 0-16", function()
      local list = memberships()
      assert.is_true(#list > 10)
      local base = {}
      for _, m in ipairs(list) do
        assert.is_boolean(m.group.hasSocialModules)
        assert.is_boolean(m.role.isBase)
        assert.equal("integer", math.type(m.role.color))
        assert.is_true(m.role.color >= 0 and m.role.color <= 16)
        base[m.role.name] = m.role.isBase
      end
      assert.same({ Member = true, Admin = false, Owner = false }, base)
    end)

    it("sends a world's communityTier as it is, null too, and leaves it out when the world has none", function()
      local tiers = {}
      for _, m in ipairs(memberships()) do tiers[m.group.name] = m.group.communityTier end
      assert.same({ name = "Established", tier = 2 }, tiers["Builders Guild"])
      assert.equal(json.null, tiers["Obby Makers"])
      assert.is_nil(tiers["Pet Collectors"])
    end)

    it("makes the lowest role the base role unless the world marks one, and refuses a colour string", function()
      sb:add { groups = { { id = 77, name = "Tiny", roles = { { id = 1, name = "Fan", rank = 5 },
                                                              { id = 2, name = "Guest", rank = 0, color = 3 } },
                            members = { { user = 1234567890200037, role = 1 } } } } }
      local tiny
      for _, m in ipairs(memberships()) do if m.group.id == 77 then tiny = m end end
      assert.same({ false, 0, false }, { tiny.role.isBase, tiny.role.color, tiny.group.hasSocialModules })
      local ok, err = pcall(sb.add, sb, { groups = { { id = 78, name = "Old", roles = { { id = 1, name = "A", rank = 1, color = "#E2231A" } } } } })
      assert.is_false(ok)
      assert.matches("groups%[1%]%.roles%[1%]%.color must be an integer from 0 to 16", err)
    end)
  end)

  describe("GET /v1/users/{userId}/friends/online", function()
    -- (the sandbox already sent sortScore before the drift work)
    it("sends sortScore and neither includeJoinability nor joinability", function()
      local data = get(u "/v1/users/{id}/friends/online").data.data
      assert.is_true(#data > 0)
      for _, f in ipairs(data) do
        assert.is_number(f.sortScore)
        assert.is_nil(f.includeJoinability)
        assert.is_nil(f.joinability)
      end
    end)
  end)

  describe("GET /v1/users/{userId}/friends/find", function()
    local function found(query, id, opts)
      local r = get(u("/v1/users/{id}/friends/find", id), query, opts)
      assert.equal(200, r.status)
      return ids_of(r.data.PageItems)
    end

    it("lists only the trusted friends with findFriendsType=1", function()
      local f = assert(io.open(sandbox.default_world()))
      local world = json.decode(f:read("a"))
      f:close()
      local trusted = {}
      for _, pair in ipairs(world.trusted_friends) do trusted[pair[2]] = true end
      local ids = found("findFriendsType=1&limit=50")
      assert.equal(6, #ids)
      for _, id in ipairs(ids) do assert.is_true(trusted[id]) end
      assert.equal(50, #found("findFriendsType=0&limit=50"))
      assert.equal(6, #found("findFriendsType=1", nil, { cookie = false }))
      assert_invalid(get(u "/v1/users/{id}/friends/find", "findFriendsType=2"))
    end)

    it("follows the world: unfriending ends the trust, sb:add adds trusted friends", function()
      local first = found("findFriendsType=1")[1]
      assert.equal(200, call("POST", u("/v1/users/{id}/unfriend", first)).status)
      assert.equal(5, #found("findFriendsType=1"))
      sb:add { trusted_friends = { { MAIN, STRANGER } } }
      local ids = found("findFriendsType=1")
      assert.equal(6, #ids)
      local has = false
      for _, id in ipairs(ids) do has = has or id == STRANGER end
      assert.is_true(has)
      assert.same({ MAIN }, found("findFriendsType=1", STRANGER))
    end)
  end)
end)

-- The sandbox itself, driven over TCP with raw LuaSocket requests (never
-- through the robloxsocial client, which the sandbox exists to test).
-- Credentials are only ever compared silently (assert.is_true(a == b)),
-- so that no cookie, key or token can reach busted's output.
local socket = require "socket"
local sandbox = require "robloxsocial.sandbox"
local json = require "robloxsocial.sandbox.json"
local proc = require "spec.proc"
local rawclient = require "spec.rawclient"
local support = require "spec.support"

local MAIN = 1234567890123456
local SIDEKICK = 4398046511104
local EDGE = 9007199254740991              -- 2^53 - 1, a stranger
local REQUESTER = 2000000003434            -- the newest of the 34 requesters
local STRANGER = 7000000039                -- no relation to the main user
local FRIEND_ONE = 1234567890200037        -- the main user's first friend (tagged)

local sb, creds

-- The main user's friends in the order the default world befriends them
-- (the friend lists themselves sort by name).
local function world_friends()
  local f = assert(io.open(sandbox.default_world()))
  local data = json.decode(f:read("a"))
  f:close()
  local ids = {}
  for _, pair in ipairs(data.friendships) do
    if pair[1] == MAIN then ids[#ids + 1] = pair[2] end
  end
  return ids
end

---------------------------------------------------------------------------
-- A raw HTTP/1.1 client of sb (spec/rawclient.lua), made in setup.

local raw

-- The CSRF token of the last handshake, kept as a client keeps it.
local csrf_token

-- One request; a cookie write goes through the CSRF handshake as a client
-- makes it (the token kept, sent again once when refused), unless
-- opts.csrf is false (the specs of the handshake itself).
local function call(method, path, opts)
  opts = opts or {}
  local handshake = (opts.auth or "cookie") == "cookie" and method ~= "GET" and opts.csrf ~= false
  if not handshake then return raw.call(method, path, opts) end
  local given = opts.headers or {}
  local function with_token()
    local h = { table.unpack(given) }
    if csrf_token then h[#h + 1] = "x-csrf-token: " .. csrf_token end
    return h
  end
  opts.headers = with_token()
  local r = raw.call(method, path, opts)
  if r.status == 403 and r.headers["x-csrf-token"] then
    csrf_token = r.headers["x-csrf-token"]
    opts.headers = with_token()
    r = raw.call(method, path, opts)
  end
  return r
end

local function get(path, opts) return call("GET", path, opts) end
local function post(path, body, opts)
  opts = opts or {}
  opts.body = body
  return call("POST", path, opts)
end

local function assert_error(r, status, code, message, user_facing)
  assert.equal(status, r.status)
  assert.is_table(r.data and r.data.errors, r.body)
  assert.equal(code, r.data.errors[1].code)
  if message then assert.equal(message, r.data.errors[1].message) end
  if user_facing ~= false then assert.equal("Something went wrong", r.data.errors[1].userFacingMessage) end
end

local function u(path, id) return (path:gsub("{id}", tostring(id or MAIN))) end

local function ids_of(list, field)
  local out = {}
  for i, x in ipairs(list) do out[i] = x[field or "id"] end
  return out
end

-- Has the process ended?  (A zombie has: this machine's init may never reap it.)
local function gone_or_zombie(pid) return not proc.alive(math.tointeger(tonumber(pid))) end

local function count(path, opts) return get(path, opts).data.count end

---------------------------------------------------------------------------

describe("robloxsocial.sandbox", function()
  setup(function()
    sb = sandbox.start()
    creds = sb.credentials
    raw = rawclient.new(sb, { user_agent = "sandbox-spec/1" })
  end)
  teardown(function() sb:stop() end)
  before_each(function() sb:reset() end)

  describe("launcher", function()
    it("starts on an ephemeral port of 127.0.0.1 and hands out the main user's credentials", function()
      assert.matches("^http://127%.0%.0%.1:%d+$", sb.base_url)
      assert.equal(MAIN, creds.user_id)
      assert.equal("integer", math.type(creds.user_id))
      for _, k in ipairs { "cookie", "api_key", "access_token" } do
        assert.is_true(type(creds[k]) == "string" and #creds[k] > 10, k)
      end
    end)

    it("runs the server as a separate process that stop() ends, and stop() twice is safe", function()
      local other = sandbox.start()
      assert.is_true(other.pid ~= nil and other.port ~= sb.port)
      assert.equal(200, call("GET", "/_sandbox/health").status)
      other:stop()
      other:stop()
      assert.is_true(gone_or_zombie(other.pid))
      assert.is_nil((socket.connect("127.0.0.1", other.port)))
    end)

    it("loads a custom world, and refuses a broken one with a clear message", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write(json.encode {
        accounts = { { user_id = 5000000001, api_key = "k-1" } },
        users = { { id = 5000000001, name = "Solo" }, { id = 5000000002, name = "Pal" } },
        friendships = { { 5000000001, 5000000002 } },
      })
      f:close()
      local tiny = sandbox.start { world = path }
      local s = socket.connect("127.0.0.1", tiny.port)
      s:send("GET /v1/users/5000000002/friends HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      local r = raw.read(s)
      tiny:stop()
      assert.equal(200, r.status)
      assert.same({ 5000000001 }, ids_of(r.data.data))
      f = assert(io.open(path, "w"))
      f:write('{"users": [], "accounts": []}')
      f:close()
      assert.has_error(function() sandbox.start { world = path } end,
        "robloxsocial.sandbox: world: users must be a non-empty list")
      os.remove(path)
    end)

    it("exits by itself when the process that started it has gone", function()
      local _, pid = proc.output(proc.lua_command(
        'io.write(require("robloxsocial.sandbox").start().pid) os.exit(0, false)'))
      assert.matches("^%d+$", pid)
      local deadline = socket.gettime() + 5
      while not gone_or_zombie(pid) and socket.gettime() < deadline do socket.sleep(0.1) end
      assert.is_true(gone_or_zombie(pid))
    end)

    it("has a command that explains itself and refuses unknown options", function()
      local env = ("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q "):format(package.path, package.cpath)
      local p = io.popen(env .. "lua5.4 bin/robloxsocial-sandbox --help")
      local out = p:read("a")
      assert.is_true(p:close())
      assert.matches("%-%-world FILE", out)
      local ok, _, code = os.execute(env .. "lua5.4 bin/robloxsocial-sandbox --bogus 2>/dev/null")
      assert.is_falsy(ok)
      assert.equal(2, code)
    end)
  end)

  describe("HTTP", function()
    it("keeps a connection alive for a second request", function()
      local s = raw.connect()
      raw.send(s, "GET", u "/v1/users/{id}/friends/count")
      local a = assert(raw.read(s))
      raw.send(s, "GET", "/v1/my/friends/count")
      local b = assert(raw.read(s))
      s:close()
      assert.equal("keep-alive", a.headers["connection"])
      assert.same({ 130, 130 }, { a.data.count, b.data.count })
    end)

    it("closes the connection after a request that says Connection: close", function()
      local s = raw.connect()
      raw.send(s, "GET", "/v1/my/friends/count", { close = true })
      local r = assert(raw.read(s))
      assert.equal("close", r.headers["connection"])
      local data, err = s:receive(1)
      assert.same({ nil, "closed" }, { data, err })
      s:close()
    end)

    it("answers every JSON body with its exact length and the JSON content type", function()
      local r = get("/v1/messages")
      assert.equal("application/json; charset=utf-8", r.headers["content-type"])
      assert.equal(#r.body, tonumber(r.headers["content-length"]))
    end)

    it("reads chunked request bodies", function()
      local s = raw.connect()
      local body = json.encode { userIds = { MAIN, EDGE } }
      s:send("POST /v1/presence/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        .. "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        .. ("%x\r\n%s\r\n"):format(10, body:sub(1, 10))
        .. ("%x\r\n%s\r\n0\r\n\r\n"):format(#body - 10, body:sub(11)))
      local r = assert(raw.read(s))
      s:close()
      assert.same({ MAIN, EDGE }, ids_of(r.data.userPresences, "userId"))
    end)

    it("answers Expect: 100-continue before the body is sent", function()
      local s = raw.connect()
      local body = json.encode { userIds = { MAIN } }
      s:send("POST /v1/presence/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        .. "Expect: 100-continue\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n")
      local interim = raw.read(s)
      s:send(body)
      local r = assert(raw.read(s))
      s:close()
      assert.equal(100, interim.status)
      assert.equal(200, r.status)
      assert.equal(MAIN, r.data.userPresences[1].userId)
    end)

    it("matches header names whatever their case", function()
      local r = get("/v1/my/friends/count", { auth = "none", headers = { "COOKIE: .ROBLOSECURITY=" .. creds.cookie } })
      assert.equal(130, r.data.count)
    end)

    it("serves another connection while one is stalled", function()
      sb:fault { path = "/v1/my/friends/count", kind = "stall", seconds = 2 }
      local slow = raw.connect()
      raw.send(slow, "GET", "/v1/my/friends/count")
      socket.sleep(0.1)
      local t0 = socket.gettime()
      local quick = get(u "/v1/users/{id}/friends/count")
      local quick_time = socket.gettime() - t0
      local r = assert(raw.read(slow))
      local slow_time = socket.gettime() - t0
      slow:close()
      assert.equal(200, quick.status)
      assert.is_true(quick_time < 1, "quick request took " .. quick_time)
      assert.is_true(slow_time > 1.5, "stalled request took " .. slow_time)
      assert.equal(130, r.data.count)
    end)

    it("answers an unknown route 404 and a wrong method 405 with the envelope", function()
      local r = get("/v1/nowhere")
      assert.equal(404, r.status)
      assert.same({ errors = { { code = 404, message = "NotFound" } } }, r.data)
      r = call("PUT", "/v1/messages")
      assert_error(r, 405, 0, "The requested resource does not support http method 'PUT'.", false)
      assert.equal("GET", r.headers["allow"])
    end)

    it("routes only to the service that the Host header names", function()
      assert.equal(404, get("/v1/my/friends/count", { host = "contacts.roblox.com" }).status)
      assert.equal(130, get("/v1/my/friends/count", { host = "friends.roblox.com" }).data.count)
      assert.equal(200, get("/v1/messages", { host = "privatemessages.roblox.com" }).status)
    end)

    it("answers a malformed request 400 and closes", function()
      local s = raw.connect()
      s:send("NONSENSE\r\n\r\n")
      local r = assert(raw.read(s))
      s:close()
      assert.equal(400, r.status)
    end)
  end)

  describe("authentication", function()
    it("accepts the cookie, and takes neither the API key nor the bearer token", function()
      assert.equal(130, get("/v1/my/friends/count", { auth = "cookie" }).data.count)
      for _, kind in ipairs { "api_key", "bearer" } do
        assert.equal(401, get("/v1/my/friends/count", { auth = kind }).status)
      end
    end)

    it("answers 401 without valid credentials on every endpoint that documents it", function()
      for _, e in ipairs(support.COOKIE_ONLY) do
        local r = call(e[1], e[2], { auth = "none" })
        assert.same({ e[1] .. " " .. e[2], 401,
                      { errors = { { code = 0, message = "Authorization has been denied for this request." } } } },
                    { e[1] .. " " .. e[2], r.status, r.data })
      end
    end)

    it("answers 401 for a wrong key, token or cookie", function()
      local wrong = { api_key = "nope", access_token = "nope", cookie = "nope" }
      for _, kind in ipairs { "cookie", "api_key", "bearer" } do
        assert.equal(401, get("/v1/my/friends/count", { auth = kind, as = wrong }).status)
      end
    end)

    it("lets the public endpoints answer without credentials", function()
      assert.equal(130, get(u "/v1/users/{id}/friends/count", { auth = "none" }).data.count)
      assert.equal(200, get(u "/v1/users/{id}/friends/find", { auth = "none" }).status)
      assert.equal(200, post("/v1/presence/users", { userIds = { MAIN } }, { auth = "none" }).status)
    end)

    it("knows each account of the world apart", function()
      local side = sb.accounts[2]
      assert.equal(SIDEKICK, side.user_id)
      assert.equal(12, get("/v1/my/friends/count", { as = side }).data.count)
    end)
  end)

  describe("CSRF", function()
    it("challenges a cookie write without a token, then accepts the token and reuses it", function()
      local r = post("/v1/my/friends/refresh-qr-session", nil, { csrf = false })
      assert_error(r, 403, 0, "XSRF token invalid", false)
      local token = r.headers["x-csrf-token"]
      assert.matches("^%x+$", token)
      local headers = { "x-csrf-token: " .. token }
      assert.same({ Success = true }, post("/v1/my/friends/refresh-qr-session", nil, { csrf = false, headers = headers }).data)
      local again = post("/v1/user/friend-requests/decline-all", nil, { csrf = false, headers = headers })
      assert.equal(200, again.status)
      assert.is_nil(again.headers["x-csrf-token"])
    end)

    it("challenges a wrong token, and DELETE too", function()
      local r = call("DELETE", "/v1/my/new-friend-requests", { csrf = false, headers = { "x-csrf-token: bogus" } })
      assert.equal(403, r.status)
      local token = r.headers["x-csrf-token"]
      r = call("DELETE", "/v1/my/new-friend-requests", { csrf = false, headers = { "x-csrf-token: " .. token } })
      assert.same({ status = true }, r.data)
    end)

    it("hands out a new token once the old one has expired", function()
      sb:configure { csrf_ttl = 1 }
      local first = post("/v1/my/friends/refresh-qr-session", nil, { csrf = false }).headers["x-csrf-token"]
      local ok = post("/v1/my/friends/refresh-qr-session", nil, { csrf = false, headers = { "x-csrf-token: " .. first } })
      assert.equal(200, ok.status)
      sb:advance(1.1)
      local late = post("/v1/my/friends/refresh-qr-session", nil, { csrf = false, headers = { "x-csrf-token: " .. first } })
      assert.equal(403, late.status)
      assert.is_truthy(late.headers["x-csrf-token"])
      assert.are_not.equal(first, late.headers["x-csrf-token"])
    end)

    it("asks nothing of cookie reads", function()
      assert.equal(200, get("/v1/my/friends/count", { auth = "cookie" }).status)
    end)
  end)

  describe("friends: the caller's requests", function()
    it("answers the page metadata, with null names unless targetUserId is given", function()
      local r = get("/v1/metadata")
      assert.same({ json.null, json.null, false, 0 },
                  { r.data.userName, r.data.displayName, r.data.isFriendsPageSortExperimentEnabled,
                    r.data.frequentFriendSortRollout })
      assert.equal("SandboxSidekick", get("/v1/metadata", { query = "targetUserId=" .. SIDEKICK }).data.userName)
      assert.equal("Sandbox Hero", get("/v1/metadata", { query = "targetUserId=" .. MAIN }).data.displayName)
      assert_error(get("/v1/metadata", { query = "targetUserId=abc" }), 400, 6, "Invalid parameters.")
    end)

    it("counts the caller's friends, pending requests and new requests", function()
      assert.equal(130, count("/v1/my/friends/count"))
      assert.equal(34, count("/v1/user/friend-requests/count"))
      assert.equal(6, count("/v1/my/new-friend-requests/count"))
    end)

    it("clears the new-requests counter but keeps the requests", function()
      assert.same({ status = true }, call("DELETE", "/v1/my/new-friend-requests").data)
      assert.equal(0, count("/v1/my/new-friend-requests/count"))
      assert.equal(34, count("/v1/user/friend-requests/count"))
    end)

    it("pages the requests at any limit, newest first with friendRequestSort=0", function()
      for _, limit in ipairs { 7, 10, 18, 25, 50, 100 } do
        local seen, pages, cursor, last_sent = {}, 0, nil, "9"
        repeat
          local r = get("/v1/my/friends/requests",
            { query = "friendRequestSort=0&limit=" .. limit .. (cursor and ("&cursor=" .. cursor) or "") })
          assert.equal(200, r.status)
          pages = pages + 1
          assert.is_true(#r.data.data <= limit)
          assert.equal(pages == 1, r.data.previousPageCursor == json.null)
          for _, item in ipairs(r.data.data) do
            assert.is_nil(seen[item.id])
            seen[item.id] = true
            assert.is_true(item.friendRequest.sentAt <= last_sent)
            last_sent = item.friendRequest.sentAt
          end
          cursor = r.data.nextPageCursor ~= json.null and r.data.nextPageCursor or nil
        until not cursor
        local n = 0
        for _ in pairs(seen) do n = n + 1 end
        assert.same({ limit, 34, math.ceil(34 / limit) }, { limit, n, pages })
      end
    end)

    it("describes each request like the live service", function()
      local item = get("/v1/my/friends/requests", { query = "friendRequestSort=0" }).data.data[1]
      assert.equal(REQUESTER, item.id)
      assert.equal(REQUESTER, item.friendRequest.senderId)
      for _, k in ipairs { "sentAt", "originSourceType", "senderNickname" } do
        assert.is_string(item.friendRequest[k], k)
      end
      assert.equal(json.null, item.friendRequest.contactName)
      assert.is_table(item.mutualFriendsList)
      assert.is_true(#item.mutualFriendsList >= 1)
      assert.same({ false, json.null }, { item.isBanned, item.externalAppDisplayName })
      for _, k in ipairs { "name", "displayName", "description", "created" } do assert.is_string(item[k], k) end
      assert.is_boolean(item.hasVerifiedBadge)
    end)

    it("refuses a limit outside 1 to 100, a bad sort and a bad cursor with code 6", function()
      for _, q in ipairs { "limit=101", "limit=0", "limit=x", "friendRequestSort=3", "cursor=bm9wZQ==" } do
        assert_error(get("/v1/my/friends/requests", { query = q }), 400, 6, "Invalid parameters.")
      end
    end)

    it("accepts a request: a friendship appears and the request goes", function()
      local r = post(u("/v1/users/{id}/accept-friend-request", REQUESTER))
      assert.equal(200, r.status)
      assert.same({}, r.data)
      assert.equal("{}", r.body)
      assert.equal(131, count("/v1/my/friends/count"))
      assert.equal(33, count("/v1/user/friend-requests/count"))
      local st = get(u "/v1/users/{id}/friends/statuses", { query = "userIds=" .. REQUESTER }).data.data[1]
      assert.equal("Friends", st.status)
      assert_error(post(u("/v1/users/{id}/accept-friend-request", REQUESTER)), 400, 10,
                   "The friend request does not exist.")
    end)

    it("answers code 1 for an unknown requester and 10 for a user who never asked", function()
      assert_error(post(u("/v1/users/{id}/accept-friend-request", 99999999999)), 400, 1,
                   "The target user is invalid or does not exist.")
      assert_error(post(u("/v1/users/{id}/decline-friend-request", STRANGER)), 400, 10,
                   "The friend request does not exist.")
    end)

    it("declines a request, and declines all", function()
      assert.same({}, post(u("/v1/users/{id}/decline-friend-request", REQUESTER)).data)
      assert.equal(33, count("/v1/user/friend-requests/count"))
      assert.equal(130, count("/v1/my/friends/count"))
      assert.same({ backgrounded = false }, post("/v1/user/friend-requests/decline-all").data)
      assert.equal(0, count("/v1/user/friend-requests/count"))
      local r = get("/v1/my/friends/requests")
      assert.same({ 0, json.null, json.null }, { #r.data.data, r.data.nextPageCursor, r.data.previousPageCursor })
    end)

    it("sends a friend request that the other user then sees", function()
      local side = sb.accounts[2]
      local r = post(u("/v1/users/{id}/request-friendship", SIDEKICK),
                     { friendshipOriginSourceType = 1, senderNickname = "Hero" })
      assert.same({ success = true, isCaptchaRequired = false }, r.data)
      local mine = get(u "/v1/users/{id}/friends/statuses", { query = "userIds=" .. SIDEKICK }).data.data[1]
      assert.equal("RequestSent", mine.status)
      local theirs = get("/v1/my/friends/requests", { as = side }).data.data[1]
      assert.same({ MAIN, "Hero", "PlayerSearch" },
                  { theirs.id, theirs.friendRequest.senderNickname, theirs.friendRequest.originSourceType })
      assert.equal(1, count("/v1/my/new-friend-requests/count", { as = side }))
      assert.same({}, post(u("/v1/users/{id}/accept-friend-request", MAIN), nil, { as = side }).data)
      assert.equal(131, count("/v1/my/friends/count"))
    end)

    it("befriends at once when the target had already asked the caller", function()
      assert.same({ success = true, isCaptchaRequired = false },
                  post(u("/v1/users/{id}/request-friendship", REQUESTER), {}).data)
      assert.equal(131, count("/v1/my/friends/count"))
      assert.equal(33, count("/v1/user/friend-requests/count"))
    end)

    it("refuses requests with codes 1, 5, 6, 7 and 35", function()
      local rf = function(id, body) return post(u("/v1/users/{id}/request-friendship", id), body or {}) end
      assert_error(rf(88888888888), 400, 1, "The target user is invalid or does not exist.")
      assert_error(rf(FRIEND_ONE), 400, 5, "The target user is already a friend.")
      assert_error(rf(STRANGER, { friendshipOriginSourceType = 99 }), 400, 6, "Invalid parameters.")
      assert_error(rf(MAIN), 400, 7, "The user cannot be friends with itself.")
      assert_error(rf(STRANGER, { senderNickname = ("x"):rep(21) }), 400, 35, "Invalid nickname.")
      assert_error(rf(STRANGER, { senderNickname = "badword" }), 400, 35, "Invalid nickname.")
    end)

    it("refuses a request to a user who is at the friend limit with code 31 for the sender", function()
      sb:configure { max_friends = 130 }
      assert_error(post(u("/v1/users/{id}/request-friendship", STRANGER), {}), 400, 31,
                   "User with max friends sent friend request.")
      assert_error(post(u("/v1/users/{id}/accept-friend-request", REQUESTER)), 400, 11,
                   "The current users friends limit has been exceeded.")
    end)

    it("sends a request to a contact, by contact id", function()
      local r = post("/v1/contacts/c-1001/request-friendship")
      assert.same({ success = true, isCaptchaRequired = false }, r.data)
      local st = get(u "/v1/users/{id}/friends/statuses", { query = "userIds=" .. STRANGER }).data.data[1]
      assert.equal("RequestSent", st.status)
      assert_error(post("/v1/contacts/c-nobody/request-friendship"), 400, 1)
      assert_error(post("/v1/contacts/c-1003/request-friendship"), 400, 5)
    end)

    it("accepts a friend request with a friending token, once", function()
      local sender = 7000000065
      assert_error(post(u("/v1/users/{id}/accept-friend-request-with-token", sender), { friendingToken = "wrong" }),
                   400, 6, "Invalid parameters.")
      local r = post(u("/v1/users/{id}/accept-friend-request-with-token", sender), { friendingToken = "ft-alpha-0001" })
      assert.same({}, r.data)
      assert.equal(131, count("/v1/my/friends/count"))
      assert_error(post(u("/v1/users/{id}/accept-friend-request-with-token", sender), { friendingToken = "ft-alpha-0001" }),
                   400, 5, "The target user is already a friend.")
      assert_error(post(u("/v1/users/{id}/accept-friend-request-with-token", MAIN), { friendingToken = "x" }),
                   400, 7)
      assert_error(post(u("/v1/users/{id}/accept-friend-request-with-token", 77777777777), { friendingToken = "x" }),
                   400, 1)
    end)

    it("unfriends", function()
      assert.same({}, post(u("/v1/users/{id}/unfriend", FRIEND_ONE)).data)
      assert.equal(129, count("/v1/my/friends/count"))
      local st = get(u "/v1/users/{id}/friends/statuses", { query = "userIds=" .. FRIEND_ONE }).data.data[1]
      assert.equal("NotFriends", st.status)
      assert_error(post(u("/v1/users/{id}/unfriend", 66666666666)), 400, 1)
    end)

    it("refreshes the caller's QR session and checks anyone's as a bare boolean", function()
      local check = function(id) return get(u("/v1/my/friends/{id}/check-qr-session", id)) end
      assert.equal("false", check(MAIN).body)
      assert.same({ Success = true }, post("/v1/my/friends/refresh-qr-session").data)
      assert.equal("true", check(MAIN).body)
      assert.is_true(check(1234567890200259).data)  -- seeded in the world
      assert.is_false(check(STRANGER).data)
    end)
  end)

  describe("friends: friend lists", function()
    it("lists a user's friends as UserResponse models, by name, without description or created", function()
      local r = get(u "/v1/users/{id}/friends")
      assert.equal(130, #r.data.data)
      for i = 2, 130 do assert.is_true(r.data.data[i - 1].name:lower() < r.data.data[i].name:lower()) end
      local f = r.data.data[1]
      for _, k in ipairs { "isOnline", "isDeleted", "hasVerifiedBadge", "isBanned" } do assert.is_boolean(f[k], k) end
      for _, k in ipairs { "presenceType", "friendFrequentScore", "friendFrequentRank", "id" } do
        assert.equal("integer", math.type(f[k]), k)
      end
      for _, k in ipairs { "name", "displayName" } do assert.is_string(f[k], k) end
      assert.same({ json.null, "0001-01-01T05:51:00Z" }, { f.description, f.created })
      assert.equal(json.null, f.externalAppDisplayName)
    end)

    it("sorts online friends first, then by frequency, with userSort=2 and refuses userSort=7", function()
      local data = get(u "/v1/users/{id}/friends", { query = "userSort=2" }).data.data
      for i = 2, #data do
        local a, b = data[i - 1], data[i]
        assert.is_true(a.isOnline or not b.isOnline)
        if a.isOnline == b.isOnline then assert.is_true(a.friendFrequentScore >= b.friendFrequentScore) end
      end
      assert.is_true(data[1].isOnline)
      assert_error(get(u "/v1/users/{id}/friends", { query = "userSort=7" }), 400, 6)
    end)

    it("answers code 1 for an unknown or deleted user on every friend list", function()
      for _, path in ipairs { "/v1/users/{id}/friends", "/v1/users/{id}/friends/count",
                              "/v1/users/{id}/friends/find", "/v1/users/{id}/friends/inactive",
                              "/v1/users/{id}/friends/online", "/v1/users/{id}/friends/search" } do
        assert_error(get(u(path, 55555555555)), 400, 1, "The target user is invalid or does not exist.")
        assert_error(get(u(path, 7000000260)), 400, 1)
      end
    end)

    it("counts another user's friends", function()
      assert.equal(12, count(u("/v1/users/{id}/friends/count", SIDEKICK)))
    end)

    it("walks friends/find in three pages of 50 with opaque cursors", function()
      local seen, pages, cursor = {}, {}, nil
      repeat
        local r = get(u "/v1/users/{id}/friends/find", { query = "limit=50" .. (cursor and ("&cursor=" .. cursor) or "") })
        pages[#pages + 1] = #r.data.PageItems
        assert.equal(#pages == 1, r.data.PreviousCursor == json.null)
        for _, item in ipairs(r.data.PageItems) do
          local keys = {}
          for k in pairs(item) do keys[#keys + 1] = k end
          table.sort(keys)
          assert.same({ "hasVerifiedBadge", "id" }, keys)
          assert.is_nil(seen[item.id])
          seen[item.id] = true
        end
        assert.equal(json.null, r.data.HasMore)
        cursor = r.data.NextCursor ~= json.null and r.data.NextCursor or nil
        if cursor then assert.matches("^[%w+/]+=*$", cursor) end
      until not cursor
      assert.same({ 50, 50, 30 }, pages)
    end)

    it("defaults friends/find to 50 and refuses limits outside 1..50 and bad cursors", function()
      assert.equal(50, #get(u "/v1/users/{id}/friends/find").data.PageItems)
      for _, q in ipairs { "limit=0", "limit=51", "limit=ten", "cursor=%%%", "userSort=5", "findFriendsType=2" } do
        assert_error(get(u "/v1/users/{id}/friends/find", { query = q }), 400, 6, "Invalid parameters.")
      end
      local other_cursor = get(u("/v1/users/{id}/friends/find", SIDEKICK), { query = "limit=1" }).data.NextCursor
      assert_error(get(u "/v1/users/{id}/friends/find", { query = "cursor=" .. other_cursor }), 400, 6)
    end)

    it("lists inactive friends", function()
      local data = get(u "/v1/users/{id}/friends/inactive").data.data
      assert.equal(15, #data)
      for _, f in ipairs(data) do assert.same({}, { f.isOnline, f.presenceType }) end
    end)

    it("lists online friends with the mixed-case presence model", function()
      local data = get(u "/v1/users/{id}/friends/online").data.data
      assert.equal(21, #data)
      local types = {}
      for _, f in ipairs(data) do
        local p = f.userPresence
        types[p.UserPresenceType] = (types[p.UserPresenceType] or 0) + 1
        assert.is_nil(p.lastOnline)
        assert.is_number(f.sortScore)
        if p.UserPresenceType == "InGame" then
          assert.equal("Game", p.UserLocationType)
          assert.equal("integer", math.type(p.placeId))
          assert.equal("integer", math.type(p.universeId))
          assert.is_string(p.gameInstanceId)
        else
          assert.equal(json.null, p.placeId)
        end
      end
      assert.same({ Online = 10, InGame = 8, InStudio = 3 }, types)
    end)

    it("searches friends by name and display name, case-insensitively, in pages", function()
      local first = get(u "/v1/users/{id}/friends/search", { query = "query=BOB" }).data
      assert.equal(20, #first.PageItems)
      assert.equal(json.null, first.HasMore)
      assert.is_string(first.NextCursor)
      local second = get(u "/v1/users/{id}/friends/search", { query = "query=BOB&cursor=" .. first.NextCursor }).data
      assert.same({ 9, json.null, json.null }, { #second.PageItems, second.HasMore, second.NextCursor })
      local none = get(u "/v1/users/{id}/friends/search", { query = "query=zzzz" }).data
      assert.same({ 0, json.null }, { #none.PageItems, none.NextCursor })
      assert_error(get(u "/v1/users/{id}/friends/search", { query = "limit=51" }), 400, 6)
    end)

    it("answers friend statuses in the order asked, repeated or comma-separated", function()
      local q = ("userIds=%d&userIds=%d&userIds=%d&userIds=%d"):format(SIDEKICK, FRIEND_ONE, REQUESTER, 7000000026)
      local data = get(u "/v1/users/{id}/friends/statuses", { auth = "none", query = q }).data.data
      assert.same({ { id = SIDEKICK, status = "NotFriends" }, { id = FRIEND_ONE, status = "Friends" },
                    { id = REQUESTER, status = "RequestReceived" }, { id = 7000000026, status = "RequestSent" } }, data)
      local comma = get(u "/v1/users/{id}/friends/statuses", { query = "userIds=" .. FRIEND_ONE .. "," .. SIDEKICK }).data.data
      assert.same({ FRIEND_ONE, SIDEKICK }, ids_of(comma))
    end)

    it("refuses statuses for more than 50 ids (15), bad or no ids (16) and unknown users (1)", function()
      local many = {}
      for i = 1, 51 do many[i] = "userIds=" .. (5000000000 + i) end
      assert_error(get(u "/v1/users/{id}/friends/statuses", { query = table.concat(many, "&") }), 400, 15, "Too many ids.")
      assert_error(get(u "/v1/users/{id}/friends/statuses", { query = "userIds=abc" }), 400, 16, "Invalid ids.")
      assert_error(get(u "/v1/users/{id}/friends/statuses"), 400, 16)
      assert_error(get(u("/v1/users/{id}/friends/statuses", 44444444444), { query = "userIds=1" }), 400, 1)
    end)

    it("tells which of up to 50 users are friends", function()
      local r = post(u "/v1/user/{id}/multiget-are-friends", { targetUserIds = { SIDEKICK, FRIEND_ONE, STRANGER } })
      assert.same({ friendsId = { FRIEND_ONE } }, r.data)
      local many = {}
      for i = 1, 51 do many[i] = 5000000000 + i end
      assert_error(post(u "/v1/user/{id}/multiget-are-friends", { targetUserIds = many }), 400, 15)
      assert_error(post(u("/v1/user/{id}/multiget-are-friends", 33333333333), { targetUserIds = { 1 } }), 400, 1)
    end)
  end)

  describe("presence and groups", function()
    it("answers presence in the order asked, exact ids, types 0 to 3 (invisible looks offline)", function()
      local ids = world_friends()
      local ask = { EDGE, ids[1], ids[11], ids[19], ids[22], ids[30] }
      local r = post("/v1/presence/users", { userIds = ask })
      assert.same(ask, ids_of(r.data.userPresences, "userId"))
      assert.same({ 0, 1, 2, 3, 0, 0 }, ids_of(r.data.userPresences, "userPresenceType"))
      assert.equal("integer", math.type(r.data.userPresences[1].userId))
      local game = r.data.userPresences[3]
      for _, k in ipairs { "placeId", "rootPlaceId", "universeId" } do assert.equal("integer", math.type(game[k]), k) end
      assert.is_string(game.gameId)
      assert.is_string(game.lastLocation)
    end)

    it("refuses more than 50 ids with code 2", function()
      local many = {}
      for i = 1, 51 do many[i] = 5000000000 + i end
      assert_error(post("/v1/presence/users", { userIds = many }), 400, 2, "Too many User Ids being sent in the request.")
    end)

    it("lists the groups and roles of a user's friends", function()
      local data = get(u "/v1/users/{id}/friends/groups/roles").data.data
      assert.is_true(#data > 5)
      local entry = data[1]
      assert.same({ "integer", "string", "string", "boolean" },
                  { math.type(entry.user.userId), type(entry.user.username), type(entry.user.displayName),
                    type(entry.user.hasVerifiedBadge) })
      local g = entry.groups[1]
      assert.equal("integer", math.type(g.group.id))
      assert.is_string(g.group.name)
      assert.equal("integer", math.type(g.group.memberCount))
      assert.is_boolean(g.group.hasVerifiedBadge)
      assert.same({ "integer", "string", "integer" }, { math.type(g.role.id), type(g.role.name), math.type(g.role.rank) })
      assert_error(get(u("/v1/users/{id}/friends/groups/roles", 22222222222)), 400, 3,
                   "The user is invalid or does not exist.")
    end)
  end)

  describe("contacts", function()
    it("validates a tag: Success, TooLong, Moderated; no alias is code 4", function()
      local v = function(q) return get("/v1/user/tag/validate", { query = q }) end
      assert.same({ status = "Success" }, v("alias=Cousin").data)
      assert.same({ status = "TooLong" }, v("alias=" .. ("x"):rep(101)).data)
      assert.same({ status = "Moderated" }, v("alias=my%20badword").data)
      assert_error(v(nil), 400, 4, "Invalid parameters.")
    end)

    it("gets tags as a bare array in the order asked, null for untagged users", function()
      local r = post("/v1/user/get-tags", { targetUserIds = { SIDEKICK, FRIEND_ONE } })
      assert.equal("[", r.body:sub(1, 1))
      assert.same({ { targetUserId = SIDEKICK, targetUserTag = json.null },
                    { targetUserId = FRIEND_ONE, targetUserTag = "Best builder" } }, r.data)
    end)

    it("refuses more than 200 ids with code 8 and bad ids with code 4", function()
      local many = {}
      for i = 1, 201 do many[i] = 5000000000 + i end
      assert_error(post("/v1/user/get-tags", { targetUserIds = many }), 400, 8, "Too many user Tags are requested.")
      many[201] = nil
      assert.equal(200, #post("/v1/user/get-tags", { targetUserIds = many }).data)
      assert_error(post("/v1/user/get-tags", { targetUserIds = { "x" } }), 400, 4, "Invalid parameters.")
    end)

    it("sets a tag that get-tags then sees, and clears it with an empty one", function()
      assert.same({ status = "Success" }, post("/v1/user/tag", { targetUserId = SIDEKICK, userTag = "Sidekick" }).data)
      assert.equal("Sidekick", post("/v1/user/get-tags", { targetUserIds = { SIDEKICK } }).data[1].targetUserTag)
      post("/v1/user/tag", { targetUserId = SIDEKICK, userTag = "" })
      assert.equal(json.null, post("/v1/user/get-tags", { targetUserIds = { SIDEKICK } }).data[1].targetUserTag)
    end)

    it("refuses a tag that is too long (6), on oneself (403, 5), on nobody (2); moderates", function()
      assert_error(post("/v1/user/tag", { targetUserId = SIDEKICK, userTag = ("x"):rep(101) }), 400, 6,
                   "The userTag is too long.")
      assert.equal(200, post("/v1/user/tag", { targetUserId = SIDEKICK, userTag = ("x"):rep(100) }).status)
      assert_error(post("/v1/user/tag", { targetUserId = MAIN, userTag = "me" }), 403, 5, "The user cannot tag themselves.")
      assert_error(post("/v1/user/tag", { targetUserId = 11111111111, userTag = "who" }), 400, 2,
                   "The target user is invalid or does not exist.")
      assert_error(post("/v1/user/tag", { userTag = "who" }), 400, 4)
      assert.same({ status = "Moderated" }, post("/v1/user/tag", { targetUserId = FRIEND_ONE, userTag = "badword" }).data)
      assert.equal("Best builder", post("/v1/user/get-tags", { targetUserIds = { FRIEND_ONE } }).data[1].targetUserTag)
    end)
  end)

  describe("private messages", function()
    local function page(q) return get("/v1/messages", { query = q }).data end

    local function walk(tab, size)
      local ids, n, total_pages = {}, 0, nil
      repeat
        local p = page(("messageTab=%s&pageNumber=%d&pageSize=%d"):format(tab, n, size))
        assert.equal(n, p.pageNumber)
        total_pages = p.totalPages
        for _, m in ipairs(p.collection) do ids[#ids + 1] = m.id end
        n = n + 1
      until n >= total_pages
      return ids, total_pages
    end

    it("walks the inbox in three pages of 20, newest first, without repeats", function()
      local ids, pages = walk("Inbox", 20)
      assert.same({ 48, 3 }, { #ids, pages })
      local seen = {}
      for _, id in ipairs(ids) do assert.is_nil(seen[id]); seen[id] = true end
      local first = page("")
      assert.same({ 20, 48, 3, 0 }, { #first.collection, first.totalCollectionSize, first.totalPages, first.pageNumber })
      for i = 2, 20 do assert.is_true(first.collection[i - 1].created >= first.collection[i].created) end
    end)

    it("caps a page at 20 whatever pageSize says, and honours smaller sizes", function()
      local p = page("pageSize=100")
      assert.same({ 20, 3 }, { #p.collection, p.totalPages })
      p = page("pageSize=5&pageNumber=9")
      assert.same({ 3, 10, 9 }, { #p.collection, p.totalPages, p.pageNumber })
      assert.same({ 0, 48 }, { #page("pageNumber=3").collection, page("pageNumber=3").totalCollectionSize })
    end)

    it("has a sent tab and an archive, and refuses an unknown tab", function()
      assert.equal(6, page("messageTab=Sent").totalCollectionSize)
      assert.equal(4, page("messageTab=Archive").totalCollectionSize)
      assert.equal(MAIN, page("messageTab=Sent").collection[1].sender.id)
      assert.equal(400, get("/v1/messages", { query = "messageTab=Spam" }).status)
    end)

    it("describes a message with the MessageDetailsResponse model and an exact int64 id", function()
      local m = page("").collection[1]
      local r = get("/v1/messages/" .. m.id)
      assert.equal("integer", math.type(r.data.id))
      assert.equal(m.id, r.data.id)
      assert.is_true(r.data.id > 2 ^ 52)
      for _, k in ipairs { "sender", "recipient" } do
        assert.same({ "boolean", "integer", "string", "string" },
                    { type(r.data[k].hasVerifiedBadge), math.type(r.data[k].id), type(r.data[k].name), type(r.data[k].displayName) })
      end
      assert.equal(MAIN, r.data.recipient.id)
      for _, k in ipairs { "subject", "body", "created", "updated" } do assert.is_string(r.data[k], k) end
      for _, k in ipairs { "isRead", "isSystemMessage", "isReportAbuseDisplayed" } do assert.is_boolean(r.data[k], k) end
    end)

    it("answers code 2 for a message that is missing or someone else's", function()
      local msg = "Message does not exist or the current user is not authorized to view it."
      assert_error(get("/v1/messages/4503599627999999"), 400, 2, msg)
      assert_error(get("/v1/messages/" .. (4503599627370496 + 300000 + 977)), 400, 2, msg)
    end)

    it("marks messages read and unread, changing the unread count", function()
      assert.equal(20, count("/v1/messages/unread/count"))
      local unread = {}
      for _, m in ipairs(page("").collection) do
        if not m.isRead then unread[#unread + 1] = m.id end
      end
      local two = { unread[1], unread[2] }
      assert.same({ failedMessages = {} }, post("/v1/messages/mark-read", { messageIds = two }).data)
      assert.equal(18, count("/v1/messages/unread/count"))
      assert.is_true(get("/v1/messages/" .. two[1]).data.isRead)
      post("/v1/messages/mark-unread", { messageIds = two })
      assert.equal(20, count("/v1/messages/unread/count"))
    end)

    it("archives and unarchives, moving messages between the inbox and the archive", function()
      local id = page("").collection[1].id
      assert.same({ failedMessages = {} }, post("/v1/messages/archive", { messageIds = { id } }).data)
      assert.same({ 47, 5 }, { page("").totalCollectionSize, page("messageTab=Archive").totalCollectionSize })
      assert.equal(id, page("messageTab=Archive").collection[1].id)
      post("/v1/messages/unarchive", { messageIds = { id } })
      assert.same({ 48, 4 }, { page("").totalCollectionSize, page("messageTab=Archive").totalCollectionSize })
    end)

    it("reports unknown ids in failedMessages and refuses batches over 20 with code 5", function()
      local r = post("/v1/messages/archive", { messageIds = { 4503599627999999 } })
      assert.equal(4503599627999999, r.data.failedMessages[1].messageId)
      assert.is_string(r.data.failedMessages[1].errorMessage)
      local many = {}
      for i = 1, 21 do many[i] = 4503599627370496 + i * 977 end
      for _, op in ipairs { "archive", "unarchive", "mark-read", "mark-unread" } do
        assert_error(post("/v1/messages/" .. op, { messageIds = many }), 400, 5, "Too many ids in a batch request.")
      end
      many[21] = nil
      assert.equal(200, post("/v1/messages/mark-read", { messageIds = many }).status)
    end)

    it("lists three announcements and counts them", function()
      local r = get("/v1/announcements").data
      assert.equal(3, #r.collection)
      assert.equal(3, r.totalCollectionSize)
      local a = r.collection[1]
      assert.same({ "integer", "Roblox", "string", "string", "string", "string" },
                  { math.type(a.id), a.sender.name, type(a.subject), type(a.body), type(a.created), type(a.updated) })
      assert.same({ numOfAnnouncements = 3 }, get("/v1/announcements/metadata").data)
    end)
  end)

  describe("faults", function()
    local path = "/v1/my/friends/count"

    it("answers a status with the envelope and Retry-After, count times, then recovers", function()
      sb:fault { path = path, method = "GET", kind = "status", status = 503, count = 2, retry_after = "1",
                 headers = { ["x-extra"] = "yes" } }
      for _ = 1, 2 do
        local r = get(path)
        assert.same({ 503, "1", "yes", 0 }, { r.status, r.headers["retry-after"], r.headers["x-extra"], r.data.errors[1].code })
      end
      assert.equal(200, get(path).status)
      local statuses = ids_of(sb:requests(), "status")
      assert.same({ 503, 503, 200 }, statuses)
    end)

    it("answers 429 as live, or with the flood code, and an HTTP-date Retry-After", function()
      local date = "Wed, 21 Oct 2015 07:28:00 GMT"
      sb:fault { path = path, kind = "status", status = 429, retry_after = date }
      local r = get(path)
      assert.same({ 429, date, { errors = { { code = 0, message = "Too many requests" } } } },
                  { r.status, r.headers["retry-after"], r.data })
      sb:configure { too_many_requests = "documented" }
      sb:fault { path = path, kind = "status", status = 429 }
      assert.equal(9, get(path).data.errors[1].code)
    end)

    it("matches the method and any path with *", function()
      sb:fault { path = "*", method = "POST", kind = "status", status = 500 }
      assert.equal(200, get(path).status)
      assert.equal(500, post("/v1/presence/users", { userIds = { MAIN } }).status)
      assert.equal(200, post("/v1/presence/users", { userIds = { MAIN } }).status)
    end)

    it("closes the connection partway through the body", function()
      sb:fault { path = "/v1/messages", kind = "close" }
      local r = get("/v1/messages")
      assert.equal(200, r.status)
      assert.is_false(r.complete)
      assert.is_true(#r.body < tonumber(r.headers["content-length"]))
    end)

    it("resets the connection without answering", function()
      sb:fault { path = path, kind = "reset" }
      local s = raw.connect()
      raw.send(s, "GET", path)
      local line, err = s:receive("*l")
      s:close()
      assert.same({ nil, "closed" }, { line, err })
    end)

    it("stalls an answer for the given seconds", function()
      sb:fault { path = path, kind = "stall", seconds = 0.5 }
      local t0 = socket.gettime()
      assert.equal(130, get(path).data.count)
      assert.is_true(socket.gettime() - t0 >= 0.45)
    end)

    it("truncates the JSON of a 200 answer", function()
      sb:fault { path = "/v1/messages", kind = "truncate" }
      local r = get("/v1/messages")
      assert.same({ 200, true }, { r.status, r.complete })
      assert.is_nil(r.data)
      assert.equal("{", r.body:sub(1, 1))
    end)

    it("answers malformed JSON with status 200", function()
      sb:fault { path = path, kind = "malformed" }
      local r = get(path)
      assert.same({ 200, "application/json; charset=utf-8" }, { r.status, r.headers["content-type"] })
      assert.is_nil(r.data)
    end)

    it("answers an HTML error page", function()
      sb:fault { path = path, kind = "html", status = 502 }
      local r = get(path)
      assert.same({ 502, "text/html; charset=utf-8" }, { r.status, r.headers["content-type"] })
      assert.matches("<html>", r.body)
    end)

    it("lists pending faults, clears them, and refuses unknown kinds", function()
      sb:fault { { path = path, kind = "status", count = 3 }, { path = "*", kind = "html" } }
      assert.equal(2, #sb:faults())
      sb:clear_faults()
      assert.equal(0, #sb:faults())
      assert.equal(200, get(path).status)
      assert.has_error(function() sb:fault { path = path, kind = "explode" } end)
    end)

    it("forgets faults on reset", function()
      sb:fault { path = path, kind = "status", count = -1 }
      sb:reset()
      assert.equal(200, get(path).status)
    end)
  end)

  describe("rate limits", function()
    it("are on by default, with a limit no spec reaches, and off with rate_limit_default = false", function()
      local r = get("/v1/my/friends/count")
      assert.same({ "1000000", "999999" }, { r.headers["x-ratelimit-limit"], r.headers["x-ratelimit-remaining"] })
      sb:configure { rate_limit_default = false }
      assert.is_nil(get("/v1/my/friends/count").headers["x-ratelimit-limit"])
    end)

    it("count down in the headers and answer 429 as live past the limit", function()
      sb:configure { rate_limits = { ["GET /v1/my/friends/count"] = { limit = 2, window = 60 } } }
      local a, b, c = get("/v1/my/friends/count"), get("/v1/my/friends/count"), get("/v1/my/friends/count")
      assert.same({ "2", "1", "0" }, { a.headers["x-ratelimit-limit"], a.headers["x-ratelimit-remaining"],
                                       b.headers["x-ratelimit-remaining"] })
      assert.is_true(tonumber(a.headers["x-ratelimit-reset"]) > 0)
      assert_error(c, 429, 0, "Too many requests", false)
      assert.is_true(tonumber(c.headers["retry-after"]) >= 1)
      assert.equal("1000000", get(u "/v1/users/{id}/friends/count").headers["x-ratelimit-limit"])
    end)

    it("use the documented code 10 on contacts, and open again when the window ends", function()
      sb:configure { rate_limits = { contacts = { limit = 1, window = 1 } }, too_many_requests = "documented" }
      assert.equal(200, get("/v1/user/tag/validate", { query = "alias=a" }).status)
      assert_error(get("/v1/user/tag/validate", { query = "alias=a" }), 429, 10)
      sb:advance(1.05)
      assert.equal(200, get("/v1/user/tag/validate", { query = "alias=a" }).status)
    end)
  end)

  describe("admin API", function()
    it("resets the world after writes", function()
      post("/v1/user/friend-requests/decline-all")
      post(u("/v1/users/{id}/unfriend", FRIEND_ONE))
      sb:reset()
      assert.same({ 34, 130 }, { count("/v1/user/friend-requests/count"), count("/v1/my/friends/count") })
    end)

    it("replaces the world with one given to reset", function()
      sb:reset { accounts = { { user_id = 5000000001, cookie = "k" } },
                 users = { { id = 5000000001, name = "Solo" } } }
      assert.equal(0, count("/v1/my/friends/count", { as = { cookie = "k" } }))
      sb:reset(sandbox.default_world())
      assert.equal(130, count("/v1/my/friends/count"))
    end)

    it("logs service requests with their details but never a credential", function()
      sb:clear_requests()
      local first = post("/v1/my/friends/refresh-qr-session", nil, { csrf = false })
      post("/v1/my/friends/refresh-qr-session", nil, { csrf = false, headers = { "x-csrf-token: " .. first.headers["x-csrf-token"] } })
      post("/v1/presence/users", { userIds = { MAIN } }, { auth = "bearer", query = "a=1" })
      get("/v1/messages", { auth = "none" })
      local log = sb:requests()
      assert.equal(4, #log)
      assert.same({ "POST", "/v1/my/friends/refresh-qr-session", "cookie", 403 },
                  { log[1].method, log[1].path, log[1].auth, log[1].status })
      assert.is_nil(log[1].csrf_token)
      assert.equal(first.headers["x-csrf-token"], log[2].csrf_token)
      assert.same({ "bearer", "a=1", '{"userIds":[' .. MAIN .. ']}', "application/json", "sandbox-spec/1", 200 },
                  { log[3].auth, log[3].query, log[3].body, log[3].content_type, log[3].user_agent, log[3].status })
      assert.same({ nil, 401 }, { log[4].auth, log[4].status })
      local text = json.encode(log)
      for _, k in ipairs { "cookie", "api_key", "access_token" } do
        assert.is_nil(text:find(creds[k], 1, true), k .. " leaked into the log")
      end
      sb:clear_requests()
      assert.equal(0, #sb:requests())
    end)

    it("refuses unknown settings", function()
      assert.has_error(function() sb:configure { no_such_setting = 1 } end)
      assert.equal(300, sb:config().csrf_ttl)
    end)
  end)
end)

describe("sandbox faults with after = N", function()
  it("let the first N matching requests through and break the next", function()
    local sb = support.reset()
    local http = require "socket.http"
    local path = "/v1/users/" .. sb.credentials.user_id .. "/friends/count"
    sb:fault{ method = "GET", path = path, kind = "status", status = 503, after = 2 }
    local statuses = {}
    for i = 1, 4 do
      local _, code = http.request(sb.base_url .. path)
      statuses[i] = code
    end
    assert.same({ 200, 200, 503, 200 }, statuses)
  end)

  it("refuses a negative after", function()
    local sb = support.reset()
    assert.has_error(function() sb:fault{ path = "*", kind = "status", after = -1 } end)
  end)
end)

-- The sandbox answers like the live hosts (shared/api/drift-2026.md): only
-- the cookie is a credential on the social hosts, anonymous answers are
-- thinner, presence follows privacy, Open Cloud takes keys and tokens, 401
-- and 429 bodies in their live wordings, rate limits on by default and a
-- "live" preset, sb:advance() and fault specs refused on unknown keys.
-- Driven with LuaSocket, never with the robloxsocial client.  Credentials
-- are only ever compared silently, never printed.
local socket = require "socket"
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local sandbox = require "robloxsocial.sandbox"
local json = require "robloxsocial.sandbox.json"
local support = require "spec.support"

local MAIN = 1234567890123456
local SIDEKICK = 4398046511104
local FRIEND_ONE = 1234567890200037

local sb, creds

local function u(path, id) return (path:gsub("{id}", tostring(id or MAIN))) end

-- One request.  opts: cookie, key, bearer (values), host, csrf (a token),
-- body (a table, sent as JSON).  Returns { status, headers, data }.
local function call(method, path, opts)
  opts = opts or {}
  local headers = { ["user-agent"] = "sandbox-live-spec/1", host = opts.host }
  if opts.cookie then headers.cookie = ".ROBLOSECURITY=" .. opts.cookie end
  if opts.key then headers["x-api-key"] = opts.key end
  if opts.bearer then headers.authorization = "Bearer " .. opts.bearer end
  if opts.csrf then headers["x-csrf-token"] = opts.csrf end
  local body = opts.body and json.encode(opts.body) or (method == "POST" and "" or nil)
  if body then
    headers["content-type"] = "application/json"
    headers["content-length"] = tostring(#body)
  end
  local out = {}
  local _, status, h = socket_http.request {
    url = sb.base_url .. path, method = method, headers = headers,
    source = body and ltn12.source.string(body), sink = ltn12.sink.table(out) }
  local text = table.concat(out)
  return { status = status, headers = h or {}, body = text, data = json.decode(text) }
end

local function get(path, opts) return call("GET", path, opts) end
local function post(path, opts) return call("POST", path, opts) end

local function only_key() return { key = creds.api_key } end
local function only_bearer() return { bearer = creds.access_token } end
local function cookie() return { cookie = creds.cookie } end

-- The 29 endpoints that take only the cookie.
local COOKIE_ONLY = support.COOKIE_ONLY

-- A user in a game, for the presence privacy specs.
local function gamer(id, privacy)
  return { id = id, name = "Gamer" .. id, presencePrivacy = privacy,
           presence = { type = 2, lastLocation = "Obby " .. id, placeId = 100 + id, rootPlaceId = 200 + id,
                        gameId = "g-" .. id, universeId = 300 + id } }
end

describe("the sandbox, like the live hosts", function()
  setup(function()
    sb = sandbox.start()
    creds = sb.credentials
  end)
  teardown(function() sb:stop() end)
  before_each(function() sb:reset() end)

  describe("credentials on the social hosts", function()
    it("take a key or a token alone as anonymous: 401 on each of the 29 cookie-only endpoints", function()
      assert.equal(29, #COOKIE_ONLY)
      for _, e in ipairs(COOKIE_ONLY) do
        for _, opts in ipairs { only_key(), only_bearer() } do
          local r = call(e[1], e[2], opts)
          assert.same({ e[1] .. " " .. e[2], 401 }, { e[1] .. " " .. e[2], r.status })
        end
      end
    end)

    it("answer a key-only caller on the 8 anonymous endpoints as anyone: every friend, no names", function()
      local r = get(u "/v1/users/{id}/friends", only_key())
      assert.equal(130, #r.data.data)
      local seen = {}
      for _, f in ipairs(r.data.data) do
        assert.same({ "", "", "integer" }, { f.name, f.displayName, math.type(f.id) })
        seen[f.id] = true
      end
      assert.is_true(seen[FRIEND_ONE])
      local named = get(u "/v1/users/{id}/friends", cookie()).data.data[1]
      assert.is_true(#named.name > 0 and #named.displayName > 0)
      for _, e in ipairs {
        { "GET", "/v1/metadata" }, { "GET", u "/v1/users/{id}/friends/count" },
        { "GET", u "/v1/users/{id}/friends/find" },
        { "GET", u "/v1/users/{id}/friends/statuses?userIds=" .. FRIEND_ONE },
        { "GET", u "/v1/users/{id}/friends/groups/roles" },
      } do
        assert.same({ e[2], 200 }, { e[2], call(e[1], e[2], only_bearer()).status })
      end
      local multi = post(u "/v1/user/{id}/multiget-are-friends", { key = creds.api_key, body = { targetUserIds = { FRIEND_ONE } } })
      assert.same({ 200, { FRIEND_ONE } }, { multi.status, multi.data.friendsId })
      assert.equal(200, post("/v1/presence/users", { key = creds.api_key, body = { userIds = { MAIN } } }).status)
    end)

    it("identify a caller with a cookie and a key by the cookie, and ask the cookie's CSRF token", function()
      local side = sb.accounts[2]
      local both = { cookie = creds.cookie, key = side.api_key }
      assert.equal(130, get("/v1/my/friends/count", both).data.count)
      local r = post("/v1/my/friends/refresh-qr-session", both)
      assert.same({ 403, "XSRF token invalid" }, { r.status, r.data.errors[1].message })
      both.csrf = r.headers["x-csrf-token"]
      assert.equal(200, post("/v1/my/friends/refresh-qr-session", both).status)
    end)

    it("answer anonymous POSTs without the CSRF handshake, unless anonymous_csrf is set", function()
      local ask = { body = { userIds = { MAIN } } }
      assert.equal(200, post("/v1/presence/users", ask).status)
      sb:configure { anonymous_csrf = true }
      local r = post("/v1/presence/users", ask)
      assert.same({ 403, "XSRF token invalid" }, { r.status, r.data.errors[1].message })
      ask.csrf = r.headers["x-csrf-token"]
      assert.equal(200, post("/v1/presence/users", ask).status)
    end)
  end)

  describe("401 bodies", function()
    it("come in both live wordings, enveloped or flat, as configured", function()
      local path = "/v1/my/friends/count"
      assert.same({ errors = { { code = 0, message = "Authorization has been denied for this request." } } },
                  get(path).data)
      sb:configure { unauthorized = "cookie_empty" }
      assert.same({ errors = { { code = 0, message = "Authentication cookie is empty" } } }, get(path).data)
      sb:configure { unauthorized = "cookie_empty_flat" }
      assert.same({ 401, { code = 0, message = "Authentication cookie is empty" } }, { get(path).status, get(path).data })
      assert.has_error(function() sb:configure { unauthorized = "sorry" } end)
    end)
  end)

  describe("presence", function()
    it("shows offline users at the Website, with no lastOnline and no invisibleModeExpiry", function()
      sb:add { users = { { id = 42, name = "Sleeper", presence = { type = 0, lastLocation = "" } } } }
      local list = post("/v1/presence/users", { body = { userIds = { 42, 99999999 } } }).data.userPresences
      for _, p in ipairs(list) do
        assert.same({ 0, "Website" }, { p.userPresenceType, p.lastLocation })
        assert.is_nil(p.lastOnline)
        assert.is_nil(p.invisibleModeExpiry)
      end
    end)

    it("follows each user's privacy: a hidden place is type 2 with nulls and an empty lastLocation", function()
      sb:add { users = { gamer(51, "everyone"), gamer(52, "friends"), gamer(53, "noone") },
               friendships = { { MAIN, 52 }, { MAIN, 53 } } }
      local function seen(opts)
        opts.body = { userIds = { 51, 52, 53 } }
        local out = {}
        for i, p in ipairs(post("/v1/presence/users", opts).data.userPresences) do
          assert.equal(2, p.userPresenceType)
          out[i] = p.placeId == json.null
            and { p.lastLocation, p.rootPlaceId, p.gameId, p.universeId }
            or p.placeId
        end
        return out
      end
      local hidden = { "", json.null, json.null, json.null }
      assert.same({ 151, hidden, hidden }, seen {})
      assert.same({ 151, hidden, hidden }, seen(only_key()))
      local mine = cookie()
      mine.csrf = post("/v1/presence/users", cookie()).headers["x-csrf-token"]
      assert.same({ 151, 152, hidden }, seen(mine))
      assert.has_error(function() sb:add { users = { { id = 60, name = "X", presencePrivacy = "some" } } } end)
    end)
  end)

  describe("the apis service (Open Cloud)", function()
    local path = "/cloud/v2/users/" .. MAIN

    it("answers GET /cloud/v2/users/{id} to the sandbox's key or token", function()
      for _, opts in ipairs { only_key(), only_bearer() } do
        local r = get(path, opts)
        assert.equal(200, r.status)
        assert.same({ "users/" .. MAIN, tostring(MAIN), "SandboxHero", "Sandbox Hero" },
                    { r.data.path, r.data.id, r.data.name, r.data.displayName })
      end
      local other = get("/cloud/v2/users/" .. SIDEKICK, { key = sb.accounts[2].api_key })
      assert.equal("SandboxSidekick", other.data.name)
      assert.same({ 404, "NOT_FOUND" }, { get("/cloud/v2/users/55555555555", only_key()).status,
                                          get("/cloud/v2/users/55555555555", only_key()).data.code })
    end)

    it("answers 401 to a cookie, a wrong key or nothing", function()
      for _, opts in ipairs { cookie(), { key = "nope" }, { bearer = "nope" }, {} } do
        local r = get(path, opts)
        assert.same({ 401, { errors = { { code = 0, message = "Invalid API Key" } } } }, { r.status, r.data })
      end
    end)

    it("is reached by its path under one base URL, and by its own host", function()
      assert.equal(200, get(path, { key = creds.api_key, host = "apis.roblox.com" }).status)
      assert.equal(404, get(path, { key = creds.api_key, host = "friends.roblox.com" }).status)
    end)
  end)

  describe("rate limits", function()
    local COUNT = u "/v1/users/{id}/friends/count"

    it("have a live preset with the limits observed in 2026", function()
      sb:configure { rate_limits = "live" }
      local function limit(r) return { r.headers["x-ratelimit-limit"], r.headers["x-ratelimit-remaining"] } end
      assert.same({ "60, 60;w=60", "59" }, limit(post("/v1/presence/users", { body = { userIds = { MAIN } } })))
      assert.same({ "20, 20;w=60", "19" }, limit(get(u "/v1/users/{id}/friends")))
      assert.same({ "100, 100;w=60", "99" }, limit(get(COUNT)))
      assert.same({ "100, 100;w=60", "99" }, limit(get(u "/v1/users/{id}/friends/find")))
      assert.same({ "1000, 1000;w=60", "999" }, limit(get("/v1/metadata")))
      assert.equal("live", sb:config().rate_limits)
      assert.has_error(function() sb:configure { rate_limits = "dead" } end)
    end)

    it("count per endpoint template and per caller: the cookie's account, else the address", function()
      sb:configure { rate_limits = { [ "GET /v1/users/{userId}/friends/count" ] = { limit = 1, window = 60 } } }
      assert.equal(200, get(COUNT).status)                                -- anonymous
      assert.equal(429, get(COUNT, only_key()).status)                    -- a key: the same anonymous caller
      assert.equal(200, get(COUNT, cookie()).status)
      assert.equal(429, get(u("/v1/users/{id}/friends/count", SIDEKICK), cookie()).status)
      assert.equal(200, get(COUNT, { cookie = sb.accounts[2].cookie }).status)
    end)

    it("answer 429 while remaining > 0 with refuse_at, and without Retry-After on request", function()
      sb:configure { rate_limits = { ["*"] = { limit = 3, window = 60, refuse_at = 1, retry_after = false } } }
      local a, b, c = get(COUNT), get(COUNT), get(COUNT)
      assert.same({ 200, 200, 429, "1" }, { a.status, b.status, c.status, c.headers["x-ratelimit-remaining"] })
      assert.same({ errors = { { code = 0, message = "Too many requests" } } }, c.data)
      assert.is_nil(c.headers["retry-after"])
    end)

    it("come from a world file's settings too, checked as configure checks them", function()
      local f = assert(io.open(sandbox.default_world()))
      local w = json.decode(f:read("a"))
      f:close()
      w.settings = { rate_limits = "live", unauthorized = "cookie_empty" }
      sb:reset(w)
      assert.equal("60, 60;w=60", post("/v1/presence/users", { body = { userIds = { MAIN } } }).headers["x-ratelimit-limit"])
      assert.equal("Authentication cookie is empty", get("/v1/messages").data.errors[1].message)
      w.settings = { rate_limits = { ["*"] = { limt = 1 } } }
      local ok, err = pcall(sb.reset, sb, w)
      assert.is_false(ok)
      assert.matches('unknown key "limt"', err)
    end)

    it("refuse a rule with an unknown key or style, and take the fixed style", function()
      local ok, err = pcall(sb.configure, sb, { rate_limits = { ["*"] = { limit = 1, windw = 5 } } })
      assert.is_false(ok)
      assert.matches('unknown key "windw"', err)
      ok, err = pcall(sb.configure, sb, { rate_limits = { ["*"] = { limit = 1, style = "leaky" } } })
      assert.matches('style "leaky" is not a style %(fixed, sliding, bucket_full, bucket_next%)', err)
      sb:configure { rate_limits = { ["*"] = { limit = 1, style = "fixed" } } }
      assert.same({ 200, 429 }, { get(COUNT).status, get(COUNT).status })
    end)
  end)

  describe("sb:advance()", function()
    local COUNT = u "/v1/users/{id}/friends/count"

    it("moves rate-limit windows: a spent window opens again without sleeping", function()
      sb:configure { rate_limits = { ["*"] = { limit = 1, window = 60 } } }
      assert.equal(200, get(COUNT).status)
      local refused = get(COUNT)
      assert.equal(429, refused.status)
      assert.is_true(tonumber(refused.headers["x-ratelimit-reset"]) > 30)
      sb:advance(31)
      assert.is_true(tonumber(get(COUNT).headers["x-ratelimit-reset"]) <= 29)
      sb:advance(29)
      assert.equal(200, get(COUNT).status)
    end)

    it("ages CSRF tokens", function()
      local opts = cookie()
      opts.csrf = post("/v1/my/friends/refresh-qr-session", cookie()).headers["x-csrf-token"]
      assert.equal(200, post("/v1/my/friends/refresh-qr-session", opts).status)
      sb:advance(301)
      local late = post("/v1/my/friends/refresh-qr-session", opts)
      assert.equal(403, late.status)
      assert.is_true(late.headers["x-csrf-token"] ~= opts.csrf)
    end)

    it("ends a stall early", function()
      sb:fault { path = COUNT, kind = "stall", seconds = 60 }
      local s = assert(socket.connect("127.0.0.1", sb.port))
      s:settimeout(10)                      -- far below the stall: only advance() can end it in time
      assert(s:send("GET " .. COUNT .. " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
      local deadline = socket.gettime() + 5
      repeat socket.sleep(0.02) until #sb:requests() == 1 or socket.gettime() > deadline
      sb:advance(60)
      local line = s:receive("*l")
      s:close()
      assert.equal("HTTP/1.1 200 OK", line)
    end)

    it("refuses a negative or missing number of seconds", function()
      assert.is_function(sb.advance)
      assert.has_error(function() sb:advance(-1) end)
      assert.has_error(function() sb:advance() end)
    end)
  end)

  describe("fault specs", function()
    it("refuse a key that no kind takes, naming it, and values of the wrong type", function()
      local cases = {
        { { path = "*", kind = "status", staus = 429 }, '"staus"' },
        { { path = "*", kind = "stall", secnds = 1 }, '"secnds"' },
        { { path = "*", kind = "close", byts = 3 }, '"byts"' },
        { { path = "*", kind = "challenge", metdata = {} }, '"metdata"' },
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(sb.fault, sb, case[1])
        assert.is_false(ok)
        assert.matches(case[2], err, 1, true)
      end
      assert.has_error(function() sb:fault { path = "*", kind = "status", status = "429x" } end)
      assert.has_error(function() sb:fault { path = "*", kind = "stall", seconds = -1 } end)
      assert.equal(0, #sb:faults())
      sb:fault { path = "*", kind = "truncate", status = 500 }   -- another kind's key: ignored
      sb:fault { path = "*", kind = "status", status = 429, _why = "a comment" }
      assert.equal(2, #sb:faults())
    end)
  end)
end)

-- The sandbox's transport knobs, driven over raw TCP with LuaSocket:
-- latency, the faults a client must survive (echo, drop, verbatim
-- headers, challenges, cookie rotation), path patterns, multi-window rate
-- limits, the users route and the connection numbers of the request log.
-- Credentials are only ever compared silently (assert.is_true(a == b)),
-- so that no cookie, key or token can reach busted's output.
local socket = require "socket"
local sandbox = require "robloxsocial.sandbox"
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local rawclient = require "spec.rawclient"

local MAIN = 1234567890123456
local SIDEKICK = 4398046511104
local FRIENDS_COUNT = "/v1/users/" .. MAIN .. "/friends/count"

local sb, creds

---------------------------------------------------------------------------
-- A raw HTTP/1.1 client of sb (spec/rawclient.lua), made in setup: each
-- request says Connection: close unless its opts.keep.

local raw

local function get(path, opts) return raw.call("GET", path, opts) end
local function post(path, opts) return raw.call("POST", path, opts) end

local function has(text, part) return text ~= nil and text:find(part, 1, true) ~= nil end

-- A cookie write that passes the CSRF handshake; returns both answers.
local function cookie_post(path)
  local first = post(path, { auth = "cookie" })
  local second = post(path, { auth = "cookie", headers = { "x-csrf-token: " .. first.headers["x-csrf-token"] } })
  return first, second
end

-- A valid CSRF token of the main user, as the header line of a write.
local function csrf_header()
  return "x-csrf-token: " .. post("/v1/my/friends/refresh-qr-session").headers["x-csrf-token"]
end

-- How the server ended a connection that it closed without answering:
-- "rst" or "fin".  LuaSocket reports both as "closed" on receive, but
-- only a RST leaves an error pending on the socket (SO_ERROR).
local function ending(s)
  socket.select({ s }, nil, 10)
  return s:getoption("error") and "rst" or "fin"
end

local function pending_requests()
  return get("/v1/user/friend-requests/count").data.count
end

---------------------------------------------------------------------------

describe("the sandbox's transport faults", function()
  setup(function()
    sb = sandbox.start()
    creds = sb.credentials
    raw = rawclient.new(sb, { close = true })
  end)
  teardown(function() sb:stop() end)
  before_each(function() sb:reset() end)

  describe("latency", function()
    it("answers 100 connections opened at once, each request logged on its own connection", function()
      sb:configure { latency = 0.05 }
      local socks = {}
      for i = 1, 100 do
        socks[i] = raw.connect()
        raw.send(socks[i], "GET", FRIENDS_COUNT, { auth = "none" })
      end
      local answered = 0
      for i = 1, 100 do
        local r = raw.read(socks[i])
        socks[i]:close()
        if r and r.status == 200 and r.data.count == 130 then answered = answered + 1 end
      end
      assert.equal(100, answered)
      local log, conns, distinct = sb:requests(), {}, 0
      assert.equal(100, #log)
      for _, e in ipairs(log) do
        if not conns[e.conn] then distinct = distinct + 1 end
        conns[e.conn] = true
      end
      assert.equal(100, distinct)
    end)

    it("serves other connections while one answer waits", function()
      sb:configure { latency = { ["*"] = 0, ["POST /v1/presence/users"] = 1 } }
      local slow = raw.connect()
      raw.send(slow, "POST", "/v1/presence/users", { auth = "none", body = { userIds = { MAIN } } })
      assert.equal(130, get(FRIENDS_COUNT).data.count)   -- answered while the other waits
      local ready = socket.select({ slow }, nil, 0)
      assert.equal(0, #ready)
      local r = raw.read(slow)
      slow:close()
      assert.equal(200, r.status)
      local log = sb:requests()
      assert.same({ FRIENDS_COUNT, "/v1/presence/users" }, { log[1].path, log[2].path })
    end)

    it("is a number or an object by path, refuses anything else, and reset() clears it", function()
      sb:configure { latency = { ["*"] = 0.01, ["/v1/presence/users"] = 0.02 } }
      assert.same({ ["*"] = 0.01, ["/v1/presence/users"] = 0.02 }, sb:config().latency)
      assert.has_error(function() sb:configure { latency = -1 } end)
      assert.has_error(function() sb:configure { latency = { ["*"] = "slow" } } end)
      sb:reset()
      assert.equal(0, sb:config().latency)
    end)

    it("comes from start{ latency } and --latency, and outlives reset()", function()
      local slow <close> = sandbox.start { latency = 0.02 }
      assert.equal(0.02, slow:config().latency)
      slow:configure { latency = 0 }
      slow:reset()
      assert.equal(0.02, slow:config().latency)
      local cli = require "robloxsocial.sandbox.cli"
      assert.equal(50, cli.parse { "--latency", "50" }.latency)
      assert.same({ nil, "--latency needs milliseconds >= 0" }, { cli.parse { "--latency", "soon" } })
    end)
  end)

  describe("the request log", function()
    it("numbers the TCP connections and gives each request's client port", function()
      local s = raw.connect()
      raw.send(s, "GET", FRIENDS_COUNT, { keep = true })
      assert.equal(200, raw.read(s).status)
      raw.send(s, "GET", FRIENDS_COUNT, { keep = true })
      assert.equal(200, raw.read(s).status)
      local _, port = s:getsockname()
      s:close()
      get(FRIENDS_COUNT)
      local log = sb:requests()
      assert.equal(3, #log)
      assert.equal(log[1].conn, log[2].conn)
      assert.are_not.equal(log[2].conn, log[3].conn)
      assert.equal(math.tointeger(tonumber(port)), log[1].port)
    end)
  end)

  describe("echo", function()
    it("answers the credentials the request carried in the message, the reason and x-echo", function()
      sb:fault { path = FRIENDS_COUNT, kind = "echo" }
      local r = get(FRIENDS_COUNT, { auth = "cookie", headers = { "x-api-key: " .. creds.api_key,
        "Authorization: Bearer " .. creds.access_token, "x-csrf-token: tok-123" } })
      assert.equal(400, r.status)
      local message = r.data.errors[1].message
      for _, secret in ipairs { creds.cookie, creds.api_key, creds.access_token, "tok-123" } do
        assert.is_true(has(message, secret))
        assert.is_true(has(r.reason, secret))
        assert.is_true(has(r.headers["x-echo"], secret))
      end
      assert.is_false(has(json.encode(sb:requests()), creds.cookie))
    end)

    it("takes another status, and says so when nothing was carried", function()
      sb:fault { path = FRIENDS_COUNT, kind = "echo", status = 500 }
      local r = get(FRIENDS_COUNT, { auth = "none" })
      assert.same({ 500, "echo: no credentials", "echo: no credentials" },
                  { r.status, r.reason, r.data.errors[1].message })
    end)

    it("answers a flat {code, message} with flat = true", function()
      sb:fault { path = FRIENDS_COUNT, kind = "echo", flat = true, code = 7 }
      local r = get(FRIENDS_COUNT)
      assert.same({ 400, 7 }, { r.status, r.data.code })
      assert.is_true(has(r.data.message, creds.cookie))
    end)
  end)

  describe("status faults", function()
    it("send a custom reason phrase", function()
      sb:fault { path = FRIENDS_COUNT, kind = "status", status = 503, reason = "Down For Lunch" }
      local r = get(FRIENDS_COUNT)
      assert.same({ 503, "Down For Lunch" }, { r.status, r.reason })
    end)

    it("send their headers byte for byte, a bare CR inside a value included", function()
      for _, kind in ipairs { "status", "body" } do
        sb:fault { path = FRIENDS_COUNT, kind = kind, status = 403,
                   headers = { { "x-csrf-token", "abc\rdef" }, { "X-Odd", "v" } } }
        local s = raw.connect()
        raw.send(s, "GET", FRIENDS_COUNT)
        local raw = s:receive("*a")
        s:close()
        local head = raw:sub(1, raw:find("\r\n\r\n", 1, true) + 3)
        assert.is_true(has(head, "\r\nx-csrf-token: abc\rdef\r\nX-Odd: v\r\n"), kind)
      end
    end)
  end)

  describe("drop", function()
    it("processes a write, logs its answer, and closes without a byte", function()
      local token = csrf_header()
      sb:clear_requests()
      sb:fault { method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "drop" }
      local s = raw.connect()
      raw.send(s, "POST", "/v1/user/friend-requests/decline-all", { headers = { token } })
      local data, err, partial = s:receive("*a")
      s:close()
      assert.same({ nil, "closed", "" }, { data, err, partial })
      assert.equal(0, pending_requests())
      local log = sb:requests()
      assert.same({ 200, "drop" }, { log[1].status, log[1].fault })
    end)

    it("aborts with a TCP RST when rst = true, where a plain drop ends with a FIN", function()
      sb:fault { { path = FRIENDS_COUNT, kind = "drop", rst = true }, { path = FRIENDS_COUNT, kind = "drop" } }
      local results = {}
      for i = 1, 2 do
        local s = raw.connect()
        raw.send(s, "GET", FRIENDS_COUNT)
        results[i] = { ending(s), s:receive("*a") }
        s:close()
      end
      assert.same({ { "rst", nil, "closed", "" }, { "fin", nil, "closed", "" } }, results)
    end)

    it("differs from reset, which reads the write but never processes it", function()
      sb:fault { method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "reset" }
      local s = raw.connect()
      raw.send(s, "POST", "/v1/user/friend-requests/decline-all")
      assert.same({ "fin", nil, "closed", "" }, { ending(s), s:receive("*a") })
      s:close()
      assert.equal(34, pending_requests())
    end)
  end)

  describe("path patterns", function()
    it("match a Lua pattern against the path, and nothing else", function()
      sb:fault { path_pattern = "^/v1/users/%d+/friends/count$", kind = "status", status = 500, count = 2 }
      assert.equal(200, get("/v1/my/friends/count").status)
      assert.equal(500, get(FRIENDS_COUNT).status)
      assert.equal(500, get("/v1/users/" .. SIDEKICK .. "/friends/count").status)
      assert.equal(200, get(FRIENDS_COUNT).status)
    end)

    it("refuse a broken pattern, and a fault with both path and path_pattern", function()
      assert.has_error(function() sb:fault { path_pattern = "[", kind = "status" } end)
      assert.has_error(function() sb:fault { path = "*", path_pattern = "x", kind = "status" } end)
      assert.equal(0, #sb:faults())
    end)

    it("count the first, token-less attempt of a CSRF handshake toward after", function()
      local path = "/v1/user/friend-requests/decline-all"
      sb:fault { method = "POST", path = path, kind = "status", status = 503, after = 1 }
      local first, second = cookie_post(path)
      assert.same({ 403, 503 }, { first.status, second.status })
      assert.equal(34, pending_requests())
    end)
  end)

  describe("challenge", function()
    it("answers 403 with a fresh challenge id, its type and base64 JSON metadata", function()
      sb:fault { path = FRIENDS_COUNT, kind = "challenge", count = 2, type = "twostepverification",
                 metadata = { userId = tostring(MAIN), actionType = "Generic" } }
      local a, b = get(FRIENDS_COUNT), get(FRIENDS_COUNT)
      assert.equal(403, a.status)
      assert.same({ errors = { { code = 0, message = "Challenge is required to authorize the request" } } }, a.data)
      assert.matches("^%x+%-%x+%-4%x+%-%x+%-%x+$", a.headers["rblx-challenge-id"])
      assert.are_not.equal(a.headers["rblx-challenge-id"], b.headers["rblx-challenge-id"])
      assert.equal("twostepverification", a.headers["rblx-challenge-type"])
      assert.same({ userId = tostring(MAIN), actionType = "Generic" },
                  json.decode(util.b64decode(a.headers["rblx-challenge-metadata"])))
      assert.is_nil(a.headers["x-csrf-token"])
    end)

    it("defaults to a captcha, and with csrf = true carries a token the next write may use", function()
      local path = "/v1/user/friend-requests/decline-all"
      sb:fault { method = "POST", path = path, kind = "challenge", csrf = true }
      local r = post(path, { auth = "cookie" })
      assert.same({ 403, "captcha", "e30=" },
                  { r.status, r.headers["rblx-challenge-type"], r.headers["rblx-challenge-metadata"] })
      local again = post(path, { auth = "cookie", headers = { "x-csrf-token: " .. r.headers["x-csrf-token"] } })
      assert.equal(200, again.status)
      assert.equal(0, pending_requests())
    end)
  end)

  describe("cookie rotation", function()
    it("by rotate_cookie(): the old cookie is refused, the new one works, reset restores", function()
      local old = creds.cookie
      local new = sb:rotate_cookie()
      assert.is_true(new ~= old and creds.cookie == new)
      local refused = get("/v1/users/authenticated", { auth = "cookie", as = { cookie = old } })
      assert.same({ 401, "Authorization has been denied for this request." },
                  { refused.status, refused.data.errors[1].message })
      assert.equal(MAIN, get("/v1/users/authenticated", { auth = "cookie" }).data.id)
      sb:reset()
      assert.is_true(creds.cookie == old)
      assert.equal(200, get("/v1/users/authenticated", { auth = "cookie" }).status)
    end)

    it("rotates another account, which leaves the main user's alone", function()
      local side = sb.accounts[2]
      local new = sb:rotate_cookie(2)
      assert.is_true(new ~= side.cookie and sb:refresh_credentials(2).cookie == new)
      assert.equal(401, get("/v1/users/authenticated", { auth = "cookie", as = side }).status)
      assert.equal(SIDEKICK, get("/v1/users/authenticated", { auth = "cookie", as = { cookie = new } }).data.id)
      assert.equal(MAIN, get("/v1/users/authenticated", { auth = "cookie" }).data.id)
    end)

    it("by the rotate fault: the answer carries the new cookie in Set-Cookie", function()
      local old = creds.cookie
      sb:fault { path = "/v1/users/authenticated", kind = "rotate" }
      local r = get("/v1/users/authenticated", { auth = "cookie" })
      assert.same({ 200, MAIN }, { r.status, r.data.id })
      local value, rest = r.headers["set-cookie"]:match("^%.ROBLOSECURITY=([^;]+); (.*)$")
      assert.matches("^domain=%.roblox%.com; expires=%a%a%a, %d%d%-%a%a%a%-%d%d%d%d %d%d:%d%d:%d%d GMT; "
        .. "path=/; secure; HttpOnly$", rest)
      assert.is_true(value ~= old and sb:refresh_credentials().cookie == value and creds.cookie == value)
      assert.equal(401, get("/v1/users/authenticated", { auth = "cookie", as = { cookie = old } }).status)
      assert.equal(200, get("/v1/users/authenticated", { auth = "cookie" }).status)
      local log = json.encode(sb:requests())
      assert.is_false(has(log, old) or has(log, value))
    end)
  end)

  describe("GET /v1/users/authenticated", function()
    it("answers the caller's id, name and display name for the cookie, 401 for a key or a token", function()
      assert.same({ id = MAIN, name = "SandboxHero", displayName = "Sandbox Hero" },
                  get("/v1/users/authenticated", { auth = "cookie" }).data)
      for _, kind in ipairs { "api_key", "bearer" } do
        assert.equal(401, get("/v1/users/authenticated", { auth = kind }).status)
      end
      assert.same({ id = SIDEKICK, name = "SandboxSidekick", displayName = "Sandbox Sidekick" },
                  get("/v1/users/authenticated", { as = sb.accounts[2] }).data)
    end)

    it("answers 401 without credentials and leaves /v1/users/{id}/... alone", function()
      local r = get("/v1/users/authenticated", { auth = "none" })
      assert.same({ 401, "Authorization has been denied for this request." }, { r.status, r.data.errors[1].message })
      assert.equal(130, get(FRIENDS_COUNT).data.count)
      assert.equal(200, get("/v1/users/authenticated", { host = "users.roblox.com" }).status)
      assert.equal(404, get("/v1/users/authenticated", { host = "friends.roblox.com" }).status)
    end)
  end)

  describe("rate limits", function()
    it("are set at run time, for every endpoint apart", function()
      sb:configure { rate_limits = { ["*"] = { limit = 5, window = 2 } } }
      local statuses = {}
      for i = 1, 6 do statuses[i] = get(FRIENDS_COUNT).status end
      assert.same({ 200, 200, 200, 200, 200, 429 }, statuses)
      assert.equal("4", get("/v1/my/friends/count").headers["x-ratelimit-remaining"])
      sb:configure { rate_limits = {} }
      assert.equal(200, get(FRIENDS_COUNT).status)
    end)

    it("send the live service's multi-window header with policy = true", function()
      sb:configure { rate_limits = { ["*"] = { limit = 5, window = 2, policy = true } } }
      local a, b = get(FRIENDS_COUNT), get(FRIENDS_COUNT)
      assert.same({ "5, 5;w=2", "4", "5, 5;w=2", "3" },
                  { a.headers["x-ratelimit-limit"], a.headers["x-ratelimit-remaining"],
                    b.headers["x-ratelimit-limit"], b.headers["x-ratelimit-remaining"] })
      assert.is_true(tonumber(a.headers["x-ratelimit-reset"]) <= 2)
    end)

    it("count several windows at once and report the one nearest exhaustion", function()
      sb:configure { rate_limits = { friends = { windows = { { limit = 3, window = 60 }, { limit = 2, window = 120 } } } } }
      local a, b, c = get(FRIENDS_COUNT), get(FRIENDS_COUNT), get(FRIENDS_COUNT)
      assert.same({ "2, 3;w=60, 2;w=120", "1", "0", 429 },
                  { a.headers["x-ratelimit-limit"], a.headers["x-ratelimit-remaining"],
                    b.headers["x-ratelimit-remaining"], c.status })
      assert.is_true(tonumber(c.headers["retry-after"]) > 60)
      assert.has_error(function() sb:configure { rate_limits = { ["*"] = { windows = { { window = 1 } } } } } end)
    end)
  end)
end)

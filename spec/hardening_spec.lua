-- What a hostile server or a careless caller must not get: a write sent
-- twice, a credential echoed into an error, a path value that escapes its
-- segment, an iterator that never ends, a timeout that never fires, a
-- header or cookie of the caller's own making, a proxy that sees the
-- cookie, a buffer that stays large.  Each case here failed once.
local support = require "spec.support"
local tls = require "spec.tls"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local sb, me = support.main()
before_each(support.reset)

local DECLINE_ALL = "/v1/user/friend-requests/decline-all"
local CLEAR_NEW = "/v1/my/new-friend-requests"

local function count(method, path) return #support.requests(method, path) end

-- A cookie client that already holds its CSRF token (the write a spec
-- counts goes out once), with a kept-alive connection to the sandbox open.
local function warm_client(opts)
  opts = opts or {}
  opts.max_retries = opts.max_retries or 0
  return support.with_csrf_token(support.client(opts))
end

local strings_of = support.strings_of

describe("a write", function()
  for _, case in ipairs {
    { "POST", DECLINE_ALL, "decline_all_friend_requests", {} },
    { "POST", DECLINE_ALL, "decline_all_friend_requests", { rst = true } },
    { "DELETE", CLEAR_NEW, "clear_new_friend_requests", {} },
  } do
    local method, path, name, extra = case[1], case[2], case[3], case[4]
    it(("is sent once when the kept-alive connection dies after it went out (%s%s)")
        :format(method, extra.rst and ", RST" or ", FIN"), function()
      local client <close> = warm_client()
      local fault = { method = method, path = path, kind = "drop" }
      for k, v in pairs(extra) do fault[k] = v end
      sb:fault(fault)
      local answer, err = client[name](client)
      assert.is_nil(answer)
      assert.equal("network", err.kind)
      assert.is_true(err.sent)
      assert.equal(1, count(method, path))
    end)
  end

  it("is sent once even with retries allowed: a network failure is not retried for a write", function()
    local client <close> = warm_client{ max_retries = 3 }
    sb:fault{ method = "POST", path = DECLINE_ALL, kind = "drop", count = -1 }
    local _, err = client:decline_all_friend_requests()
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.equal(1, count("POST", DECLINE_ALL))
  end)

  it("says sent = false when it surely did not reach the server", function()
    local port = proc.free_port()
    local client <close> = robloxsocial.new{ base_url = "http://127.0.0.1:" .. port, cookie = "k",
                                             max_retries = 0 }
    local _, err = client:decline_all_friend_requests()
    assert.equal("network", err.kind)
    assert.is_false(err.sent)
    local _, read_err = client:friends_count(me)
    assert.is_nil(read_err.sent)
  end)

  it("says sent = true when the server answered it", function()
    local client <close> = warm_client()
    sb:fault{ method = "POST", path = DECLINE_ALL, kind = "status", status = 500 }
    local _, err = client:decline_all_friend_requests()
    assert.equal(500, err.status)
    assert.is_true(err.sent)
  end)

  local available, why = tls.available()
  local tls_it = available and it or pending
  tls_it("is sent once over TLS too" .. (available and "" or (" (" .. tostring(why) .. ")")), function()
    local front <close> = tls.start(sb)
    local client <close> = robloxsocial.new{ base_url = front.base_url_stream, cainfo = front.cainfo,
                                             cookie = sb.credentials.cookie, max_retries = 0,
                                             timeout = 10 }
    support.with_csrf_token(client)
    sb:fault{ method = "POST", path = DECLINE_ALL, kind = "drop" }
    local _, err = client:decline_all_friend_requests()
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.equal(1, count("POST", DECLINE_ALL))
  end)
end)

describe("credentials echoed by a server", function()
  local function secrets() return { sb.credentials.cookie, sb.credentials.api_key, sb.credentials.access_token } end

  local function assert_clean(err)
    for _, s in ipairs(strings_of(err)) do
      for _, secret in ipairs(secrets()) do
        assert.is_nil(s:find(secret, 1, true), "a credential leaked into the error")
      end
    end
    for _, secret in ipairs(secrets()) do
      assert.is_nil(tostring(err):find(secret, 1, true), "a credential leaked into tostring")
    end
  end

  -- The key and the token go only to the apis service (none of the 37
  -- endpoints takes them): an Open Cloud route carries them.
  for _, auth in ipairs { "cookie", "api_key", "access_token" } do
    it("are redacted from the message, the errors list and tostring (" .. auth .. ")", function()
      local opts = { cookie = false }
      opts[auth] = sb.credentials[auth]
      local client <close> = support.client(opts)
      sb:fault{ method = "GET", path = "*", kind = "echo" }
      local err
      if auth == "cookie" then
        err = select(2, client:friends_count(me))
      else
        err = select(2, client:request("GET", "apis", "/cloud/v2/users/" .. me))
      end
      assert.equal(1, #support.requests("GET"))
      assert.equal(auth == "access_token" and "bearer" or auth, support.requests("GET")[1].auth)
      assert.equal("http", err.kind)
      assert_clean(err)
      assert.matches("<redacted>", err.message, 1, true)
      assert.matches("<redacted>", err.errors[1].message, 1, true)
    end)
  end

  it("are redacted from a reason phrase that becomes the message", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400, body = "",
              reason = "Bad " .. sb.credentials.cookie }
    local _, err = client:friends_count(me)
    assert.equal("HTTP 400 Bad <redacted>", err.message)
    assert_clean(err)
  end)

  it("are redacted from the keys of an error body too", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400,
              body = ('{"errors":[{"code":1,"message":"x","%s":true}]}'):format(sb.credentials.cookie) }
    local _, err = client:friends_count(me)
    assert_clean(err)
    assert.is_true(err.errors[1]["<redacted>"])
  end)
end)

describe("a path value", function()
  local function seen_path(value)
    local client <close> = support.client{ max_retries = 0 }
    client:request_contact_friendship(value)
    local log = support.requests("POST")
    return log[#log] and log[#log].path
  end

  for value, encoded in pairs {
    ["."] = "%2E", [".."] = "%2E%2E", ["a/b"] = "a%2Fb", ["x?y"] = "x%3Fy",
    ["%2e%2e"] = "%252e%252e", ["a\r\nX-Evil: 1"] = "a%0D%0AX-Evil%3A%201", ["nul\0byte"] = "nul%00byte",
  } do
    it(("stays in its segment: %q"):format(value), function()
      assert.equal("/v1/contacts/" .. encoded .. "/request-friendship", seen_path(value))
    end)
  end

  it("of 100 KB is sent in its segment or refused by the server, never cut", function()
    local client <close> = support.client{ max_retries = 0 }
    local answer, err = client:request_contact_friendship(("."):rep(100 * 1024))
    assert.is_nil(answer)
    assert.is_table(err)
    for _, r in ipairs(support.requests("POST")) do
      assert.is_nil(r.path:find("/v1/request-friendship", 1, true))
    end
  end)

  it("goes to the path as given in client:request, without dot-segment removal", function()
    local client <close> = support.client()
    client:request("GET", "friends", "/v1/users/1/../2/friends/count")
    assert.equal(1, count("GET", "/v1/users/1/../2/friends/count"))
  end)
end)

describe("iterators facing a service that never ends", function()
  local FIND

  before_each(function() FIND = "/v1/users/" .. me .. "/friends/find" end)

  local function drain(iter)
    local n = 0
    local ok, err = pcall(function() for _ in iter do n = n + 1 end end)
    return ok, err, n
  end

  it("raise a decode error after more than 10 empty pages with fresh cursors", function()
    local client <close> = support.client()
    for i = 1, 30 do
      sb:fault{ method = "GET", path = FIND, kind = "body",
                body = ('{"PageItems":[],"NextCursor":"c%d","HasMore":true}'):format(i) }
    end
    local ok, err = drain(client:each_friend(me))
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.matches("more than 10 pages in a row without an item", err.message, 1, true)
    assert.equal(11, count("GET", FIND))
  end)

  it("raise a decode error on a cursor cycle A, B, A", function()
    local client <close> = support.client()
    for _, cursor in ipairs { "A", "B", "A", "B" } do
      sb:fault{ method = "GET", path = FIND, kind = "body",
                body = ('{"PageItems":[{"id":1}],"NextCursor":"%s","HasMore":true}'):format(cursor) }
    end
    local ok, err, n = drain(client:each_friend(me))
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.equal(2, n)          -- the page that repeats a cursor is not handed out
    assert.equal(3, count("GET", FIND))
  end)

  it("catch a cycle that starts past the first 1,024 cursors, with flat memory", function()
    local seen_before = require("robloxsocial.paging").seen_before
    local walk = { count = 0 }
    for i = 1, 5000 do assert.is_false(seen_before(walk, "fresh" .. i)) end
    local steps = 0
    repeat steps = steps + 1 until seen_before(walk, "cycle" .. (steps % 300)) or steps > 20000
    assert.is_true(steps <= 2 * (5000 + 300), steps .. " steps")
    local n = 0
    for _ in pairs(walk) do n = n + 1 end
    assert.is_true(n < 1100, "the walk remembers " .. n .. " entries")
  end)

  it("raise a decode error on empty message pages that claim a billion pages", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = "/v1/messages", kind = "body", count = -1,
              body = '{"collection":[],"totalCollectionSize":0,"totalPages":1000000000,"pageNumber":0}' }
    local ok, err = drain(client:each_message())
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.equal(11, count("GET", "/v1/messages"))
  end)
end)

describe("timeouts", function()
  it("below a millisecond are refused, not taken as no timeout", function()
    for _, name in ipairs { "timeout", "connect_timeout" } do
      local ok, err = pcall(robloxsocial.new, { [name] = 0.0009 })
      assert.is_false(ok)
      assert.equal(("bad argument #1 to 'new' (option '%s' must be a number of seconds from 0.001 to 86400)")
        :format(name), err)
    end
    robloxsocial.new{ timeout = 0.001, connect_timeout = 0.001 }:close()
  end)

  it("bound the whole call: a backoff that would pass it is not waited", function()
    -- retry_delay 0.4: attempts at 0 and 0.4 s; the next wait (0.8 s)
    -- would end after the 1 s timeout, so the call ends after 2 attempts.
    local client <close> = support.client{ timeout = 1, retry_delay = 0.4, max_retries = 3 }
    sb:fault{ method = "GET", path = "*", kind = "status", status = 503, count = -1 }
    local _, err = client:friends_count(me)
    assert.equal(503, err.status)
    assert.equal(2, count("GET"))
  end)

  for _, value in ipairs { "inf", "1e400", "1e30" } do
    it("survive a Retry-After of " .. value .. ", clamped and not waited past the deadline", function()
      local client <close> = support.client{ deadline = 2 }
      sb:fault{ method = "GET", path = "*", kind = "status", status = 429, retry_after = value }
      local _, err = client:friends_count(me)
      assert.equal(429, err.status)
      assert.equal(1e9, err.retry_after)
      assert.equal(1, count("GET"))
    end)
  end

  it("take a Retry-After of nan as not said: the backoff applies", function()
    local client <close> = support.client{ timeout = 2 }
    sb:fault{ method = "GET", path = "*", kind = "status", status = 429, retry_after = "nan" }
    assert(client:friends_count(me))
    assert.equal(2, count("GET"))
  end)
end)

describe("an x-csrf-token", function()
  it("holding a CR is neither taken for the handshake nor sent later", function()
    local client <close> = support.client{ max_retries = 0 }
    sb:fault{ method = "POST", path = DECLINE_ALL, kind = "status", status = 403,
              headers = { ["x-csrf-token"] = "bad-token\rdef" } }
    local _, err = client:decline_all_friend_requests()
    assert.equal(403, err.status)
    assert.equal(1, count("POST", DECLINE_ALL))
    assert(client:decline_all_friend_requests())       -- a real handshake now
    for _, r in ipairs(support.requests("POST", DECLINE_ALL)) do
      -- (text no real token holds: the sandbox's are hex digits, which "abc" was)
      assert.is_nil((r.csrf_token or ""):find("bad-token", 1, true))
    end
  end)

  it("longer than 255 bytes is not taken either", function()
    local client <close> = support.client{ max_retries = 0 }
    sb:fault{ method = "POST", path = DECLINE_ALL, kind = "status", status = 403,
              headers = { ["x-csrf-token"] = ("t"):rep(300) } }
    local _, err = client:decline_all_friend_requests()
    assert.equal(403, err.status)
    assert.equal(1, count("POST", DECLINE_ALL))
  end)
end)

describe("a cookie value", function()
  for _, bad in ipairs { "a;b", "a,b", "a b", "a\tb", 'a"b', "a\\b", "" } do
    it(("is refused at new(): %q"):format(bad), function()
      local ok, err = pcall(robloxsocial.new, { cookie = bad })
      assert.is_false(ok)
      assert.matches("option 'cookie' must", err, 1, true)
      assert.is_nil(err:find(bad ~= "" and bad or "\0", 1, true))
    end)
  end

  it("of a real shape is accepted", function()
    robloxsocial.new{ cookie = "_|WARNING:-DO-NOT-SHARE-THIS.--Sharing|_ABCDEF0123" }:close()
  end)
end)

describe("proxies from the environment", function()
  it("are not used: the credentials never go to a proxy the caller did not name", function()
    local proxy <close> = require("robloxsocial.sandbox").start{}
    local chunk = ([[
      local rs = require "robloxsocial"
      local c = rs.new{ base_url = %q, cookie = os.getenv("COOKIE") }
      assert(c:friends_count(%d))
    ]]):format(sb.base_url, me)
    local env = ("http_proxy=%s HTTP_PROXY=%s https_proxy=%s ALL_PROXY=%s all_proxy=%s no_proxy= NO_PROXY= ")
      :format(proxy.base_url, proxy.base_url, proxy.base_url, proxy.base_url, proxy.base_url)
    local ok, out = proc.output(proc.lua_command(chunk, { prefix = env, secrets = { COOKIE = sb.credentials.cookie } })
      .. " 2>&1")
    assert(ok, out)
    assert.same({}, proxy:requests())
    assert.equal(1, count("GET"))
  end)
end)

describe("memory", function()
  -- In a child process whose malloc returns every large block to the
  -- system at once (a fixed mmap threshold), so that its RSS tells what
  -- is still held.  Its first call warms the connection and the code
  -- paths; the second gets the large answer.  (The chunk goes through the
  -- shell as one line: no comments in it.)
  -- Under AddressSanitizer freed memory sits in its quarantine: RSS says
  -- nothing there, and its leak checker covers the same ground.
  local under_asan = (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true)
  local rss_it = under_asan and pending or it
  rss_it("held for a large answer goes back once the answer has been taken", function()
    local size, report = 12 << 20, os.tmpname()
    local chunk = ([[
      local function rss()
        local f = assert(io.open("/proc/self/status"))
        local kib = f:read("a"):match("VmRSS:%%s*(%%d+)")
        f:close()
        return tonumber(kib)
      end
      local rs = require "robloxsocial"
      local c = rs.new{ base_url = %q, cookie = os.getenv("COOKIE") }
      assert(c:friends_count(1))
      collectgarbage(); collectgarbage()
      local before = rss()
      local answer = assert(c:friends_count(1))
      assert(#answer == %d)
      answer = nil
      collectgarbage(); collectgarbage()
      local out = assert(io.open(%q, "w"))
      out:write(rss() - before, " ", require("robloxsocial.core").stats().in_flight)
      out:close()
    ]]):format(sb.base_url, size, report)
    sb:fault{ method = "GET", path = "*", kind = "body", body = '"' .. ("a"):rep(size) .. '"', after = 1 }
    local ok, log = proc.output(proc.lua_command(chunk, { prefix = "MALLOC_MMAP_THRESHOLD_=65536 ",
                                                          secrets = { COOKIE = sb.credentials.cookie } }) .. " 2>&1")
    assert(ok, "the child failed: " .. log)
    local f = assert(io.open(report))
    local out = f:read("a")
    f:close()
    os.remove(report)
    local grown, in_flight = out:match("^(%-?%d+) (%d+)$")
    assert(grown, "the child said: [" .. out .. "] " .. log)
    assert.is_true(tonumber(grown) < 4 * 1024, ("%s KiB still held after a 12 MiB answer"):format(grown))
    assert.equal("0", in_flight)
  end)
end)

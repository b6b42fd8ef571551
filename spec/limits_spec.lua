-- The services' limits and the client's view of every exchange: rate-limit
-- state, pacing, challenges, cookie rotation, the on_response and
-- on_cookie hooks, and client:request to any service.
local support = require "spec.support"
local rawserver = require "spec.rawserver"
local robloxsocial = require "robloxsocial"

local sb, me = support.main()
before_each(support.reset)

local function count_path(id) return ("/v1/users/%d/friends/count"):format(id or me) end

local function statuses(method, path)
  local out = {}
  for i, r in ipairs(support.requests(method, path)) do out[i] = r.status end
  return out
end

describe("client:rate_limit()", function()
  it("is nil before the service said anything", function()
    local client <close> = support.client()
    assert.is_nil(client:rate_limit("friends"))
  end)

  it("holds what the last answer said, per service", function()
    sb:configure{ rate_limits = { friends = { limit = 10, window = 60 } } }
    local client <close> = support.client()
    assert(client:friends_count(me))
    assert(client:friends_count(me))
    local rl = client:rate_limit("friends")
    assert.equal(10, rl.limit)
    assert.equal(8, rl.remaining)
    assert.is_true(rl.reset > 0 and rl.reset <= 60)
    assert.same({}, rl.windows)
    assert.is_nil(client:rate_limit("presence"))
  end)

  it("reads every window of a multi-window header", function()
    sb:configure{ rate_limits = { ["*"] = { windows = { { limit = 5, window = 2 }, { limit = 100, window = 60 } } } } }
    local client <close> = support.client{ pace = false }
    assert(client:friends_count(me))
    local rl = client:rate_limit("friends")
    assert.equal(5, rl.limit)
    assert.equal(4, rl.remaining)
    assert.same({ { 5, 2 }, { 100, 60 } }, rl.windows)
  end)

  it("comes with an error as err.rate_limit", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 1, window = 30, policy = true } } }
    local client <close> = support.client{ pace = false, max_retries = 0 }
    assert(client:friends_count(me))
    local _, err = client:friends_count(me)
    assert.equal(429, err.status)
    assert.equal(0, err.rate_limit.remaining)
    assert.same({ { 1, 30 } }, err.rate_limit.windows)
  end)

  it("comes with an error as the table client:rate_limit gives", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 1, window = 30, policy = true } } }
    local client <close> = support.client{ pace = false, max_retries = 0 }
    assert(client:friends_count(me))
    local _, err = client:friends_count(me)
    assert.equal(429, err.status)
    local rl = err.rate_limit
    assert.equal(1, rl.limit)
    assert.equal(30, rl.window)
    assert.equal(0, rl.queued)
    assert.is_false(rl.shared)
    assert.is_true(rl.reset > 0 and rl.reset <= 30)
    assert.same(client:rate_limit("friends", "friends_count").windows, rl.windows)
  end)
end)

describe("pacing", function()
  local RULE = { ["*"] = { limit = 3, window = 1 } }

  it("waits for the reset when the service said none remain: no 429", function()
    sb:configure{ rate_limits = RULE }
    local client <close> = support.client{ max_retries = 0 }
    for _ = 1, 7 do assert(client:friends_count(me)) end
    assert.same({ 200, 200, 200, 200, 200, 200, 200 }, statuses("GET", count_path()))
  end)

  it("is off with pace = false: the same run meets a 429", function()
    sb:configure{ rate_limits = RULE }
    local client <close> = support.client{ pace = false, max_retries = 0 }
    local failures = 0
    for _ = 1, 7 do
      local answer, err = client:friends_count(me)
      if not answer then
        assert.equal(429, err.status)
        failures = failures + 1
      end
    end
    assert.is_true(failures > 0)
  end)

  it("keeps concurrent requests within what the service said remains", function()
    -- 4 remain of 5 for 8 at once: one wait for the reset, then they fit
    sb:configure{ rate_limits = { ["*"] = { limit = 5, window = 1 } } }
    local client <close> = support.client{ concurrency = 8, max_retries = 0 }
    assert(client:friends_count(me))           -- the service speaks: 4 remain
    for _ = 1, 8 do
      robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    end
    support.run(20)
    for _, status in ipairs(statuses("GET", count_path())) do assert.equal(200, status) end
    assert.equal(9, #support.requests("GET", count_path()))
  end)

  it("does not block other tasks while one waits for a reset", function()
    sb:configure{ rate_limits = { friends = { limit = 1, window = 1 } } }
    local client <close> = support.client{ max_retries = 0 }
    assert(client:friends_count(me))            -- friends: none remain for a second
    local order = {}
    robloxsocial.spawn(function() assert(client:friends_count(me)); order[#order + 1] = "friends" end)
    robloxsocial.spawn(function() assert(client:unread_messages_count()); order[#order + 1] = "messages" end)
    support.run(10)
    assert.same({ "messages", "friends" }, order)
  end)

  it("lets the calls that wait for the same reset go in the order they were made", function()
    -- One request a second: the waiting calls go one per window, so the
    -- server sees them in the order the loop released them.
    sb:configure{ rate_limits = { ["*"] = { limit = 1, window = 1 } } }
    local client <close> = support.client{ concurrency = 4, max_retries = 0 }
    assert(client:friends_count(me))            -- none remain for a second
    local ids = { 5001, 5002, 5003 }
    for _, id in ipairs(ids) do
      robloxsocial.spawn(function() client:friends_count(id) end)
    end
    assert.is_true(robloxsocial.run(20))
    local seen = {}
    for i, r in ipairs(support.requests("GET")) do
      if i > 1 then seen[#seen + 1] = tonumber(r.path:match("/v1/users/(%d+)/")) end
    end
    assert.same(ids, seen)
  end)

  it("never reopens a closed gate on an older, higher remaining count", function()
    -- Two calls out at once: the later one's answer comes first and says
    -- none remain (another client spent the rest), then the earlier,
    -- slower one's says 5 did.  The later word holds until the reset.
    local slow, fast = count_path(me), count_path(5001)
    local function said(remaining)
      return { ["x-ratelimit-limit"] = "10", ["x-ratelimit-remaining"] = tostring(remaining),
               ["x-ratelimit-reset"] = "60" }
    end
    sb:configure{ latency = { ["*"] = 0, [slow] = 0.3 } }
    sb:fault{ method = "GET", path = slow, kind = "body", body = '{"count":1}', headers = said(5) }
    sb:fault{ method = "GET", path = fast, kind = "body", body = '{"count":2}', headers = said(0) }
    local client <close> = support.client{ deadline = 2, max_retries = 0 }
    -- The bucket's first request goes alone (nothing is known of it yet):
    -- one call first, so that the two below are out together.
    local first = count_path(5002)
    sb:fault{ method = "GET", path = first, kind = "body", body = '{"count":3}', headers = said(9) }
    assert(client:friends_count(5002))
    local order = {}
    local a = robloxsocial.spawn(function() local n = client:friends_count(me); order[#order + 1] = "slow"; return n end)
    local b = robloxsocial.spawn(function() local n = client:friends_count(5001); order[#order + 1] = "fast"; return n end)
    assert(support.wait(a))
    assert(support.wait(b))
    assert.same({ "fast", "slow" }, order)        -- the higher count came last
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.equal("timeout", err.kind)             -- it would wait for the reset
    assert.is_true(err.retry_after > 2)
    assert.equal(1, #support.requests("GET", slow))
  end)
end)

describe("a challenge", function()
  for _, with_csrf in ipairs { false, true } do
    it("is an http error with err.challenge, never retried" .. (with_csrf and ", not taken for the CSRF handshake" or ""), function()
      local client <close> = support.client()
      assert(client:decline_all_friend_requests())   -- a token, so the next write carries it
      sb:clear_requests()
      sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "challenge",
                type = "twostepverification", metadata = { userId = me, challengeId = "abc" }, csrf = with_csrf }
      local answer, err = client:decline_all_friend_requests()
      assert.is_nil(answer)
      assert.equal("http", err.kind)
      assert.equal(403, err.status)
      assert.equal("twostepverification", err.challenge.type)
      assert.equal("string", type(err.challenge.id))
      assert.same({ userId = me, challengeId = "abc" }, err.challenge.metadata)
      assert.equal(1, #support.requests("POST", "/v1/user/friend-requests/decline-all"))
    end)
  end

  it("of a GET is not retried either, and a plain 403 has no challenge", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = count_path(), kind = "challenge" }
    local _, err = client:friends_count(me)
    assert.equal("captcha", err.challenge.type)
    assert.equal(1, #support.requests("GET", count_path()))
    sb:fault{ method = "GET", path = count_path(), kind = "status", status = 403 }
    _, err = client:friends_count(me)
    assert.is_nil(err.challenge)
  end)

  it("is one with only its id or only its type: either header alone makes it", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = count_path(), kind = "status", status = 403,
              headers = { ["rblx-challenge-id"] = "abc" } }
    local _, err = client:friends_count(me)
    assert.equal("abc", err.challenge.id)
    sb:fault{ method = "GET", path = count_path(), kind = "status", status = 403,
              headers = { ["rblx-challenge-type"] = "captcha" } }
    _, err = client:friends_count(me)
    assert.equal("captcha", err.challenge.type)
  end)
end)

describe("a rotated cookie", function()
  it("is sent from the next request on, handed to on_cookie, and the old one fails", function()
    local old = sb.credentials.cookie
    local seen = {}
    local client <close> = support.client{ on_cookie = function(value) seen[#seen + 1] = value end }
    sb:fault{ method = "GET", path = count_path(), kind = "rotate" }
    assert(client:friends_count(me))
    local fresh = sb:refresh_credentials().cookie
    assert.are_not.equal(old, fresh)
    assert.same({ fresh }, seen)
    assert(client:my_friends_count())            -- with the new cookie
    assert(client:decline_all_friend_requests())  -- writes too
    local stale <close> = support.client{ cookie = old }
    local _, err = stale:my_friends_count()
    assert.equal(401, err.status)
  end)

  it("never shows in an error or a hook's argument", function()
    local infos = {}
    local client <close> = support.client{ on_response = function(info) infos[#infos + 1] = info end }
    sb:fault{ method = "GET", path = count_path(), kind = "rotate" }
    assert(client:friends_count(me))
    local fresh = sb:refresh_credentials().cookie
    sb:fault{ method = "GET", path = "*", kind = "echo" }
    local _, err = client:my_friends_count()
    assert.is_nil(tostring(err):find(fresh, 1, true))
    assert.is_nil(err.message:find(fresh, 1, true))
    for _, info in ipairs(infos) do
      for _, v in pairs(info) do assert.is_nil(tostring(v):find(fresh, 1, true)) end
    end
  end)

  it("is not taken up by a client that sends no cookie", function()
    local seen = 0
    local client <close> = support.client{ cookie = false,
                                           on_cookie = function() seen = seen + 1 end }
    sb:fault{ method = "GET", path = count_path(), kind = "rotate" }
    assert(client:friends_count(me))
    assert.equal(0, seen)
  end)
end)

describe("the on_response hook", function()
  it("is told of every exchange, the CSRF handshake and retries included", function()
    local infos = {}
    local client <close> = support.client{ on_response = function(info) infos[#infos + 1] = info end }
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "status", status = 429,
              retry_after = 0, after = 1 }
    assert(client:decline_all_friend_requests())
    assert.equal(3, #infos)                      -- 403 (handshake), 429, 200
    assert.same({ 403, 429, 200 }, { infos[1].status, infos[2].status, infos[3].status })
    assert.same({ 0, 1, 2 }, { infos[1].attempt, infos[2].attempt, infos[3].attempt })
    assert.same({ "http", "http" }, { infos[1].error_kind, infos[2].error_kind })
    assert.is_nil(infos[3].error_kind)
    assert.is_nil(infos[3].retry_in)
    assert.equal("number", type(infos[2].retry_in))
    for _, info in ipairs(infos) do
      assert.equal("POST", info.method)
      assert.equal("friends", info.service)
      assert.equal(sb.base_url .. "/v1/user/friend-requests/decline-all", info.url)
      assert.equal("number", type(info.seconds))
      assert.equal("integer", math.type(info.bytes))
    end
  end)

  it("holds no credentials, has no status without an answer, and sees rate limits", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 10, window = 60 } } }
    local infos = {}
    local client <close> = support.client{ max_retries = 0, on_response = function(info) infos[#infos + 1] = info end }
    assert(client:friends_count(me))
    assert.equal(9, infos[1].rate_limit.remaining)
    -- twice: libcurl sends a GET again by itself on a fresh connection
    sb:fault{ method = "GET", path = count_path(), kind = "reset", count = 2 }
    client:friends_count(me)
    local last = infos[#infos]
    assert.is_nil(last.status)
    assert.equal("network", last.error_kind)
    for _, info in ipairs(infos) do
      for _, v in pairs(info) do
        assert.is_nil(tostring(v):find(sb.credentials.cookie, 1, true))
      end
    end
  end)

  -- The fields of client:rate_limit's table that do not move with the clock.
  local function steady(rl)
    return rl and { limit = rl.limit, remaining = rl.remaining, window = rl.window,
                    windows = rl.windows, queued = rl.queued, shared = rl.shared }
  end

  it("sees as rate_limit the table client:rate_limit gives for the request's bucket, the answer taken in", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 10, window = 60, policy = true } } }
    local seen = {}
    local client
    client = support.client{ on_response = function(info)
      seen[#seen + 1] = { hook = info.rate_limit, client = client:rate_limit("friends", "friends_count") }
    end }
    local guard <close> = client
    assert(client:friends_count(me))
    assert(client:friends_count(me))
    assert.equal(2, #seen)
    for i, s in ipairs(seen) do
      assert.same(steady(s.client), steady(s.hook))
      assert.is_true(s.hook.reset > 0 and s.hook.reset <= 60)
      assert.equal(10 - i, s.hook.remaining)
    end
    assert.same({ limit = 10, remaining = 8, window = 60, windows = { { 10, 60 } }, queued = 0, shared = false },
                steady(seen[2].hook))
  end)

  it("sees a bucket that rate_limits seeded though the answer carried no header", function()
    sb:configure{ rate_limit_default = false }
    local infos = {}
    local client <close> = support.client{ rate_limits = { friends_count = { 5, 60 } },
                                           on_response = function(info) infos[#infos + 1] = info end }
    assert(client:friends_count(me))
    assert.equal(1, #infos)
    assert.same(steady(client:rate_limit("friends", "friends_count")), steady(infos[1].rate_limit))
    assert.equal(5, infos[1].rate_limit.limit)
    assert.same({ { 5, 60 } }, infos[1].rate_limit.windows)
    -- what the client counted: one of the five went in this window
    assert.equal(4, infos[1].rate_limit.remaining)
    assert.is_true(infos[1].rate_limit.reset > 0 and infos[1].rate_limit.reset <= 60)
    assert(client:friends_count(me))
    assert.equal(3, client:rate_limit("friends", "friends_count").remaining)
    assert.equal(3, infos[2].rate_limit.remaining)
  end)

  it("has no rate_limit when the client knows no limit for the request's bucket", function()
    sb:configure{ rate_limit_default = false }
    local infos = {}
    local client <close> = support.client{ on_response = function(info) infos[#infos + 1] = info end }
    assert(client:friends_count(me))
    assert.equal(1, #infos)
    assert.is_nil(client:rate_limit("friends", "friends_count"))
    assert.is_nil(infos[1].rate_limit)
  end)

  it("raises its error from the call, once the request is settled", function()
    local client <close> = support.client{ on_response = function() error("hook broke") end }
    local ok, err = pcall(client.decline_all_friend_requests, client)
    assert.is_false(ok)
    assert.matches("hook broke", err)
    assert.equal(0, require("robloxsocial.core").stats().in_flight)
    -- the request went through and the next call works without the hook failing it twice
    assert.equal(2, #support.requests("POST", "/v1/user/friend-requests/decline-all"))
  end)

  it("runs inside a task's call too, and may itself make a call", function()
    local nested
    local client
    client = support.client{ on_response = function(info)
      if info.url == sb.base_url .. count_path() and not nested then
        nested = assert(client:my_friends_count()).count
      end
    end }
    local t = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    assert.equal(130, support.wait(t))
    assert.equal(130, nested)
    client:close()
  end)

  it("raises its error from a task's call, and the task's next calls still work", function()
    local broke = 0
    local client <close> = support.client{ on_response = function()
      if broke < 2 then broke = broke + 1; error("hook broke " .. broke) end
    end }
    local t = robloxsocial.spawn(function()
      local ok1, err1 = pcall(client.friends_count, client, me)
      local ok2, err2 = pcall(client.friends_count, client, me)
      local answer = assert(client:friends_count(me))
      return ok1, err1, ok2, err2, answer.count
    end)
    local ok1, err1, ok2, err2, count = support.wait(t)
    assert.is_false(ok1)
    assert.matches("hook broke 1", err1)
    assert.is_false(ok2)
    assert.matches("hook broke 2", err2)
    assert.equal(130, count)
    assert.equal(3, #support.requests("GET", count_path()))
    assert.equal(0, require("robloxsocial.core").stats().in_flight)
  end)

  it("must be a function", function()
    assert.has_error(function() robloxsocial.new{ on_response = 1 } end,
      "bad argument #1 to 'new' (option 'on_response' must be a function (got number))")
  end)
end)

describe("client:request() to any service", function()
  it("asks the users service who the caller is", function()
    local client <close> = support.client()
    local me_info = assert(client:request("GET", "users", "/v1/users/authenticated"))
    assert.equal(me, me_info.id)
    assert.equal("string", type(me_info.name))
  end)

  it("goes to https://<service>.<domain> without base_url", function()
    local client <close> = robloxsocial.new{ domain = "invalid", timeout = 2, max_retries = 0 }
    local _, err = client:request("GET", "thumbnails", "/v1/users/avatar")
    assert.equal("https://thumbnails.invalid/v1/users/avatar", err.url)
  end)

  it("sends opts.headers as given, after the client's own", function()
    local server <close> = rawserver.start(1)
    local client <close> = robloxsocial.new{ base_url = server.base_url, cookie = "c00kie", timeout = 5 }
    assert.same({}, client:request("GET", "users", "/v1/x", { headers = { ["X-Extra"] = "yes", ["X-Also"] = 2 } }))
    local text = table.concat(server.next(), "\n")
    assert.truthy(text:find("\nX-Also: 2", 1, true))
    assert.truthy(text:find("\nX-Extra: yes", 1, true))
    assert.truthy(text:find("\nCookie: .ROBLOSECURITY=c00kie", 1, true))
  end)
end)

-- The client object: options, lifetime and the escape hatch.
local support = require "spec.support"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local sb = support.main()
before_each(support.reset)

describe("robloxsocial", function()
  it("has a version, a null and the contract's module fields", function()
    assert.matches("^%d+%.%d+%.%d+$", robloxsocial.VERSION)
    assert.equal(robloxsocial.VERSION, robloxsocial._VERSION)
    assert.equal("robloxsocial", robloxsocial._NAME)
    assert.equal("userdata", type(robloxsocial.null))
    assert.equal(require("cjson").null, robloxsocial.null)
  end)
end)

describe("robloxsocial.new()", function()
  local function new_error(options)
    local ok, err = pcall(robloxsocial.new, options)
    assert.is_false(ok)
    return err
  end

  it("accepts no options at all", function()
    local client <close> = robloxsocial.new()
    assert.matches("^robloxsocial%.Client %(0x%x+%)$", tostring(client))
  end)

  it("raises on options of the wrong type", function()
    for name, bad in pairs{ cookie = 1, api_key = {}, access_token = true, domain = 5,
                            base_url = 1, timeout = "30", connect_timeout = {}, max_retries = "3",
                            retry_delay = "1", user_agent = 2, proxy = 3, cainfo = 4 } do
      assert.matches("bad argument #1 to 'new' %(option '" .. name .. "' must be",
                     new_error{ [name] = bad })
    end
  end)

  it("raises on out-of-range numbers", function()
    assert.equal("bad argument #1 to 'new' (option 'timeout' must be a number of seconds from 0.001 to 86400)",
                 new_error{ timeout = 0 })
    assert.equal("bad argument #1 to 'new' (option 'max_retries' must be an integer)",
                 new_error{ max_retries = 1.5 })
    assert.equal("bad argument #1 to 'new' (option 'retry_delay' must be a number of seconds from 0 to 86400)",
                 new_error{ retry_delay = -1 })
  end)

  -- The Lua layer checks rate_limits by method name (pacing_spec); the
  -- core checks the bucket keys it is given again, for a host that calls
  -- it directly.
  it("reaches a core that checks rate_limits itself: { requests >= 1, 0 < seconds <= 86400 } by key", function()
    local WHY = "bad argument #1 to 'new' (option 'rate_limits' must map bucket keys to { requests, seconds })"
    local KEY = "GET friends /v1/users/{id}/friends/count"
    for _, bad in ipairs{ { [KEY] = { 0, 60 } }, { [KEY] = { 0.5, 60 } }, { [KEY] = { 1, 0 } },
                          { [KEY] = { 1, 86401 } }, { [KEY] = { "1", 60 } }, { [KEY] = 5 }, { 5 } } do
      local ok, err = pcall(core.new, { rate_limits = bad })
      assert.is_false(ok)
      assert.truthy(err:find(WHY, 1, true), err)
    end
    core.new{ rate_limits = { [KEY] = { 1, 86400 } } }:close()
  end)

  it("raises on unknown option names, catching typos", function()
    assert.equal("bad argument #1 to 'new' (option 'time_out' is not an option of robloxsocial.new)",
                 new_error{ time_out = 3 })
  end)

  it("raises on CR or LF in a header value, without showing the value", function()
    for _, name in ipairs{ "cookie", "api_key", "access_token", "user_agent" } do
      local err = new_error{ [name] = "abc\r\nX-Injected: 1" }
      assert.equal("bad argument #1 to 'new' (option '" .. name .. "' must not contain CR, LF or NUL)", err)
    end
  end)

  it("refuses a base_url with credentials or a path, and a bad domain", function()
    assert.matches("option 'base_url' must be a plain origin", new_error{ base_url = "http://u:p@host" })
    assert.matches("option 'base_url' must start with http", new_error{ base_url = "ftp://host" })
    assert.matches("option 'domain' must be a host name", new_error{ domain = "evil.com/x?" })
  end)

  it("checks batch_sizes", function()
    assert.equal("bad argument #1 to 'new' (batch_sizes: 'presense' is not a batch method)",
                 new_error{ batch_sizes = { presense = 10 } })
    assert.equal("bad argument #1 to 'new' (batch_sizes.presence must be a positive integer)",
                 new_error{ batch_sizes = { presence = 0 } })
  end)

  it("sends requests through the proxy option", function()
    -- The origin does not resolve: only the proxy (the sandbox) can answer.
    local me = sb.credentials.user_id
    local client <close> = robloxsocial.new{ base_url = "http://friends.sandbox.invalid",
                                             proxy = sb.base_url, cookie = sb.credentials.cookie,
                                             trust_domain = true }
    local answer = assert(client:friends_count(me))
    assert.equal("integer", math.type(answer.count))
    assert.equal(1, #support.requests("GET", ("/v1/users/%d/friends/count"):format(me)))
  end)

  it("reaches each service at https://<service>.<domain> without base_url", function()
    -- curl resolves *.localhost to the loopback address, where no TLS server listens.
    local client <close> = robloxsocial.new{ domain = "localhost", max_retries = 0, connect_timeout = 2 }
    local _, err = client:request("GET", "privatemessages", "/v1/messages/unread/count")  -- no cookie: no method
    assert.equal("network", err.kind)
    assert.equal("https://privatemessages.localhost/v1/messages/unread/count", err.url)
    _, err = client:friends_group_roles(7)
    assert.equal("https://groups.localhost/v1/users/7/friends/groups/roles", err.url)
  end)
end)

describe("the client's lifetime", function()
  it("is closed by close(), safely twice, and then raises on use", function()
    local client = support.client()
    client:close()
    client:close()
    assert.equal("robloxsocial.Client (closed)", tostring(client))
    assert.has_error(function() client:friends_count(1) end, "robloxsocial: attempt to use a closed client")
    assert.has_error(function() client:presence{} end, "robloxsocial: attempt to use a closed client")
    assert.has_error(function() client:each_friend(1) end, "robloxsocial: attempt to use a closed client")
    assert.has_error(function() client:request("GET", "friends", "/v1/metadata") end,
                     "robloxsocial: attempt to use a closed client")
  end)

  it("is closed at the end of the scope of a <close> variable", function()
    local kept
    do
      local client <close> = support.client()
      kept = client
      assert.is_table(client:my_friends_count())
    end
    assert.equal("robloxsocial.Client (closed)", tostring(kept))
  end)

  it("is collected when nothing refers to it", function()
    local weak = setmetatable({}, { __mode = "v" })
    local client = support.client{ batch_sizes = { presence = 10 } }
    weak[1] = client            -- held until its call is over: a step of the
    assert.is_table(client:my_friends_count())   -- collector may come at any time
    client = nil
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
  end)

  -- Taking a result holds the session (its secrets, for the error) while
  -- the result is made.  A fresh coroutine's stack must grow to call the
  -- core's protected step, so its first allocation failing fails the take
  -- before the result is made: the hold must still go, or a closed
  -- client's session is never released.
  it("is released once closed, whichever allocation of taking a result fails", function()
    local n, fired = 0, true
    while fired do
      n = n + 1
      local client = support.client()
      local before = core.stats().sessions
      local t = core.start_blocking(client, "GET", "friends",
                                    ("/v1/users/%d/friends/count"):format(sb.credentials.user_id))
      local co = coroutine.create(function() core.fail_alloc_after(n); return core.result(t) end)
      coroutine.resume(co)
      fired = core.fail_alloc_after(nil)
      client:close()
      assert.equal(before - 1, core.stats().sessions, "failing allocation " .. n)
    end
    assert.is_true(n > 1)
  end)

  it("refuses methods called with a dot instead of a colon", function()
    local client <close> = support.client()
    assert.has_error(function() client.friends_count(5) end,
                     "bad self to 'friends_count' (call it as client:friends_count(...))")
  end)
end)

describe("client:request()", function()
  it("sends any request through the same machinery", function()
    local client <close> = support.client()
    local answer = assert(client:request("get", "friends", ("/v1/users/%d/friends/count"):format(sb.credentials.user_id)))
    assert.equal("integer", math.type(answer.count))
    answer = assert(client:request("POST", "contacts", "/v1/user/get-tags",
                                   { body = { targetUserIds = { sb.credentials.user_id } } }))
    assert.is_table(answer)
  end)

  it("reaches a core that takes only the five methods, spelled exactly (its own check, under the Lua layer's)", function()
    local client <close> = support.client()
    local path = ("/v1/users/%d/friends/count"):format(sb.credentials.user_id)
    for _, m in ipairs{ "GOT", "get", "PUTS", "POS", "PATCHY", "DELET", "" } do
      local ok, err = pcall(core.send, client, m, "friends", path)
      assert.is_false(ok)
      assert.truthy(err:find("bad argument #2 to", 1, true), err)
      assert.truthy(err:find(("(invalid option '%s')"):format(m), 1, true), err)
    end
    -- A C string comparison would read these as DELETE and GET.
    for _, m in ipairs{ "DELETE\0x", "GET\0" } do
      local ok, err = pcall(core.send, client, m, "friends", path)
      assert.is_false(ok)
      assert.truthy(err:find("bad argument #2 to", 1, true), err)
      assert.truthy(err:find("an embedded zero", 1, true), err)
    end
    assert.same({}, support.requests("GET", path))
    for _, m in ipairs{ "GET", "POST", "DELETE", "PATCH", "PUT" } do
      local _, err = core.send(client, m, "friends", "/v1/no-such-route")
      assert.equal(m, err.method)
    end
  end)

  it("raises on bad arguments before sending", function()
    local client <close> = support.client()
    assert.has_error(function() client:request("FETCH", "friends", "/v1/x") end,
                     "bad argument #1 to 'request' (HTTP method expected: GET, POST, DELETE, PATCH or PUT)")
    assert.has_error(function() client:request("GET", "Catalog!", "/v1/x") end,
                     "bad argument #2 to 'request' (a service name expected (lower-case letters, digits and '-', e.g. \"users\"), got 'Catalog!')")
    assert.has_error(function() client:request("GET", "users", "/v1/x", { headers = { Cookie = "a=b" } }) end,
                     "bad argument #4 to 'request' (opts.headers: Cookie is the client's own header)")
    assert.has_error(function() client:request("GET", "users", "/v1/x", { headers = { ["X-CSRF-TOKEN"] = "t" } }) end,
                     "bad argument #4 to 'request' (opts.headers: X-CSRF-TOKEN is the client's own header)")
    assert.has_error(function() client:request("GET", "users", "/v1/x", { headers = { ["x-a"] = "1\r\nX-B: 2" } }) end,
                     "bad argument #4 to 'request' (opts.headers.x-a must not contain CR, LF or NUL)")
    assert.has_error(function() client:request("GET", "users", "/v1/x", { headers = { ["bad name"] = "1" } }) end,
                     "bad argument #4 to 'request' (opts.headers: header names must be HTTP tokens)")
    assert.has_error(function() client:request("GET", "friends", "v1/x") end,
                     "bad argument #3 to 'request' (the path must start with '/')")
    assert.has_error(function() client:request("GET", "friends", "/v1/x?a=1") end,
                     "bad argument #3 to 'request' (the path must be percent-encoded ASCII without spaces, '?' or '#'; pass the query in opts.query)")
    assert.has_error(function() client:request("GET", "friends", "/v1/x", { body = {} }) end,
                     "bad argument #4 to 'request' (a GET request has no body)")
    assert.has_error(function() client:request("GET", "friends", "/v1/x", { qeury = {} }) end,
                     "bad argument #4 to 'request' (unknown option 'qeury')")
    assert.equal(0, #support.requests())
  end)
end)

describe("a client used by a finalizer that runs during its own request", function()
  -- Runs body with a collector that never pauses, so that finalizers run
  -- inside the allocations of the decoding; restores the defaults after.
  local function with_eager_gc(body)
    collectgarbage("incremental", 0, 400)
    local ok, err = pcall(body)
    collectgarbage("incremental", 200, 100)
    collectgarbage()
    assert(ok, err)
  end

  it("serves the nested request and keeps both answers intact", function()
    local client <close> = support.client()
    local me, outcomes = sb.credentials.user_id, {}
    with_eager_gc(function()
      for _ = 1, 60 do
        setmetatable({}, { __gc = function()
          local ok, answer = pcall(client.friends_count, client, me)
          outcomes[#outcomes + 1] = ok and answer and answer.count or tostring(answer)
        end })
        assert.equal(130, #assert(client:friends(me)).data)
      end
    end)
    assert.is_true(#outcomes > 0, "no finalizer ran during a request: the test proves nothing")
    for _, outcome in ipairs(outcomes) do assert.equal(130, outcome) end
  end)

  it("closes the client at once: the interrupted call answers or is cancelled, never raises", function()
    local client = support.client()
    local me = sb.credentials.user_id
    with_eager_gc(function()
      setmetatable({}, { __gc = function() client:close() end })
      local calls = 0
      while tostring(client) ~= "robloxsocial.Client (closed)" do
        calls = calls + 1                -- bounded: the collector is eager, so a few calls do
        assert(calls <= 1000, "the finalizer that closes the client never ran")
        local answer, err = client:friends(me)
        if answer then
          assert.equal(130, #answer.data)
        else
          assert.equal("cancelled", err.kind)
          assert.equal("robloxsocial.Client (closed)", tostring(client))
        end
      end
    end)
    assert.has_error(function() client:friends(me) end, "robloxsocial: attempt to use a closed client")
  end)
end)

-- The transport: CSRF handshake, retries, timeouts and the error object,
-- driven through the sandbox's fault switches and counted at the server.
local support = require "spec.support"
local robloxsocial = require "robloxsocial"
local socket = require "socket"
local proc = require "spec.proc"

local sb, me = support.main()
local NOBODY = 999999999999          -- no such user in the default world

local strings_of = support.strings_of

local function count(method, path) return #support.requests(method, path) end

local function friends_count_path() return ("/v1/users/%d/friends/count"):format(me) end

-- An Open Cloud route: API keys and OAuth tokens go to the apis service
-- only (none of the 37 endpoints takes them).
local APIS_PATH = "/cloud/v2/users/1"

-- A pending friend request of the main user, to accept or decline.
local function pending_requester(client)
  local page = assert(client:friend_requests{ limit = 10 })
  return page.data[1].id
end

before_each(support.reset)

describe("the x-csrf-token handshake", function()
  it("answers a 403 challenge by sending the write once more with the token, then reuses it", function()
    local client <close> = support.client()
    local first, second = pending_requester(client), nil
    sb:clear_requests()
    assert.is_table(client:accept_friend_request(first))
    local posts = support.requests("POST")
    assert.equal(2, #posts)
    assert.is_nil(posts[1].csrf_token)
    assert.equal(403, posts[1].status)
    assert.is_string(posts[2].csrf_token)
    assert.equal(200, posts[2].status)
    second = pending_requester(client)
    sb:clear_requests()
    assert.is_table(client:decline_friend_request(second))
    posts = support.requests("POST")
    assert.equal(1, #posts)                 -- no second challenge
    assert.equal(200, posts[1].status)
  end)

  it("replaces the stored token when the server hands out a new one", function()
    local client <close> = support.client()
    sb:configure{ csrf_ttl = 0.5 }
    assert.is_table(client:decline_friend_request(pending_requester(client)))
    local old = support.requests("POST")[2].csrf_token
    socket.sleep(0.6)                      -- the sandbox's token has expired (needs sb:advance)
    sb:clear_requests()
    assert.is_table(client:decline_friend_request(pending_requester(client)))
    local posts = support.requests("POST")
    assert.equal(2, #posts)
    assert.equal(old, posts[1].csrf_token)
    assert.equal(403, posts[1].status)
    assert.is_string(posts[2].csrf_token)
    assert.are_not.equal(old, posts[2].csrf_token)
    assert.equal(200, posts[2].status)
  end)

  it("is triggered by the header, not by the message text", function()
    local client <close> = support.client()
    sb:fault{ method = "POST", path = "*", kind = "status", status = 403,
              message = "XSRF token invalid" }       -- no x-csrf-token header
    local answer, err = client:decline_all_friend_requests()
    assert.is_nil(answer)
    assert.same({ "http", 403, 0, "XSRF token invalid" }, { err.kind, err.status, err.code, err.message })
    assert.equal(1, count("POST"))
  end)

  it("does not resend a GET that is answered 403 with a token", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 403,
              headers = { ["x-csrf-token"] = "t" } }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.equal(403, err.status)
    assert.equal(1, count("GET", friends_count_path()))
  end)

  -- A POST that changes nothing: the tags of the main user.
  local function get_tags(client)
    return client:request("POST", "contacts", "/v1/user/get-tags", { body = { targetUserIds = { me } } })
  end

  it("is made once for a burst of concurrent writes: the others wait for the token", function()
    sb:configure{ latency = 0.05 }
    local client <close> = support.client{ concurrency = 8 }
    local tasks = {}
    for i = 1, 8 do tasks[i] = robloxsocial.spawn(get_tags, client) end
    support.run(10)
    for i = 1, 8 do assert.is_table(tasks[i]:wait()) end
    local posts = support.requests("POST", "/v1/user/get-tags")
    assert.equal(9, #posts)                 -- one 403 with the token, then eight that carry it
    assert.equal(403, posts[1].status)
    for i = 2, 9 do
      assert.equal(200, posts[i].status)
      assert.is_string(posts[i].csrf_token)
    end
  end)

  it("is made once for a batch outside a task too (presence POSTs are writes to the handshake)", function()
    sb:configure{ latency = 0.02 }
    local client <close> = support.client{ concurrency = 10 }
    local ids = {}
    for i = 1, 500 do ids[i] = me + i end
    assert.is_table(client:presence(ids))
    local posts = support.requests("POST")
    assert.equal(11, #posts)                -- 10 chunks, and the first one's handshake
    assert.equal(403, posts[1].status)
  end)

  it("lets a burst of writes go together once one was answered without the handshake", function()
    sb:configure{ latency = 0.1 }
    sb:fault{ method = "POST", path = "/v1/user/get-tags", kind = "status", status = 500, count = 1 }
    local client <close> = support.client{ concurrency = 8, max_retries = 0 }
    local first = robloxsocial.spawn(get_tags, client)       -- the probe: a 500, no token
    local rest = {}
    for i = 1, 4 do rest[i] = robloxsocial.spawn(get_tags, client) end
    local core = require "robloxsocial.core"
    assert.equal(1, core.stats().on_network)                  -- the others wait for its answer
    support.step_until(function() return first:done() end, "the probe's answer")
    robloxsocial.step(0)
    assert.equal(4, core.stats().on_network)                  -- all at once, not one more probe
    support.run(10)
    for i = 1, 4 do assert.is_table(rest[i]:wait()) end
  end)

  it("lets the writes waiting for a probe go once the probe is cancelled", function()
    -- The probe is cancelled in flight, unanswered: a waiting write
    -- becomes the next probe at once, not when its timeout runs out.
    sb:configure{ latency = 0.3 }
    local client <close> = support.client{ concurrency = 8, max_retries = 0, timeout = 3 }
    local core = require "robloxsocial.core"
    local probe = robloxsocial.spawn(get_tags, client)
    local rest = {}
    for i = 1, 3 do rest[i] = robloxsocial.spawn(get_tags, client) end
    assert.equal(1, core.stats().on_network)                  -- the others wait for its answer
    probe:cancel()
    support.run(10)
    for i = 1, 3 do assert.is_table(rest[i]:wait()) end
  end)

  it("still makes one handshake for the waiting writes when the probe fails unanswered", function()
    -- The probe's connection is reset: the service said nothing about
    -- tokens, so the writes that waited still make one handshake, not one each.
    sb:fault{ method = "POST", path = "/v1/user/get-tags", kind = "reset", count = 1 }
    sb:configure{ latency = 0.05 }
    local client <close> = support.client{ concurrency = 8, max_retries = 0 }
    local probe = robloxsocial.spawn(get_tags, client)
    -- Writes to other endpoints, so that no endpoint's own first request
    -- (which goes alone while nothing is known of its limits) keeps them apart.
    local rest = {}
    for i, name in ipairs{ "refresh_qr_session", "decline_all_friend_requests", "clear_new_friend_requests" } do
      rest[i] = robloxsocial.spawn(function() return client[name](client) end)
    end
    support.run(10)
    assert.is_nil((probe:wait()))
    for i = 1, 3 do assert.is_table(rest[i]:wait()) end
    local refused = 0
    for _, r in ipairs(support.requests()) do
      if r.status == 403 then refused = refused + 1 end
    end
    assert.equal(1, refused)
  end)

  it("is made once for a write: a second 403 with a token ends the call", function()
    -- A service that refuses the write again with a token must not be
    -- answered with handshake after handshake.
    sb:fault{ method = "POST", path = "/v1/user/get-tags", kind = "status", status = 403, count = -1,
              headers = { ["x-csrf-token"] = "again" } }
    local client <close> = support.client{ max_retries = 0, timeout = 3 }
    local answer, err = get_tags(client)
    assert.is_nil(answer)
    assert.equal(403, err.status)
    assert.equal(2, count("POST", "/v1/user/get-tags"))
  end)

  -- The key goes only to the apis service (Open Cloud), which answers
  -- here through a fault: what is checked is what the client sends.
  it("sends a write made with an API key alone once, with the key and no token", function()
    local client <close> = support.client{ cookie = false, api_key = sb.credentials.api_key }
    sb:fault{ method = "POST", path = APIS_PATH, kind = "body", body = "{}" }
    assert.is_table(client:request("POST", "apis", APIS_PATH, { body = {} }))
    local posts = support.requests("POST")
    assert.equal(1, #posts)
    assert.equal("api_key", posts[1].auth)
    assert.is_nil(posts[1].csrf_token)
  end)
end)

describe("retries", function()
  it("retries a 429 after the seconds of Retry-After, not after retry_delay", function()
    local client <close> = support.client{ retry_delay = 0.01 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 429, retry_after = "1" }
    local started = socket.gettime()
    local answer = client:friends_count(me)
    assert.is_table(answer)
    assert.is_true(socket.gettime() - started >= 1.0)
    assert.equal(2, count("GET", friends_count_path()))
  end)

  it("understands Retry-After as an HTTP date", function()
    local client <close> = support.client{ retry_delay = 0.01 }
    -- a whole second between 0.5 and 1.5 s away: an HTTP date has no finer unit
    local at = math.floor(socket.gettime() + 0.5) + 1
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 429,
              retry_after = os.date("!%a, %d %b %Y %H:%M:%S GMT", at) }
    local started = socket.gettime()
    assert.is_table(client:friends_count(me))
    assert.is_true(socket.gettime() - started >= 0.4)
    assert.equal(2, count("GET", friends_count_path()))
  end)

  it("returns a 429 at once, as a timeout with retry_after, when the wait would pass the call's deadline", function()
    local client <close> = support.client{ deadline = 5 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 429, retry_after = "120" }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.same({ "timeout", 429, 120 }, { err.kind, err.status, err.retry_after })
    assert.equal(1, count("GET", friends_count_path()))
  end)

  it("retries a write answered 429, which was not carried out", function()
    local client <close> = support.with_csrf_token(support.client())
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "status", status = 429 }
    assert.is_table(client:decline_all_friend_requests())
    assert.equal(2, #support.sent("POST", "/v1/user/friend-requests/decline-all"))
  end)

  it("says sent = false of a write whose last answer was a 429 (it was not carried out)", function()
    local client <close> = support.with_csrf_token(support.client{ max_retries = 1 })
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "status", status = 429,
              count = 2, retry_after = "0" }
    local answer, err = client:decline_all_friend_requests()
    assert.is_nil(answer)
    assert.same({ "http", 429, false }, { err.kind, err.status, err.sent })
    -- and a 500, which may have been carried out, says true
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "status", status = 500 }
    answer, err = client:decline_all_friend_requests()
    assert.same({ 500, true }, { err.status, err.sent })
  end)

  it("retries a GET answered 503", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 503 }
    local answer = client:friends_count(me)
    assert.is_table(answer)
    assert.equal("integer", math.type(answer.count))
    assert.equal(2, count("GET", friends_count_path()))
  end)

  it("sends a POST answered 500 exactly once", function()
    local client <close> = support.with_csrf_token(support.client())
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "status", status = 500 }
    local answer, err = client:decline_all_friend_requests()
    assert.is_nil(answer)
    assert.same({ "http", 500 }, { err.kind, err.status })
    assert.equal(1, count("POST", "/v1/user/friend-requests/decline-all"))
  end)

  it("gives up after max_retries and returns the last error", function()
    local client <close> = support.client{ max_retries = 2 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 503, count = -1 }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.same({ "http", 503 }, { err.kind, err.status })
    assert.equal(3, count("GET", friends_count_path()))
  end)

  it("does not retry a 400", function()
    local client <close> = support.client()
    local answer, err = client:friends_count(NOBODY)
    assert.is_nil(answer)
    assert.same({ "http", 400, 1 }, { err.kind, err.status, err.code })
    assert.equal(1, count("GET", ("/v1/users/%d/friends/count"):format(NOBODY)))
  end)

  it("retries a GET whose connection closed mid-body, and never a POST", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "close" }
    assert.is_table(client:friends_count(me))
    assert.equal(2, count("GET", friends_count_path()))
    support.with_csrf_token(client)       -- the POST below goes once, with the token
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "close" }
    local answer, err = client:decline_all_friend_requests()
    assert.is_nil(answer)
    assert.equal("network", err.kind)
    assert.equal(1, count("POST", "/v1/user/friend-requests/decline-all"))
  end)
end)

describe("failures", function()
  it("gives kind network for a refused connection", function()
    local port = proc.free_port()                   -- nothing listens there now
    local client <close> = robloxsocial.new{ base_url = "http://127.0.0.1:" .. port, max_retries = 0 }
    local answer, err = client:friends_count(5)
    assert.is_nil(answer)
    assert.equal("network", err.kind)
    assert.is_nil(err.status)
    assert.equal("GET", err.method)
    assert.equal("http://127.0.0.1:" .. port .. "/v1/users/5/friends/count", err.url)
    assert.matches("^robloxsocial: network: .+ %[GET http://127%.0%.0%.1:%d+/v1/users/5/friends/count%]$",
                   tostring(err))
  end)

  it("gives kind timeout when the answer takes longer than the timeout", function()
    local client <close> = support.client{ timeout = 0.3, max_retries = 0 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "stall", seconds = 1.5 }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.equal("timeout", err.kind)
  end)

  it("gives kind decode, with the status, for truncated JSON", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "truncate" }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.same({ "decode", 200 }, { err.kind, err.status })
    assert.matches("not valid JSON", err.message)
    assert.equal(1, count("GET", friends_count_path()))
  end)

  it("returns an empty table for an empty body", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "body", body = "" }
    local answer, err = client:friends_count(me)
    assert.is_nil(err)
    assert.same({}, answer)
  end)

  it("gives kind decode for a body that is not JSON at all", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "malformed" }
    local _, err = client:friends_count(me)
    assert.equal("decode", err.kind)
  end)

  it("reads an HTML error page as an http error with a readable message", function()
    local client <close> = support.client{ max_retries = 0 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "html", status = 502 }
    local _, err = client:friends_count(me)
    assert.same({ "http", 502, "HTTP 502 Bad Gateway" }, { err.kind, err.status, err.message })
    assert.is_nil(err.code)
  end)

  it("takes code, message and the whole list from the Roblox error envelope", function()
    local client <close> = support.client()
    local _, err = client:friends_count(NOBODY)
    assert.equal(1, err.code)
    assert.equal("The target user is invalid or does not exist.", err.message)
    assert.same(err.code, err.errors[1].code)
    assert.equal("robloxsocial: http 400 (code 1): The target user is invalid or does not exist. "
      .. "[GET " .. sb.base_url .. "/v1/users/" .. NOBODY .. "/friends/count]", tostring(err))
    assert.equal(robloxsocial.error_mt, getmetatable(err))
  end)

  it("takes code and message from a flat error body", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 400,
              code = 42, message = "Flat failure", flat = true }
    local _, err = client:friends_count(me)
    assert.same({ 400, 42, "Flat failure" }, { err.status, err.code, err.message })
    assert.is_nil(err.errors)
  end)

  it("summarises an error on one line whatever the server's message holds", function()
    local client <close> = support.client()
    sb:fault{ method = "GET", path = friends_count_path(), kind = "status", status = 400,
              code = 3, message = "first line\r\nsecond line" }
    local _, err = client:friends_count(me)
    assert.equal("first line\r\nsecond line", err.message)
    assert.is_nil(tostring(err):find("[\r\n]"))
    assert.matches("first line  second line", tostring(err), 1, true)
  end)

  it("gives kind network for a connection reset without an answer", function()
    local client <close> = support.client{ max_retries = 0 }
    sb:fault{ method = "GET", path = friends_count_path(), kind = "reset" }
    local _, err = client:friends_count(me)
    assert.equal("network", err.kind)
  end)
end)

describe("credentials", function()
  it("never appear in errors, messages or tostring", function()
    local creds = sb.credentials
    local secrets = { creds.cookie, creds.api_key, creds.access_token }
    local clients = {
      support.client{ max_retries = 0 },
      support.client{ cookie = false, api_key = creds.api_key, max_retries = 0 },
      support.client{ cookie = false, access_token = creds.access_token, max_retries = 0 },
    }
    -- the cookie client asks a friends endpoint, the others an apis route
    local function ask(client, i, user)
      if i == 1 then return client:friends_count(user) end
      return client:request("GET", "apis", "/cloud/v2/users/" .. user)
    end
    local seen = {}
    for i, client in ipairs(clients) do
      seen[#seen + 1] = tostring(client)
      for _, kind in ipairs{ "status", "html", "truncate", "reset" } do
        sb:fault{ method = "*", path = "*", kind = kind, status = 500 }
        local _, err = ask(client, i, me)
        seen[#seen + 1] = tostring(err)
        strings_of(err, seen)
      end
      local _, err = ask(client, i, NOBODY)
      strings_of(err, seen)
      seen[#seen + 1] = tostring(err)
      client:close()
      seen[#seen + 1] = tostring(client)
    end
    local leaked = 0
    for _, text in ipairs(seen) do
      for _, secret in ipairs(secrets) do
        if text:find(secret, 1, true) then leaked = leaked + 1 end
      end
    end
    assert.equal(0, leaked)               -- the count only: never print a secret
  end)

  it("are sent as a cookie, an API key or a bearer token", function()
    local creds = sb.credentials
    local cookie <close> = support.client{ cookie = creds.cookie }
    assert.is_table(cookie:my_friends_count())
    assert.equal("cookie", support.requests("GET")[1].auth)
    -- the key and the token: to the apis service, answered by a fault
    for _, case in ipairs{ { { cookie = false, api_key = creds.api_key }, "api_key" },
                           { { cookie = false, access_token = creds.access_token }, "bearer" } } do
      sb:clear_requests()
      local client <close> = support.client(case[1])
      sb:fault{ method = "GET", path = APIS_PATH, kind = "body", body = "{}" }
      assert.is_table(client:request("GET", "apis", APIS_PATH))
      assert.equal(case[2], support.requests("GET")[1].auth)
    end
  end)

  it("are required: without them the service answers 401 code 0", function()
    local client <close> = support.client{ cookie = false }
    -- client:request sends it: a cookie-only method may refuse to without a cookie
    local _, err = client:request("GET", "friends", "/v1/my/friends/count")
    assert.same({ "http", 401, 0, "Authorization has been denied for this request." },
                { err.kind, err.status, err.code, err.message })
  end)
end)

describe("requests", function()
  it("carry the User-Agent robloxsocial/<VERSION> unless one is given", function()
    local client <close> = support.client()
    client:my_friends_count()
    assert.equal("robloxsocial/" .. robloxsocial.VERSION, support.requests("GET")[1].user_agent)
    sb:clear_requests()
    local custom <close> = support.client{ user_agent = "my-bot/2.0" }
    custom:my_friends_count()
    assert.equal("my-bot/2.0", support.requests("GET")[1].user_agent)
  end)

  it("send JSON bodies with Content-Type application/json", function()
    local client <close> = support.client()
    client:presence{ me }
    local post = support.requests("POST", "/v1/presence/users")
    assert.equal("application/json", post[#post].content_type)
    assert.equal(('{"userIds":[%d]}'):format(me), post[#post].body)
  end)

  it("percent-encode the query, in sorted key order, repeating list keys", function()
    local client <close> = support.client()
    client:request("GET", "friends", "/v1/metadata", { query = { z = "a b&c=é", a = { 1, 2 } } })
    assert.equal("a=1&a=2&z=a%20b%26c%3D%C3%A9", support.requests("GET", "/v1/metadata")[1].query)
  end)
end)

describe("64-bit ids", function()
  local big = 9007199254740993            -- 2^53 + 1: not a double

  it("decode as exact integers: a 16-digit id", function()
    local client <close> = support.client()
    local answer = assert(client:presence{ me })
    assert.equal(16, #tostring(me))
    assert.equal("integer", math.type(answer.userPresences[1].userId))
    assert.equal(me, answer.userPresences[1].userId)
  end)

  it("go into paths, queries and bodies exactly, and come back exactly: 2^53+1", function()
    local client <close> = support.client()
    local answer = assert(client:presence{ big })
    assert.equal(('{"userIds":[%d]}'):format(big), support.requests("POST", "/v1/presence/users")[1].body)
    assert.equal("integer", math.type(answer.userPresences[1].userId))
    assert.equal(big, answer.userPresences[1].userId)
    client:friend_statuses(me, { big })
    assert.equal("userIds=9007199254740993",
                 support.requests("GET", ("/v1/users/%d/friends/statuses"):format(me))[1].query)
    client:message(big)
    assert.equal(1, count("GET", "/v1/messages/9007199254740993"))
  end)
end)

describe("argument errors", function()
  it("raise before anything is sent", function()
    local client <close> = support.client()
    assert.has_error(function() client:friends_count("5") end,
      "bad argument #1 to 'friends_count' (positive integer expected, got string)")
    assert.has_error(function() client:presence{ 1, 2.5 } end,
      "bad argument #1 to 'presence' (list of positive integers expected, got float at index 2)")
    assert.has_error(function() client:find_friends(me, { limit = "10" }) end,
      "bad argument #2 to 'find_friends' (option 'limit' must be a positive integer)")
    assert.equal(0, #support.requests())
  end)

  it("accept a float with an integral value as that integer", function()
    local client <close> = support.client()
    client:friends_count(12.0)
    assert.equal(1, count("GET", "/v1/users/12/friends/count"))
  end)
end)

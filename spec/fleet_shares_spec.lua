-- A fleet's shares that their requests no longer need (csrc/fleet.c,
-- csrc/store.c): a call cancelled after its bucket took a share for it
-- gives the share on to the next request waiting on the same bucket, or
-- back to Redis, at once: the other clients of the account see the whole
-- budget, not the budget less shares that time out a minute later.
-- Against the sandbox and a real redis-server; no assertion is about
-- time: the sandbox's requests, its 429s, the shares in Redis.
local support = require "spec.support"
local redis = require "spec.redis"
local core = require "robloxsocial.core"
local robloxsocial = require "robloxsocial"

local COUNT_RULE = "GET /v1/users/{userId}/friends/count"
local COUNT_KEY = "GET friends /v1/users/{id}/friends/count"
local PRESENCE_RULE = "POST /v1/presence/users"
local PRESENCE_KEY = "POST presence /v1/presence/users"

local available, why = redis.available()
local describe_redis = available and describe or function(name) pending(name .. ": " .. why) end

describe_redis("a fleet's shares that their requests no longer need", function()
  local r, sb, me
  setup(function() r = redis.start() end)
  teardown(function() if r then r.stop() end end)
  before_each(function()
    sb = support.reset()
    me = sb.credentials.user_id
    r.cli("FLUSHALL")
    r.cli("CONFIG", "RESETSTAT")
  end)

  -- The shares Redis holds for key (answered or in flight).
  local function shares(key)
    return tonumber(r.cli("ZCARD", core.fleet_key(sb.credentials.cookie, key)))
  end

  -- How many times the store's scripts called a Redis command (ZREM:
  -- a share given back).
  local function calls(command)
    return tonumber(r.cli("INFO", "commandstats"):match("cmdstat_" .. command .. ":calls=(%d+)")) or 0
  end

  -- A client of the account with shared_limits, friends_count paced at
  -- 5 a minute as the sandbox enforces it, its store up and the bucket
  -- known (one call made).
  local function counting_client(opts)
    local options = { shared_limits = r.url, connect_timeout = 5, concurrency = 4,
                      rate_limits = { friends_count = { 5, 60 } } }
    for k, v in pairs(opts or {}) do options[k] = v end
    local c = support.client(options)
    assert(support.wait(robloxsocial.spawn(function() return c:friends_count(me) end)))
    return c
  end

  -- n friends_count calls of client b, in tasks: how many failed once
  -- they are all done (bounded: a call still waiting after 10 s counts
  -- as failed).
  local function calls_of(b, n)
    local ok = 0
    for _ = 1, n do
      robloxsocial.spawn(function() if b:friends_count(me) then ok = ok + 1 end end)
    end
    robloxsocial.run(10)
    return n - ok
  end

  it("cancelled before their shares' take was answered: the shares go back to Redis at once", function()
    sb:configure { rate_limits = { [COUNT_RULE] = { limit = 5, window = 60, style = "fixed", policy = true } } }
    local a <close> = counting_client()
    local b <close> = counting_client()
    assert.equal(2, shares(COUNT_KEY))
    local tasks = {}
    for i = 1, 3 do tasks[i] = robloxsocial.spawn(function() return a:friends_count(me) end) end
    for _, t in ipairs(tasks) do t:cancel() end      -- their take is written, not yet answered
    support.step_until(function() return calls("zrem") >= 1 end, "a's shares given back")
    assert.equal(2, shares(COUNT_KEY))
    -- b sees the three left of the five at once, not after a's shares time out
    assert.equal(0, calls_of(b, 3))
    assert.equal(5, #support.requests("GET"))
    assert.equal(0, support.refused("GET"))
    assert.equal(5, shares(COUNT_KEY))
  end)

  -- Five calls of a client of two slots, the sandbox holding each
  -- request: two on the network, three waiting for a slot, the bucket
  -- holding the share its take got for the first of them.  Returns the
  -- client and the calls' tasks.
  local function two_out_three_waiting()
    sb:configure { rate_limits = { [COUNT_RULE] = { limit = 5, window = 60, style = "fixed", policy = true } } }
    local a = counting_client { concurrency = 2 }
    sb:fault { method = "GET", path = "/v1/users/" .. me .. "/friends/count", kind = "stall", seconds = 2, count = -1 }
    local tasks = {}
    for i = 1, 5 do tasks[i] = robloxsocial.spawn(function() return a:friends_count(me) end) end
    support.step_until(function()
      return a:rate_limit("friends", "friends_count").queued == 3 and core.stats().on_network == 2
    end, "two calls out, three waiting")
    return a, tasks
  end

  it("calls waiting for a slot cancelled: the next one waiting goes on the share the bucket held, used once", function()
    local a <close>, tasks = two_out_three_waiting()
    tasks[3]:cancel()                                -- the share it was to use
    tasks[4]:cancel()
    robloxsocial.run(10)
    for _, i in ipairs { 1, 2, 5 } do assert.truthy((tasks[i]:wait()), "call " .. i) end
    assert.equal(4, #support.requests("GET"))
    assert.equal(0, support.refused("GET"))
    assert.equal(4, shares(COUNT_KEY))               -- one each, none left in flight
    assert.equal(0, calls("zrem"))                   -- kept for the call still waiting
  end)

  it("calls waiting for a slot cancelled: the bucket's shares beyond the calls still waiting go back", function()
    local a <close>, tasks = two_out_three_waiting()
    for i = 3, 5 do tasks[i]:cancel() end            -- none waits now
    support.step_until(function() return calls("zrem") >= 1 end, "the bucket's share given back")
    assert.equal(3, shares(COUNT_KEY))               -- the first call's, and the two out
    robloxsocial.run(10)
    assert.truthy(tasks[1]:wait())
    assert.truthy(tasks[2]:wait())
    assert.equal(3, #support.requests("GET"))
    assert.equal(3, shares(COUNT_KEY))
  end)

  it("a deadline that passed while the take was out: the shares go back to Redis", function()
    sb:configure { rate_limits = { [COUNT_RULE] = { limit = 5, window = 60, style = "fixed", policy = true } } }
    local a <close> = counting_client { deadline = 1 }
    local tasks = {}
    for i = 1, 3 do tasks[i] = robloxsocial.spawn(function() return a:friends_count(me) end) end
    require("socket").sleep(1.2)                     -- their deadline passes before the loop runs
    support.step_until(function() return calls("zrem") >= 1 end, "a's shares given back")
    assert.equal(1, shares(COUNT_KEY))
    for _, t in ipairs(tasks) do
      local answer, err = support.wait(t)
      assert.same({ nil, "timeout" }, { answer, err.kind })
    end
    assert.equal(1, #support.requests("GET"))
  end)

  -- A new client's calls wait for its store's first connection; then
  -- the bucket's first take is for the whole line (the batch's three
  -- requests), and the first request goes alone (the bucket's probe).
  it("a batch that failed withdrew its waiting requests: the shares taken for them go back", function()
    sb:configure { rate_limits = { [PRESENCE_RULE] = { limit = 10, window = 60, style = "fixed", policy = true } } }
    local client <close> = support.client { shared_limits = r.url, connect_timeout = 5, concurrency = 3,
      rate_limits = { presence = { 10, 60 } } }
    sb:fault { method = "POST", path = "/v1/presence/users", kind = "status", status = 400 }
    local ids = support.range(1000001, 1000150)      -- three requests of 50, three slots
    local answer, err = support.wait(robloxsocial.spawn(function() return client:presence(ids) end))
    assert.is_nil(answer)
    assert.equal(400, err.status)
    assert.equal(1, #support.requests("POST", "/v1/presence/users"))   -- the others withdrawn
    support.step_until(function() return calls("zrem") >= 1 end, "the withdrawn requests' shares given back")
    assert.equal(1, shares(PRESENCE_KEY))            -- the failed request's, answered
  end)

  it("client:close() with a take out: its shares go back to Redis", function()
    sb:configure { rate_limits = { [COUNT_RULE] = { limit = 5, window = 60, style = "fixed", policy = true } } }
    local a = counting_client()
    local b <close> = counting_client()
    for _ = 1, 3 do robloxsocial.spawn(function() return a:friends_count(me) end) end
    robloxsocial.step(0)                             -- their take written at the step's end
    a:close()                                        -- before its answer is read
    assert.equal(0, calls_of(b, 3))
    assert.equal(5, #support.requests("GET"))
    assert.equal(0, support.refused("GET"))
    assert.equal(5, shares(COUNT_KEY))
  end)

  -- The first writes of a session wait for its CSRF handshake holding a
  -- slot and the share their bucket took for them; one cancelled then
  -- hands its share to a request waiting on the same bucket, which goes
  -- on it without asking Redis.
  it("a write cancelled while it waits for the CSRF token: its share goes to the next write waiting, used once", function()
    sb:configure { rate_limits = { [PRESENCE_RULE] = { limit = 4, window = 60, style = "fixed", policy = true } } }
    local client <close> = support.client { shared_limits = r.url, connect_timeout = 5, concurrency = 3,
      rate_limits = { presence = { 4, 60 }, friends_count = { 100, 60 } } }
    assert(support.wait(robloxsocial.spawn(function() return client:friends_count(me) end)))   -- the store up
    sb:clear_requests()
    -- the session's first write, the CSRF handshake's, held by the sandbox
    sb:fault { method = "POST", path = "/v1/user/get-tags", kind = "stall", seconds = 2 }
    local handshake = robloxsocial.spawn(function()
      return client:request("POST", "contacts", "/v1/user/get-tags", { body = { targetUserIds = { me } } })
    end)
    local writes = {}
    for i = 1, 5 do writes[i] = robloxsocial.spawn(function() return client:presence({ me }) end) end
    -- two writes hold the slots left, and a share each, waiting for the token
    support.step_until(function() return client:rate_limit("presence", "presence").queued == 3 end,
                       "two writes waiting for the token")
    assert.equal(0, #support.requests("POST", "/v1/presence/users"))
    writes[1]:cancel()
    robloxsocial.run(10)
    assert.is_true(handshake:done())
    for i = 2, 5 do assert.is_true(writes[i]:done(), "write " .. i) end
    for i = 2, 5 do assert.truthy((writes[i]:wait()), "write " .. i) end
    local posts = support.requests("POST", "/v1/presence/users")
    assert.equal(4, #posts)                           -- the budget, each share used once
    assert.equal(0, support.refused("POST", "/v1/presence/users"))
    assert.equal(4, shares(PRESENCE_KEY))
    assert.equal(0, calls("zrem"))                    -- given on in the process, not back to Redis
  end)
end)

-- A fleet (issue 22): several lua5.4 processes sharing one cookie, and
-- each endpoint's budget through Redis (shared_limits), against the
-- sandbox, which counts per cookie and endpoint as the live services do.
-- No assertion is about time: the 429s in the sandbox's log, and that
-- every call succeeds.
local support = require "spec.support"
local redis = require "spec.redis"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"

local COUNT_RULE = "GET /v1/users/{userId}/friends/count"
local available, why = redis.available()
local describe_redis = available and describe or function(name) pending(name .. ": " .. why) end

local function refused() return support.refused("GET") end

-- Seconds a child of fleet() may take: its own run() and call deadline
-- end it first (it then says "done false" or a failure), coreutils'
-- timeout if those do not.
local CHILD_SECONDS = 30

-- Starts `processes` children of n calls each; returns a function that
-- waits for them and returns their lines (a child killed by the timeout:
-- what it wrote, and that).
local function fleet(processes, n, url, limit, seconds, method)
  local sb = support.sandbox()
  local env = proc.secret_env { FLEET_COOKIE = sb.credentials.cookie }
    .. "LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/?.so;;' "
  local pipes = {}
  for i = 1, processes do
    pipes[i] = assert(io.popen(env .. ("timeout -k 5 %d lua5.4 spec/fleet_child.lua %s %d %d %s %g %g %s 2>&1")
      :format(CHILD_SECONDS, sb.base_url, sb.credentials.user_id, n, url, limit, seconds, method or "count")))
  end
  return function()
    local lines = {}
    for i, p in ipairs(pipes) do
      lines[i] = p:read("a")
      local _, _, code = p:close()
      if code == 124 or code == 137 then
        lines[i] = ("%s(child %d killed after %d s)"):format(lines[i], i, CHILD_SECONDS)
      end
    end
    return lines
  end
end

-- A call made outside a task, bounded: in a task that the spec waits
-- for at most 10 s (support.wait raises naming what is stuck).  A call
-- made as a blocking one waits as long as its bucket and the store say
-- (a closure until a reset a minute away), with no bound.
local function call(fn)
  return support.wait(robloxsocial.spawn(fn))
end

-- Runs a Lua program in a process of its own (a fresh library: no
-- pollfd() asked yet) against the sandbox and the store at url, its
-- cookie from the environment (COOKIE); bounded by 30 s.  Returns its output.
local function run_program(url, text)
  local sb = support.sandbox()
  return proc.lua_program(text, { BASE = sb.base_url, ME = sb.credentials.user_id, REDIS = url },
                          { COOKIE = sb.credentials.cookie })
end

describe("a fleet's processes", function()
  before_each(support.reset)

  -- ps and /proc/<pid>/cmdline are open to every user of the machine: the
  -- cookie is in no command line of the children, nor of the shells and
  -- tools that start them, while they run (a call stalled holds them).
  it("are handed the cookie in no command line", function()
    local sb = support.sandbox()
    sb:fault { method = "GET", path = "/v1/users/" .. sb.credentials.user_id .. "/friends/count",
               kind = "stall", seconds = 1 }
    local wait = fleet(2, 1, "none", 4, 0.5)
    local started, holding = proc.watch_command_lines(sb.credentials.cookie, "\0spec/fleet_child.lua\0", 10)
    local lines = wait()
    assert.is_true(started, "no child was seen running")
    assert.same({}, holding)
    assert.same({ "failed 0 shared false done true\n", "failed 0 shared false done true\n" }, lines)
  end)
end)

describe_redis("a fleet sharing one cookie", function()
  local r
  setup(function() r = redis.start() end)
  teardown(function() if r then r.stop() end end)
  before_each(function()
    support.reset()
    r.cli("FLUSHALL")           -- a closure or shares an earlier test left under the same cookie
    support.sandbox():configure { rate_limits = { [COUNT_RULE] = { limit = 4, window = 0.5, style = "fixed", policy = true } } }
  end)

  -- The sandbox's friends count at 100 a minute per cookie, and a client
  -- sharing that budget through the store (opts added).
  local function minute_budget(sb)
    sb:configure { rate_limits = { [COUNT_RULE] = { limit = 100, window = 60, style = "fixed", policy = true } } }
  end
  local function minute_client(opts)
    opts = opts or {}
    opts.shared_limits, opts.connect_timeout = r.url, 5
    opts.rate_limits = { friends_count = { 100, 60 } }
    return support.client(opts)
  end
  -- The friends count's answers say `remaining` of that minute's budget.
  local function answers_say(sb, remaining)
    sb:fault{ method = "GET", path = "/v1/users/" .. sb.credentials.user_id .. "/friends/count", kind = "body",
              status = 200, body = '{"count":0}', headers = { ["x-ratelimit-limit"] = "100, 100;w=60",
                                                              ["x-ratelimit-remaining"] = remaining,
                                                              ["x-ratelimit-reset"] = "60" } }
  end

  it("with shared_limits: four processes, no 429, every call succeeds, the budget shared", function()
    local lines = fleet(4, 6, r.url, 4, 0.5)()
    for _, line in ipairs(lines) do
      assert.equal("failed 0 shared true done true\n", line)
    end
    assert.equal(24, #support.requests("GET"))
    assert.equal(0, refused())
  end)

  it("writes too: each process's CSRF handshake resends on a share, no 429", function()
    support.sandbox():configure { rate_limits = { ["POST /v1/presence/users"] =
      { limit = 4, window = 0.5, style = "fixed", policy = true } } }
    local lines = fleet(4, 5, r.url, 4, 0.5, "presence")()
    for _, line in ipairs(lines) do
      assert.equal("failed 0 shared true done true\n", line)
    end
    local posts, refused_posts = support.requests("POST"), 0
    for _, q in ipairs(posts) do
      if q.status == 429 then refused_posts = refused_posts + 1 end
    end
    assert.equal(24, #posts)           -- 20 batches and 4 handshakes' first attempts
    assert.equal(0, refused_posts)
  end)

  it("without it the same fleet overruns the budget (what the store is for)", function()
    local lines = fleet(4, 6, "none", 4, 0.5)()
    for _, line in ipairs(lines) do
      assert.truthy(line:match("^failed %d+ shared false done true\n$"), line)
    end
    assert.is_true(refused() > 0)
  end)

  it("Redis killed mid-run and restarted: no call fails", function()
    local wait = fleet(4, 12, r.url, 4, 0.5)
    require("socket").sleep(0.5)
    r.kill()
    require("socket").sleep(0.5)
    r.restart()
    for _, line in ipairs(wait()) do
      assert.truthy(line:match("^failed 0 shared %a+ done true\n$"), line)
    end
  end)

  it("a store that cannot be reached: the client paces on its own, shared is false, no call fails", function()
    local sb = support.sandbox()
    local client <close> = support.client { concurrency = 4, max_retries = 0, connect_timeout = 1,
      shared_limits = ("redis://127.0.0.1:%d/0"):format(redis.free_port()),
      rate_limits = { friends_count = { 4, 0.5 } } }
    local failed = support.failed_calls(6, function() return client:friends_count(sb.credentials.user_id) end, 10)
    assert.equal(0, failed)
    assert.equal(0, refused())
    assert.is_false(client:rate_limit("friends", "friends_count").shared)
  end)

  it("a store that accepts and never answers: the first wait ends at connect_timeout, no call fails", function()
    local sb = support.sandbox()
    local mute = assert(require("socket").bind("127.0.0.1", 0))
    local _, port = mute:getsockname()
    local client <close> = support.client { concurrency = 4, max_retries = 0, connect_timeout = 0.2,
      shared_limits = ("redis://127.0.0.1:%d/0"):format(port),
      rate_limits = { friends_count = { 4, 0.5 } } }
    local failed = support.failed_calls(6, function() return client:friends_count(sb.credentials.user_id) end, 10)
    mute:close()
    assert.equal(0, failed)
    assert.equal(6, #support.requests("GET"))
    assert.is_false(client:rate_limit("friends", "friends_count").shared)
    local store = client:stats().store              -- the waits for the store are counted
    assert.is_false(store.up)
    assert.is_true(store.waits >= 1)
    assert.equal("number", type(store.longest_wait))
  end)

  -- In a process of its own: a host that asked for pollfd() (an earlier
  -- spec file in the same busted, fleet_store_spec's or hostloop_spec's)
  -- is told libcurl's and the store's own timeouts instead of a glance.
  it("a host stepping by next_timeout() glances while a request waits for the store", function()
    local out = run_program(r.url, [[
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local client = robloxsocial.new { base_url = os.getenv("BASE"), cookie = os.getenv("COOKIE"), timeout = 10,
  shared_limits = os.getenv("REDIS"), connect_timeout = 5, rate_limits = { friends_count = { 4, 0.5 } } }
local t = robloxsocial.spawn(function() return client:friends_count(math.tointeger(tonumber(os.getenv("ME")))) end)
robloxsocial.step(0)
print("done", t:done(), "on_network", core.stats().on_network)
print("next_timeout", robloxsocial.next_timeout())
local deadline = core.now() + 10
while not t:done() and core.now() < deadline do robloxsocial.step(0.01) end
print("answered", t:done() and type(t:wait()))
]])
    assert.matches("done%s+false%s+on_network%s+0\n", out)     -- it waits for the store, not the network
    local wait = tonumber(out:match("next_timeout%s+(%S+)"))
    assert.is_number(wait, out)
    assert.is_true(wait <= 0.005, out)
    assert.matches("answered%s+table", out)
    assert.equal(1, #support.requests("GET"))            -- its one request, once the store answered
  end)

  it("says shared in err.rate_limit as client:rate_limit does", function()
    local sb = support.sandbox()
    local client <close> = support.client { shared_limits = r.url, connect_timeout = 5,
      rate_limits = { friends_count = { 4, 0.5 } } }
    local me = sb.credentials.user_id
    assert(call(function() return client:friends_count(me) end))   -- the store connected, the bucket known
    assert.is_true(client:rate_limit("friends", "friends_count").shared)
    sb:fault{ method = "GET", path = "/v1/users/" .. me .. "/friends/count", kind = "status", status = 404,
              headers = { ["x-ratelimit-limit"] = "4", ["x-ratelimit-remaining"] = "3",
                          ["x-ratelimit-reset"] = "1" } }
    local _, err = call(function() return client:friends_count(me) end)
    assert.equal(404, err.status)
    assert.is_true(err.rate_limit.shared)
  end)

  -- An answer's remaining count, told against the client's own request
  -- numbers, says nothing of a fleet's (the others spend it too, and a
  -- request numbered later may have been counted earlier): the store's
  -- budget paces a shared client, not that ceiling until the reset.
  it("an answer's remaining count below the requests already out does not hold a shared client back until its reset", function()
    local sb = support.sandbox()
    local me = sb.credentials.user_id
    minute_budget(sb)
    local client <close> = minute_client { concurrency = 4 }
    assert(call(function() return client:friends_count(me) end))   -- the store up, the bucket known
    answers_say(sb, "1")
    local failed = support.failed_calls(6, function() return client:friends_count(me) end, 10)
    assert.equal(0, failed)                          -- in 10 s: not a minute's wait for the reset
    assert.equal(7, #support.requests("GET"))
    assert.is_true(client:rate_limit("friends", "friends_count").shared)
  end)

  it("an answer that says none remain closes the endpoint for the whole fleet until its reset", function()
    local sb = support.sandbox()
    local me = sb.credentials.user_id
    minute_budget(sb)
    local a <close> = minute_client()
    local b <close> = minute_client()
    assert(call(function() return a:friends_count(me) end))        -- both stores up
    assert(call(function() return b:friends_count(me) end))
    answers_say(sb, "0")
    assert(call(function() return a:friends_count(me) end))        -- none remain, for 60 s
    local seen = #support.requests("GET")
    local t = robloxsocial.spawn(function() return b:friends_count(me) end)
    robloxsocial.run(1)
    assert.is_false(t:done())                        -- b waits for the reset a's answer gave
    assert.equal(seen, #support.requests("GET"))
    assert.is_true(b:rate_limit("friends", "friends_count").shared)
  end)

  -- One round trip a share would send one request a frame from a host
  -- that steps once a frame (it reads the store's answer at its next step).
  it("a line of requests takes its shares from the store in a few takes, not one each", function()
    local sb = support.sandbox()
    local me = sb.credentials.user_id
    minute_budget(sb)
    local client <close> = minute_client { concurrency = 8 }
    assert(call(function() return client:friends_count(me) end))   -- the store up, the bucket known
    local function scripts_run()
      return tonumber(r.cli("INFO", "commandstats"):match("cmdstat_evalsha:calls=(%d+)"))
    end
    local before = scripts_run()
    assert.equal(0, support.failed_calls(8, function() return client:friends_count(me) end, 10))
    local takes = scripts_run() - before - 8         -- less each answer's record
    assert.is_true(takes >= 1 and takes <= 3, tostring(takes))
  end)

  -- A frame host's step: libcurl's work and the tasks' first, then the
  -- store's writes (Redis, woken by them, may take the processor).
  it("writes an answer's record at the end of the step that judged it, after its task ran", function()
    local sb = support.sandbox()
    local me = sb.credentials.user_id
    local client <close> = support.client { shared_limits = r.url, connect_timeout = 5 }
    local in_task
    local t = robloxsocial.spawn(function()
      local count = client:friends_count(me)
      in_task = r.cli("DBSIZE")                      -- the step that answered it has not ended
      return count
    end)
    assert(support.wait(t))
    assert.equal("0", in_task)
    support.step_until(function() return r.cli("DBSIZE") ~= "0" end, "the answer's record in Redis")
  end)

  it("client:stats() has a store only with shared_limits", function()
    local shared <close> = support.client { shared_limits = r.url, connect_timeout = 5 }
    local alone <close> = support.client {}
    assert.same({ "boolean", "number", "number" }, { type(shared:stats().store.up),
      type(shared:stats().store.waits), type(shared:stats().store.longest_wait) })
    assert.is_nil(alone:stats().store)
  end)

  it("refuses a URL that is not Redis's, and a fleet without a credential", function()
    local sb = support.sandbox()
    assert.has_error(function()
      robloxsocial.new { base_url = sb.base_url, cookie = sb.credentials.cookie, shared_limits = "http://x/" }
    end)
    assert.has_error(function() robloxsocial.new { base_url = sb.base_url, shared_limits = r.url } end)
  end)
end)

-- A fleet's shared budget in Redis (csrc/store.c), through
-- core.fleet_store: a store on the loop, its descriptor one more of the
-- loop's, against a real redis-server (spec/redis.lua).
local core = require "robloxsocial.core"
local redis = require "spec.redis"
local proc = require "spec.proc"

local available, why = redis.available()
local describe_redis = available and describe or function(name) pending(name .. ": " .. why) end

describe_redis("fleet store", function()
  local r
  setup(function() r = redis.start() end)
  teardown(function() if r then r.stop() end end)

  -- A store on this Redis, up (connected and the script loaded).
  local function opened(timeout)
    local s = core.fleet_store(r.url, timeout)
    assert.is_true(s:wait_up(5))
    return s
  end

  it("understands redis:// URLs and refuses others", function()
    assert.has_error(function() core.fleet_store("http://127.0.0.1:1/0") end)
    assert.has_error(function() core.fleet_store("redis://user:pw@127.0.0.1/0") end)
    assert.has_error(function() core.fleet_store("redis://127.0.0.1:99999") end)
    core.fleet_store("redis://127.0.0.1"):close()
  end)

  it("shares L in any W between two stores, under the key, by the script loaded once", function()
    local a, b = opened(2), opened(2)
    local key = core.fleet_key("a cookie", "GET friends /v1/users/{id}/friends/count")
    local verdicts = {}
    for i = 1, 4 do verdicts[i] = ((i % 2 == 1) and a or b):take(key, { { 3, 60 } }) end
    assert.same({ "go", "go", "go", "wait" }, verdicts)
    local v, wait = a:take(key, { { 3, 60 } })
    assert.equal("wait", v)
    assert.is_true(wait > 0 and wait <= 60)
    assert.equal("3", r.cli("ZCARD", key))
    assert.truthy(tonumber(r.cli("PTTL", key)) > 0)      -- it expires once idle
    -- a 429 closes the endpoint for every store
    local key2 = core.fleet_key("a cookie", "GET users /v1/users/{id}")
    local go, member = a:take(key2, { { 100, 60 } })
    assert.equal("go", go)
    a:record(key2, member, true, 30)
    local closed, secs = b:take(key2, { { 100, 60 } })
    assert.equal("wait", closed)
    assert.is_true(secs > 25 and secs <= 30)
    a:close()
    b:close()
  end)

  it("grants a line's shares in one take, as many as the windows have room for", function()
    local a = opened(2)
    local key = core.fleet_key("a batch's cookie", "GET friends /v1/users/{id}/friends/count")
    local go, first, n = a:take(key, { { 5, 60 } }, 60, 3)
    assert.same({ "go", 3 }, { go, n })
    go, first, n = a:take(key, { { 5, 60 }, { 100, 600 } }, 60, 3)
    assert.same({ "go", 2 }, { go, n })              -- the room left
    assert.equal("wait", (a:take(key, { { 5, 60 } }, 60, 3)))
    assert.equal("5", r.cli("ZCARD", key))
    local second = first:gsub("%.1$", ".2")
    a:record(key, first, false, 1)                   -- each share is answered by its own name
    assert.is_true(tonumber(r.cli("ZSCORE", key, first)) < tonumber(r.cli("ZSCORE", key, second)))
    a:close()
  end)

  it("counts an answer whose share it no longer holds (trimmed, or a Redis that restarted)", function()
    local a = opened(2)
    local key = core.fleet_key("a lost share's cookie", "GET friends /v1/users/{id}/friends/count")
    local go, member = a:take(key, { { 5, 60 } })
    assert.equal("go", go)
    r.cli("DEL", key)
    a:record(key, member, false, 1)
    assert.equal("1", r.cli("ZCARD", key))
    assert.is_true(tonumber(r.cli("PTTL", key)) > 0)   -- and it expires
    a:close()
  end)

  it("closes an endpoint for everyone until the reset of an answer that says none remain", function()
    local a, b = opened(2), opened(2)
    local key = core.fleet_key("a cookie", "GET presence /v1/presence/users")
    local go, member = a:take(key, { { 100, 60 } })
    assert.equal("go", go)
    a:record(key, member, false, 1, 3, 30)           -- some remain: nothing closes
    assert.equal("go", (b:take(key, { { 100, 60 } })))
    go, member = a:take(key, { { 100, 60 } })
    a:record(key, member, false, 1, 0, 30, { { 100, 60 } }, 100)   -- none remain for 30 s
    local v, secs = b:take(key, { { 100, 60 } })
    assert.equal("wait", v)
    assert.is_true(secs > 25 and secs <= 30)
    a:close()
    b:close()
  end)

  it("does not close for an answer that says none remain when its own count says so too", function()
    local a = opened(2)
    local key = core.fleet_key("a full window's cookie", "GET presence /v1/presence/users")
    local go, first, n = a:take(key, { { 3, 10 } }, 60, 3)
    assert.same({ "go", 3 }, { go, n })
    for i = 1, 3 do                                  -- answered: 2, 1, then none remain, reset 30
      a:record(key, (first:gsub("%.1$", "." .. i)), false, 1, 3 - i, 30, { { 3, 10 } }, 3)
    end
    local v, secs = a:take(key, { { 3, 10 } })
    assert.equal("wait", v)
    assert.is_true(secs <= 10, tostring(secs))       -- the window's rule, not the reset
    a:close()
  end)

  it("holds an answer's record for the loop's flush, which writes a step's records at once", function()
    local a = opened(2)
    local key = core.fleet_key("a flushed cookie", "GET friends /v1/users/{id}/friends/count")
    local go, first = a:take(key, { { 5, 60 } }, 60, 2)
    assert.equal("go", go)
    local queued, left = a:record(key, first, false, 1, 4, 60, { { 5, 60 } }, 5, true)
    assert.is_true(queued > 0, tostring(queued))     -- not written by the record itself
    assert.equal(0, left)                            -- written by the flush
    assert.is_true(tonumber(r.cli("ZSCORE", key, first)) < tonumber(r.cli("ZSCORE", key, (first:gsub("%.1$", ".2")))))
    a:close()
  end)

  it("says down, and never waits, when the store cannot be reached; is back once it answers", function()
    local port = redis.free_port()
    local s = core.fleet_store(("redis://127.0.0.1:%d/0"):format(port), 1)
    assert.is_false(s:wait_up(0.3))
    assert.equal("down", s:take("k", { { 1, 1 } }))
    s:close()
    local t = opened(1)
    r.restart()
    local v = t:take("k2", { { 10, 1 } })   -- the old connection is gone: down, at once
    assert.equal("down", v)
    assert.is_true(t:wait_up(5))            -- reconnects in the background
    assert.equal("go", (t:take("k2", { { 10, 1 } })))
    t:close()
  end)

  it("gives up on a store silent past its timeout: down, then back once it answers", function()
    local s = opened(0.3)
    r.cli("CLIENT", "PAUSE", "1000", "ALL")     -- answered once every other client waits
    assert.equal("down", (s:take("k3", { { 10, 1 } })))
    assert.is_false(s:up())
    assert.is_true(s:wait_up(5))
    assert.equal("go", (s:take("k3", { { 10, 1 } })))
    s:close()
  end)

  it("gives back, once up again, the shares of a take whose answer it lost to a slow Redis", function()
    local s = opened(0.3)
    local key = core.fleet_key("a lost take's cookie", "GET friends /v1/users/{id}/friends/count")
    -- Redis asleep for 2 s (DEBUG SLEEP, on a connection of our own: a
    -- paused client's commands are dropped with its connection, a
    -- sleeping Redis reads them and runs them when it wakes).  A take
    -- that came before the sleep began is answered: then again, bounded.
    local socket = require "socket"
    local verdict
    for _ = 1, 3 do
      local sleeper = assert(socket.connect("127.0.0.1", r.port))
      assert(sleeper:send("DEBUG SLEEP 2\r\n"))
      socket.sleep(0.1)
      verdict = s:take(key, { { 5, 60 } }, 60, 5)
      sleeper:settimeout(10)
      assert.equal("+OK", sleeper:receive("*l"))      -- awake
      sleeper:close()
      if verdict == "down" then break end             -- silent past its timeout
      r.cli("DEL", key)
      assert.is_true(s:wait_up(5))
    end
    assert.equal("down", verdict)
    -- then it runs the take all the same: its five shares are held
    for _ = 1, 50 do
      if r.cli("ZCARD", key) == "5" then break end
      socket.sleep(0.1)
    end
    assert.equal("5", r.cli("ZCARD", key))
    local lost = r.cli("ZRANGE", key, "0", "-1")
    assert.is_true(s:wait_up(5))
    -- the first take after the store is up again finds the whole budget
    local go, _, n = s:take(key, { { 5, 60 } }, 60, 5)
    assert.same({ "go", 5 }, { go, n })
    for name in lost:gmatch("[^\n]+") do
      assert.equal("", r.cli("ZSCORE", key, name))
    end
    assert.equal("5", r.cli("ZCARD", key))
    s:close()
  end)

  it("gives back, once up again, shares released while it was down", function()
    local s = opened(0.3)
    local key = core.fleet_key("a cookie released while down", "GET friends /v1/users/{id}/friends/count")
    local go, first, n = s:take(key, { { 5, 60 } }, 60, 3)
    assert.same({ "go", 3 }, { go, n })
    r.cli("CLIENT", "PAUSE", "1000", "ALL")          -- answered once every other client waits
    assert.equal("down", (s:take("robloxsocial:v1:another key", { { 5, 60 } })))
    assert.is_false(s:up())
    s:release(key, (first:gsub("%.1$", "")), 1, 3)  -- their requests ended while the store was down
    assert.is_true(s:wait_up(5))
    assert.equal("go", (s:take("robloxsocial:v1:a third key", { { 5, 60 } })))   -- written behind the releases
    assert.equal("0", r.cli("ZCARD", key))
    s:close()
  end)

  it("treats garbage from the store as the store's fault", function()
    local s = opened(1)
    local key = "robloxsocial:v1:garbage"
    r.cli("SET", key, "not a sorted set")
    assert.equal("down", (s:take(key, { { 1, 60 } })))
    assert.is_false(s:up())
    -- an answer, if garbage, is no lost take: nothing to give back once up
    -- again (a release of that key would be garbage too, and down again)
    assert.is_true(s:wait_up(5))
    assert.equal("go", (s:take("robloxsocial:v1:not garbage", { { 2, 60 } })))
    assert.is_true(s:up())
    assert.equal("go", (s:take("robloxsocial:v1:not garbage", { { 2, 60 } })))
    r.cli("DEL", key)
    s:close()
  end)

  -- In a process of its own: once asked, the loop stays on libcurl's
  -- socket interface, which would change what later spec files in the
  -- same busted see (fleet_spec's glance).
  it("is watched in the loop's epoll set once a host asks for pollfd()", function()
    local ok, out = proc.output(proc.lua_command(table.concat({
      'local core = require "robloxsocial.core"',
      'assert(core.pollfd())',
      'local s = core.fleet_store(os.getenv("REDIS"), 1)',
      'print("up", s:wait_up(5))',
      'local key = core.fleet_key("another cookie", "GET users /v1/users/{id}")',
      'print("takes", (s:take(key, { { 2, 60 } })), (s:take(key, { { 2, 60 } })), (s:take(key, { { 2, 60 } })))',
      's:close()' }, " "), { prefix = "REDIS=" .. proc.quote(r.url) .. " ", timeout = 30 }) .. " 2>&1")
    assert.is_true(ok, out)
    assert.equal("up\ttrue\ntakes\tgo\tgo\twait\n", out)
  end)
end)

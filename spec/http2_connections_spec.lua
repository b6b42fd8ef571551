-- HTTP/2 with one connection where one will do: a first burst of more
-- requests than a connection's streams (100 in libcurl 7.88) waits in
-- the client's queue for a stream, or for the one further connection
-- being opened, rather than opening a connection per request.  Counted
-- by nginx ($connection in its log, spec/tls.lua) and by client:stats().
local support = require "spec.support"
local tls = require "spec.tls"
local robloxsocial = require "robloxsocial"

local available, why = tls.available()
local tls_describe = available and describe or function(name) pending(name .. " (" .. tostring(why) .. ")") end

tls_describe("connections over HTTPS", function()
  local sb, me = support.main()
  local front

  setup(function() front = tls.start(sb) end)
  teardown(function() front.stop() end)
  before_each(support.reset)

  after_each(function() sb:configure{ latency = 0 } end)

  local function client(opts)
    local options = { timeout = 20 }
    for k, v in pairs(opts or {}) do options[k] = v end
    return support.client_via(front, options)
  end

  -- Sends n friends_count calls at once from a fresh client; returns how
  -- many failed, the connections nginx served them on, and what the
  -- client's stats say it opened.
  local function burst(n, opts)
    local before = #front.log()
    local c <close> = client(opts)
    local tasks, failed = {}, 0
    for i = 1, n do
      tasks[i] = robloxsocial.spawn(function() return c:friends_count(me) end)
    end
    assert.is_true(robloxsocial.run(60))
    for i = 1, n do
      if not tasks[i]:wait() then failed = failed + 1 end
    end
    local entries = front.log(before + n)
    assert.equal(before + n, #entries)
    local connections = {}
    for i = before + 1, #entries do connections[entries[i].connection] = true end
    return failed, #support.sorted_keys(connections), c:stats().connections[front.base_url]
  end

  it("a first burst of 150 opens at most 2 connections, none failed", function()
    sb:configure{ latency = 0.05 }      -- every request in flight together
    local failed, nginx, opened = burst(150, { concurrency = 256 })
    assert.equal(0, failed)
    assert.is_true(nginx <= 2, "nginx saw " .. nginx .. " connections")
    assert.equal(nginx, opened)
  end)

  it("a first burst of 256 opens at most 3 connections, none failed", function()
    sb:configure{ latency = 0.05 }
    local failed, nginx, opened = burst(256, { concurrency = 256 })
    assert.equal(0, failed)
    assert.is_true(nginx <= 3, "nginx saw " .. nginx .. " connections")
    assert.equal(nginx, opened)
  end)

  it("a burst of 100 keeps to one connection", function()
    local failed, nginx, opened = burst(100, { concurrency = 100 })
    assert.equal(0, failed)
    assert.equal(1, nginx)
    assert.equal(1, opened)
  end)

  it("client:stats() counts the connections over HTTP/1.1 too, per host", function()
    -- the endpoint's first request goes alone (its bucket knows nothing
    -- yet); the four after it are in flight together, its connection
    -- carrying one
    sb:configure{ latency = 0.05 }
    local failed, nginx, opened = burst(5, { concurrency = 4, http2 = false })
    assert.equal(0, failed)
    assert.equal(4, nginx)
    assert.equal(4, opened)
  end)

  it("client:stats() of a fresh client counts nothing", function()
    local c <close> = client()
    assert.same({ connections = {} }, c:stats())
  end)
end)

-- HTTPS and HTTP/2 for real: the client against Debian's nginx (spec/tls.lua)
-- in front of the sandbox, verifying the throwaway CA given as cainfo.
-- nginx's access log says which protocol and which connection each
-- request used.
local support = require "spec.support"
local tls = require "spec.tls"
local robloxsocial = require "robloxsocial"

local available, why = tls.available()
local tls_describe = available and describe or function(name) pending(name .. " (" .. tostring(why) .. ")") end

tls_describe("a client over HTTPS", function()
  local sb, me = support.main()
  local front

  setup(function() front = tls.start(sb) end)
  teardown(function() front.stop() end)
  before_each(support.reset)

  local function client(opts) return support.client_via(front, opts) end

  it("negotiates HTTP/2 and multiplexes concurrent requests on one connection", function()
    local before = #front.log()
    sb:configure{ latency = 0.1 }
    local c <close> = client{ concurrency = 10 }
    local tasks = {}
    for i = 1, 10 do
      tasks[i] = robloxsocial.spawn(function() return assert(c:friends_count(me)).count end)
    end
    support.run(10)
    sb:configure{ latency = 0 }
    for i = 1, 10 do assert.equal(130, tasks[i]:wait()) end
    local entries = front.log(before + 10)
    local connections = {}
    for i = before + 1, #entries do
      assert.equal("HTTP/2.0", entries[i].protocol)
      connections[entries[i].connection] = true
    end
    assert.equal(before + 10, #entries)
    assert.equal(1, #support.sorted_keys(connections))
  end)

  it("sends a concurrent batch over that one connection, answers exact", function()
    local before = #front.log()
    local c <close> = client{ concurrency = 4 }
    local ids = {}
    for i = 1, 200 do ids[i] = 9007199254740993 + i end      -- past 2^53
    local answer = assert(c:presence(ids))
    for i, p in ipairs(answer.userPresences) do
      assert.equal(ids[i], p.userId)
      assert.equal("integer", math.type(p.userId))
    end
    local entries = front.log(before + 4)
    local connections = {}
    for i = before + 1, #entries do connections[entries[i].connection] = true end
    assert.equal(1, #support.sorted_keys(connections))
  end)

  it("speaks HTTP/1.1 with http2 = false", function()
    local before = #front.log()
    local c <close> = client{ http2 = false }
    assert(c:friends_count(me))
    local entries = front.log(before + 1)
    assert.equal("HTTP/1.1", entries[#entries].protocol)
  end)

  it("refuses a server whose certificate it cannot verify", function()
    local c <close> = client{ cainfo = "/etc/ssl/certs/ca-certificates.crt", max_retries = 0 }
    local answer, err = c:friends_count(me)
    assert.is_nil(answer)
    assert.equal("network", err.kind)
  end)
end)

-- A request's `timeout` and a call's deadline (the contract's Retries):
-- the timeout bounds one request from when it goes out (its attempts and
-- the waits between them for a 5xx or a network failure), not the waits
-- for a slot, for pacing or after a 429; a deadline (the client's
-- `deadline`, or core.send's 10th argument) bounds the whole call from
-- when it is made, and a wait past it is not waited.
local support = require "spec.support"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local sb, me = support.main()
before_each(support.reset)

local function count_path(id) return ("/v1/users/%d/friends/count"):format(id or me) end

local function statuses(path)
  local out = {}
  for i, r in ipairs(support.requests("GET", path)) do out[i] = r.status end
  return out
end

describe("timeout", function()
  it("does not count a wait for the service's rate limit: a call paced longer than it succeeds", function()
    sb:configure{ rate_limits = { friends = { limit = 1, window = 1 } } }
    local client <close> = support.client{ timeout = 0.3, max_retries = 0 }
    assert(client:friends_count(me))          -- none remain for a second
    local answer, err = client:friends_count(me)
    assert.is_nil(err)
    assert.is_table(answer)
    assert.same({ 200, 200 }, statuses(count_path()))
  end)

  it("does not count the wait after a 429: a Retry-After longer than it is waited", function()
    local client <close> = support.client{ timeout = 0.3 }
    sb:fault{ method = "GET", path = count_path(), kind = "status", status = 429, retry_after = "1" }
    local answer, err = client:friends_count(me)
    assert.is_nil(err)
    assert.is_table(answer)
    assert.same({ 429, 200 }, statuses(count_path()))
  end)

  it("does not count the wait for a slot: a call queued longer than it succeeds", function()
    sb:configure{ latency = { ["*"] = 0, ["/v1/users/" .. me .. "/friends/count"] = 0.3 } }
    local client <close> = support.client{ timeout = 0.5, concurrency = 1 }
    local results = {}
    for i = 1, 3 do
      robloxsocial.spawn(function() results[i] = { client:friends_count(me) } end)
    end
    assert.is_true(support.run(10))
    for i = 1, 3 do assert.is_table(results[i][1], tostring(results[i][2])) end
  end)
end)

describe("a deadline", function()
  it("is an option of new: seconds from 0.001 to 86400", function()
    assert.has_error(function() robloxsocial.new{ deadline = 0 } end)
    assert.has_error(function() robloxsocial.new{ deadline = "soon" } end)
    local client <close> = robloxsocial.new{ deadline = 5 }
    assert.is_true(core.is_open(client))
  end)

  it("passed to core.send ends a call still waiting for a slot, which never goes out", function()
    sb:configure{ latency = { ["*"] = 0, ["/v1/users/" .. me .. "/friends/count"] = 0.5 } }
    local client <close> = support.client{ concurrency = 1 }
    local slow, quick
    robloxsocial.spawn(function() slow = { client:friends_count(me) } end)
    robloxsocial.spawn(function()
      quick = { core.send(client, "GET", "friends", count_path(me + 1), nil, nil, nil, nil, nil, core.now() + 0.1) }
    end)
    assert.is_true(support.run(10))
    assert.is_table(slow[1])
    assert.is_nil(quick[1])
    assert.equal("timeout", quick[2].kind)
    assert.same({}, support.requests("GET", count_path(me + 1)))
  end)

  it("already past fails a call at once, unsent", function()
    local client <close> = support.client()
    local answer, err = core.send(client, "GET", "friends", count_path(), nil, nil, nil, nil, nil, core.now() - 1)
    assert.is_nil(answer)
    assert.equal("timeout", err.kind)
    assert.same({}, support.requests("GET", count_path()))
  end)

  it("of the client ends a wait for the rate limit that would pass it: kind timeout with retry_after", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 1, window = 30 } } }
    local client <close> = support.client{ deadline = 1 }
    assert(client:friends_count(me))
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.equal("timeout", err.kind)
    assert.is_true(err.retry_after > 1)
    assert.equal(1, #support.requests("GET", count_path()))
  end)

  it("of the client ends a wait after a 429 that would pass it: kind timeout with retry_after", function()
    local client <close> = support.client{ deadline = 5 }
    sb:fault{ method = "GET", path = count_path(), kind = "status", status = 429, retry_after = "120" }
    local answer, err = client:friends_count(me)
    assert.is_nil(answer)
    assert.same({ "timeout", 429, 120 }, { err.kind, err.status, err.retry_after })
    assert.equal(1, #support.requests("GET", count_path()))
  end)
end)

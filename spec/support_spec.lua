-- The specs' own bounded waits (spec/support.lua): a wait that passes its
-- deadline fails at once, saying what is stuck, instead of hanging the run.
local support = require "spec.support"
local robloxsocial = require "robloxsocial"

describe("support.step_until()", function()
  local sb, me = support.main()
  before_each(support.reset)
  after_each(support.settle)

  it("returns the condition's value once it holds", function()
    local n = 0
    assert.equal("yes", support.step_until(function() n = n + 1; return n == 3 and "yes" end, "three steps"))
    assert.equal(3, n)
  end)

  it("raises past its deadline naming what it waited for, the tasks and the transfers in flight", function()
    sb:configure{ latency = 0.2 }
    local client <close> = support.client()
    local t = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    local ok, err = pcall(support.step_until, function() return t:done() end, "the count", 0.05)
    assert.is_false(ok)
    assert.matches("gave up after 0.05 s waiting for the count: 1 task(s) not done, "
                   .. "1 transfer(s) in flight (1 on the network", err, 1, true)
    assert.equal(130, support.wait(t))
  end)

  it("bounds support.wait() and support.run() the same way", function()
    local t = robloxsocial.spawn(function() robloxsocial.sleep(5) end)
    local ok, err = pcall(support.wait, t, 0.05)
    assert.is_false(ok)
    assert.matches("waiting for robloxsocial.Task (running): 1 task(s) not done", err, 1, true)
    ok, err = pcall(support.run, 0.05)
    assert.is_false(ok)
    assert.matches("robloxsocial.run() gave up after 0.05 s: 1 task(s) not done", err, 1, true)
    t:cancel()
  end)
end)

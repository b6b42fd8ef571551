-- The scheduler cannot crash the process: nested steps, waits that can
-- never end, a task's coroutine resumed by the program, huge results and
-- out-of-memory errors inside the scheduler.  What could crash runs in a
-- child process, under a bounded wait, so that this file survives it.
local support = require "spec.support"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local sb, me = support.main()
before_each(support.reset)

after_each(support.settle)           -- no task left running, no latency

-- Runs chunk (no comments: it goes through the shell as one line) in a
-- child Lua, killed after 60 seconds, the sandbox's cookie in its
-- environment (os.getenv "COOKIE"); returns whether it exited cleanly
-- and what it wrote.
local function child(chunk)
  return proc.output(proc.lua_command((chunk:gsub("\n%s*", " ")),
    { timeout = 60, secrets = { COOKIE = sb.credentials.cookie } }) .. " 2>&1")
end

describe("step, run and task:wait() called while the library is moving requests", function()
  it("raise from a __close handler that runs as a failing task ends, and the process goes on", function()
    local ok, out = child [[
      local rs = require "robloxsocial"
      local child = rs.spawn(function() rs.sleep(0.05) end)
      for i = 1, 5 do rs.spawn(function() coroutine.yield() end) end
      rs.spawn(function()
        local x <close> = setmetatable({}, { __close = function()
          local ok, err = pcall(child.wait, child)
          io.write(tostring(ok), " ", tostring(err), "\n")
        end })
        coroutine.yield()
        error("boom")
      end)
      for i = 1, 5 do rs.spawn(function() coroutine.yield() end) end
      io.write(tostring(rs.run(10)), " ", require("robloxsocial.core").live(), "\n")
    ]]
    assert(ok, "the child failed: " .. out)
    assert.equal("false robloxsocial: wait called while the library is already stepping"
      .. " (from a __close or a finalizer)\ntrue 0\n", out)
  end)

  it("raise or answer from finalizers that run during steps, and the process goes on", function()
    local ok, out = child [[
      local rs = require "robloxsocial"
      collectgarbage("incremental", 0, 400)
      local outcomes = {}
      for round = 1, 300 do
        local tasks = {}
        for i = 1, 30 do
          tasks[i] = rs.spawn(function() for j = 1, i % 5 do coroutine.yield() end return 1, 2, 3 end)
        end
        for i = 1, 30 do
          local t = tasks[i]
          setmetatable({}, { __gc = function()
            local ok, a, b, c = pcall(t.wait, t)
            local seen = ok and (a .. b .. c) or a
            outcomes[seen] = (outcomes[seen] or 0) + 1
          end })
        end
        for s = 1, 6 do rs.step(0) end
      end
      collectgarbage("incremental", 200, 100)
      collectgarbage()
      for seen, n in pairs(outcomes) do io.write(seen, "\n") end
      io.write("live ", rs.step(0), "\n")
    ]]
    assert(ok, "the child failed: " .. out)
    for line in out:gmatch("[^\n]+") do
      assert.is_true(line == "123" or line == "live 0"
        or line:find("robloxsocial: wait cannot be called while a task runs", 1, true) ~= nil
        or line:find("robloxsocial: wait called while the library is already stepping", 1, true) ~= nil,
        line)
    end
    assert.matches("live 0\n$", out)
  end)

  it("raise from a hook of a blocking call and of a call in a task", function()
    local seen = {}
    local client <close> = support.client{ on_response = function()
      local ok, err = pcall(robloxsocial.step, 0)
      seen[#seen + 1] = ok and "stepped" or err
    end }
    assert(client:friends_count(me))
    local t = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    assert.equal(130, t:wait())
    assert.same({
      "robloxsocial: step called while the library is already moving requests (from a hook or a finalizer)",
      "robloxsocial: step called while the library is already moving requests (from a hook or a finalizer)",
    }, seen)
  end)
end)

describe("step() from a finalizer that runs while a blocking call builds its result", function()
  it("raises there, and the call's answer is intact", function()
    local client <close> = support.client()
    local outcomes = {}
    collectgarbage("incremental", 0, 400)      -- finalizers run inside the decoding's allocations
    local ok, err = pcall(function()
      for _ = 1, 60 do
        setmetatable({}, { __gc = function()
          local stepped, why = pcall(robloxsocial.step, 0)
          outcomes[#outcomes + 1] = stepped and "stepped" or why
        end })
        assert.equal(130, #assert(client:friends(me)).data)
      end
    end)
    collectgarbage("incremental", 200, 100)
    collectgarbage()
    assert(ok, err)
    local refused = 0
    for _, outcome in ipairs(outcomes) do
      if outcome ~= "stepped" then
        assert.equal("robloxsocial: step called while the library is already moving requests"
          .. " (from a hook or a finalizer)", outcome)
        refused = refused + 1
      end
    end
    assert.is_true(refused > 0, "no finalizer ran during a call: the test proves nothing")
  end)
end)

describe("task:cancel() from a finalizer that runs while a task ends", function()
  it("is refused there, and every task ends once", function()
    local ok, out = child [[
      local rs = require "robloxsocial"
      local core = require "robloxsocial.core"
      collectgarbage("incremental", 0, 400)
      local refusals = {}
      for round = 1, 200 do
        local tasks = {}
        for i = 1, 20 do
          tasks[i] = rs.spawn(function()
            local x <close> = setmetatable({}, { __close = function() local _ = {} end })
            coroutine.yield()
            if i % 2 == 0 then error("boom") end
            return table.unpack({}, 1, 200)
          end)
        end
        for i = 1, 20 do
          local t = tasks[i]
          setmetatable({}, { __gc = function()
            local ok, err = pcall(t.cancel, t)
            if not ok then refusals[err] = true end
          end })
        end
        rs.step(0)
        assert(core.live() >= 0)
        assert(rs.run(10))
      end
      collectgarbage("incremental", 200, 100)
      for err in pairs(refusals) do io.write(err, "\n") end
      io.write(core.live(), " ", rs.spawn(function() return "ok" end):wait(), "\n")
    ]]
    assert(ok, "the child failed: " .. out)
    local running = "robloxsocial: cannot cancel a task that is running (being resumed or ended,"
      .. " or resuming another)"
    local itself = "robloxsocial: a task cannot cancel itself (return from it instead)"
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal("0 ok", table.remove(lines))
    for _, line in ipairs(lines) do assert.is_true(line == running or line == itself, line) end
    assert.matches(running, out, 1, true)
  end)
end)

describe("a task's coroutine that the program resumes itself", function()
  it("fails the task with a clear error when resumed where the scheduler suspended it", function()
    local ok, out = child [[
      local rs = require "robloxsocial"
      local co
      local t = rs.spawn(function() co = coroutine.running(); rs.sleep(0.01); rs.step(0); return 1 end)
      for i = 1, 5 do rs.spawn(function() rs.sleep(0.01) end) end
      local resumed, err = coroutine.resume(co)
      io.write(tostring(resumed), " ", tostring(err):match("robloxsocial: .*"), "\n")
      io.write(tostring(rs.run(10)), " ", tostring(t), " ", select(2, pcall(t.wait, t)):match("robloxsocial: [^(]*"), "\n")
    ]]
    assert(ok, "the child failed: " .. out)
    assert.equal("false robloxsocial: the program resumed a task's coroutine itself"
      .. " (only the scheduler resumes a task; the task fails)\n"
      .. "true robloxsocial.Task (failed) robloxsocial: the program resumed a task's coroutine itself \n", out)
  end)

  it("refuses step() inside it, makes its calls block, and the task ends once it has", function()
    local ok, out = child(([[
      local rs = require "robloxsocial"
      local client = rs.new{ base_url = %q, cookie = os.getenv("COOKIE") }
      local co
      local t = rs.spawn(function()
        co = coroutine.running()
        coroutine.yield()
        local ok, err = pcall(rs.step, 0)
        io.write(tostring(ok), " ", err, "\n")
        io.write(tostring(require("robloxsocial.core").current()), " ", client:friends_count(%d).count, "\n")
        return "returned"
      end)
      for i = 1, 5 do rs.spawn(function() coroutine.yield() end) end
      io.write(tostring(coroutine.resume(co)), " ", coroutine.status(co), "\n")
      io.write(tostring(rs.run(10)), " ", tostring(t), " ", select("#", t:wait()), " ",
        require("robloxsocial.core").live(), "\n")
      local again = rs.spawn(function() coroutine.yield(); return "again" end)
      io.write(again:wait(), "\n")
    ]]):format(sb.base_url, me))
    assert(ok, "the child failed: " .. out)
    assert.equal("false robloxsocial: step called in a task's coroutine that the program resumed itself\n"
      .. "nil 130\n" .. "true dead\n" .. "true robloxsocial.Task (done) 0 0\n" .. "again\n", out)
  end)

  it("refuses run() in a coroutine of the program's own inside it: run would never end", function()
    local ok, out = child [[
      local rs = require "robloxsocial"
      local co
      local t = rs.spawn(function()
        co = coroutine.running()
        coroutine.yield()
        coroutine.wrap(function() io.write(select(2, pcall(rs.run, 5)), "\n") end)()
        return 1
      end)
      assert(coroutine.resume(co))
      io.write(tostring(rs.run(5)), " ", tostring(t), "\n")
    ]]
    assert(ok, "the child failed: " .. out)
    assert.equal("robloxsocial: run would never end: the program runs a task's coroutine itself\n"
      .. "true robloxsocial.Task (done)\n", out)
  end)

  it("can be cancelled once it has ended", function()
    local co
    local t = robloxsocial.spawn(function() co = coroutine.running(); coroutine.yield(); error("stop") end)
    assert.is_false(coroutine.resume(co))
    t:cancel()
    assert.equal("robloxsocial.Task (cancelled)", tostring(t))
    assert.equal(0, core.live())
  end)
end)

describe("a wait that can never end", function()
  it("raises when a task waits for itself", function()
    local t
    t = robloxsocial.spawn(function() coroutine.yield(); return t:wait() end)
    assert.is_true(robloxsocial.run(5))
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.matches("robloxsocial: wait would never end: task waits for itself", err, 1, true)
  end)

  it("raises in the task that would close a circle of waits, and the others end", function()
    local a, b, c
    a = robloxsocial.spawn(function() coroutine.yield(); return "a:" .. b:wait() end)
    b = robloxsocial.spawn(function() coroutine.yield(); return "b:" .. c:wait() end)
    c = robloxsocial.spawn(function()
      coroutine.yield()
      local ok, err = pcall(a.wait, a)
      return ok and "waited" or err:match("robloxsocial: .*")
    end)
    assert.is_true(robloxsocial.run(5))
    assert.equal("a:b:robloxsocial: wait would never end: tasks wait for each other", a:wait())
  end)

  it("inside a task, suspends the caller until the other is done: other tasks run meanwhile", function()
    local order = {}
    local sleeper = robloxsocial.spawn(function() robloxsocial.sleep(0.05); order[#order + 1] = "slept" end)
    robloxsocial.spawn(function() sleeper:wait(); order[#order + 1] = "joined" end)
    robloxsocial.spawn(function() order[#order + 1] = "other" end)
    assert.same({ "other" }, order)
    assert.is_true(robloxsocial.run(5))
    assert.same({ "other", "slept", "joined" }, order)
  end)
end)

describe("a task that returns more values than a stack holds", function()
  it("is done, counts as done, and its wait raises a clear error", function()
    local t = robloxsocial.spawn(function() coroutine.yield(); return table.unpack({}, 1, 999980) end)
    assert.equal(0, robloxsocial.step(0))
    assert.equal("robloxsocial.Task (done)", tostring(t))
    assert.equal(0, core.live())
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.matches("robloxsocial: the task's 999980 results do not fit on the stack", err, 1, true)
  end)
end)

describe("an out-of-memory error inside the scheduler", function()
  -- Each operation runs with the n-th allocation failing, for n = 1, 2, ...
  -- until one runs without reaching it; after each, whatever it left
  -- must end, and a new task must run to completion.  (A batch whose
  -- task fails leaves its requests to finish on their own: the loop is
  -- moved until they have.)
  it("leaves it consistent, whichever allocation fails", function()
    local ok, out = child(([[
      local rs = require "robloxsocial"
      local core = require "robloxsocial.core"
      local client = rs.new{ base_url = %q, cookie = os.getenv("COOKIE") }
      local ops = {
        { "spawn", function() rs.spawn(function() coroutine.yield(); return 1, 2 end); rs.step(0) end },
        { "sleep", function() for i = 1, 3 do rs.spawn(function() rs.sleep(0) end) end; rs.step(0); rs.step(0) end },
        { "join", function()
            local a = rs.spawn(function() coroutine.yield(); return "a" end)
            for i = 1, 3 do rs.spawn(function() return a:wait() end) end
            rs.step(0); rs.step(0) end },
        { "cancel", function()
            local a = rs.spawn(function() local x <close> = setmetatable({}, { __close = function() end }); coroutine.yield() end)
            a:cancel() end },
        { "results", function() rs.spawn(function() coroutine.yield(); return table.unpack({}, 1, 50) end):wait() end },
        { "wait", function() rs.spawn(function() coroutine.yield(); coroutine.yield(); return 3 end):wait() end },
        { "call", function() rs.spawn(function() return client:friends_count(%d) end):wait() end },
        { "batch", function() rs.spawn(function() return client:presence({ 1, 2, 3 }) end):wait() end },
      }
      for _, op in ipairs(ops) do
        local n, fired = 0, true
        while fired do
          n = n + 1
          core.fail_alloc_after(n)
          pcall(op[2])
          fired = core.fail_alloc_after(nil)
          assert(rs.run(10), op[1] .. " " .. n .. ": tasks left running")
          for i = 1, 100 do if core.stats().in_flight <= 0 then break end rs.sleep(0.05) end
          assert(core.live() == 0 and core.stats().in_flight == 0, op[1] .. " " .. n .. ": not settled")
          assert(rs.spawn(function() coroutine.yield(); return "fine" end):wait() == "fine")
          assert(rs.spawn(function() return client:friends_count(%d).count end):wait() == 130)
        end
        io.write(op[1], " ", n > 5 and "swept" or "too few", "\n")
      end
    ]]):format(sb.base_url, me, me))
    assert(ok, "the child failed: " .. out)
    assert.equal("spawn swept\nsleep swept\njoin swept\ncancel swept\nresults swept\n"
      .. "wait swept\ncall swept\nbatch swept\n", out)
  end)
end)

describe("a memory error raised out of run() in a coroutine of the program's own", function()
  -- The coroutine dies with the error, and is never closed: nothing of
  -- the step may stay behind in it.
  it("leaves step() usable", function()
    local function op()
      for _ = 1, 50 do robloxsocial.spawn(function() coroutine.yield() end) end
      robloxsocial.run(5)
    end
    local n, fired, raised = 0, true, 0
    while fired do
      n = n + 1
      local co = coroutine.create(function() core.fail_alloc_after(n); op() end)
      if not coroutine.resume(co) then raised = raised + 1 end
      fired = core.fail_alloc_after(nil)
      assert.is_true(robloxsocial.run(5))
      assert.equal(0, robloxsocial.step(0))
    end
    assert.is_true(raised > 0, "no error was raised: the test proves nothing")
  end)
end)

describe("robloxsocial.step(timeout)", function()
  it("returns as soon as a task can go on, not after its whole timeout", function()
    -- Were step to wait its whole 5 seconds, the later sleeper would be
    -- due too when it returns.
    local early = robloxsocial.spawn(function() robloxsocial.sleep(0.01) end)
    local late = robloxsocial.spawn(function() robloxsocial.sleep(3) end)
    robloxsocial.step(5)
    assert.is_true(early:done())
    assert.is_false(late:done())
    late:cancel()
  end)

  it("returns at once when a task yielded and can go on, without waiting for the network", function()
    -- Were step to wait for its next timer, the sleeper would be due too.
    local go = false
    local yielder = robloxsocial.spawn(function() while not go do coroutine.yield() end end)
    local late = robloxsocial.spawn(function() robloxsocial.sleep(3) end)
    robloxsocial.step()               -- one yields, the other sleeps
    assert.is_false(yielder:done())
    go = true
    robloxsocial.step(5)
    assert.is_true(yielder:done())
    assert.is_false(late:done())
    late:cancel()
  end)
end)

describe("robloxsocial.next_timeout()", function()
  it("counts a sleeping task: a number of seconds, no more than its sleep, not nil", function()
    local t = robloxsocial.spawn(function() robloxsocial.sleep(30) end)
    local wait = robloxsocial.next_timeout()
    assert.equal("number", type(wait))
    assert.is_true(wait > 1 and wait <= 30, tostring(wait))
    t:cancel()
    assert.is_nil(robloxsocial.next_timeout())
  end)

  it("is 0, not nil, for a sleeping task whose sleep is over and that step has not resumed yet", function()
    local t = robloxsocial.spawn(function() robloxsocial.sleep(0.05) end)
    robloxsocial.step()               -- it sleeps
    robloxsocial.sleep(0.2)           -- outside a task: the loop moves, no task is resumed
    assert.is_false(t:done())
    assert.equal(0, robloxsocial.next_timeout())
    robloxsocial.step()
    assert.is_true(t:done())
  end)
end)

describe("task:cancel() of a task in a batch", function()
  it("abandons the batch's transfers: none stays in flight, no further request starts", function()
    sb:configure{ latency = 0.2 }
    local client <close> = support.client{ concurrency = 2 }
    assert(client:presence{ 1 })             -- the CSRF handshake, out of the way
    sb:clear_requests()
    local ids = {}
    for i = 1, 500 do ids[i] = 8000 + i end
    local t = robloxsocial.spawn(function() return client:presence(ids) end)
    robloxsocial.step(0.05)
    assert.is_true(core.stats().in_flight > 0)
    t:cancel()
    assert.equal(0, core.stats().in_flight)
    robloxsocial.sleep(0.5)
    assert.is_true(#support.requests("POST", "/v1/presence/users") <= 2)
  end)
end)

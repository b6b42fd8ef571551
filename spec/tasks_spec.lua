-- Doing many things at once: tasks on coroutines, step, run, sleep,
-- next_timeout, cancel, close in flight, the concurrency cap, concurrent
-- batches and prefetching iterators.  Concurrency is shown by what the
-- server saw (how many connections, in what order), never by timing.
local support = require "spec.support"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local sb, me = support.main()
before_each(support.reset)

after_each(support.settle)           -- no task left running, no latency

local function count_path(id) return ("/v1/users/%d/friends/count"):format(id) end

-- The TCP connections the sandbox saw the logged requests arrive on.
local function connections(method, path)
  local seen, n = {}, 0
  for _, r in ipairs(support.requests(method, path)) do
    if not seen[r.conn] then seen[r.conn], n = true, n + 1 end
  end
  return n
end

-- Friends of the main user: ids that exist, for calls that must succeed.
local function some_friends(client, n)
  local ids = {}
  for f in client:each_friend(me) do
    ids[#ids + 1] = f.id
    if #ids == n then break end
  end
  sb:clear_requests()
  return ids
end

describe("robloxsocial.spawn()", function()
  it("runs the function at once, until its first request, and returns a task", function()
    local client <close> = support.client()
    local reached = {}
    local t = robloxsocial.spawn(function(a, b)
      reached[#reached + 1] = a + b
      local answer = assert(client:friends_count(me))
      reached[#reached + 1] = "answered"
      return answer.count, "second"
    end, 1, 2)
    assert.same({ 3 }, reached)
    assert.is_false(t:done())
    local count, second = t:wait()
    assert.equal(130, count)
    assert.equal("second", second)
    assert.is_true(t:done())
    assert.same({ 3, "answered" }, reached)
  end)

  it("runs calls of many tasks at once, each on its own connection", function()
    sb:configure{ latency = 0.2 }
    local client <close> = support.client{ concurrency = 8 }
    -- the endpoint's first request goes alone (its bucket knows nothing
    -- yet); its connection then carries one of the eight
    assert(client:friends_count(me))
    local tasks = {}
    for i = 1, 8 do
      tasks[i] = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    end
    support.run(10)
    for i = 1, 8 do assert.equal(130, tasks[i]:wait()) end
    assert.equal(8, connections("GET", count_path(me)))
  end)

  it("never has more requests of a client in flight than its concurrency", function()
    sb:configure{ latency = 0.1 }
    local client <close> = support.client{ concurrency = 3 }
    for _ = 1, 9 do
      robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    end
    support.run(10)
    assert.equal(9, #support.requests("GET", count_path(me)))
    assert.is_true(connections("GET", count_path(me)) <= 3)
  end)

  it("gives the calls that wait for a slot their turn in the order they were made", function()
    local client <close> = support.client{ concurrency = 1 }
    local ids = some_friends(client, 6)
    for _, id in ipairs(ids) do
      robloxsocial.spawn(function() assert(client:friends_count(id)) end)
    end
    support.run(10)
    local log = support.requests("GET")
    assert.equal(#ids, #log)
    for i, id in ipairs(ids) do assert.equal(count_path(id), log[i].path) end
  end)

  it("lets one task use several clients", function()
    local a <close> = support.client()
    local b <close> = support.client()
    local t = robloxsocial.spawn(function()
      return assert(a:friends_count(me)).count + assert(b:my_friends_count()).count
    end)
    assert.equal(260, support.wait(t))
  end)

  it("suspends on each page of an iterator", function()
    sb:configure{ latency = 0.05 }
    local client <close> = support.client()
    local t = robloxsocial.spawn(function()
      local n = 0
      for _ in client:each_friend(me, { limit = 50 }) do n = n + 1 end
      return n
    end)
    assert.is_false(t:done())
    assert.equal(130, support.wait(t))
  end)

  it("keeps a task's error in the task: step and run do not raise it, wait does", function()
    local client <close> = support.client()
    local t = robloxsocial.spawn(function()
      assert(client:friends_count(me))
      error({ mine = true })
    end)
    support.run(10)
    assert.is_true(t:done())
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.same({ mine = true }, err)
  end)

  it("refuses what is not a function", function()
    assert.has_error(function() robloxsocial.spawn(42) end,
      "bad argument #1 to 'spawn' (function expected, got number)")
  end)

  it("takes a callable table, and keeps every result, nils included", function()
    local callable = setmetatable({}, { __call = function(_, a) return nil, a, nil end })
    local t = robloxsocial.spawn(callable, "x")
    assert.same({ n = 3, nil, "x", nil }, table.pack(t:wait()))
  end)

  it("closes the to-be-closed variables of a task that raised", function()
    local closed_with
    local t = robloxsocial.spawn(function()
      local _ <close> = setmetatable({}, { __close = function(_, err) closed_with = err end })
      coroutine.yield()
      error("boom", 0)
    end)
    assert.is_nil(closed_with)
    robloxsocial.step(0)
    assert.is_true(t:done())
    assert.equal("boom", closed_with)
    assert.has_error(function() t:wait() end, "boom")
  end)

  it("keeps the error a __close raised while the failed task's variables were closed", function()
    local t = robloxsocial.spawn(function()
      local _ <close> = setmetatable({}, { __close = function(_, err) error("closing after " .. err, 0) end })
      error("first", 0)
    end)
    assert.has_error(function() t:wait() end, "closing after first")
  end)

  it("runs task after task on one coroutine, left clean by the one before", function()
    local seen = {}
    local function record(...) seen[#seen + 1] = { coroutine.running(), select("#", ...) } end
    robloxsocial.spawn(record, 1, 2, 3):wait()
    local failed = robloxsocial.spawn(function() record(); error("raised") end)
    assert.is_false(pcall(failed.wait, failed))
    robloxsocial.spawn(record):wait()
    assert.equal(seen[1][1], seen[2][1])
    assert.equal(seen[1][1], seen[3][1])
    assert.same({ 3, 0, 0 }, { seen[1][2], seen[2][2], seen[3][2] })
  end)

  it("cancels a task held in a to-be-closed variable when the scope ends", function()
    sb:configure{ latency = 0.5 }
    local client <close> = support.client()
    local t
    do
      local held <close> = robloxsocial.spawn(function() return client:friends_count(me) end)
      t = held
      assert.is_false(t:done())
    end
    assert.equal("robloxsocial.Task (cancelled)", tostring(t))
    assert.equal(0, core.stats().in_flight)
  end)
end)

describe("robloxsocial.step()", function()
  it("does not wait: with the answer 0.2 s away, step(0) returns with the task still running", function()
    sb:configure{ latency = 0.2 }
    local client <close> = support.client()
    local t = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    assert.equal(1, robloxsocial.step(0))
    assert.equal(1, robloxsocial.step())
    assert.is_false(t:done())
    assert.equal(130, support.wait(t))
    assert.equal(0, robloxsocial.step(0))
  end)

  it("cannot be called inside a task, where calls suspend it: it raises there, and the task fails", function()
    local t = robloxsocial.spawn(function()
      coroutine.yield()
      robloxsocial.step(0)
    end)
    robloxsocial.step(0)
    assert.is_true(t:done())
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.matches("step cannot be called while a task runs", err)
  end)

  it("resumes a task that yields plainly at the next step", function()
    local steps = 0
    local t = robloxsocial.spawn(function()
      for _ = 1, 3 do coroutine.yield(); steps = steps + 1 end
    end)
    assert.equal(0, steps)
    robloxsocial.step(0)
    assert.equal(1, steps)
    robloxsocial.step(0)
    robloxsocial.step(0)
    assert.equal(3, steps)
    assert.is_true(t:done())
  end)
end)

describe("robloxsocial.step() in a game loop", function()
  it("makes no garbage frame after frame while tasks sleep or yield each frame", function()
    local frames = 0
    local sleeper = robloxsocial.spawn(function() robloxsocial.sleep(60) end)
    local yielder = robloxsocial.spawn(function()
      while true do coroutine.yield(); frames = frames + 1 end
    end)
    finally(function() sleeper:cancel(); yielder:cancel(); collectgarbage("restart") end)
    robloxsocial.step(0)
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    for _ = 1, 1000 do robloxsocial.step(0) end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(1001, frames)
    assert.is_true(grown < 4, ("%.1f KiB made by 1,000 steps"):format(grown))
  end)
end)

describe("robloxsocial.next_timeout()", function()
  it("is nil with nothing in flight, a number of seconds while a request is, 0 when work is ready", function()
    assert.is_nil(robloxsocial.next_timeout())
    sb:configure{ latency = 0.3 }
    local client <close> = support.client()
    local t = robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    local wait = robloxsocial.next_timeout()
    assert.equal("number", type(wait))
    assert.is_true(wait >= 0)
    robloxsocial.spawn(function() coroutine.yield() end)
    assert.equal(0, robloxsocial.next_timeout())
    support.wait(t)
  end)

  it("is not 0 for a task that was cancelled while it waited for the next step", function()
    local t = robloxsocial.spawn(function() coroutine.yield() end)
    assert.equal(0, robloxsocial.next_timeout())
    t:cancel()
    assert.is_nil(robloxsocial.next_timeout())
  end)
end)

describe("robloxsocial.run()", function()
  it("gives up after its timeout with the tasks still running", function()
    sb:configure{ latency = 0.25 }
    local client <close> = support.client()
    local t = robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    assert.is_false(robloxsocial.run(0.05))
    assert.is_false(t:done())
    support.run(10)
    assert.is_true(t:done())
  end)
end)

describe("robloxsocial.sleep()", function()
  it("suspends only the task that sleeps", function()
    local order = {}
    robloxsocial.spawn(function() robloxsocial.sleep(0.1); order[#order + 1] = "slept" end)
    robloxsocial.spawn(function() order[#order + 1] = "awake" end)
    support.run(5)
    assert.same({ "awake", "slept" }, order)
  end)

  it("wakes the tasks whose sleeps are over in the order they fall due, not the order they slept", function()
    local order = {}
    robloxsocial.spawn(function() robloxsocial.sleep(0.2); order[#order + 1] = "later" end)
    robloxsocial.spawn(function() robloxsocial.sleep(0.1); order[#order + 1] = "sooner" end)
    robloxsocial.step()           -- both sleep now
    robloxsocial.sleep(0.3)       -- outside a task: no task is resumed meanwhile
    assert.same({}, order)
    robloxsocial.step()
    assert.same({ "sooner", "later" }, order)
  end)

  it("wakes many sleepers in the order they fall due, whatever the order they slept in", function()
    -- Enough sleepers for a heap several levels deep, put to sleep in
    -- scrambled orders: a timer heap that sifts to the wrong parent or
    -- child hands them out of order.  All are due when step runs, so
    -- the order is the heap's alone.
    -- Each sleeps until its own time, fixed before any is spawned, so that
    -- the time spawning takes does not change their order.
    for _, stride in ipairs{ -1, 7, 13 } do
      local woke, want, base = {}, {}, core.now()
      for i = 0, 39 do
        local k = stride < 0 and 39 - i or (i * stride) % 40
        robloxsocial.spawn(function()
          robloxsocial.sleep(base + 0.1 + k * 0.005 - core.now()); woke[#woke + 1] = k
        end)
        want[i + 1] = i
      end
      robloxsocial.step()         -- all sleep now
      robloxsocial.sleep(0.5)     -- outside a task: no task is resumed meanwhile
      assert.same({}, woke)
      robloxsocial.step()
      assert.same(want, woke)
    end
  end)

  it("wakes sleepers due at the same time in the order they went to sleep", function()
    -- Ties in the timer heap go first come, first served: twenty tasks
    -- sleep until one and the same time (core.sleep_until, which sleep
    -- uses), and wake in the order they were spawned.
    local woke, want, due = {}, {}, core.now() + 0.1
    for i = 1, 20 do
      robloxsocial.spawn(function() core.sleep_until(due); woke[#woke + 1] = i end)
      want[i] = i
    end
    robloxsocial.step()
    robloxsocial.sleep(0.3)       -- outside a task: no task is resumed meanwhile
    assert.same({}, woke)
    robloxsocial.step()
    assert.same(want, woke)
  end)

  it("wakes the sleepers left in the order they fall due when others are cancelled", function()
    -- A cancelled sleeper's timer leaves the heap from its middle: the
    -- last one fills the hole and must find its place, up or down.
    for _, stride in ipairs{ 7, 13, 17 } do
      local woke, want, tasks, base = {}, {}, {}, core.now()
      for i = 0, 39 do
        local k = (i * stride) % 40
        tasks[k] = robloxsocial.spawn(function()
          robloxsocial.sleep(base + 0.1 + k * 0.005 - core.now()); woke[#woke + 1] = k
        end)
      end
      robloxsocial.step()         -- all sleep now
      for i = 0, 39 do
        local k = (i * 11) % 40   -- cancelled in yet another order
        if k % 3 == 0 then tasks[k]:cancel() end
      end
      for k = 0, 39 do
        if k % 3 ~= 0 then want[#want + 1] = k end
      end
      robloxsocial.sleep(0.5)     -- outside a task: no task is resumed meanwhile
      robloxsocial.step()
      assert.same(want, woke)
    end
  end)

  it("outside a task, keeps the tasks' requests moving while it sleeps", function()
    local client <close> = support.client()
    robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    robloxsocial.sleep(0.3)
    assert.equal(1, #support.requests("GET", count_path(me)))
    assert.equal(0, core.stats().in_flight)
  end)
end)

describe("task:cancel()", function()
  it("abandons the request in flight and closes the task's to-be-closed variables", function()
    sb:configure{ latency = 0.5 }
    local client <close> = support.client()
    local closed = false
    local t = robloxsocial.spawn(function()
      local _ <close> = setmetatable({}, { __close = function() closed = true end })
      assert(client:friends_count(me))
      error("never reached")
    end)
    t:cancel()
    assert.is_true(t:done())
    assert.is_true(closed)
    assert.equal(0, core.stats().in_flight)
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.equal("cancelled", err.kind)
    t:cancel()                                  -- twice is fine
  end)

  it("wakes a task waiting for the cancelled one with a cancelled error", function()
    sb:configure{ latency = 0.5 }
    local client <close> = support.client()
    local target = robloxsocial.spawn(function() assert(client:friends_count(me)) end)
    local waiter = robloxsocial.spawn(function()
      local ok, err = pcall(target.wait, target)
      return ok, err.kind
    end)
    target:cancel()
    local ok, kind = waiter:wait()
    assert.is_false(ok)
    assert.equal("cancelled", kind)
  end)
end)

describe("task:cancel() from a task resumed in the same step", function()
  it("leaves the cancelled task cancelled, even when its answer is in that step too", function()
    local client <close> = support.client()
    local a, b
    local function cancel_the_other(me_first)
      assert(client:friends_count(me))
      local other = me_first and b or a
      if not other:done() then other:cancel() end
      return "answered"
    end
    a = robloxsocial.spawn(cancel_the_other, true)
    b = robloxsocial.spawn(cancel_the_other, false)
    -- Both answers arrive; a sleep outside a task resumes no task.
    for _ = 1, 500 do
      if core.stats().in_flight == 0 then break end
      robloxsocial.sleep(0.01)
    end
    assert.equal(0, core.stats().in_flight)
    assert.is_false(a:done() or b:done())
    local live = robloxsocial.step(0)  -- one resumes and cancels the other
    assert.equal(0, live)
    local states = { tostring(a), tostring(b) }
    table.sort(states)
    assert.same({ "robloxsocial.Task (cancelled)", "robloxsocial.Task (done)" }, states)
  end)
end)

describe("client:close() with requests in flight", function()
  it("resumes the waiting tasks with a cancelled error and frees every transfer", function()
    sb:configure{ latency = 0.5 }
    local client = support.client{ concurrency = 2 }
    local results = {}
    for i = 1, 5 do
      robloxsocial.spawn(function()
        local answer, err = client:friends_count(me)
        results[i] = answer and "answer" or err.kind
      end)
    end
    client:close()
    support.run(5)
    assert.same({ "cancelled", "cancelled", "cancelled", "cancelled", "cancelled" }, results)
    assert.equal(0, core.stats().in_flight)
    collectgarbage(); collectgarbage()
    assert.equal(0, core.stats().transfers)
  end)

  it("cancels 200,000 calls waiting for a slot, each task resumed with a cancelled error", function()
    -- close() used to scan the line of waiting calls once per call: this
    -- many took minutes.  Each call cancelled leaves the line at once now.
    sb:configure{ latency = 0.5 }
    local client = support.client{ concurrency = 1 }
    local n, cancelled, other = 200000, 0, 0
    local function call()
      local answer, err = client:friends_count(me)
      if not answer and err.kind == "cancelled" then cancelled = cancelled + 1 else other = other + 1 end
    end
    for _ = 1, n do robloxsocial.spawn(call) end
    assert.equal(n, core.stats().in_flight)
    client:close()
    assert.equal(0, core.stats().in_flight)
    assert.is_true(robloxsocial.run(60))
    assert.equal(n, cancelled)
    assert.equal(0, other)
  end)
end)

describe("a program that ends while tasks wait for their answers", function()
  -- In a child process that closes its Lua state with tasks suspended in
  -- calls, of a client with hooks and of one without.  Under the
  -- sanitizers the child's leak check fails it if anything of theirs was
  -- not freed.  (The chunk goes through the shell as one line.)
  it("closes cleanly, freeing what their calls hold", function()
    sb:configure{ latency = 0.5 }
    local chunk = ([[
      local rs = require "robloxsocial"
      local plain = rs.new{ base_url = %q, cookie = os.getenv("COOKIE") }
      local hooked = rs.new{ base_url = %q, cookie = os.getenv("COOKIE"), on_response = function() end }
      for i = 1, 10 do
        rs.spawn(function() plain:friends_count(%d) end)
        rs.spawn(function() hooked:friends_count(%d) end)
      end
      rs.step(0)
      io.write(rs.step(0), " ", require("robloxsocial.core").stats().in_flight)
      os.exit(0, true)
    ]]):format(sb.base_url, sb.base_url, me, me)
    local ok, out = proc.output(proc.lua_command((chunk:gsub("\n%s*", " ")),
                                                 { secrets = { COOKIE = sb.credentials.cookie } }) .. " 2>&1")
    assert(ok, "the child failed: " .. out)
    assert.equal("20 20", out)
  end)
end)

describe("a call cancelled in flight", function()
  it("carries nothing of an earlier answer (the buffers it reused)", function()
    sb:configure{ rate_limits = { ["*"] = { limit = 100, window = 60 } } }
    local client = support.client{ concurrency = 1 }
    assert(client:friends_count(me))             -- an answer with x-ratelimit-*
    sb:configure{ latency = 0.5 }
    local err
    robloxsocial.spawn(function() err = select(2, client:friends_count(me)) end)
    robloxsocial.step(0.05)                      -- on the network now
    client:close()
    support.run(5)
    assert.equal("cancelled", err.kind)
    assert.is_nil(err.rate_limit)
    assert.is_nil(err.status)
  end)
end)

describe("a batch", function()
  local function range(first, last)
    local out = {}
    for i = first, last do out[#out + 1] = i end
    return out
  end

  it("sends its requests concurrently, at most concurrency at once, merged in list order", function()
    sb:configure{ latency = 0.1 }
    local client <close> = support.client{ concurrency = 4 }
    local ids = range(5001, 5500)
    local answer = assert(client:presence(ids))
    assert.equal(500, #answer.userPresences)
    for i, p in ipairs(answer.userPresences) do assert.equal(ids[i], p.userId) end
    assert.equal(10, #support.sent("POST", "/v1/presence/users"))   -- and the CSRF handshakes
    local conns = connections("POST", "/v1/presence/users")
    assert.is_true(conns > 1 and conns <= 4, conns .. " connections")
  end)

  it("keeps its connections alive for the next batch", function()
    sb:configure{ latency = 0.05 }
    local client <close> = support.with_csrf_token(support.client{ concurrency = 10 })
    for _ = 1, 3 do assert(client:presence(range(1, 500))) end   -- 10 requests at once, three times
    assert.equal(30, #support.requests("POST", "/v1/presence/users"))
    assert.equal(10, connections("POST", "/v1/presence/users"))
  end)

  it("starts no further request after one fails, and says what is done, partial and failed", function()
    local client <close> = support.client{ concurrency = 2 }
    assert(client:presence{ 1 })             -- the CSRF handshake, out of the way
    sb:clear_requests()
    -- The first request fails at once; the second is still in flight then
    -- (it stalls), so the failure is seen before any slot frees.
    sb:fault{ method = "POST", path = "/v1/presence/users", kind = "status", status = 400, code = 2 }
    sb:fault{ method = "POST", path = "/v1/presence/users", kind = "stall", seconds = 0.25 }
    local ids = range(6001, 6500)
    local answer, err = client:presence(ids)
    assert.is_nil(answer)
    assert.equal(400, err.status)
    assert.equal(2, #support.requests("POST", "/v1/presence/users"))
    assert.equal(50, err.done)
    assert.equal(50, #err.partial.userPresences)
    assert.equal(450, #err.failed)
    local handled = {}
    for _, p in ipairs(err.partial.userPresences) do handled[p.userId] = true end
    local expected = {}
    for _, id in ipairs(ids) do if not handled[id] then expected[#expected + 1] = id end end
    assert.same(expected, err.failed)
    local rest = assert(client:presence(err.failed))
    assert.equal(450, #rest.userPresences)
  end)

  it("starts no further request when its first one, sent alone for the CSRF token, fails", function()
    local client <close> = support.client{ concurrency = 4 }      -- a cookie and no token yet
    -- A 400: presence is a read, and a 5xx would be retried.
    sb:fault{ method = "POST", path = "/v1/presence/users", kind = "status", status = 400, count = 1 }
    local answer, err = client:presence(range(7001, 7500))
    assert.is_nil(answer)
    assert.equal(400, err.status)
    assert.equal(1, #support.requests("POST", "/v1/presence/users"))
    assert.equal(0, err.done)
    assert.equal(500, #err.failed)
    assert.equal(0, require("robloxsocial.core").stats().in_flight)
  end)

  for _, in_task in ipairs { true, false } do
    it(("%s, abandons all its requests when a hook raises: none goes out afterwards, none is kept")
      :format(in_task and "inside a task" or "outside a task"), function()
      -- One slot: the first write (the CSRF handshake, then the write) is
      -- answered, its hook raises, and 24 writes have not gone out yet.
      local client <close> = support.client{ concurrency = 1,
        on_response = function() error("the hook failed", 0) end }
      local function archive() return client:archive_messages(range(1, 25 * 20)) end
      local ok, err
      if in_task then
        local t = robloxsocial.spawn(archive)
        assert.is_true(robloxsocial.run(10))
        ok, err = pcall(t.wait, t)
      else
        ok, err = pcall(archive)
      end
      assert.is_false(ok)
      assert.equal("the hook failed", err)
      assert.equal(0, core.stats().in_flight)
      robloxsocial.sleep(0.2)                   -- the loop moves; nothing of the batch is left in it
      assert.equal(1, #support.sent("POST", "/v1/messages/archive"))
      collectgarbage(); collectgarbage()
      assert.equal(0, core.stats().transfers)
    end)
  end

  it("of many chunks waits for a few at a time, so that an answer's cost does not grow with the list", function()
    -- It used to list every chunk not settled at each wait: quadratic.
    local tasks_module = require "robloxsocial.tasks"
    local await_any, longest = tasks_module.await_any, 0
    tasks_module.await_any = function(list)
      longest = math.max(longest, #list)
      return await_any(list)
    end
    local client <close> = support.client{ concurrency = 4, batch_sizes = { presence = 1 },
                                           cookie = false, api_key = sb.credentials.api_key }
    local ok, answer = pcall(function()
      return robloxsocial.spawn(function() return client:presence(range(1, 500)) end):wait()
    end)
    tasks_module.await_any = await_any
    assert(ok, answer)
    assert.equal(500, #answer.userPresences)
    for i, p in ipairs(answer.userPresences) do assert.equal(i, p.userId) end
    assert.is_true(longest > 0 and longest <= 64, longest .. " chunks waited for at once")
  end)

  it("whose task is cancelled abandons every request of the call: none goes out afterwards", function()
    local client <close> = support.client{ concurrency = 1 }
    assert(client:archive_messages{ 1 })        -- the CSRF handshake, out of the way
    sb:clear_requests()
    sb:configure{ latency = 0.3 }
    local t = robloxsocial.spawn(function() return client:archive_messages(range(1, 25 * 20)) end)
    robloxsocial.step(0)                        -- its first write on its way, the rest not yet queued
    assert.equal(1, core.stats().in_flight)
    t:cancel()
    assert.equal(0, core.stats().in_flight)
    robloxsocial.sleep(0.5)
    assert.is_true(#support.requests("POST", "/v1/messages/archive") <= 1)
    collectgarbage(); collectgarbage()
    assert.equal(0, core.stats().transfers)
  end)

  it("suspends the task that calls it", function()
    sb:configure{ latency = 0.1 }
    local client <close> = support.client{ concurrency = 4 }
    local other_ran = false
    local t = robloxsocial.spawn(function() return #assert(client:presence(range(1, 200))).userPresences end)
    robloxsocial.spawn(function() other_ran = true end)
    assert.is_true(other_ran)
    assert.equal(200, support.wait(t))
  end)
end)

describe("an iterator with prefetch = true", function()
  local FIND

  before_each(function() FIND = "/v1/users/" .. me .. "/friends/find" end)

  for _, prefetch in ipairs { true, false } do
    it(("%s the next page while the caller works on the first"):format(prefetch and "asks for" or "without it, does not ask for"), function()
      local client <close> = support.client()
      local seen_during, n = nil, 0
      for _ in client:each_friend(me, { limit = 50, prefetch = prefetch }) do
        n = n + 1
        if n == 1 then
          robloxsocial.sleep(0.2)            -- the caller's work; the loop moves meanwhile
          seen_during = #support.requests("GET", FIND)
        end
      end
      assert.equal(130, n)
      assert.equal(prefetch and 2 or 1, seen_during)
      assert.equal(3, #support.requests("GET", FIND))
    end)
  end

  it("abandons the prefetched page when the loop ends early", function()
    local client <close> = support.client()
    for _ in client:each_friend(me, { limit = 50, prefetch = true }) do break end
    assert.equal(0, core.stats().in_flight)
  end)

  it("started outside a task and continued inside one, gives the task the prefetched page", function()
    local client <close> = support.client()
    local next_friend = client:each_friend(me, { limit = 40, prefetch = true })
    assert(next_friend())                 -- the first page, and the second asked for
    local t = robloxsocial.spawn(function()
      local n = 1
      while next_friend() do n = n + 1 end
      return n
    end)
    assert.is_true(robloxsocial.run(5))
    assert.equal(130, t:wait())
    local pages = 0                       -- of 40 items: a page another test abandoned may arrive late
    for _, r in ipairs(support.requests("GET", FIND)) do
      if support.query_lists(r).limit[1] == "40" then pages = pages + 1 end
    end
    assert.equal(4, pages)
    assert.equal(0, core.stats().in_flight)
  end)

  it("dropped inside a task with its next page asked for, lets go of that page", function()
    local client <close> = support.client()
    local t = robloxsocial.spawn(function()
      local next_friend = client:each_friend(me, { limit = 50, prefetch = true })
      assert(next_friend())               -- the first page, and the second asked for
    end)
    assert.is_true(robloxsocial.run(5))
    collectgarbage(); collectgarbage()
    assert.equal(0, core.stats().in_flight)
    collectgarbage(); collectgarbage()
    assert.equal(0, core.stats().transfers)
    t:wait()
  end)

  it("refuses a prefetch that is not a boolean", function()
    local client <close> = support.client()
    assert.has_error(function() client:each_friend(me, { prefetch = 1 }) end,
      "bad argument #2 to 'each_friend' (option 'prefetch' must be a boolean)")
  end)
end)

describe("a luv event loop", function()
  local ok_luv, uv = pcall(require, "luv")
  local luv_it = ok_luv and it or pending
  luv_it("drives the tasks with step(0) on a timer set by next_timeout()", function()
    sb:configure{ latency = 0.05 }
    local client <close> = support.client()
    local tasks = {}
    for i = 1, 5 do
      tasks[i] = robloxsocial.spawn(function() return assert(client:friends_count(me)).count end)
    end
    local timer, ticks = uv.new_timer(), 0
    local function tick()
      ticks = ticks + 1
      if robloxsocial.step(0) == 0 then timer:close(); return end
      local wait = robloxsocial.next_timeout() or 0.01
      timer:start(math.max(1, math.floor(wait * 1000)), 0, tick)
    end
    timer:start(0, 0, tick)
    uv.run()
    for i = 1, 5 do assert.equal(130, tasks[i]:wait()) end
    assert.is_true(ticks > 1)
  end)
end)

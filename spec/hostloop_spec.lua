-- Inside a host's event loop (README; issue 21 items 1 and 2): the
-- descriptor of robloxsocial.pollfd(), libcurl's own timeout in
-- next_timeout(), the luv and cqueues adapters, strict mode.  Waits are
-- bounded; nothing here measures time (the stalls only keep a request on
-- the network while a value is read).
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local support = require "spec.support"
local proc = require "spec.proc"
local uv = require "luv"

local function has(name) return (pcall(require, name)) end

-- Whether fd is readable now: one turn of luv's loop that does not wait.
local function readable(fd)
  local p, hit = uv.new_poll(fd), false
  p:start("r", function() hit = true end)
  uv.run("nowait")
  p:stop()
  p:close()
  uv.run("nowait")
  return hit
end

-- Whether fd becomes readable within seconds (luv waits on it).
local function becomes_readable(fd, seconds)
  local p, t, hit = uv.new_poll(fd), uv.new_timer(), nil
  p:start("r", function() hit = true; p:stop(); t:stop() end)
  t:start(math.floor(seconds * 1000), 0, function() hit = false; p:stop() end)
  uv.run()
  p:close()
  t:close()
  uv.run("nowait")
  return hit
end

-- Steps (without waiting) until nothing is left to do now: the descriptor
-- is not readable.  Returns whether that happened within 50 steps.
local function step_until_quiet(fd)
  for _ = 1, 50 do
    robloxsocial.step(0)
    if not readable(fd) then return true end
  end
  return false
end

local sb, ME = support.main()

-- Whether the descriptor shows libcurl's sockets and the library's timers
-- (epoll); in the portable fallback it is a pipe woken by spawns only, and
-- what needs more is pending.
local COMPLETE = select(2, assert(robloxsocial.pollfd()))
local function it_complete(name, fn)
  if COMPLETE then it(name, fn) else pending(name .. " (the portable fallback)") end
end

describe("robloxsocial.pollfd()", function()
  local client, fd
  setup(function()
    client = support.client()
    fd = assert(robloxsocial.pollfd())
  end)
  before_each(support.reset)
  after_each(function() support.run() end)

  local function stall(seconds)
    sb:fault{ path = "/v1/users/" .. ME .. "/friends/count", kind = "stall", seconds = seconds }
  end

  it("is a descriptor, with events 'r' and timeout() = next_timeout(): cqueues' protocol", function()
    assert.equal("integer", math.type(fd))
    assert.equal(fd, robloxsocial.pollfd())
    assert.equal("r", robloxsocial.events())
    assert.equal(robloxsocial.next_timeout(), robloxsocial.timeout())
    assert.equal(robloxsocial.next_timeout(robloxsocial), robloxsocial.timeout(robloxsocial))
  end)

  it("is not readable while the library is idle", function()
    robloxsocial.step(0)
    assert.is_nil(robloxsocial.next_timeout())
    assert.is_false(readable(fd))
  end)

  it("is readable when a task is spawned, and once it has run, not", function()
    robloxsocial.step(0)
    assert.is_false(readable(fd))
    local t = robloxsocial.spawn(function()
      robloxsocial.sleep(0)
      return "ran"
    end)
    assert.is_true(readable(fd))
    assert.is_true(step_until_quiet(fd))
    assert.is_true(t:done())
    assert.equal("ran", t:wait())
    assert.is_false(readable(fd))
  end)

  it_complete("is readable when a response arrives, and not while the request waits for it", function()
    stall(1)
    local t = robloxsocial.spawn(function() return client:friends_count(ME) end)
    assert.is_true(step_until_quiet(fd))
    assert.is_false(t:done())
    assert.equal(1, core.stats().on_network)
    assert.is_true(becomes_readable(fd, 10))
    support.step_until(function() return t:done() end, "the stalled request")
    assert.is_table(t:wait())
  end)

  it_complete("is readable when a sleeping task's time comes (the library's own timer)", function()
    local t = robloxsocial.spawn(function() robloxsocial.sleep(0.05); return "woke" end)
    assert.is_true(step_until_quiet(fd))
    assert.is_true(becomes_readable(fd, 10))
    support.step_until(function() return t:done() end, "the sleeping task")
    assert.equal("woke", t:wait())
  end)

  -- The one wake that comes from step itself: a step that leaves work for
  -- now (a task answered that yields, ready again) with no socket, timer
  -- or spawn to show it.  The stall lets the descriptor go quiet first.
  it_complete("is readable after a step that leaves a task ready to go on", function()
    stall(0.2)
    local go, answered = false, false
    local t = robloxsocial.spawn(function()
      local count = client:friends_count(ME)
      answered = true
      while not go do coroutine.yield() end
      return count
    end)
    assert.is_true(step_until_quiet(fd))
    assert.is_true(becomes_readable(fd, 10))
    support.step_until(function() return answered end, "the answer")
    local ready, wait, shown = not t:done(), robloxsocial.next_timeout(), readable(fd)
    go = true                           -- before the asserts: a failure leaves no task behind
    assert.is_true(ready)
    assert.equal(0, wait)
    assert.is_true(shown)
    support.step_until(function() return t:done() end, "the task")
    assert.is_table(t:wait())
  end)

  it("is readable after a blocking call moved the tasks' requests too", function()
    stall(0.3)
    local t = robloxsocial.spawn(function() return client:friends_count(ME) end)
    assert.is_true(step_until_quiet(fd))
    assert.is_table(client:friends_count(ME))     -- blocks past the stall
    assert.is_true(readable(fd))
    support.step_until(function() return t:done() end, "the task's request")
  end)
end)

describe("with a host watching (the socket interface)", function()
  setup(function() assert(robloxsocial.pollfd()) end)
  before_each(support.reset)

  -- tasks_spec's guarantee, under the socket interface: a step ends by
  -- sending what its tasks asked for, and what completes then must wait
  -- for the next step to resume its task before a slot it frees is used.
  it("a batch in a task whose hook raises sends none of its other requests", function()
    for _ = 1, 10 do
      support.reset()
      local client <close> = support.client{ concurrency = 1,
        on_response = function() error("the hook failed", 0) end }
      local ids = {}
      for i = 1, 500 do ids[i] = i end
      local t = robloxsocial.spawn(function() return client:archive_messages(ids) end)
      support.run()
      assert.has_error(function() t:wait() end, "the hook failed")
      robloxsocial.sleep(0.05)
      assert.equal(1, #support.sent("POST", "/v1/messages/archive"))
      assert.equal(0, core.stats().in_flight)
    end
  end)
end)

describe("next_timeout()", function()
  local client
  setup(function() client = support.client() end)
  before_each(support.reset)

  it_complete("is libcurl's own timeout while a request is on the network, not a 5 ms glance", function()
    assert(robloxsocial.pollfd())       -- a host watches
    sb:fault{ path = "/v1/users/" .. ME .. "/friends/count", kind = "stall", seconds = 3 }
    local t = robloxsocial.spawn(function() return client:friends_count(ME) end)
    support.step_until(function()
      return #support.requests("GET", "/v1/users/" .. ME .. "/friends/count") > 0
    end, "the request to reach the sandbox")
    -- libcurl's timers of the connection (happy eyeballs, 200 ms) may come
    -- first; then its timer is the request's timeout, 10 s away
    local deadline = core.now() + 1
    while robloxsocial.next_timeout() <= 0.5 and core.now() < deadline do robloxsocial.step(0.05) end
    assert.is_false(t:done())
    assert.equal(1, core.stats().on_network)
    assert.is_true(robloxsocial.next_timeout() > 0.5, tostring(robloxsocial.next_timeout()))
    support.wait(t)
  end)
end)

-- Runs a Lua program in a process of its own (a fresh library: no pollfd
-- asked yet) against the sandbox, its cookie from the environment
-- (COOKIE); returns its output.
local function run_program(sb, text)
  return proc.lua_program(text, { BASE = sb.base_url, ME = sb.credentials.user_id },
                          { COOKIE = sb.credentials.cookie })
end

local PROGRAM_HEAD = [[
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"
local client = robloxsocial.new{ base_url = os.getenv("BASE"), cookie = os.getenv("COOKIE"), timeout = 10 }
local ME = math.tointeger(tonumber(os.getenv("ME")))
local t = robloxsocial.spawn(function() return client:friends_count(ME) end)
for _ = 1, 20 do robloxsocial.step(0.02) end      -- the request is out, stalled
assert(not t:done() and core.stats().on_network == 1, "not on the network")
]]

describe("a program that never asks for pollfd()", function()
  before_each(support.reset)

  it("is told to glance (5 ms) while a request is on the network, as it cannot see the sockets", function()
    sb:fault{ path = "/v1/users/" .. ME .. "/friends/count", kind = "stall", seconds = 1 }
    local out = run_program(sb, PROGRAM_HEAD .. [[
print("next_timeout", robloxsocial.next_timeout())
while not t:done() do robloxsocial.step(0.05) end
print("answered", type(t:wait()))
]])
    local wait = tonumber(out:match("next_timeout%s+(%S+)"))
    assert.is_number(wait, out)
    assert.is_true(wait <= 0.005, out)
    assert.matches("answered%s+table", out)
  end)

  -- The spawn came before the descriptor, so it could not wake it:
  -- pollfd() itself makes it readable once.
  it("asking for it with a task already spawned finds it readable at once", function()
    local out = run_program(sb, [[
local robloxsocial = require "robloxsocial"
local uv = require "luv"
local t = robloxsocial.spawn(function() return "ran" end)
local fd = assert(robloxsocial.pollfd())
local p, timer, readable = uv.new_poll(fd), uv.new_timer(), nil
p:start("r", function() readable = true; p:stop(); timer:stop() end)
timer:start(2000, 0, function() readable = false; p:stop() end)
uv.run()
print("readable", readable)
robloxsocial.step(0)
print("task", t:done() and t:wait())
]])
    assert.matches("readable%s+true", out)
    assert.matches("task%s+ran", out)
  end)

  it_complete("asking for it with a request already on the network sees that request's answer", function()
    sb:fault{ path = "/v1/users/" .. ME .. "/friends/count", kind = "stall", seconds = 1 }
    local out = run_program(sb, PROGRAM_HEAD .. [[
local uv = require "luv"
local fd = assert(robloxsocial.pollfd())
robloxsocial.step(0)                                -- the wake of pollfd()
print("next_timeout", robloxsocial.next_timeout())
local p, timer, readable = uv.new_poll(fd), uv.new_timer(), nil
p:start("r", function() readable = true; p:stop(); timer:stop() end)
timer:start(5000, 0, function() readable = false; p:stop() end)
uv.run()
print("readable", readable)
for _ = 1, 50 do if t:done() then break end robloxsocial.step(0) end
print("answered", t:done() and type(t:wait()))
]])
    local wait = tonumber(out:match("next_timeout%s+(%S+)"))
    assert.is_number(wait, out)
    assert.is_true(wait > 0.5, out)
    assert.matches("readable%s+true", out)
    assert.matches("answered%s+table", out)
  end)
end)

describe("robloxsocial.strict()", function()
  local client
  setup(function() client = support.client() end)
  before_each(support.reset)
  after_each(function() robloxsocial.strict(false) end)

  it("is off by default; strict(on) says whether it was on", function()
    assert.is_false(robloxsocial.strict())
    assert.is_false(robloxsocial.strict(true))
    assert.is_true(robloxsocial.strict(false))
    assert.is_false(robloxsocial.strict())
    assert.has_error(function() robloxsocial.strict("yes") end)
  end)

  it("makes a call outside a task raise, with nothing sent", function()
    robloxsocial.strict(true)
    local ok, err = pcall(client.friends_count, client, ME)
    assert.is_false(ok)
    assert.matches("a call outside a task would block the host's loop %(robloxsocial.strict is on%)",
                   tostring(err))
    assert.matches("inside a task %(robloxsocial.spawn%)", tostring(err))
    assert.equal(0, #support.requests())
  end)

  it("makes a batch or an iterator outside a task raise", function()
    robloxsocial.strict(true)
    assert.has_error(function() client:presence({ ME, 2 }) end)
    assert.has_error(function() for _ in client:each_friend(ME) do end end)
    assert.equal(0, #support.requests())
  end)

  it("makes sleep and task:wait() outside a task raise", function()
    local t = robloxsocial.spawn(function() robloxsocial.sleep(0.01) end)
    robloxsocial.strict(true)
    local ok, err = pcall(robloxsocial.sleep, 0.01)
    assert.matches("sleep outside a task would block", tostring(err))
    ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.matches("task:wait%(%) outside a task would block", tostring(err))
    support.run()
  end)

  it("leaves calls inside a task as they are", function()
    robloxsocial.strict(true)
    local t = robloxsocial.spawn(function()
      local n = client:friends_count(ME)
      local pages = 0
      for _ in client:each_friend(ME) do pages = pages + 1 end
      robloxsocial.sleep(0)
      return n, pages
    end)
    support.run()
    local n, pages = t:wait()
    assert.is_table(n)
    assert.is_number(pages)
  end)

  it("strict(false) makes a call outside a task block again", function()
    robloxsocial.strict(true)
    assert.has_error(function() client:friends_count(ME) end)
    robloxsocial.strict(false)
    assert.is_table(client:friends_count(ME))
  end)
end)

describe("require('robloxsocial.luv')", function()
  local client
  setup(function() client = support.client() end)
  before_each(support.reset)

  it("runs a bot whose timer spawns work later, to the end, with no kick by hand", function()
    local adapter = require "robloxsocial.luv"
    adapter.start()
    local answers, fired = {}, 0
    local timer = uv.new_timer()
    -- the bot's own work: every 20 ms a new request, three times
    timer:start(20, 20, function()
      fired = fired + 1
      robloxsocial.spawn(function() answers[#answers + 1] = client:friends_count(ME) end)
      if fired == 3 then timer:stop(); timer:close() end
    end)
    local guard = uv.new_timer()          -- bounds the run: it never fires in a pass
    guard:start(10000, 0, function() uv.stop() end)
    guard:unref()
    uv.run()
    guard:close()
    adapter.stop()
    uv.run("nowait")
    assert.equal(3, fired)
    assert.equal(3, #answers, support.stuck())
    for _, a in ipairs(answers) do assert.is_table(a) end
    assert.equal(0, core.stats().in_flight)
  end)

  it("stop() undoes start(): a spawn no longer steps", function()
    local adapter = require "robloxsocial.luv"
    adapter.start()
    adapter.stop()
    local ran = false
    local t = robloxsocial.spawn(function() robloxsocial.sleep(0); ran = true end)
    uv.run("nowait")
    assert.is_false(ran)
    support.wait(t)
    assert.is_true(ran)
  end)
end)

describe("require('robloxsocial.cqueues')", function()
  if not has("cqueues") then
    pending("lua-cqueues is not installed for Lua 5.4 (scripts/deps.sh installs it)")
    return
  end
  local cqueues = require "cqueues"
  local client
  setup(function() client = support.client() end)
  before_each(support.reset)

  it("runs a bot whose timer spawns work later, to the end, with no kick by hand", function()
    local cq = cqueues.new()
    local attached = require("robloxsocial.cqueues").attach(cq)
    local answers = {}
    cq:wrap(function()
      for _ = 1, 3 do
        cqueues.sleep(0.02)
        robloxsocial.spawn(function()
          answers[#answers + 1] = client:friends_count(ME)
          if #answers == 3 then attached:detach() end
        end)
      end
    end)
    local deadline = cqueues.monotime() + 10
    while not cq:empty() and cqueues.monotime() < deadline do
      assert(cq:step(deadline - cqueues.monotime()))
    end
    assert.is_true(cq:empty(), support.stuck())
    assert.equal(3, #answers)
    for _, a in ipairs(answers) do assert.is_table(a) end
    assert.equal(0, core.stats().in_flight)
  end)

  it("refuses what is not a controller", function()
    assert.has_error(function() require("robloxsocial.cqueues").attach(nil) end)
  end)
end)

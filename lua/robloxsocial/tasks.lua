-- Tasks: many calls at once on coroutines, without threads.
--
-- A call made inside a task starts a transfer and suspends the task; the
-- loop in the C core moves every transfer, and step() resumes the tasks
-- whose transfers are over.  A call made anywhere else (the main program,
-- a coroutine of the user's own, a finalizer, a hook) blocks: it drives
-- the loop itself until its own transfer is over, so that the transfers
-- of tasks keep moving meanwhile, and resumes no task.  Only step(), run()
-- and task:wait() resume tasks, so a blocking call never runs other code
-- in the middle of the caller's.
--
-- A single call (core.send) suspends its task inside the core, which
-- yields MARK, "awaits" and the transfer; core.poll then lists the task
-- itself.  Batches and iterators start transfers (core.start) and yield
-- here for them; core.poll lists those transfers, and the waiting table
-- says which task each one wakes.
--
-- A task suspends only on its own terms: its coroutine yields MARK and
-- what it waits for.  A plain coroutine.yield() inside a task gives up the
-- rest of this step; the task goes on at the next one.

local core = require "robloxsocial.core"

local done, poll = core.done, core.poll
local progress, now, core_next_timeout = core.progress, core.now, core.next_timeout
local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local running, isyieldable, close = coroutine.running, coroutine.isyieldable, coroutine.close
local pack, unpack, remove, min, huge = table.pack, table.unpack, table.remove, math.min, math.huge
local select = select

local tasks = {}

-- The core knows both, so that core.send can tell a task and suspend it.
local MARK = core.MARK          -- first value of every yield of ours
local task_of = core.tasks      -- coroutine -> task, while the task lives
local waiting = {}              -- transfer of core.start -> task that waits for it
local sleepers = {}             -- tasks in robloxsocial.sleep, unsorted
local ready = {}                -- tasks that yielded plainly: next step
local woken = {}                -- tasks whose awaited task ended: this step
local live = 0                  -- tasks not done
local finished_tasks, finished_transfers = {}, {}  -- scratch for core.poll

local Task = {}
Task.__index = Task
Task.__name = "robloxsocial.Task"

function Task:__tostring()
  return ("robloxsocial.Task (%s)"):format(self.cancelled and "cancelled"
    or self.finished and (self.failed and "failed" or "done") or "running")
end

-- The task running now, when its coroutine may yield here; nil in the
-- main program, in a coroutine that is not a task, in a finalizer, or in
-- a hook called from C.
local function current()
  local co, main = running()
  if main then return nil end
  local task = task_of[co]
  if task and isyieldable() then return task end
  return nil
end
tasks.current = current

local function cancelled_error()
  return setmetatable({ kind = "cancelled", message = "the task was cancelled" }, core.error_mt)
end

local NO_RESULTS = { n = 0 }

local function finish(task, ok, ...)
  task.finished = true
  live = live - 1
  if not ok then
    task.failed, task.error = true, ...
  elseif select("#", ...) == 0 then
    task.results = NO_RESULTS         -- most tasks return nothing: no table
  else
    task.results = pack(...)
  end
  task_of[task.co] = nil
  local joiners = task.joiners
  if joiners then
    for _, joiner in ipairs(joiners) do woken[#woken + 1] = joiner end
    task.joiners = nil
  end
end

-- Files task by what its coroutine yielded, or finishes it.  Takes the
-- values of resume as arguments, so that no table is made for them.
local function filed(task, ok, ...)
  local mark, what, arg = ...
  if not ok then return finish(task, ok, ...) end
  if mark ~= MARK then
    if status(task.co) == "dead" then return finish(task, ok, ...) end
    ready[#ready + 1] = task
  elseif what == "awaits" then        -- core.send: the core lists the task
    task.waits = arg
  elseif what == "transfer" then
    waiting[arg] = task
    task.waits = arg
  elseif what == "any" then
    for _, t in ipairs(arg) do waiting[t] = task end
    task.waits = arg
  elseif what == "sleep" then
    task.due = arg
    sleepers[#sleepers + 1] = task
  elseif what == "join" then
    arg.joiners = arg.joiners or {}
    arg.joiners[#arg.joiners + 1] = task
  end
end

-- Resumes task with the values, then files it by what it yielded.
local function run_task(task, ...)
  return filed(task, resume(task.co, ...))
end

-- Suspends the running task until transfer t is over (at once if it is).
local function await(t)
  if not done(t) then yield(MARK, "transfer", t) end
end
tasks.await = await

-- Suspends the running task until one of the transfers in list is over.
function tasks.await_any(list)
  for _, t in ipairs(list) do
    if done(t) then return end
  end
  yield(MARK, "any", list)
end

local function check_seconds(v, name, position)
  if v ~= nil and (type(v) ~= "number" or v ~= v) then
    error(("bad argument #%d to '%s' (number of seconds expected, got %s)")
      :format(position, name, type(v)), 3)
  end
  return v
end

function tasks.spawn(fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error(("bad argument #1 to 'spawn' (function expected, got %s)"):format(type(fn)), 2)
  end
  local co = create(fn)
  -- The fields a task always gets, made at once: no table grows later.
  local task = setmetatable({ co = co, waits = false, finished = false, results = false }, Task)
  task_of[co] = task
  live = live + 1
  run_task(task, ...)
  return task
end

function Task:done()
  return self.finished == true
end

function Task:wait()
  if not self.finished then
    local me = current()
    if me == self then error("robloxsocial: a task cannot wait for itself", 2) end
    if me then
      yield(MARK, "join", self)
    else
      while not self.finished do
        local wait = tasks.next_timeout()
        tasks.step(wait and min(wait, 1) or 0)
      end
    end
  end
  if self.cancelled then error(cancelled_error(), 2) end
  if self.failed then error(self.error, 0) end
  return unpack(self.results, 1, self.results.n)
end

-- Ends the task where it is suspended: a transfer it waits for is
-- abandoned, its to-be-closed variables are closed, tasks waiting for it
-- raise a "cancelled" error.
function Task:cancel()
  if self.finished then return end
  local co = self.co
  if co == running() then error("robloxsocial: a task cannot cancel itself (return from it instead)", 2) end
  if status(co) ~= "suspended" then
    error("robloxsocial: cannot cancel a task that is resuming another", 2)
  end
  local waits = self.waits
  if type(waits) == "table" then
    for _, t in ipairs(waits) do waiting[t] = nil; core.cancel(t) end
  elseif waits then
    waiting[waits] = nil
    core.cancel(waits)
  end
  self.waits = nil
  self.cancelled = true
  finish(self, true)
  close(co)
end

-- Wakes the task that waits for transfer t (finished in a poll).
local function wake(t)
  local task = waiting[t]
  if not task then return end
  local waits = task.waits
  if type(waits) == "table" then
    for _, other in ipairs(waits) do waiting[other] = nil end
  else
    waiting[t] = nil
  end
  task.waits = nil
  run_task(task, t)
end

-- Resumes the sleepers that are due; returns seconds until the next one.
local function wake_sleepers()
  local t, next_due, i = now(), huge, 1
  while i <= #sleepers do
    local task = sleepers[i]
    if task.finished then
      remove(sleepers, i)
    elseif task.due <= t then
      remove(sleepers, i)
      run_task(task)
    else
      if task.due < next_due then next_due = task.due end
      i = i + 1
    end
  end
  return next_due - t
end

local function run_list(list)
  local n = #list
  if n == 0 then return end
  local batch = { unpack(list, 1, n) }
  for i = n, 1, -1 do list[i] = nil end
  for _, task in ipairs(batch) do
    if not task.finished then run_task(task) end
  end
end

function tasks.step(timeout)
  timeout = check_seconds(timeout, "step", 1) or 0
  local next_sleeper = #sleepers > 0 and wake_sleepers() or huge
  if #ready > 0 or #woken > 0 then timeout = 0 end
  local n, m = poll(min(timeout, next_sleeper), finished_tasks, finished_transfers)
  for i = 1, n do
    local task = finished_tasks[i]
    finished_tasks[i] = nil
    if not task.finished then         -- a task resumed before may have cancelled it
      task.waits = nil
      run_task(task)
    end
  end
  for i = 1, m do
    local t = finished_transfers[i]
    finished_transfers[i] = nil
    wake(t)
  end
  if #sleepers > 0 then wake_sleepers() end
  run_list(ready)
  while #woken > 0 do run_list(woken) end
  return live
end

function tasks.run(timeout)
  timeout = check_seconds(timeout, "run", 1)
  local deadline = timeout and now() + timeout
  while live > 0 do
    local wait = tasks.next_timeout() or 1
    if deadline then
      local left = deadline - now()
      if left <= 0 then return false end
      wait = min(wait, left)
    end
    tasks.step(min(wait, 1))
  end
  return true
end

function tasks.sleep(seconds)
  seconds = check_seconds(seconds, "sleep", 1)
  if seconds == nil then error("bad argument #1 to 'sleep' (number of seconds expected, got no value)", 2) end
  local due = now() + seconds
  if current() then
    yield(MARK, "sleep", due)
    return
  end
  -- Not in a task: the transfers in flight keep moving while it sleeps.
  repeat progress(due - now()) until now() >= due
end

function tasks.next_timeout()
  if #ready > 0 or #woken > 0 then return 0 end
  local wait = core_next_timeout()
  if #sleepers > 0 then
    local t, due = now(), huge
    for _, task in ipairs(sleepers) do
      if not task.finished and task.due < due then due = task.due end
    end
    if due < huge then
      local left = due - t
      wait = min(wait or huge, left > 0 and left or 0)
    end
  end
  return wait
end

-- Tasks not done, for the specs and for host loops.
function tasks.count()
  return live
end

return tasks

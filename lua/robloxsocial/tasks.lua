-- Tasks: many calls at once on coroutines, without threads.
--
-- The scheduler is in the C core (csrc/sched.c): spawn, step, the tasks
-- and their wait, done and cancel.  A call made inside a task starts a
-- transfer and suspends the task; step() moves every transfer and resumes
-- the tasks whose transfers are over.  A call made anywhere else (the main
-- program, a coroutine of the user's own, a finalizer, a hook) blocks: it
-- drives the loop itself until its own transfer is over, so that the
-- transfers of tasks keep moving meanwhile, and resumes no task.  Only
-- step(), run() and task:wait() resume tasks, so a blocking call never
-- runs other code in the middle of the caller's.
--
-- What is left here is what waits in Lua: run(), and sleep() outside a
-- task.

local core = require "robloxsocial.core"

local step, next_timeout, live, now, progress = core.step, core.next_timeout, core.live, core.now, core.progress
local current, sleep_until = core.current, core.sleep_until
local min = math.min

local tasks = {
  spawn = core.spawn,
  step = step,
  next_timeout = next_timeout,
  current = current,          -- the task running now, where a call may suspend it; or nil
  await = core.await,         -- suspends the running task until a transfer of core.start is over
  await_any = core.await_any, -- ... until one of a list of them is
  count = live,               -- tasks not done, for the specs and for host loops
}

local function check_seconds(v, name)
  if v ~= nil and (type(v) ~= "number" or v ~= v) then
    error(("bad argument #1 to '%s' (number of seconds expected, got %s)"):format(name, type(v)), 3)
  end
  return v
end

function tasks.run(timeout)
  timeout = check_seconds(timeout, "run")
  local deadline = timeout and now() + timeout
  while live() > 0 do
    local wait = next_timeout() or 1
    if deadline then
      local left = deadline - now()
      if left <= 0 then return false end
      wait = min(wait, left)
    end
    step(min(wait, 1))
  end
  return true
end

function tasks.sleep(seconds)
  check_seconds(seconds, "sleep")
  if seconds == nil then error("bad argument #1 to 'sleep' (number of seconds expected, got no value)", 2) end
  local due = now() + seconds
  if current() then return sleep_until(due) end
  -- Not in a task: the transfers in flight keep moving while it sleeps.
  repeat progress(due - now()) until now() >= due
end

return tasks

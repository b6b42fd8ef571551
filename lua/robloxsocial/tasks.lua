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
-- What is left here is sleep(), which outside a task waits in Lua.

local core = require "robloxsocial.core"

local now, progress = core.now, core.progress
local current, sleep_until = core.current, core.sleep_until
local check_strict = core.check_strict

local tasks = {
  spawn = core.spawn,
  step = core.step,
  run = core.run,
  next_timeout = core.next_timeout,
  current = current,          -- the task running now, where a call may suspend it; or nil
  await = core.await,         -- suspends the running task until a transfer of core.start is over
  await_any = core.await_any, -- ... until one of a list of them is
  count = core.live,          -- tasks not done, for the specs and for host loops
}

function tasks.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error(("bad argument #1 to 'sleep' (number of seconds expected, got %s)")
      :format(seconds == nil and "no value" or type(seconds)), 2)
  end
  local due = now() + seconds
  if current() then return sleep_until(due) end
  check_strict("sleep outside a task")
  -- Not in a task: the transfers in flight keep moving while it sleeps.
  repeat progress(due - now()) until now() >= due
end

return tasks

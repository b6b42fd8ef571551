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
-- What is left here is sleep(), which outside a task waits in Lua, and
-- tasks.way(): how the batches and iterators of the Lua layer wait.

local core = require "robloxsocial.core"

local now, progress = core.now, core.progress
local current, sleep_until = core.current, core.sleep_until
local check_strict = core.check_strict
local start, start_blocking, result = core.start, core.start_blocking, core.result
local adopt = core.adopt

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

-- The two ways a call waits for its transfers.  Each has:
--   start(client, ...)       core.start's arguments: a transfer of the call
--   kick()                   lets transfers just started go out while the
--                            caller works
--   take(t)                  waits for t, then returns its result (t of
--                            either way: an iterator's page prefetched
--                            outside a task may be taken inside one)
--   wait_any(items, field)   waits until the transfer in field of one of
--                            the items is over
--   sleep_until(due)         waits until core.now() reaches due
local suspends = {
  start = start,
  kick = function() end,                  -- the scheduler's next step moves it
  take = function(t)
    adopt(t)
    tasks.await(t)          -- looked up when called: the specs may watch it
    return result(t)
  end,
  wait_any = function(items, field)
    local list = {}
    for i = 1, #items do list[i] = items[i][field] end
    return tasks.await_any(list)
  end,
  sleep_until = sleep_until,
}

local blocks = {
  start = start_blocking,
  kick = function() progress(0) end,
  take = result,                          -- drives the loop until t is over
  wait_any = function() progress(1.0) end,
  sleep_until = function(due)
    check_strict("sleep outside a task")
    -- the transfers in flight keep moving while it sleeps
    repeat progress(due - now()) until now() >= due
  end,
}

-- The one place of the Lua layer that decides how a call made now waits:
-- inside a task it suspends the task, anywhere else it blocks, driving
-- the loop.  The core decides (core.current, as core.send does for a
-- single call); a batch asks once, when it is called, an iterator once
-- for each page it fetches (it may be made outside a task and go on
-- inside one).
function tasks.way()
  return current() and suspends or blocks
end

function tasks.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds then
    error(("bad argument #1 to 'sleep' (number of seconds expected, got %s)")
      :format(seconds == nil and "no value" or type(seconds)), 2)
  end
  return tasks.way().sleep_until(now() + seconds)
end

return tasks

-- The Lua layer alone, for callgrind: the core's transfer functions are
-- replaced by Lua stubs before robloxsocial loads, so that what is left
-- is lua/robloxsocial (methods.lua), the scheduler (csrc/sched.c) and the VM.
--
--   lua5.4 lua_layer.lua tasks ROUNDS        ROUNDS rounds of 1,000 friends_count tasks;
--                                            every call is answered at the next step
--   lua5.4 lua_layer.lua sequential N        N friends_count calls, core.send answering at once
--
-- Instructions per unit: run twice under callgrind (tasks 2 and 4, or
-- sequential 2000 and 4000) and divide the difference by 2,000.  The
-- stubs cost a little themselves (a small table per call).

local core = require "robloxsocial.core"
local mode, count = arg[1], tonumber(arg[2])
local answer = { count = 130 }

if mode == "tasks" then
  -- core.send suspends a task until a later step: the stub yields
  -- plainly, which the scheduler resumes at the next step, with its answer.
  local yield = coroutine.yield
  core.send_id = function()
    yield()
    return { count = 130 }
  end
  core.send = core.send_id
elseif mode == "sequential" then
  core.send = function() return answer end
  core.send_id = core.send                -- the id-only methods' entry
else
  error("usage: lua5.4 lua_layer.lua tasks ROUNDS | sequential N", 0)
end

local robloxsocial = require "robloxsocial"
local client = robloxsocial.new{ base_url = "http://127.0.0.1:1", api_key = "bench",
                                 concurrency = mode == "tasks" and 8 or 1 }
local FIRST_ID = 4294967297

if mode == "tasks" then
  for _ = 1, count do
    for i = 1, 1000 do
      local id = FIRST_ID + i - 1
      robloxsocial.spawn(function() assert(client:friends_count(id)) end)
    end
    robloxsocial.run()
  end
else
  for i = 1, count do assert(client:friends_count(FIRST_ID + i % 1000)) end
end

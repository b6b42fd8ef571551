-- The Lua layer alone, for callgrind: the core's transfer functions are
-- replaced by Lua stubs before robloxsocial loads, so that what is left
-- is lua/robloxsocial (tasks.lua, methods.lua) and the VM.
--
--   lua5.4 lua_layer.lua tasks ROUNDS        ROUNDS rounds of 1,000 friends_count tasks;
--                                            every transfer is finished at the next poll
--   lua5.4 lua_layer.lua sequential N        N friends_count calls, core.send answering at once
--
-- Instructions per unit: run twice under callgrind (tasks 2 and 4, or
-- sequential 2000 and 4000) and divide the difference by 2,000.  The
-- stubs cost a little themselves (two small tables per task).

local core = require "robloxsocial.core"
local mode, count = arg[1], tonumber(arg[2])
local answer = { count = 130 }

if mode == "tasks" then
  local pending, n_pending = {}, 0
  core.start = function()
    local t = {}
    n_pending = n_pending + 1
    pending[n_pending] = t
    return t
  end
  core.start_id = core.start              -- the id-only methods' entry
  core.done = function(t) return t.ok == true end
  core.result = function() return { count = 130 } end
  core.poll = function(_, out)
    local n = n_pending
    for i = 1, n do
      local t = pending[i]
      t.ok, out[i], pending[i] = true, t, nil
    end
    n_pending = 0
    return n
  end
  core.next_timeout = function() return n_pending > 0 and 0 or nil end
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

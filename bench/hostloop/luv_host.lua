-- The luv host of the wake-up bench: lua5.4 luv_host.lua KIND MODE
--   MODE adapter  require("robloxsocial.luv").start(): the library's descriptor
--   MODE timer    a luv timer set to next_timeout() after each step, as a
--                 luv host had to before there was a descriptor
-- A wake-up is one step the host makes.
local uv = require "luv"
local robloxsocial = require "robloxsocial"
local work = dofile(arg[0]:gsub("[^/]*$", "") .. "work.lua")
local kind, mode = arg[1] or "sequential", arg[2] or "adapter"

work.start(kind, "luv, " .. mode)
local step = robloxsocial.step
if mode == "adapter" then
  robloxsocial.step = function(t) work.wake(); return step(t) end
  require("robloxsocial.luv").start()
  uv.run()
  require("robloxsocial.luv").stop()
  uv.run("nowait")         -- lets the handle close
else
  local timer = uv.new_timer()
  local function tick()
    work.wake()
    step(0)
    if work.done() then timer:close() return end
    local wait = robloxsocial.next_timeout() or 1
    timer:start(math.ceil(wait * 1000), 0, tick)
  end
  timer:start(0, 0, tick)
  uv.run()
end
work.report()

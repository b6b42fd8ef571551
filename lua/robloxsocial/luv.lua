-- robloxsocial.luv: the library on luv's default loop (Debian's lua-luv).
--
--   require("robloxsocial.luv").start()
--   robloxsocial.spawn(function() ... end)   -- now or later, from any callback
--   uv.run()
--
-- One poll handle watches robloxsocial.pollfd(), which is readable when
-- step has work: a socket of libcurl's, a timer of the library's, a task
-- spawned or made ready.  Each time it is, the handle's callback steps
-- once without waiting.  While the library has nothing in flight the
-- handle is unreferenced, so uv.run() returns when the program's own
-- handles are done; a spawn made later (from a timer, say) still makes the
-- descriptor readable and the handle references itself again.  Where the
-- descriptor does not show libcurl's sockets (pollfd()'s second result is
-- false: the portable fallback), a timer steps after timeout() too.
local uv = require "luv"
local robloxsocial = require "robloxsocial"
local tasks = require "robloxsocial.tasks"

local adapter = {}
local handle, timer       -- timer: only where the descriptor is not complete

local function busy()
  return tasks.count() > 0 or robloxsocial.next_timeout() ~= nil
end

local on_readable

local function rearm()
  local wait = robloxsocial.timeout()
  timer:stop()
  if wait then
    timer:start(math.ceil(wait * 1000), 0, on_readable)
    if busy() then timer:ref() else timer:unref() end
  end
end

function on_readable(err)
  if err then error("robloxsocial.luv: polling the library's descriptor failed: " .. err) end
  robloxsocial.step(0)
  if handle then
    if busy() then handle:ref() else handle:unref() end
    if timer then rearm() end
  end
end

-- Watches the library from the default loop; a second start does nothing.
function adapter.start()
  if handle then return end
  local fd, complete = robloxsocial.pollfd()
  if not fd then error(complete, 2) end
  handle = assert(uv.new_poll(fd))
  assert(handle:start("r", on_readable))
  if not busy() then handle:unref() end
  if not complete then
    timer = assert(uv.new_timer())
    rearm()
  end
end

-- Stops watching: the handle is closed, and uv.run() no longer steps.
function adapter.stop()
  if not handle then return end
  handle:stop()
  handle:close()
  handle = nil
  if timer then
    timer:stop()
    timer:close()
    timer = nil
  end
end

return adapter

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
-- descriptor readable and the handle references itself again.
local uv = require "luv"
local robloxsocial = require "robloxsocial"
local tasks = require "robloxsocial.tasks"

local adapter = {}
local handle

local function busy()
  return tasks.count() > 0 or robloxsocial.next_timeout() ~= nil
end

local function on_readable(err)
  if err then error("robloxsocial.luv: polling the library's descriptor failed: " .. err) end
  robloxsocial.step(0)
  if handle then
    if busy() then handle:ref() else handle:unref() end
  end
end

-- Watches the library from the default loop; a second start does nothing.
function adapter.start()
  if handle then return end
  local fd, err = robloxsocial.pollfd()
  if not fd then error(err, 2) end
  handle = assert(uv.new_poll(fd))
  assert(handle:start("r", on_readable))
  if not busy() then handle:unref() end
end

-- Stops watching: the handle is closed, and uv.run() no longer steps.
function adapter.stop()
  if not handle then return end
  handle:stop()
  handle:close()
  handle = nil
end

return adapter

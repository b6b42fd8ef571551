-- robloxsocial.cqueues: the library in a cqueues controller (Debian's
-- lua-cqueues).
--
--   local attached = require("robloxsocial.cqueues").attach(cq)
--   ... cq:loop() ...
--   attached:detach()   -- then cq:loop() can end
--
-- attach wraps one coroutine in cq that waits with cqueues.poll on the
-- library itself (robloxsocial has pollfd, events and timeout: the
-- protocol of a pollable object) and steps once, without waiting, each
-- time it is ready.  A spawn made later, from another coroutine of cq,
-- makes the descriptor readable: nothing else needs to wake it.  The
-- coroutine runs until detach(), so cq:loop() does not return while the
-- library is attached.
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local robloxsocial = require "robloxsocial"

local adapter = {}

local Attached = {}
Attached.__index = Attached

-- Ends the coroutine at its next wake, which this makes at once.
function Attached:detach()
  self.attached = false
  self.wake:signal()
end

function adapter.attach(cq)
  if type(cq) ~= "userdata" and type(cq) ~= "table" then
    error("bad argument #1 to 'attach' (a cqueues controller expected, got " .. type(cq) .. ")", 2)
  end
  local fd, err = robloxsocial.pollfd()
  if not fd then error(err, 2) end
  local self = setmetatable({ attached = true, wake = condition.new() }, Attached)
  cq:wrap(function()
    while self.attached do
      cqueues.poll(robloxsocial, self.wake)
      if self.attached then robloxsocial.step(0) end
    end
  end)
  return self
end

return adapter

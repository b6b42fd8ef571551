-- Deadlines of calls: the client's `deadline` option (kept by the core)
-- and a call's `opts.deadline` both bound a whole call from when it is
-- made.  The Lua layer turns them into
-- one absolute time when the call is made, and hands that same time to the
-- core with every request of the call (all chunks of a batch, all pages of
-- an iterator), so that queueing and rate-limit waits count against it.

local core = require "robloxsocial.core"

local now, error_mt = core.now, core.error_mt
local type = type

local deadline = {}

-- Why seconds is no deadline, or nil when it is one: a positive number
-- (a float is fine), not NaN and not infinite.
function deadline.check(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds <= 0 or seconds == math.huge then
    return "must be a positive number of seconds"
  end
  return nil
end

-- The absolute deadline (core.now() time) of a call made now on client,
-- from its opts.deadline (seconds) or else the client's; nil for none.
function deadline.at(client, seconds)
  seconds = seconds or core.deadline_of(client)
  if seconds == nil then return nil end
  return now() + seconds
end

-- Whether an absolute deadline has passed.
function deadline.passed(due)
  return due ~= nil and now() >= due
end

-- The error of a call whose deadline passed before one of its requests
-- could be started (the core makes the same kind for a request it holds).
function deadline.error(method)
  return setmetatable({ kind = "timeout", method = method,
                        message = "robloxsocial: the call's deadline passed" }, error_mt)
end

return deadline

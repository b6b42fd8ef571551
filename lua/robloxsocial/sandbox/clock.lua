-- The sandbox's clock: real time plus whatever sb:advance() has added, so
-- that a spec can move rate-limit windows, CSRF token ages, stalls and
-- latency waits forward without sleeping through them.  It only ever
-- moves forward (reset() leaves the offset alone), so no window or timer
-- ever sees time run backwards.
local socket = require "socket"

local clock = { offset = 0 }

function clock.now()
  return socket.gettime() + clock.offset
end

-- Moves the clock forward by `seconds` (>= 0); returns the total offset.
function clock.advance(seconds)
  clock.offset = clock.offset + seconds
  return clock.offset
end

return clock

-- The sandbox's clock: real time plus whatever sb:advance() has added, so
-- that a spec can move rate-limit windows, CSRF token ages, stalls and
-- latency waits forward without sleeping through them.  It only ever
-- moves forward (reset() leaves the offset alone), so no window or timer
-- ever sees time run backwards.
--
-- Frozen (sb:freeze_clock()), it stands still but for advance(), so that
-- a spec can read exact x-ratelimit-reset values; reset() thaws it.
local socket = require "socket"

local clock = { offset = 0, frozen = nil }

function clock.now()
  return (clock.frozen or socket.gettime()) + clock.offset
end

-- Freezes the clock (on true) or lets it run again (on false).  Thawing
-- jumps it to the real time plus the offset: forward, never back.
function clock.freeze(on)
  if on then
    clock.frozen = clock.frozen or socket.gettime()
  else
    clock.frozen = nil
  end
  return clock.frozen ~= nil
end

-- Moves the clock forward by `seconds` (>= 0); returns the total offset.
function clock.advance(seconds)
  clock.offset = clock.offset + seconds
  return clock.offset
end

return clock

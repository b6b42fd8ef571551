-- How a rate-limit window counts: the styles of ratelimit.lua's rules.
--
-- A style is a table of functions over a counter c (one per endpoint,
-- caller and window), with L the window's limit, W its length in seconds
-- and now the sandbox's clock:
--   new(L, W, now)            a fresh counter (on a caller's first request)
--   remaining(c, L, W, now)   how many more requests fit now
--   take(c, L, W, now)        counts one request (only when it fits)
--   reset(c, L, W, now)       what x-ratelimit-reset says, in seconds
--   wait(c, L, W, now, need)  seconds until `need` requests fit
-- and `fraction` true when its reset is sent with decimals (buckets).
local styles = {}

-- A window of W seconds from its first request, counting up to L; the
-- first request after it has ended opens the next one.  reset: seconds to
-- the window's end.
styles.fixed = {
  new = function(_, _, now) return { start = now, count = 0 } end,
  remaining = function(c, L, W, now)
    if now >= c.start + W then c.start, c.count = now, 0 end
    return L - c.count
  end,
  take = function(c) c.count = c.count + 1 end,
  reset = function(c, _, W, now) return c.start + W - now end,
  wait = function(c, L, W, now, need)
    if L - c.count >= need then return 0 end
    return c.start + W - now
  end,
}

-- At most L requests in any W seconds: each request counts until W
-- seconds after it was made.  reset: seconds until the oldest request
-- still counted leaves the window (room for one more).
local function prune(c, W, now)
  local kept = {}
  for _, t in ipairs(c.stamps) do
    if t + W > now then kept[#kept + 1] = t end
  end
  c.stamps = kept
end

styles.sliding = {
  new = function() return { stamps = {} } end,
  remaining = function(c, L, W, now)
    prune(c, W, now)
    return L - #c.stamps
  end,
  take = function(c, _, _, now) c.stamps[#c.stamps + 1] = now end,
  reset = function(c, _, W, now)
    if #c.stamps == 0 then return 0 end
    return c.stamps[1] + W - now
  end,
  wait = function(c, L, W, now, need)
    local k = #c.stamps - (L - need)          -- this many must leave first
    if k <= 0 then return 0 end
    return c.stamps[math.min(k, #c.stamps)] + W - now
  end,
}

-- A token bucket of L tokens, full at first, refilled at L per W seconds
-- (one token every W / L seconds); a request takes one token.
local EPSILON = 1e-9

local function refill(c, L, W, now)
  c.tokens = math.min(L, c.tokens + (now - c.at) * L / W)
  c.at = now
end

local function bucket(reset)
  return {
    fraction = true,
    new = function(L, _, now) return { tokens = L, at = now } end,
    remaining = function(c, L, W, now)
      refill(c, L, W, now)
      return math.floor(c.tokens + EPSILON)
    end,
    take = function(c) c.tokens = c.tokens - 1 end,
    reset = reset,
    wait = function(c, L, W, _, need)
      return math.max(0, (need - c.tokens) * W / L)
    end,
  }
end

-- reset: seconds until the bucket is full again.
styles.bucket_full = bucket(function(c, L, W)
  return math.max(0, (L - c.tokens) * W / L)
end)

-- reset: seconds until the next token (0 when full).
styles.bucket_next = bucket(function(c, L, W)
  if c.tokens >= L - EPSILON then return 0 end
  local part = c.tokens - math.floor(c.tokens + EPSILON)
  if part < 0 then part = 0 end
  return (1 - part) * W / L
end)

styles.NAMES = "fixed, sliding, bucket_full, bucket_next"

return styles

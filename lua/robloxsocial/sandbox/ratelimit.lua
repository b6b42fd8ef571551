-- Per-endpoint rate limits, off unless configured.
--
-- settings.rate_limits maps a key to { limit = N, window = SECONDS }:
--   "*"                               every endpoint (each counted apart)
--   "GET /v1/users/{userId}/friends/count"   one endpoint, by its pattern
--   "/v1/users/{userId}/friends/count"       the same, whatever the method
--   "friends"                         every endpoint of one service
-- Counts are kept per endpoint and per caller (account, else peer address)
-- in fixed windows.  Every response of a limited endpoint carries
-- x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset (seconds
-- to the window's end); past the limit the request is refused with 429 and
-- Retry-After, and is not counted.
local socket = require "socket"

local ratelimit = {}

local function rule_for(rules, route)
  return rules[route.method .. " " .. route.pattern] or rules[route.pattern]
    or rules[route.service] or rules["*"]
end

-- Returns nil when the route is not limited; otherwise allowed (bool),
-- the headers to add, and the seconds until the window resets.
function ratelimit.check(counters, rules, route, caller)
  local rule = rules and rule_for(rules, route)
  if not rule or not rule.limit then return nil end
  local window = rule.window or 60
  local now = socket.gettime()
  local key = route.method .. " " .. route.pattern .. " " .. caller
  local c = counters[key]
  if not c or now >= c.start + window then
    c = { start = now, count = 0 }
    counters[key] = c
  end
  local reset = math.max(1, math.ceil(c.start + window - now))
  local allowed = c.count < rule.limit
  if allowed then c.count = c.count + 1 end
  local headers = {
    { "x-ratelimit-limit", tostring(rule.limit) },
    { "x-ratelimit-remaining", tostring(math.max(0, rule.limit - c.count)) },
    { "x-ratelimit-reset", tostring(reset) },
  }
  return allowed, headers, reset
end

return ratelimit

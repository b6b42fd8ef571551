-- Per-endpoint rate limits, off unless configured (in the world's settings
-- or at run time with POST /_sandbox/config, which also zeroes the counts).
--
-- settings.rate_limits maps a key to a rule:
--   "*"                               every endpoint (each counted apart)
--   "GET /v1/users/{userId}/friends/count"   one endpoint, by its pattern
--   "/v1/users/{userId}/friends/count"       the same, whatever the method
--   "friends"                         every endpoint of one service
-- and a rule is { limit = N, window = SECONDS (default 60), policy = bool }
-- or { windows = { {limit = N, window = S}, ... } } for several windows at
-- once (a request must fit in all of them, and counts in all).
--
-- Counts are kept per endpoint and per caller (account, else peer address)
-- in fixed windows.  Every response of a limited endpoint carries
--   x-ratelimit-limit      N, or with policy = true or several windows the
--                          live service's form "N, N;w=S[, M;w=T...]": the
--                          limit of the window nearest exhaustion, then
--                          every window's limit and length
--   x-ratelimit-remaining  what that window has left
--   x-ratelimit-reset      seconds to that window's end
-- Past a limit the request is refused with 429 and Retry-After (the
-- seconds until every exhausted window has reset), and is not counted.
local socket = require "socket"

local ratelimit = {}

local function rule_for(rules, route)
  return rules[route.method .. " " .. route.pattern] or rules[route.pattern]
    or rules[route.service] or rules["*"]
end

local function windows_of(rule)
  if rule.windows then return rule.windows end
  if rule.limit then return { rule } end
end

-- The counter of one window, restarted when its time is up.
local function counter(counters, key, window, now)
  local c = counters[key]
  if not c or now >= c.start + window then
    c = { start = now, count = 0 }
    counters[key] = c
  end
  return c
end

local function limit_header(rule, windows, binding)
  if not rule.policy and #windows == 1 then return tostring(windows[1].limit) end
  local parts = { tostring(binding.limit) }
  for _, w in ipairs(windows) do
    parts[#parts + 1] = ("%d;w=%s"):format(w.limit, tostring(math.tointeger(w.window) or w.window))
  end
  return table.concat(parts, ", ")
end

-- Returns nil when the route is not limited; otherwise allowed (bool),
-- the headers to add, and the seconds until the request may be retried.
function ratelimit.check(counters, rules, route, caller)
  local rule = rules and rule_for(rules, route)
  local windows = rule and windows_of(rule)
  if not windows then return nil end
  local now = socket.gettime()
  local state, allowed, retry = {}, true, 0
  for i, w in ipairs(windows) do
    local window = w.window or 60
    local c = counter(counters, ("%s %s %s #%d"):format(route.method, route.pattern, caller, i), window, now)
    local reset = math.max(1, math.ceil(c.start + window - now))
    state[i] = { c = c, limit = w.limit, window = window, reset = reset }
    if c.count >= w.limit then
      allowed = false
      retry = math.max(retry, reset)
    end
  end
  local binding
  for _, s in ipairs(state) do
    if allowed then s.c.count = s.c.count + 1 end
    s.remaining = math.max(0, s.limit - s.c.count)
    if not binding or s.remaining < binding.remaining then binding = s end
  end
  local headers = {
    { "x-ratelimit-limit", limit_header(rule, windows, binding) },
    { "x-ratelimit-remaining", tostring(binding.remaining) },
    { "x-ratelimit-reset", tostring(binding.reset) },
  }
  return allowed, headers, allowed and binding.reset or retry
end

return ratelimit

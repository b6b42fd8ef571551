-- Per-endpoint rate limits, as the live services count them: per endpoint
-- (method and path template) and per caller (the account of the cookie,
-- else the peer address), with x-ratelimit-* headers on the answers.
--
-- settings.rate_limits is "live" (the limits observed on the live services
-- in 2026, LIVE below) or maps a key to a rule:
--   "*"                               every endpoint (each counted apart)
--   "GET /v1/users/{userId}/friends/count"   one endpoint, by its pattern
--   "/v1/users/{userId}/friends/count"       the same, whatever the method
--   "friends"                         every endpoint of one service
-- An endpoint that no key names falls back on settings.rate_limit_default
-- (generous: headers on every answer, a limit no spec reaches); false
-- there leaves such endpoints unlimited and without headers.
--
-- A rule is { limit = N, window = SECONDS (60) } or { windows = { {limit,
-- window}, ... } } for several windows at once (a request must fit in all
-- of them, and counts in all), with the options
--   policy = true       the live header form "N, N;w=S[, M;w=T...]": the
--                       limit of the window nearest exhaustion, then every
--                       window's limit and length
--   retry_after = false  429s without Retry-After (the live services
--                       sometimes send none)
--   refuse_at = N       refuse once N remain, so a 429 says
--                       x-ratelimit-remaining: N (> 0), as live 429s can
--   style = "fixed"     how a window counts (STYLES below)
-- Every answer of a limited endpoint carries x-ratelimit-limit, -remaining
-- (what the binding window has left) and -reset (seconds to its end).
-- Past a limit the request is refused with 429 and is not counted.
local ratelimit = {}

-- How a window counts.  A style's look(counters, key, limit, window, now)
-- gives { remaining, reset (seconds until it has room again), take =
-- function() (counts one request) }.  Only fixed windows today; sliding
-- windows and token buckets slot in here as more styles.
ratelimit.STYLES = {
  fixed = {
    look = function(counters, key, limit, window, now)
      local c = counters[key]
      if not c or now >= c.start + window then
        c = { start = now, count = 0 }
        counters[key] = c
      end
      return { remaining = math.max(0, limit - c.count), reset = c.start + window - now,
               take = function() c.count = c.count + 1 end }
    end,
  },
}

-- The limits observed on the live services in 2026 (presence 60 a minute,
-- sent as "60, 60;w=60"; friends lists 20; friends counts and find 100),
-- and a generous limit for every other endpoint.  Their 429s come without
-- Retry-After here, the harder of the two cases seen live.
ratelimit.LIVE = {
  ["POST /v1/presence/users"] = { limit = 60, window = 60, policy = true, retry_after = false },
  ["GET /v1/users/{userId}/friends"] = { limit = 20, window = 60, policy = true, retry_after = false },
  ["GET /v1/users/{userId}/friends/count"] = { limit = 100, window = 60, policy = true, retry_after = false },
  ["GET /v1/users/{userId}/friends/find"] = { limit = 100, window = 60, policy = true, retry_after = false },
  ["*"] = { limit = 1000, window = 60, policy = true, retry_after = false },
}

ratelimit.PRESETS = { live = ratelimit.LIVE }

local RULE_KEYS = { limit = true, window = true, windows = true, policy = true,
                    retry_after = true, refuse_at = true, style = true }

local function check_window(w)
  return type(w) == "table" and math.tointeger(w.limit) and w.limit >= 0
    and (w.window == nil or (type(w.window) == "number" and w.window > 0))
end

-- Why a rule is refused, or nil when it is fine.
local function rule_problem(key, rule)
  local where = "rate_limits." .. tostring(key)
  if type(rule) ~= "table" then return where .. " must be an object" end
  for k in pairs(rule) do
    if not RULE_KEYS[k] then return ("%s has an unknown key %q"):format(where, tostring(k)) end
  end
  local ok
  if rule.windows ~= nil then
    ok = type(rule.windows) == "table" and #rule.windows > 0
    for _, w in ipairs(ok and rule.windows or {}) do ok = ok and check_window(w) end
  else
    ok = check_window(rule)
  end
  if not ok then return where .. " needs an integer limit (or windows of them) and a positive window" end
  if rule.style ~= nil and not ratelimit.STYLES[rule.style] then
    return ("%s.style %q is not a style (fixed)"):format(where, tostring(rule.style))
  end
  if rule.refuse_at ~= nil and not (math.tointeger(rule.refuse_at) and rule.refuse_at >= 0) then
    return where .. ".refuse_at must be an integer >= 0"
  end
  for _, flag in ipairs { "policy", "retry_after" } do
    if rule[flag] ~= nil and type(rule[flag]) ~= "boolean" then return where .. "." .. flag .. " must be a boolean" end
  end
end

-- Checks settings.rate_limits; returns nil or the problem.
function ratelimit.check_rules(v)
  if type(v) == "string" then
    if ratelimit.PRESETS[v] then return nil end
    return ("rate_limits %q is not a preset (live)"):format(v)
  end
  if type(v) ~= "table" then return "rate_limits must be an object or \"live\"" end
  for key, rule in pairs(v) do
    local err = rule_problem(key, rule)
    if err then return err end
  end
end

-- Checks settings.rate_limit_default: a rule, or false.
function ratelimit.check_default(v)
  if v == false then return nil end
  local err = rule_problem("default", v)
  return err and err:gsub("^rate_limits%.default", "rate_limit_default")
end

local function rule_for(settings, route)
  local rules = settings.rate_limits
  if type(rules) == "string" then rules = ratelimit.PRESETS[rules] end
  rules = rules or {}
  local rule = rules[route.method .. " " .. route.pattern] or rules[route.pattern]
    or rules[route.service] or rules["*"]
  if rule then return rule end
  if settings.rate_limit_default then return settings.rate_limit_default end
end

local function windows_of(rule)
  if rule.windows then return rule.windows end
  return { rule }
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
-- the headers to add, the seconds until the request may be retried, and
-- the rule that applied.
function ratelimit.check(counters, settings, route, caller, now)
  local rule = rule_for(settings, route)
  if not rule then return nil end
  local windows = windows_of(rule)
  local style = ratelimit.STYLES[rule.style or "fixed"]
  local floor = rule.refuse_at or 0
  local state, allowed, retry = {}, true, 0
  for i, w in ipairs(windows) do
    local key = ("%s %s %s #%d"):format(route.method, route.pattern, caller, i)
    local s = style.look(counters, key, w.limit, w.window or 60, now)
    s.limit, s.reset = w.limit, math.max(1, math.ceil(s.reset))
    state[i] = s
    if s.remaining <= floor then
      allowed = false
      retry = math.max(retry, s.reset)
    end
  end
  local binding
  for _, s in ipairs(state) do
    if allowed then
      s.take()
      s.remaining = s.remaining - 1
    end
    if not binding or s.remaining < binding.remaining then binding = s end
  end
  local headers = {
    { "x-ratelimit-limit", limit_header(rule, windows, binding) },
    { "x-ratelimit-remaining", tostring(binding.remaining) },
    { "x-ratelimit-reset", tostring(binding.reset) },
  }
  return allowed, headers, allowed and binding.reset or retry, rule
end

return ratelimit

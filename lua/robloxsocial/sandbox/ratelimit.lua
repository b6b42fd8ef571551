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
--   style = "fixed"     how a window counts: "fixed", "sliding",
--                       "bucket_full", "bucket_next" (ratelimit_styles.lua)
--   policy = true       the live header form "N, N;w=S[, M;w=T...]": the
--                       limit of the window nearest exhaustion, then every
--                       window's limit and length
--   headers = false     no x-ratelimit-* headers at all (the limit holds)
--   retry_after         what a 429's Retry-After says: true (the default)
--                       seconds until the request would pass, false none
--                       (the live services sometimes send none), a number
--                       of seconds always, "reset" what x-ratelimit-reset
--                       says, "date" an HTTP date when it would pass
--   refuse_at = N       refuse once N remain, so a 429 says
--                       x-ratelimit-remaining: N (> 0), as live 429s can
-- Every answer of a limited endpoint carries x-ratelimit-limit, -remaining
-- (what the binding window has left) and -reset (seconds: whole ones,
-- rounded up, for fixed and sliding windows; to the millisecond for
-- buckets), unless headers = false.  Past a limit the request is refused
-- with 429 and is not counted.
--
-- Counters are kept per caller (counters[caller][endpoint and window]),
-- so that one caller's counts can be zeroed alone (ratelimit.forget).
local styles = require "robloxsocial.sandbox.ratelimit_styles"

local ratelimit = {}

ratelimit.STYLES = styles

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
                    retry_after = true, refuse_at = true, style = true, headers = true }

local RETRY_WORDS = { reset = true, date = true }

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
  if rule.style ~= nil and not (type(rule.style) == "string" and styles[rule.style] and styles[rule.style].new) then
    return ("%s.style %q is not a style (%s)"):format(where, tostring(rule.style), styles.NAMES)
  end
  if rule.refuse_at ~= nil and not (math.tointeger(rule.refuse_at) and rule.refuse_at >= 0) then
    return where .. ".refuse_at must be an integer >= 0"
  end
  for _, flag in ipairs { "policy", "headers" } do
    if rule[flag] ~= nil and type(rule[flag]) ~= "boolean" then return where .. "." .. flag .. " must be a boolean" end
  end
  local ra = rule.retry_after
  if not (ra == nil or type(ra) == "boolean" or (type(ra) == "number" and ra >= 0) or RETRY_WORDS[ra]) then
    return where .. ".retry_after must be true, false, seconds >= 0, \"reset\" or \"date\""
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

-- Seconds as x-ratelimit-reset writes them: whole seconds rounded up (at
-- least 1) for windows; to the millisecond, rounded up, for buckets.
-- (The tolerances absorb the rounding of clock values near 1.8e9.)
local function seconds_text(v, fraction)
  if not fraction then return tostring(math.max(1, math.ceil(v - 1e-6))) end
  local ms = math.max(0, math.ceil(v * 1000 - 1e-3))
  if ms % 1000 == 0 then return tostring(ms // 1000) end
  return (("%d.%03d"):format(ms // 1000, ms % 1000):gsub("0+$", ""))
end

-- What Retry-After says for a request refused for `wait` seconds (nil: no
-- header), by the rule's retry_after.
local function retry_text(rule, wait, reset_text, now)
  local ra = rule.retry_after
  if ra == false then return nil end
  if type(ra) == "number" then return tostring(math.tointeger(ra) or ra) end
  if ra == "reset" then return tostring(math.ceil(tonumber(reset_text))) end
  local whole = math.max(1, math.ceil(wait - 1e-6))
  if ra == "date" then return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(now) + whole) end
  return tostring(whole)
end

-- The counters of one caller's windows of one endpoint, made on first use.
local function windows_state(counters, route, caller, windows, style, now)
  local mine = counters[caller]
  if not mine then
    mine = {}
    counters[caller] = mine
  end
  local state = {}
  for i, w in ipairs(windows) do
    local key = ("%s %s #%d"):format(route.method, route.pattern, i)
    mine[key] = mine[key] or style.new(w.limit, w.window or 60, now)
    state[i] = { c = mine[key], limit = w.limit, window = w.window or 60 }
  end
  return state
end

-- Returns nil when the route is not limited; otherwise allowed (bool),
-- the headers to add, the Retry-After value for a refusal (nil for none),
-- and the rule that applied.
function ratelimit.check(counters, settings, route, caller, now)
  local rule = rule_for(settings, route)
  if not rule then return nil end
  local windows = windows_of(rule)
  local style = styles[rule.style or "fixed"]
  local floor = rule.refuse_at or 0
  local state = windows_state(counters, route, caller, windows, style, now)
  local allowed, wait = true, 0
  for _, s in ipairs(state) do
    if style.remaining(s.c, s.limit, s.window, now) <= floor then
      allowed = false
      wait = math.max(wait, style.wait(s.c, s.limit, s.window, now, floor + 1))
    end
  end
  local binding
  for _, s in ipairs(state) do
    if allowed then style.take(s.c, s.limit, s.window, now) end
    s.remaining = math.max(0, style.remaining(s.c, s.limit, s.window, now))
    if not binding or s.remaining < binding.remaining then binding = s end
  end
  local reset = seconds_text(style.reset(binding.c, binding.limit, binding.window, now), style.fraction)
  local headers = {}
  if rule.headers ~= false then
    headers = {
      { "x-ratelimit-limit", limit_header(rule, windows, binding) },
      { "x-ratelimit-remaining", tostring(binding.remaining) },
      { "x-ratelimit-reset", reset },
    }
  end
  return allowed, headers, not allowed and retry_text(rule, wait, reset, now) or nil, rule
end

-- Zeroes the counts of one caller ("user:<id>" or "peer:<address>"), or
-- of every caller when caller is nil.  Returns how many callers it forgot.
function ratelimit.forget(counters, caller)
  local n = 0
  for who in pairs(counters) do
    if caller == nil or who == caller then
      counters[who] = nil
      n = n + 1
    end
  end
  return n
end

return ratelimit

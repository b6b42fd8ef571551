-- The sandbox's settings: their defaults, and the check of a value given
-- in a world file's "settings" or at run time (POST /_sandbox/config).
-- An unknown setting or a bad value is refused by name.
local util = require "robloxsocial.sandbox.util"
local ratelimit = require "robloxsocial.sandbox.ratelimit"

local settings = {}

settings.DEFAULT = {
  csrf_ttl = 300,            -- seconds an x-csrf-token stays valid
  max_tag_length = 100,      -- longest contact tag (characters)
  max_nickname_length = 20,  -- longest senderNickname (characters)
  max_friends = 1000,        -- friend limit (codes 11, 12, 31)
  moderated_words = { "badword" },
  rate_limits = {},          -- rules by endpoint, or "live"; see ratelimit.lua
  -- Where rate_limits names no rule: headers on every answer, with a limit
  -- that no spec reaches.  false: no limit and no headers there.
  rate_limit_default = { limit = 1000000, window = 60 },
  latency = 0,               -- seconds before each answer; see App:latency_for
  -- The wording of a 401: "denied" {"errors":[{"code":0,"message":
  -- "Authorization has been denied for this request."}]}, "cookie_empty"
  -- the same envelope with "Authentication cookie is empty", or
  -- "cookie_empty_flat" {"code":0,"message":"Authentication cookie is empty"}.
  unauthorized = "denied",
  -- The body of a 429: "live" {"errors":[{"code":0,"message":"Too many
  -- requests"}]} as seen in 2025-2026, or "documented": the documented
  -- flood codes (9 on friends, 10 on contacts).
  too_many_requests = "live",
  -- Whether a POST with no cookie needs the x-csrf-token handshake.  Off,
  -- as the live social services answer anonymous POSTs (presence,
  -- multiget-are-friends) without one; on, as auth.roblox.com does.
  anonymous_csrf = false,
}

local CHOICES = {
  unauthorized = { denied = true, cookie_empty = true, cookie_empty_flat = true },
  too_many_requests = { live = true, documented = true },
}

local function check_latency(v)
  if type(v) == "number" then
    if v >= 0 then return nil end
  elseif type(v) == "table" and (next(v) == nil or not util.is_list(v)) then
    for key, s in pairs(v) do
      if type(key) ~= "string" or type(s) ~= "number" or s < 0 then
        return "latency." .. tostring(key) .. " must be a number of seconds >= 0"
      end
    end
    return nil
  end
  return "latency must be seconds >= 0 or an object of them by path"
end

local function choices_of(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return table.concat(list, ", ")
end

-- Why setting `key` cannot take `value`, or nil when it can.
function settings.problem(key, value)
  local default = settings.DEFAULT[key]
  if default == nil then return "unknown setting: " .. tostring(key) end
  if key == "rate_limits" then return ratelimit.check_rules(value) end
  if key == "rate_limit_default" then return ratelimit.check_default(value) end
  if key == "latency" then return check_latency(value) end
  if CHOICES[key] then
    if CHOICES[key][value] then return nil end
    return ("setting %s must be one of %s"):format(key, choices_of(CHOICES[key]))
  end
  if type(value) ~= type(default) then return "setting " .. key .. " must be a " .. type(default) end
end

return settings

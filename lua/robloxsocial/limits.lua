-- Rate limits by method name: the `rate_limits` option and
-- client:rate_limit(service, method) name endpoints by their methods; the
-- core names each endpoint's bucket by its method, service and path
-- template ("GET friends /v1/users/{id}/friends/count"), as it names the
-- buckets of client:request (the path with its numbers taken out).
local endpoints = require "robloxsocial.endpoints"

local limits = {}

local format = string.format

-- The bucket of an endpoint row.
function limits.key(row)
  return format("%s %s %s", row.method, row.service, (row.path:gsub("{[^}]*}", "{id}")))
end

local by_name = {}
for _, row in ipairs(endpoints) do by_name[row.name] = row end

-- The limits observed on the live services in 2026 (requests, seconds),
-- each in the x-ratelimit-limit of their answers ("60, 60;w=60"); the
-- README lists them with their sources.
limits.LIVE = {
  presence = { 60, 60 },
  friends = { 20, 60 },
  friends_count = { 100, 60 },
  find_friends = { 100, 60 },
}

local function bad(why, level)
  error("bad argument #1 to 'new' (option 'rate_limits' " .. why .. ")", level + 1)
end

-- The `rate_limits` option checked and turned into the core's table of
-- bucket keys: { [key] = { limit, seconds } }.  Raises at the caller of
-- new (level counts from the caller of check).
function limits.check(option, level)
  level = (level or 1) + 1
  if option == "live" then option = limits.LIVE end
  if type(option) ~= "table" then bad('must be a table by method name or "live"', level) end
  local keys = {}
  for name, pair in pairs(option) do
    local row = by_name[name]
    if not row then bad(format("names '%s', which is not a method", tostring(name)), level) end
    if type(pair) ~= "table" or math.type(pair[1]) == nil or type(pair[2]) ~= "number"
        or pair[1] < 1 or pair[1] ~= math.floor(pair[1]) or not (pair[2] > 0 and pair[2] <= 86400) then
      bad(format("%s must be { requests, seconds }: a positive whole number and 0 to 86400 seconds", name), level)
    end
    keys[limits.key(row)] = { math.tointeger(pair[1]) or pair[1], pair[2] }
  end
  return keys
end

-- The bucket key of a method name, or nil.
function limits.key_of(name)
  local row = by_name[name]
  return row and limits.key(row)
end

return limits

-- Argument checks and query encoding for the generated methods.
--
-- A bad argument is a programming error: the method raises at once, before
-- anything is sent, with a message in the style of luaL_argerror.

local math_type, tointeger = math.type, math.tointeger
local format, byte, gsub = string.format, string.byte, string.gsub
local concat, sort = table.concat, table.sort
local ids_check = require("robloxsocial.core").ids_check

local args = {}

-- Each check returns the value to send, or nil and why it is wrong; the
-- generated method raises, so that the error points at the user's call.

function args.describe(v)
  local t = math_type(v) or type(v)
  return t == "nil" and "no value" or t
end
local describe = args.describe

-- A positive integer, or a float with an integral value (12.0 is 12);
-- anything else (strings included) returns nil.
function args.as_id(v)
  if math_type(v) == nil then return nil end
  local i = tointeger(v)
  if i and i > 0 then return i end
  return nil
end
local as_id = args.as_id

-- A list of positive integers, checked in C (core.ids_check, raw access,
-- so that metamethods cannot make a list look different; a table with any
-- other key is refused, whatever its traversal order).  The list itself
-- is returned, not a copy: core.ids_body writes it, 12.0 as 12.  A list
-- with a metatable is copied, so that what is sent is what was checked.
function args.ids(v)
  local n, why = ids_check(v)
  if not n then return nil, why end
  if getmetatable(v) == nil then return v end
  local out = {}
  for i = 1, n do out[i] = as_id(rawget(v, i)) end
  return out
end

function args.string(v, may_be_empty)
  if type(v) ~= "string" or (v == "" and not may_be_empty) then
    return nil, (may_be_empty and "string" or "non-empty string") .. " expected, got " .. describe(v)
  end
  return v
end

-- Checks one entry of an opts table against its spec (see endpoints.lua).
function args.option(name, spec, v)
  local kind, ok = spec.kind, false
  if kind == "string" then
    ok = type(v) == "string"
  elseif kind == "boolean" then
    ok = type(v) == "boolean"           -- the query says true or false
  elseif kind == "count" or kind == "positive" then
    local i = math_type(v) and tointeger(v) or nil
    ok = i ~= nil and i >= (kind == "count" and 0 or 1)
    v = i
  elseif kind == "enum" then
    if math_type(v) == "float" then v = tointeger(v) or v end
    for _, allowed in ipairs(spec.values) do ok = ok or v == allowed end
  end
  if ok then return v end
  local want = kind == "enum" and "one of " .. concat(spec.values, ", ")
    or kind == "count" and "an integer >= 0" or kind == "positive" and "a positive integer"
    or kind == "boolean" and "a boolean" or "a string"
  return nil, format("option '%s' must be %s", name, want)
end

-- RFC 3986 unreserved characters stay; every other byte is %XX.
local function escape_byte(c) return format("%%%02X", byte(c)) end
function args.escape(s)
  return (gsub(s, "[^%w%-%._~]", escape_byte))
end
local escape = args.escape

-- A path segment: '.' too, so that "." and ".." stay values, not steps
-- (servers and proxies remove dot segments).
function args.escape_segment(s)
  return (gsub(s, "[^%w%-_~]", escape_byte))
end

local function scalar(v, key)
  local t = math_type(v)
  if t == "integer" then return format("%d", v) end
  if t == "float" then
    local i = tointeger(v)
    return i and format("%d", i) or format("%.17g", v)
  end
  if type(v) == "string" then return v end
  if type(v) == "boolean" then return tostring(v) end
  error(format("robloxsocial: query parameter '%s' cannot be a %s", key, type(v)), 0)
end

-- Encodes a query table: keys in sorted order so that URLs are stable, a
-- list value repeating its key (userIds=1&userIds=2).
function args.encode_query(q)
  local keys = {}
  for k in pairs(q) do
    if type(k) ~= "string" then error("robloxsocial: query keys must be strings", 0) end
    keys[#keys + 1] = k
  end
  sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v, ek = q[k], escape(k)
    if type(v) == "table" then
      for i = 1, #v do parts[#parts + 1] = ek .. "=" .. escape(scalar(v[i], k)) end
    else
      parts[#parts + 1] = ek .. "=" .. escape(scalar(v, k))
    end
  end
  return concat(parts, "&")
end

return args

-- The sandbox's only door to JSON.  It uses the project's own codec
-- (robloxsocial.core), because ids are 64-bit integers and must survive a
-- decode and an encode exactly, which Debian's lua-cjson does not promise.
local core = require "robloxsocial.core"

local json = {}

json.null = core.null

-- Returns the decoded value, or nil and a reason.
function json.decode(text)
  local ok, value, err = pcall(core.json_decode, text)
  if not ok then return nil, tostring(value) end
  if value == nil then return nil, err or "invalid JSON" end
  return value
end

function json.encode(value)
  return core.json_encode(value)
end

-- Marks a table as a JSON array, so that an empty one encodes as [] and
-- not as {}.
function json.array(t)
  return setmetatable(t or {}, core.array_mt)
end

-- Maps a Lua nil to JSON null for the optional fields of response models.
function json.opt(v)
  if v == nil then return core.null end
  return v
end

function json.is_null(v)
  return v == nil or v == core.null
end

return json

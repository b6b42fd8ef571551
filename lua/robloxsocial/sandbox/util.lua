-- Small helpers shared by the sandbox's modules (and the specs'
-- fixtures, spec/proc.lua): query strings, ids, times, base64 (for
-- opaque paging cursors), shell words, files and processes.
local clock = require "robloxsocial.sandbox.clock"

local util = {}

function util.url_decode(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Parses a raw query string.  Names are matched case-insensitively, as
-- ASP.NET does, so they are stored lower-cased; every value of a repeated
-- name is kept in order.
function util.parse_query(raw)
  local q = {}
  for pair in (raw or ""):gmatch("[^&]+") do
    local name, value = pair:match("^([^=]*)=?(.*)$")
    name = util.url_decode(name):lower()
    q[name] = q[name] or {}
    table.insert(q[name], util.url_decode(value))
  end
  return q
end

-- The last value of a query parameter, or nil.
function util.qget(q, name)
  local values = q[name:lower()]
  return values and values[#values]
end

-- A positive 64-bit integer from a string or a JSON number, or nil.
function util.to_id(v)
  if math.type(v) == "integer" then return v > 0 and v or nil end
  if math.type(v) == "float" then
    local i = math.tointeger(v)
    return i and i > 0 and i or nil
  end
  if type(v) ~= "string" or not v:match("^%d+$") or #v > 19 then return nil end
  local i = math.tointeger(tonumber(v))
  return i and i > 0 and i or nil
end

-- An integer (of any sign) from a query string value, or nil.
function util.to_int(s)
  if type(s) ~= "string" or not s:match("^%s*[-+]?%d+%s*$") or #s > 19 then return nil end
  return math.tointeger(tonumber(s))
end

-- Is v a JSON list (a table with keys 1..n only)?
function util.is_list(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

-- The current time as the services write it: ISO 8601, UTC, milliseconds.
function util.now_iso()
  local t = clock.now()
  local ms = math.floor((t % 1) * 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. (".%03dZ"):format(ms)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function util.b64encode(s)
  return ((s:gsub(".", function(c)
    local byte, bits = c:byte(), {}
    for i = 8, 1, -1 do bits[#bits + 1] = (byte >> (i - 1)) & 1 end
    return table.concat(bits)
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    return B64:sub(tonumber(x, 2) + 1, tonumber(x, 2) + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

function util.b64decode(s)
  if type(s) ~= "string" or not s:match("^[%w+/]*=?=?$") then return nil end
  s = s:gsub("=", "")
  return (s:gsub(".", function(c)
    local v, bits = B64:find(c, 1, true) - 1, {}
    for i = 6, 1, -1 do bits[#bits + 1] = (v >> (i - 1)) & 1 end
    return table.concat(bits)
  end):gsub("%d%d%d?%d?%d?%d?%d?%d?", function(x)
    if #x ~= 8 then return "" end
    return string.char(tonumber(x, 2))
  end))
end

-- s as one word for sh, inside single quotes.
function util.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The whole content of the file at path, or "" when it cannot be read.
function util.read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- The pid of this Lua process (from /proc: no child is spawned), or nil.
function util.own_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local pid = f:read("n")
  f:close()
  return math.tointeger(pid)
end

-- Is process pid still running?  A zombie (exited, not yet reaped by a
-- parent that may never reap it) counts as gone.
function util.process_alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if f then
    local state = (f:read("a") or ""):match("^%d+ %b() (%a)")
    f:close()
    return state ~= "Z"
  end
  local self_stat = io.open("/proc/self/stat", "r")
  if self_stat then self_stat:close(); return false end -- /proc works: pid is gone
  return os.execute("kill -0 " .. math.tointeger(pid) .. " 2>/dev/null") == true
end

-- Shallow copy of a list.
function util.copy_list(t)
  local out = {}
  for i = 1, #t do out[i] = t[i] end
  return out
end

return util

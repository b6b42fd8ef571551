-- Faults on demand: the next `count` requests that match a method and an
-- exact path (query ignored; "*" matches anything) are answered badly.
--
-- A fault is a table:
--   { method = "GET"|"*", path = "/v1/..."|"*", kind = KIND, count = N (default 1,
--     -1 = until cleared), after = M (default 0: let the first M matching
--     requests through untouched), ... }
-- and KIND is one of
--   status     answer `status` (default 503) with the error envelope; options
--              `code`, `message`, `retry_after` (seconds or an HTTP date),
--              `headers` ({name = value}), `flat = true` for a flat
--              {"code":..,"message":..} body instead of the envelope
--   close      process the request, send the headers and `bytes` bytes of
--              the body (default: half of it), then close the connection
--   reset      close the connection without answering at all
--   stall      wait `seconds` (default 5) and then answer normally; other
--              connections are served meanwhile
--   truncate   process the request and answer 200 with its JSON cut short
--   malformed  answer 200 with a body that is not JSON
--   html       answer `status` (default 502) with an HTML error page
--   body       answer `status` (default 200) with exactly the text `body`
--              (default empty), as application/json: a way to send any
--              answer, for instance a page that breaks the paging rules
local json = require "robloxsocial.sandbox.json"
local reply = require "robloxsocial.sandbox.reply"

local faults = {}

faults.KINDS = { status = true, close = true, reset = true, stall = true,
                 truncate = true, malformed = true, html = true, body = true }

-- Checks and normalises a fault from the admin API; nil, msg when invalid.
function faults.normalise(f)
  if type(f) ~= "table" then return nil, "a fault must be an object" end
  if not faults.KINDS[f.kind] then return nil, "unknown fault kind: " .. tostring(f.kind) end
  if type(f.path) ~= "string" then return nil, "a fault needs a path (or \"*\")" end
  local n = f.count == nil and 1 or math.tointeger(f.count)
  if not n or n == 0 or n < -1 then return nil, "count must be a positive integer or -1" end
  f.count = n
  f.after = math.tointeger(f.after or 0)
  if not f.after or f.after < 0 then return nil, "after must be an integer >= 0" end
  f.method = type(f.method) == "string" and f.method:upper() or "*"
  return f
end

-- Removes and returns the first fault matching the request, if any.
function faults.take(list, req)
  for i, f in ipairs(list) do
    if (f.method == "*" or f.method == req.method) and (f.path == "*" or f.path == req.path) then
      if f.after > 0 then
        f.after = f.after - 1           -- this one goes through; the fault waits
        return nil
      end
      if f.count > 0 then
        f.count = f.count - 1
        if f.count == 0 then table.remove(list, i) end
      end
      return f
    end
  end
end

local function status_reply(f)
  local status = math.tointeger(f.status) or 503
  local headers = {}
  if f.retry_after ~= nil then headers[#headers + 1] = { "Retry-After", tostring(f.retry_after) } end
  for name, value in pairs(type(f.headers) == "table" and f.headers or {}) do
    headers[#headers + 1] = { name, tostring(value) }
  end
  local code = math.tointeger(f.code) or (status == 429 and 9 or 0)
  local message = f.message or (status == 429 and "The flood limit has been exceeded."
    or require("robloxsocial.sandbox.http").reason(status))
  if f.flat then return reply.json(status, { code = code, message = message }, headers) end
  return reply.plain_error(status, code, message, headers)
end

-- The answer of a fault that replaces the request's processing, or nil
-- when the request must be processed (stall, close, truncate), in which
-- case mangle() is applied to the processed answer.
function faults.answer(f)
  if f.kind == "status" then return status_reply(f) end
  if f.kind == "html" then
    local status = math.tointeger(f.status) or 502
    return reply.html(status, require("robloxsocial.sandbox.http").reason(status))
  end
  if f.kind == "malformed" then
    local r = reply.ok({})
    r.body = '{"data":[{"id":1234567890123456,"name":}],'
    return r
  end
  if f.kind == "reset" then return { status = 0, reset = true } end
  if f.kind == "body" then
    local r = reply.json(math.tointeger(f.status) or 200, {})
    r.body = type(f.body) == "string" and f.body or ""
    return r
  end
end

function faults.mangle(f, resp)
  if f.kind == "close" then
    resp.partial = math.tointeger(f.bytes) or #(resp.body or "") // 2
  elseif f.kind == "truncate" then
    local body = resp.body or ""
    if #body < 4 then body = json.encode({ data = json.array { 1, 2, 3 } }) end
    resp.status, resp.body = 200, body:sub(1, #body // 2)
  end
  return resp
end

return faults

-- Faults on demand: the next `count` requests that match a method and a
-- path are answered badly.
--
-- A fault is a table:
--   { method = "GET"|"*", path = "/v1/..."|"*" or path_pattern = "^/v1/users/%d+/friends$",
--     kind = KIND, count = N (default 1, -1 = until cleared),
--     after = M (default 0: let the first M matching requests through untouched),
--     reason = "text" (the HTTP reason phrase of an answer the fault makes),
--     headers = { name = value } or { {name, value}, ... } (added verbatim,
--     bytes as given, to an answer the fault makes: status, echo, body,
--     challenge, html, malformed), ... }
-- A key that no kind of fault takes (see KINDS) is refused by name, as
-- is a value of the wrong type, so that a typo never silently becomes a
-- default.
-- `path` is compared with the request's path exactly (query ignored;
-- "*" matches anything); `path_pattern` is a Lua pattern matched against
-- it.
--
-- Faults see every request as it arrives, before authentication and the
-- CSRF check.  The first, token-less attempt of a cookie write's CSRF
-- handshake is therefore a matching request like any other: it counts
-- toward `after`, and with after = 0 it is the one broken (the client then
-- never sees the CSRF 403).  To break the write that carries the token,
-- use after = 1 on a client that has no token yet.
--
-- KIND is one of
--   status     answer `status` (default 503) with the error envelope; options
--              `code`, `message`, `retry_after` (seconds or an HTTP date),
--              `flat = true` for a flat {"code":..,"message":..} body
--   echo       answer `status` (default 400) with the envelope whose message
--              repeats the credentials the request carried (the
--              .ROBLOSECURITY cookie, x-api-key, the bearer token,
--              x-csrf-token), in the reason phrase and in an x-echo header
--              too: a server that leaks secrets, to show a client keeps them
--              out of its errors and logs; `code`, `flat` as for status
--   close      process the request, send the headers and `bytes` bytes of
--              the body (default: half of it), then close the connection
--   reset      close the connection without answering and without
--              processing the request (its body has been read; a FIN)
--   drop       process the request (a write takes effect and the log shows
--              the answer it would have had), then close without answering;
--              `rst = true` aborts with a TCP RST instead of a FIN
--   stall      wait `seconds` (default 5) and then answer normally; other
--              connections are served meanwhile
--   truncate   process the request and answer 200 with its JSON cut short
--   malformed  answer 200 with a body that is not JSON
--   html       answer `status` (default 502) with an HTML error page
--   body       answer `status` (default 200) with exactly the text `body`
--              (default empty), as application/json: a way to send any
--              answer, for instance a page that breaks the paging rules
--   challenge  answer 403 "Challenge is required to authorize the request"
--              with rblx-challenge-id (fresh), rblx-challenge-type (`type`,
--              default "captcha") and rblx-challenge-metadata (base64 of the
--              JSON of `metadata`, default {}); `csrf = true` adds an
--              x-csrf-token header (the caller's valid token, for a cookie)
--   rotate     process the request and answer it normally, plus a
--              Set-Cookie that replaces the account's .ROBLOSECURITY: the
--              old cookie stops working (the caller's account, else
--              accounts[`account`], default the main one)
local json = require "robloxsocial.sandbox.json"
local reply = require "robloxsocial.sandbox.reply"
local util = require "robloxsocial.sandbox.util"
local auth = require "robloxsocial.sandbox.auth"

local faults = {}

-- The keys every fault may have, and each kind's own.  A key that no kind
-- takes is refused by name (keys starting with "_" are comments), so that
-- a typo (`staus = 429`, `secnds = 1`) never silently becomes a default.
-- A key of another kind is let through and ignored: a spec may run one
-- fault table through several kinds (`status = 500` with each).
local COMMON = { "kind", "method", "path", "path_pattern", "count", "after" }
local ANSWERING = { "headers", "reason" }   -- kinds that make their own answer
faults.KINDS = {
  status = { ANSWERING, "status", "code", "message", "retry_after", "flat" },
  echo = { ANSWERING, "status", "code", "flat" },
  body = { ANSWERING, "status", "body" },
  html = { ANSWERING, "status" },
  malformed = { ANSWERING },
  challenge = { ANSWERING, "type", "metadata", "csrf" },
  close = { "bytes" },
  reset = {},
  drop = { "rst" },
  stall = { "seconds" },
  truncate = {},
  rotate = { "account" },
}
local ANY_KIND = {}          -- the keys that some kind takes
for kind, list in pairs(faults.KINDS) do
  local set = {}
  for _, k in ipairs(COMMON) do set[k] = true end
  for _, k in ipairs(list) do
    if type(k) == "table" then
      for _, shared in ipairs(k) do set[shared] = true end
    else
      set[k] = true
    end
  end
  faults.KINDS[kind] = set
  for k in pairs(set) do ANY_KIND[k] = true end
end

-- The first key (in sorted order) that no kind of fault takes.
local function unknown_key(f)
  local bad = {}
  for k in pairs(f) do
    if not ANY_KIND[k] and not (type(k) == "string" and k:sub(1, 1) == "_") then
      bad[#bad + 1] = tostring(k)
    end
  end
  table.sort(bad)
  return bad[1]
end

local function is_number(v) return type(v) == "number" and v == v and v >= 0 end

-- Why the values of f's own keys are wrong, or nil.
local function bad_value(f)
  if f.status ~= nil and not (math.tointeger(f.status) and f.status >= 100 and f.status <= 599) then
    return "status must be an HTTP status (100 to 599)"
  end
  if f.seconds ~= nil and not is_number(f.seconds) then return "seconds must be a number >= 0" end
  if f.bytes ~= nil and not (math.tointeger(f.bytes) and f.bytes >= 0) then return "bytes must be an integer >= 0" end
  if f.code ~= nil and not math.tointeger(f.code) then return "code must be an integer" end
  if f.retry_after ~= nil and not (is_number(f.retry_after) or type(f.retry_after) == "string") then
    return "retry_after must be seconds or an HTTP date"
  end
  for _, k in ipairs { "message", "body", "type" } do
    if f[k] ~= nil and type(f[k]) ~= "string" then return k .. " must be a string" end
  end
end

local function reason_of(status)
  return require("robloxsocial.sandbox.http").reason(status)
end

local function check_pattern(p)
  if type(p) ~= "string" then return false end
  return (pcall(string.find, "", p))
end

-- Checks and normalises a fault from the admin API; nil, msg when invalid.
function faults.normalise(f)
  if type(f) ~= "table" then return nil, "a fault must be an object" end
  if not faults.KINDS[f.kind] then return nil, "unknown fault kind: " .. tostring(f.kind) end
  local unknown = unknown_key(f)
  if unknown then return nil, ("a fault has no key %q"):format(unknown) end
  local bad = bad_value(f)
  if bad then return nil, "fault " .. bad end
  if f.path_pattern ~= nil then
    if not check_pattern(f.path_pattern) then return nil, "path_pattern must be a valid Lua pattern" end
    if f.path ~= nil then return nil, "a fault takes path or path_pattern, not both" end
  elseif type(f.path) ~= "string" then
    return nil, "a fault needs a path (or \"*\") or a path_pattern"
  end
  local n = f.count == nil and 1 or math.tointeger(f.count)
  if not n or n == 0 or n < -1 then return nil, "count must be a positive integer or -1" end
  f.count = n
  f.after = math.tointeger(f.after or 0)
  if not f.after or f.after < 0 then return nil, "after must be an integer >= 0" end
  if f.reason ~= nil and type(f.reason) ~= "string" then return nil, "reason must be a string" end
  if f.headers ~= nil and type(f.headers) ~= "table" then return nil, "headers must be an object or a list of pairs" end
  f.method = type(f.method) == "string" and f.method:upper() or "*"
  return f
end

local function matches(f, req)
  if f.method ~= "*" and f.method ~= req.method then return false end
  if f.path_pattern then return req.path:find(f.path_pattern) ~= nil end
  return f.path == "*" or f.path == req.path
end

-- Removes and returns the first fault matching the request, if any.
function faults.take(list, req)
  for i, f in ipairs(list) do
    if matches(f, req) then
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

-- The fault's own headers as a list of {name, value}: from a list of
-- pairs in order, or from an object (in no particular order).
local function extra_headers(f, into)
  into = into or {}
  local h = f.headers or {}
  if util.is_list(h) then
    for _, pair in ipairs(h) do into[#into + 1] = { tostring(pair[1]), tostring(pair[2]) } end
  else
    for name, value in pairs(h) do into[#into + 1] = { name, tostring(value) } end
  end
  return into
end

-- A 429 says what settings.too_many_requests makes the limiter say.
local function status_reply(f, ctx)
  local status = math.tointeger(f.status) or 503
  local headers = {}
  if f.retry_after ~= nil then headers[#headers + 1] = { "Retry-After", tostring(f.retry_after) } end
  extra_headers(f, headers)
  local flood = status == 429 and ctx.too_many_requests == "documented"
  local code = math.tointeger(f.code) or (flood and 9 or 0)
  local message = f.message or (flood and "The flood limit has been exceeded.")
    or (status == 429 and "Too many requests") or reason_of(status)
  if f.flat then return reply.json(status, { code = code, message = message }, headers) end
  return reply.plain_error(status, code, message, headers)
end

-- The credentials a request carried, as one line of text.
local function echoed(req)
  local parts = {}
  for _, c in ipairs(auth.presented(req)) do parts[#parts + 1] = c[1] .. "=" .. c[2] end
  local csrf = req.headers["x-csrf-token"]
  if csrf then parts[#parts + 1] = "csrf_token=" .. csrf end
  if #parts == 0 then return "no credentials" end
  return table.concat(parts, " ")
end

local function echo_reply(f, req)
  local status = math.tointeger(f.status) or 400
  local text = "echo: " .. echoed(req)
  local code, headers = math.tointeger(f.code) or 0, extra_headers(f, { { "x-echo", text } })
  local r = f.flat and reply.json(status, { code = code, message = text }, headers)
    or reply.plain_error(status, code, text, headers)
  r.reason = text
  return r
end

local function uuid()
  local t = {}
  for i = 1, 16 do t[i] = math.random(0, 255) end
  t[7] = (t[7] & 0x0f) | 0x40
  t[9] = (t[9] & 0x3f) | 0x80
  return ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x"):format(table.unpack(t))
end

local function challenge_reply(f, ctx)
  local metadata = type(f.metadata) == "table" and f.metadata or {}
  local headers = {
    { "rblx-challenge-id", uuid() },
    { "rblx-challenge-type", type(f.type) == "string" and f.type or "captcha" },
    { "rblx-challenge-metadata", util.b64encode(json.encode(metadata)) },
  }
  if f.csrf then headers[#headers + 1] = { "x-csrf-token", ctx.csrf_token() } end
  return reply.plain_error(403, 0, "Challenge is required to authorize the request", extra_headers(f, headers))
end

local function body_reply(f)
  local r = reply.json(math.tointeger(f.status) or 200, {}, extra_headers(f))
  r.body = type(f.body) == "string" and f.body or ""
  return r
end

local function answer(f, req, ctx)
  if f.kind == "status" then return status_reply(f, ctx) end
  if f.kind == "echo" then return echo_reply(f, req) end
  if f.kind == "challenge" then return challenge_reply(f, ctx) end
  if f.kind == "body" then return body_reply(f) end
  if f.kind == "html" then
    local status = math.tointeger(f.status) or 502
    local r = reply.html(status, reason_of(status))
    extra_headers(f, r.headers)
    return r
  end
  if f.kind == "malformed" then
    local r = reply.json(200, {}, extra_headers(f))
    r.body = '{"data":[{"id":1234567890123456,"name":}],'
    return r
  end
  if f.kind == "reset" then return { status = 0, reset = true } end
end

-- The answer of a fault that replaces the request's processing, or nil
-- when the request must be processed (stall, close, truncate, drop,
-- rotate), in which case mangle() is applied to the processed answer.
-- ctx.csrf_token() gives the CSRF token a challenge may carry;
-- ctx.too_many_requests is the setting of that name.
function faults.answer(f, req, ctx)
  local r = answer(f, req, ctx)
  if r and f.reason and f.kind ~= "echo" then r.reason = f.reason end
  return r
end

-- ctx.rotate() replaces the cookie and returns the Set-Cookie value.
function faults.mangle(f, resp, ctx)
  if f.kind == "close" then
    resp.partial = math.tointeger(f.bytes) or #(resp.body or "") // 2
  elseif f.kind == "truncate" then
    local body = resp.body or ""
    if #body < 4 then body = json.encode({ data = json.array { 1, 2, 3 } }) end
    resp.status, resp.body = 200, body:sub(1, #body // 2)
  elseif f.kind == "drop" then
    resp.reset, resp.rst = true, f.rst == true
  elseif f.kind == "rotate" then
    resp.headers[#resp.headers + 1] = { "Set-Cookie", ctx.rotate() }
  end
  return resp
end

return faults

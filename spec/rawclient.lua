-- A raw HTTP/1.1 client of a sandbox, for the specs that drive it over TCP
-- with LuaSocket (never through the robloxsocial client, which the
-- sandbox exists to test) and look at the bytes of its answers:
-- sandbox_spec, sandbox_faults_spec.  (spec/rawserver.lua is the other
-- way round.)  Its requests carry the sandbox's credentials: a spec
-- compares those silently (assert.is_true(a == b)), never printing one.
--
--   local rawclient = require "spec.rawclient"
--   local raw = rawclient.new(sb, { user_agent = "x/1", close = true })
--   local s = raw.connect()
--   raw.send(s, method, path, opts)
--   local r = raw.read(s)                  -- or nil and LuaSocket's error
--   local r = raw.call(method, path, opts)  -- one request on a connection of its own
--
-- new's options: user_agent (a User-Agent line, none without), close
-- (every request says Connection: close unless its opts.keep; without
-- it only those whose opts.close does).
-- send's opts: auth ("cookie" default, "api_key", "bearer", "none"), as (a
-- credentials table; default the sandbox's main user), body (a table,
-- sent as JSON, or a raw string), headers (a list of "Name: value"),
-- query (a raw query string), host (the Host line's value), close, keep.
-- A POST without a body says Content-Length: 0.
-- read's answer: { status, reason, head (the bytes up to the blank line,
-- "\n" after each line), headers (lower-case names, the last one wins),
-- body (what came of it), complete (the whole body came), data (the
-- body's JSON, or nil) }.
local socket = require "socket"
local json = require "robloxsocial.sandbox.json"

local rawclient = {}

local AUTH_HEADERS = {
  api_key = function(c) return "x-api-key: " .. c.api_key end,
  bearer = function(c) return "Authorization: Bearer " .. c.access_token end,
  cookie = function(c) return "Cookie: .ROBLOSECURITY=" .. c.cookie end,
}

-- The head of a request (its lines) and its body, or nil.
local function request_lines(client, method, path, opts)
  local sb = client.sandbox
  local lines = { ("%s %s%s HTTP/1.1"):format(method, path, opts.query and ("?" .. opts.query) or ""),
                  "Host: " .. (opts.host or ("127.0.0.1:" .. sb.port)) }
  if client.user_agent then lines[#lines + 1] = "User-Agent: " .. client.user_agent end
  local auth = opts.auth or "cookie"
  if auth ~= "none" then lines[#lines + 1] = AUTH_HEADERS[auth](opts.as or sb.credentials) end
  local body = opts.body
  if type(body) == "table" then body = json.encode(body) end
  if body == nil and method == "POST" then body = "" end
  if body then
    lines[#lines + 1] = "Content-Type: application/json"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  for _, h in ipairs(opts.headers or {}) do lines[#lines + 1] = h end
  if opts.close or (client.close and not opts.keep) then lines[#lines + 1] = "Connection: close" end
  return lines, body
end

-- Reads the head of an answer: its lines, or nil and LuaSocket's error
-- when none came; raises when it ends early.
local function read_head(s)
  local head = {}
  while true do
    local line, err = s:receive("*l")
    if not line then
      if #head == 0 then return nil, err end
      error("the head ended early: " .. err)
    end
    if line == "" then return head end
    head[#head + 1] = line
  end
end

local function read(s)
  local head, err = read_head(s)
  if not head then return nil, err end
  local status, reason = head[1]:match("^HTTP/1%.1 (%d+) ?(.*)$")
  local r = { status = math.tointeger(tonumber(status)), reason = reason, headers = {},
              head = table.concat(head, "\n") .. "\n" }
  for i = 2, #head do
    local k, v = head[i]:match("^([^:]+):%s*(.*)$")
    r.headers[k:lower()] = v
  end
  local n = tonumber(r.headers["content-length"] or "0")
  if n == 0 then
    r.body, r.complete = "", true
  else
    local body, _, partial = s:receive(n)
    r.body, r.complete = body or partial or "", body ~= nil
  end
  r.data = json.decode(r.body)
  return r
end

function rawclient.new(sb, options)
  options = options or {}
  local client = { sandbox = sb, user_agent = options.user_agent, close = options.close }

  function client.connect()
    local s = assert(socket.connect("127.0.0.1", sb.port))
    s:settimeout(10)
    return s
  end

  function client.send(s, method, path, opts)
    local lines, body = request_lines(client, method, path, opts or {})
    assert(s:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
  end

  client.read = read

  function client.call(method, path, opts)
    local once = { close = true }
    for k, v in pairs(opts or {}) do once[k] = v end
    local s = client.connect()
    client.send(s, method, path, once)
    local r = assert(read(s))
    s:close()
    return r
  end

  return client
end

return rawclient

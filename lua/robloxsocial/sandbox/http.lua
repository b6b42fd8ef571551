-- The sandbox's HTTP/1.1 server: one process, one select() loop, one
-- coroutine per connection.  A connection's coroutine yields whenever its
-- socket would block (or when a handler sleeps, for the "stall" fault), so
-- a slow or stalled connection never holds up the others.
--
-- Handlers receive a request table and return a response table:
--   request  = { method, target, path, query, version, headers (lower-case
--                names), body, peer (address), peer_port, conn (the number
--                of the TCP connection, counted from 1 since the start) }
--   response = { status, headers = { {name, value}, ... }, body,
--                reason = text,     -- the reason phrase (default: the status's own)
--                close = bool,      -- close the connection afterwards
--                partial = n,       -- send only n bytes of the body, then close
--                reset = bool,      -- close at once without answering
--                rst = bool }       -- with reset: abort with a TCP RST, not a FIN
--
-- Header names and values are written verbatim, whatever bytes they hold
-- (a fault may want a bare CR in a value); the server adds Content-Length,
-- Date and Connection itself.
local socket = require "socket"
local clock = require "robloxsocial.sandbox.clock"

local http = {}

local MAX_HEAD = 64 * 1024          -- request line and headers together
local MAX_BODY = 16 * 1024 * 1024
local IDLE_KEEPALIVE = 300          -- seconds a kept-alive connection may idle
-- The listen backlog: a spec may open a hundred connections at once, and
-- the kernel caps this at net.core.somaxconn anyway.
local BACKLOG = 1024

local REASONS = {
  [100] = "Continue", [200] = "OK", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [408] = "Request Timeout",
  [411] = "Length Required", [413] = "Payload Too Large",
  [415] = "Unsupported Media Type", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

function http.reason(status)
  return REASONS[status] or "Unknown"
end

-- Suspends the calling connection for `seconds` of the sandbox's clock
-- (so sb:advance() ends the wait early) without blocking the loop.  Only
-- valid inside a handler.
function http.sleep(seconds)
  coroutine.yield("sleep", clock.now() + seconds)
end

---------------------------------------------------------------------------
-- Buffered, non-blocking socket I/O for one connection.

local Conn = {}
Conn.__index = Conn

-- Reads more bytes into the buffer; false when the peer has gone.
function Conn:fill()
  while true do
    local data, err, partial = self.sock:receive(65536)
    data = data or partial
    if data and #data > 0 then
      self.buf = self.buf .. data
      return true
    end
    if err ~= "timeout" then return false end
    self.idle_since = socket.gettime()
    coroutine.yield("read")
  end
end

-- Returns the next line without its CR LF, or nil when the peer has gone
-- or the line is absurdly long.
function Conn:read_line(limit)
  while true do
    local e = self.buf:find("\n", 1, true)
    if e then
      local line = self.buf:sub(1, e - 1):gsub("\r$", "")
      self.buf = self.buf:sub(e + 1)
      return line
    end
    if #self.buf > limit then return nil, "too long" end
    if not self:fill() then return nil, "closed" end
  end
end

function Conn:read_exact(n)
  while #self.buf < n do
    if not self:fill() then return nil end
  end
  local data = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  return data
end

function Conn:send(data)
  local i = 1
  while i <= #data do
    local last, err, partial = self.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" then
      i = partial + 1
      coroutine.yield("write")
    else
      return false
    end
  end
  return true
end

---------------------------------------------------------------------------
-- Request parsing.

local function parse_headers(conn)
  local headers, total = {}, 0
  while true do
    local line, err = conn:read_line(MAX_HEAD)
    if not line then return nil, err end
    total = total + #line
    if total > MAX_HEAD then return nil, "too long" end
    if line == "" then return headers end
    local name, value = line:match("^([^:%s]+)%s*:%s*(.-)%s*$")
    if not name then return nil, "bad header" end
    name = name:lower()
    if headers[name] then
      -- Cookies are joined with "; ", every other repeated header with ", ".
      local sep = name == "cookie" and "; " or ", "
      headers[name] = headers[name] .. sep .. value
    else
      headers[name] = value
    end
  end
end

local function read_chunked(conn)
  local parts, size = {}, 0
  while true do
    local line = conn:read_line(4096)
    if not line then return nil end
    local n = tonumber(line:match("^%s*(%x+)"), 16)
    if not n then return nil end
    if n == 0 then
      repeat -- trailers, up to the empty line
        line = conn:read_line(MAX_HEAD)
        if not line then return nil end
      until line == ""
      return table.concat(parts)
    end
    size = size + n
    if size > MAX_BODY then return nil end
    parts[#parts + 1] = conn:read_exact(n)
    if not parts[#parts] or conn:read_line(16) ~= "" then return nil end
  end
end

local function read_body(conn, req)
  local h = req.headers
  if h["expect"] and h["expect"]:lower() == "100-continue" then
    if not conn:send("HTTP/1.1 100 Continue\r\n\r\n") then return nil end
  end
  local te = h["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    return read_chunked(conn)
  end
  local len = h["content-length"]
  if not len then return "" end
  len = tonumber(len:match("^%d+$"))
  if not len or len > MAX_BODY then return nil end
  if len == 0 then return "" end
  return conn:read_exact(len)
end

-- Splits an origin-form or absolute-form target into path and raw query.
local function split_target(req)
  local target = req.target
  local scheme_host, rest = target:match("^%a[%w+.-]*://([^/]*)(.*)$")
  if scheme_host then
    req.headers["host"] = req.headers["host"] or scheme_host
    target = rest ~= "" and rest or "/"
  end
  target = target:gsub("#.*$", "")
  local path, query = target:match("^([^?]*)%??(.*)$")
  req.path, req.query = path, query
end

-- Returns a request, or nil and a status to answer before closing (or nil
-- alone when the peer simply went away).
local function read_request(conn)
  local line
  repeat -- tolerate stray blank lines between kept-alive requests
    line = conn:read_line(MAX_HEAD)
    if not line then return nil end
  until line ~= ""
  local method, target, version = line:match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then return nil, 400 end
  local headers, err = parse_headers(conn)
  if not headers then return nil, err == "too long" and 431 or 400 end
  local req = { method = method, target = target, version = version,
                headers = headers, peer = conn.peer, peer_port = conn.peer_port,
                conn = conn.id }
  split_target(req)
  req.body = read_body(conn, req)
  if not req.body then return nil, 400 end
  return req
end

---------------------------------------------------------------------------
-- Responses.

local function wants_keep_alive(req)
  local c = (req.headers["connection"] or ""):lower()
  if c:find("close", 1, true) then return false end
  if req.version == "1.0" then return c:find("keep-alive", 1, true) ~= nil end
  return true
end

local function render_head(status, reason, headers, body_len, keep)
  local out = { ("HTTP/1.1 %d %s\r\n"):format(status, reason or http.reason(status)) }
  for _, h in ipairs(headers or {}) do
    out[#out + 1] = h[1] .. ": " .. h[2] .. "\r\n"
  end
  out[#out + 1] = "Content-Length: " .. body_len .. "\r\n"
  out[#out + 1] = "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S GMT") .. "\r\n"
  out[#out + 1] = "Connection: " .. (keep and "keep-alive" or "close") .. "\r\n\r\n"
  return table.concat(out)
end

local function plain_error(status)
  local body = ('{"errors":[{"code":0,"message":"%s"}]}'):format(http.reason(status))
  return { status = status, body = body, close = true,
           headers = { { "Content-Type", "application/json; charset=utf-8" } } }
end

-- Writes resp; returns true when the connection may serve another request.
local function write_response(conn, req, resp)
  if resp.reset then
    -- Linger on, timeout 0: close() then sends a RST instead of a FIN.
    if resp.rst then conn.sock:setoption("linger", { on = true, timeout = 0 }) end
    return false
  end
  local keep = not resp.close and not resp.partial and wants_keep_alive(req)
  local body = resp.body or ""
  local head = render_head(resp.status, resp.reason, resp.headers, #body, keep)
  if req.method == "HEAD" then body = "" end
  if resp.partial then body = body:sub(1, resp.partial) end
  return conn:send(head .. body) and keep
end

---------------------------------------------------------------------------
-- The connection coroutine and the loop.

local function serve_connection(server, conn)
  while true do
    local req, bad = read_request(conn)
    if not req then
      if bad then write_response(conn, { method = "GET", headers = {} }, plain_error(bad)) end
      return
    end
    local ok, resp = xpcall(server.handler, debug.traceback, req)
    if not ok then
      io.stderr:write("robloxsocial-sandbox: handler error: ", tostring(resp), "\n")
      resp = plain_error(500)
    end
    if not write_response(conn, req, resp) then return end
  end
end

local Server = {}
Server.__index = Server

-- Creates a listening server.  opts: host, port (0 = ephemeral), handler,
-- on_tick (called about once a second with the current time).
function http.new(opts)
  local sock, err = socket.bind(opts.host or "127.0.0.1", opts.port or 0, BACKLOG)
  if not sock then return nil, err end
  sock:settimeout(0)
  local host, port = sock:getsockname()
  return setmetatable({
    sock = sock, host = host, port = math.tointeger(tonumber(port)),
    handler = opts.handler, on_tick = opts.on_tick,
    conns = {},      -- coroutine -> conn
    accepted = 0,    -- connections accepted so far (each one's number)
    running = false,
  }, Server)
end

function Server:stop()
  self.running = false
end

function Server:accept_all()
  while true do
    local client = self.sock:accept()
    if not client then return end
    client:settimeout(0)
    client:setoption("tcp-nodelay", true)
    local peer, peer_port = client:getpeername()
    self.accepted = self.accepted + 1
    local conn = setmetatable({ sock = client, buf = "", peer = peer,
                                peer_port = math.tointeger(tonumber(peer_port)),
                                id = self.accepted, idle_since = socket.gettime() }, Conn)
    conn.co = coroutine.create(function() serve_connection(self, conn) end)
    self.conns[conn.co] = conn
    self:resume(conn)
  end
end

function Server:resume(conn)
  local ok, what, arg = coroutine.resume(conn.co)
  if not ok then
    io.stderr:write("robloxsocial-sandbox: connection error: ", tostring(what), "\n")
  end
  if not ok or coroutine.status(conn.co) == "dead" then
    conn.sock:close()
    self.conns[conn.co] = nil
    return
  end
  conn.wait, conn.wake = what, arg
end

-- Gathers what select() must watch and how long it may wait.
function Server:watch_lists(now)
  local recvt, sendt, by_sock = { self.sock }, {}, {}
  local timeout = 1.0
  for _, conn in pairs(self.conns) do
    if conn.wait == "read" then
      recvt[#recvt + 1] = conn.sock
    elseif conn.wait == "write" then
      sendt[#sendt + 1] = conn.sock
    elseif conn.wait == "sleep" then
      timeout = math.min(timeout, math.max(0, conn.wake - now))
    end
    by_sock[conn.sock] = conn
  end
  return recvt, sendt, by_sock, timeout
end

function Server:wake_sleepers(now)
  for _, conn in pairs(self.conns) do
    if conn.wait == "sleep" and conn.wake <= now then self:resume(conn) end
  end
end

-- Closes kept-alive connections that have idled too long.
function Server:reap_idle(now)
  for _, conn in pairs(self.conns) do
    if conn.wait == "read" and now - conn.idle_since > IDLE_KEEPALIVE then
      conn.sock:close()
      self.conns[conn.co] = nil
    end
  end
end

function Server:step()
  local now = clock.now()           -- sleepers wake by the sandbox's clock
  local recvt, sendt, by_sock, timeout = self:watch_lists(now)
  local readable, writable = socket.select(recvt, sendt, timeout)
  for _, s in ipairs(readable) do
    if s == self.sock then
      self:accept_all()
    elseif by_sock[s] and by_sock[s].wait == "read" then
      self:resume(by_sock[s])
    end
  end
  for _, s in ipairs(writable) do
    if by_sock[s] and by_sock[s].wait == "write" then self:resume(by_sock[s]) end
  end
  self:wake_sleepers(clock.now())
end

-- Serves until stop() is called.
function Server:run()
  self.running = true
  local last_tick = socket.gettime()
  while self.running do
    self:step()
    local now = socket.gettime()
    if now - last_tick >= 1 then
      last_tick = now
      self:reap_idle(now)
      if self.on_tick then self.on_tick(now) end
    end
  end
  for _, conn in pairs(self.conns) do conn.sock:close() end
  self.conns = {}
  self.sock:close()
end

return http

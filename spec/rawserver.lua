-- A raw HTTP/1.1 server for the specs that look at the bytes a client
-- sends: a child Lua on a free port of 127.0.0.1 that answers each of n
-- requests 200 {} (then closes the connection) and hands back the head
-- of each request it got, in order.  Give the client made-up credentials
-- only: the heads hold them.
--
--   local rawserver = require "spec.rawserver"
--   local srv = rawserver.start(n)     -- { base_url, port }
--   local head = srv.next()            -- { "GET /v1/x HTTP/1.1", "Host: 127.0.0.1:1234", ... }
--   srv.close()                        -- also on __close
local proc = require "spec.proc"

local rawserver = {}

-- The child: after each answer it writes the request's head lines and an
-- empty line.  Its waits are bounded (10 s), so a client that never comes
-- ends it.  (One line for the shell: see proc.lua_command.)
local CHILD = [[
  local socket = require "socket"
  local server = assert(socket.bind("127.0.0.1", 0))
  server:settimeout(10)
  io.write(select(2, server:getsockname()), "\n")
  io.flush()
  for _ = 1, %d do
    local c = assert(server:accept())
    c:settimeout(10)
    local head = {}
    while true do
      local line = c:receive("*l")
      if not line or line == "" then break end
      head[#head + 1] = line
    end
    c:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    c:close()
    io.write(table.concat(head, "\n"), "\n\n")
    io.flush()
  end
]]

-- Starts a server for n requests; raises when it does not start.
function rawserver.start(n)
  local p = assert(io.popen(proc.lua_command((CHILD:format(n):gsub("\n%s*", " ")))))
  local port = math.tointeger(tonumber(p:read("l")))
  if not port then
    p:close()
    error("spec.rawserver: the server did not start", 2)
  end
  local srv = { port = port, base_url = "http://127.0.0.1:" .. port }
  -- The head of the next request it answered (it waits for it).
  function srv.next()
    local head = {}
    while true do
      local line = p:read("l")
      if line == nil or line == "" then break end
      head[#head + 1] = line
    end
    assert(#head > 0, "spec.rawserver: no further request came")
    return head
  end
  local closed = false
  function srv.close()
    if closed then return end
    closed = true
    p:close()
  end
  return setmetatable(srv, { __close = srv.close, __gc = srv.close })
end

return rawserver

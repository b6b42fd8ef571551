-- The escape hatch: client:request(method, service, path[, opts]) sends
-- any request through the same machinery as the generated methods (auth,
-- CSRF, retries, decoding).  opts.query is a table of query parameters (a
-- list value repeats its key); opts.body a table sent as JSON, or a string
-- that already is JSON.

local core = require "robloxsocial.core"
local args = require "robloxsocial.args"

local send, json_encode, is_open = core.send, core.json_encode, core.is_open
local encode_query = args.encode_query

local request = {}

local function fail(position, why)
  error(("bad argument #%d to 'request' (%s)"):format(position, why), 3)
end

function request.method(client_mt)
  return function(self, method, service, path, opts)
    if getmetatable(self) ~= client_mt then
      error("bad self to 'request' (call it as client:request(...))", 2)
    end
    if not is_open(self) then error("robloxsocial: attempt to use a closed client", 2) end
    if type(method) ~= "string" then fail(1, "HTTP method expected, got " .. type(method)) end
    if type(service) ~= "string" then fail(2, "service name expected, got " .. type(service)) end
    if type(path) ~= "string" then fail(3, "path expected, got " .. type(path)) end
    if opts ~= nil and type(opts) ~= "table" then fail(4, "table expected, got " .. type(opts)) end
    local query, body = opts and opts.query, opts and opts.body
    for key in pairs(opts or {}) do
      if key ~= "query" and key ~= "body" then fail(4, "unknown option '" .. tostring(key) .. "'") end
    end
    if query ~= nil and type(query) ~= "table" then fail(4, "opts.query must be a table") end
    if body ~= nil and type(body) ~= "table" and type(body) ~= "string" then
      fail(4, "opts.body must be a table or a JSON string")
    end
    if type(body) == "table" then body = json_encode(body) end
    return send(self, method:upper(), service, path, query and encode_query(query), body)
  end
end

return request

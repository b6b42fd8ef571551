-- The escape hatch: client:request(method, service, path[, opts]) sends
-- any request through the same machinery as the generated methods (auth,
-- CSRF, retries, decoding).  opts.query is a table of query parameters (a
-- list value repeats its key); opts.body a table sent as JSON, or a string
-- that already is JSON.

local core = require "robloxsocial.core"
local args = require "robloxsocial.args"
local methods = require "robloxsocial.methods"
local tasks = require "robloxsocial.tasks"

local send, json_encode = tasks.send, core.json_encode
local encode_query, check_self = args.encode_query, methods.check_self

local request = {}

local function fail(position, why)
  error(("bad argument #%d to 'request' (%s)"):format(position, why), 4)
end

local METHODS = { GET = true, POST = true, DELETE = true, PATCH = true, PUT = true }
local SERVICES = { friends = true, presence = true, groups = true, contacts = true, privatemessages = true }

-- Checks the arguments the way core.send would, but numbered as the user
-- sees them.  Returns the method in upper case.
local function check(method, service, path, opts)
  method = type(method) == "string" and method:upper() or method
  if not METHODS[method] then fail(1, "HTTP method expected: GET, POST, DELETE, PATCH or PUT") end
  if not SERVICES[service] then
    fail(2, ("unknown service '%s': one of friends, presence, groups, contacts, privatemessages")
      :format(tostring(service)))
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then fail(3, "the path must start with '/'") end
  if path:find("[^\33-\126]") or path:find("[?#]") then
    fail(3, "the path must be percent-encoded ASCII without spaces, '?' or '#'; pass the query in opts.query")
  end
  if opts ~= nil and type(opts) ~= "table" then fail(4, "table expected, got " .. type(opts)) end
  for key in pairs(opts or {}) do
    if key ~= "query" and key ~= "body" then fail(4, "unknown option '" .. tostring(key) .. "'") end
  end
  local query, body = opts and opts.query, opts and opts.body
  if query ~= nil and type(query) ~= "table" then fail(4, "opts.query must be a table") end
  if body ~= nil and type(body) ~= "table" and type(body) ~= "string" then
    fail(4, "opts.body must be a table or a JSON string")
  end
  if body ~= nil and method == "GET" then fail(4, "a GET request has no body") end
  return method
end

function request.method(client_mt)
  return function(self, method, service, path, opts)
    check_self(self, "request", client_mt, 2)
    method = check(method, service, path, opts)
    local query, body = opts and opts.query, opts and opts.body
    if type(body) == "table" then body = json_encode(body) end
    return send(self, method, service, path, query and encode_query(query), body)
  end
end

return request

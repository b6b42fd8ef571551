-- The escape hatch: client:request(method, service, path[, opts]) sends
-- any request to any service through the same machinery as the generated
-- methods (auth, CSRF, retries, decoding, pacing, hooks, tasks).
-- opts.query is a table of query parameters (a list value repeats its
-- key); opts.body a table sent as JSON, or a string that already is JSON;
-- opts.headers a table of extra headers (the client's own raise);
-- opts.deadline seconds for the whole call (the client's deadline
-- otherwise).

local core = require "robloxsocial.core"
local args = require "robloxsocial.args"
local methods = require "robloxsocial.methods"
local deadline = require "robloxsocial.deadline"

local send, json_encode = core.send, core.json_encode
local encode_query, check_self = args.encode_query, methods.check_self

local request = {}

local function fail(position, why)
  error(("bad argument #%d to 'request' (%s)"):format(position, why), 4)
end

local METHODS = { GET = true, POST = true, DELETE = true, PATCH = true, PUT = true }

-- Headers that are the client's own (credentials, the CSRF token) or
-- that would change how the request is framed or where it goes.
local RESERVED = { cookie = true, authorization = true, ["x-api-key"] = true, ["x-csrf-token"] = true,
                   host = true, ["content-length"] = true, ["transfer-encoding"] = true,
                   connection = true, expect = true }

-- The header lines of opts.headers ({ name = value }), names in sorted
-- order; raises on a reserved name, a name that is not an HTTP token, or
-- a value with CR, LF or NUL.  Values never show in the message.
local function header_lines(headers)
  if type(headers) ~= "table" then fail(4, "opts.headers must be a table") end
  local names = {}
  for name, value in pairs(headers) do
    if type(name) ~= "string" or not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      fail(4, "opts.headers: header names must be HTTP tokens")
    end
    if RESERVED[name:lower()] then
      fail(4, ("opts.headers: %s is the client's own header"):format(name))
    end
    if type(value) ~= "string" and math.type(value) == nil then
      fail(4, ("opts.headers.%s must be a string"):format(name))
    end
    if tostring(value):find("[\r\n\0]") then
      fail(4, ("opts.headers.%s must not contain CR, LF or NUL"):format(name))
    end
    names[#names + 1] = name
  end
  table.sort(names)
  local lines = {}
  for i, name in ipairs(names) do lines[i] = name .. ": " .. tostring(headers[name]) end
  return lines
end

-- Checks the arguments the way core.send would, but numbered as the user
-- sees them.  Returns the method in upper case.
local function check(method, service, path, opts)
  method = type(method) == "string" and method:upper() or method
  if not METHODS[method] then fail(1, "HTTP method expected: GET, POST, DELETE, PATCH or PUT") end
  if type(service) ~= "string" or not service:match("^[a-z0-9][a-z0-9%-]*$") or #service > 63 then
    fail(2, ("a service name expected (lower-case letters, digits and '-', e.g. \"users\"), got %s")
      :format(type(service) == "string" and ("'" .. service .. "'") or type(service)))
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then fail(3, "the path must start with '/'") end
  if path:find("[^\33-\126]") or path:find("[?#]") then
    fail(3, "the path must be percent-encoded ASCII without spaces, '?' or '#'; pass the query in opts.query")
  end
  if opts ~= nil and type(opts) ~= "table" then fail(4, "table expected, got " .. type(opts)) end
  for key in pairs(opts or {}) do
    if key ~= "query" and key ~= "body" and key ~= "headers" and key ~= "deadline" then
      fail(4, "unknown option '" .. tostring(key) .. "'")
    end
  end
  local why = opts and opts.deadline ~= nil and deadline.check(opts.deadline)
  if why then fail(4, "option 'deadline' " .. why) end
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
    local due = deadline.at(self, opts and opts.deadline)
    local query, body = opts and opts.query, opts and opts.body
    local headers = opts and opts.headers
    if headers ~= nil then headers = header_lines(headers) end
    if type(body) == "table" then body = json_encode(body) end
    return send(self, method, service, path, query and encode_query(query), body, nil, headers, nil, due)
  end
end

return request

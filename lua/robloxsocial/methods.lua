-- Turns the rows of endpoints.lua into client methods.
--
-- A row's arguments are checked into a list of values (positional
-- parameters, then the opts table), which build() turns into the path,
-- query string and JSON body that core.send takes.  Batching and paging
-- (batch.lua, paging.lua) reuse the same two steps.

local core = require "robloxsocial.core"
local args = require "robloxsocial.args"
local deadline = require "robloxsocial.deadline"

local send, send_id, json_encode, is_open = core.send, core.send_id, core.json_encode, core.is_open
local has_cookie = core.has_cookie
local ids_body, REFUSED = core.ids_body, core.REFUSED
local encode_query = args.encode_query
local format, select, rawlen = string.format, select, rawlen

local methods = {}

local function check_param(p, v)
  local kind = p[2]
  if v == nil and p.optional then return nil end
  if kind == "id" then
    local id = args.as_id(v)
    if id then return id end
    return nil, "positive integer expected, got " .. args.describe(v)
  end
  if kind == "ids" then return args.ids(v) end
  return args.string(v, kind == "text")
end

-- Options of the call itself, never sent, and the kinds of method that
-- take them: deadline every method that takes an opts table, on_progress
-- and on_chunk the batches, prefetch the iterators.
local CALL_OPTIONS = {
  deadline = { method = true, batch = true, iterator = true },
  on_progress = { batch = true },
  on_chunk = { batch = true },
  prefetch = { iterator = true },
}

local function check_call_option(key, v)
  if key == "deadline" then
    local why = deadline.check(v)
    return why and "option 'deadline' " .. why
  elseif key == "prefetch" then
    return type(v) ~= "boolean" and "option 'prefetch' must be a boolean" or nil
  end
  return type(v) ~= "function" and format("option '%s' must be a function", key) or nil
end

-- The opts of a method of that kind ("method", "batch" or "iterator"),
-- checked: the options sent (a new table) and those of the call.
local function check_options(row, opts, kind)
  local out, call = {}, {}
  if opts == nil then return out, call end
  if type(opts) ~= "table" then return nil, "table of options expected, got " .. type(opts) end
  for key, v in pairs(opts) do
    local spec = row.options and row.options[key]
    local takes = CALL_OPTIONS[key]
    if spec then
      local value, why = args.option(key, spec, v)
      if why then return nil, why end
      out[key] = value
    elseif takes and takes[kind] then
      local why = check_call_option(key, v)
      if why then return nil, why end
      call[key] = v
    else
      return nil, format("unknown option '%s'", tostring(key))
    end
  end
  return out, call
end

-- Returns the checked values (the opts table last, when the method takes
-- one: the row has options, or it is a batch or an iterator), or nil,
-- the argument's position and why it is wrong.  values.call holds the
-- options of the call itself (deadline, on_progress, ...), never sent.
-- kind is "method" (the default), "batch" or "iterator".
function methods.check_args_as(kind, row, ...)
  local params, values = row.params, { call = {} }
  for i = 1, #params do
    local value, why = check_param(params[i], (select(i, ...)))
    if why then return nil, i, why end
    values[i] = value
  end
  if row.options or kind ~= "method" then
    local position = #params + 1
    local opts, call = check_options(row, (select(position, ...)), kind)
    if not opts then return nil, position, call end
    values[position], values.call = opts, call
  end
  return values
end

function methods.check_args(row, ...)
  return methods.check_args_as("method", row, ...)
end

-- Path, query string (or nil) and JSON body (or nil) of a request.  For
-- a row whose body is one id list, first and last pick the part of the
-- list to send (a batch's chunk), without copying it.
function methods.build(row, values, first, last)
  local path, query, body = row.path, nil, nil
  local params = row.params
  for i = 1, #params do
    local p, v = params[i], values[i]
    if v ~= nil then
      if p.path then
        path = row.path_head .. (p[2] == "id" and format("%d", v) or args.escape_segment(v)) .. row.path_tail
      elseif p.query then
        query = query or {}
        query[p.query] = v
      elseif row.ids_body then
        body = ids_body(v, p.body, first or 1, last or rawlen(v))  -- the whole body; ids checked again
      else
        body = body or {}
        body[p.body] = v
      end
    end
  end
  local opts = row.options and values[#params + 1]
  if opts then
    for key, v in pairs(opts) do
      local spec = row.options[key]
      if spec.query then
        query = query or {}
        query[spec.query] = v
      else
        body = body or {}
        body[spec.body] = v
      end
    end
  end
  if body == nil and row.method == "POST" and row.sends_body then body = {} end
  if type(body) == "table" then body = json_encode(body) end
  return path, query and encode_query(query), body
end

-- Sends the request that values describe; nil, err on failure.  Inside a
-- task this suspends the task (core.send).  A row marked read is a read
-- even when it travels as POST.
function methods.call(client, row, values)
  local due = deadline.at(client, values.call.deadline)   -- before anything else: the call is made
  local path, query, body = methods.build(row, values)
  return send(client, row.method, row.service, path, query, body, nil, nil, row.read, due)
end

-- Raises unless self is an open client; level is error()'s, counted from
-- the caller of check_self.
function methods.check_self(self, name, client_mt, level)
  if getmetatable(self) ~= client_mt then
    error(format("bad self to '%s' (call it as client:%s(...))", name, name), level + 1)
  end
  if not is_open(self) then error("robloxsocial: attempt to use a closed client", level + 1) end
end

-- Raises, before anything is sent, when the row takes only the cookie
-- and self (an open client) has none: sent without it, the call could
-- only fail (Roblox takes no API key or OAuth token on these endpoints).
function methods.check_auth(row, name, self, level)
  if row.auth == "cookie" and not has_cookie(self) then
    error(format("robloxsocial: %s needs a cookie: Roblox accepts only the .ROBLOSECURITY cookie on %s %s",
                 name, row.method, row.path), level + 1)
  end
end

-- Checks self, its credential and the arguments of a call to the method
-- called name; raises at the caller of the method (level 3 from here).
-- Returns the checked values.
function methods.check_call(row, name, client_mt, self, ...)
  methods.check_self(self, name, client_mt, 3)
  methods.check_auth(row, name, self, 3)
  local values, position, why = methods.check_args_as("method", row, ...)
  if not values then error(format("bad argument #%d to '%s' (%s)", position, name, why), 3) end
  return values
end

-- The same for a batch or an iterator (kind "batch" or "iterator"),
-- which take the options of their kind of call.
function methods.check_call_as(kind, row, name, client_mt, self, ...)
  methods.check_self(self, name, client_mt, 3)
  methods.check_auth(row, name, self, 3)
  local values, position, why = methods.check_args_as(kind, row, ...)
  if not values then error(format("bad argument #%d to '%s' (%s)", position, name, why), 3) end
  return values
end

-- Splits the path at its placeholder once, so that a call only
-- concatenates; rows have at most one placeholder.
local function prepare_row(row)
  local head, tail = row.path:match("^(.-){[%w]+}(.*)$")
  row.path_head, row.path_tail = head or row.path, tail or ""
  local bodies, ids = 0, nil
  for _, p in ipairs(row.params) do
    if p.body then
      row.sends_body, bodies = true, bodies + 1
      if p[2] == "ids" then ids = p.body end
    end
  end
  for _, spec in pairs(row.options or {}) do
    if spec.body then row.sends_body, bodies = true, bodies + 2 end
  end
  -- A body that is one list of ids is written by core.ids_body.
  row.ids_body = bodies == 1 and ids or nil
  return row
end

local function plain_method(row, client_mt)
  local check_call, call, name = methods.check_call, methods.call, row.name
  return function(self, ...)
    local values = check_call(row, name, client_mt, self, ...)
    return call(self, row, values)
  end
end

-- Rows whose only argument is an id in the path (or that take none) are
-- the most called; they skip the values table.  Anything unusual (a float
-- id, a bad argument, a closed client, a cookie-only row on a client
-- without a cookie) goes to the general method by a tail call, which
-- keeps its errors pointing at the user's call.
local function fast_method(row, client_mt)
  local general = plain_method(row, client_mt)
  local method, service, head, tail = row.method, row.service, row.path_head, row.path_tail
  local cookie_only = row.auth == "cookie"
  if #row.params == 0 then
    return function(self)
      if cookie_only then
        if not has_cookie(self) then return general(self) end   -- also: no open client
      elseif getmetatable(self) ~= client_mt or not is_open(self) then
        return general(self)
      end
      return send(self, method, service, head)
    end
  end
  if cookie_only then
    return function(self, id)
      if not has_cookie(self) then return general(self, id) end
      local answer, err = send_id(self, method, service, head, id, tail)
      if answer ~= REFUSED then return answer, err end
      return general(self, id)
    end
  end
  return function(self, id)
    local answer, err = send_id(self, method, service, head, id, tail)
    if answer ~= REFUSED then return answer, err end
    return general(self, id)    -- self is no open client, or id no positive integer
  end
end

local function is_fast(row)
  local p = row.params[1]
  return not row.options and not row.batch and not row.sends_body
    and (#row.params == 0 or (#row.params == 1 and p[2] == "id" and p.path and not p.optional))
end

-- Fills the method table of the client metatable from the rows.
function methods.install(target, rows, client_mt)
  local batch = require "robloxsocial.batch"
  local paging = require "robloxsocial.paging"
  for _, row in ipairs(rows) do
    prepare_row(row)
    target[row.name] = row.batch and batch.method(row, client_mt)
      or is_fast(row) and fast_method(row, client_mt) or plain_method(row, client_mt)
    if row.paging then target[row.paging.iterator] = paging.iterator(row, client_mt) end
  end
end

return methods

-- Shared by the specs: one sandbox server for the whole busted run, and
-- clients pointed at it.  spec/helper.lua loads this module before busted
-- insulates the spec files, so every file sees the same instance.

local sandbox = require "robloxsocial.sandbox"
local robloxsocial = require "robloxsocial"
local core = require "robloxsocial.core"

local support = {}
local server

function support.sandbox()
  if not server then server = sandbox.start{} end
  return server
end

-- The shared sandbox and its main user's id, for a spec file's prelude:
--   local sb, me = support.main()
--   before_each(support.reset)
function support.main()
  local sb = support.sandbox()
  return sb, sb.credentials.user_id
end

-- A client of the sandbox's main user with quick retries; opts override,
-- and a credential set to false is left out (cookie = false: no cookie).
function support.client(opts)
  local sb = support.sandbox()
  local options = { base_url = sb.base_url, cookie = sb.credentials.cookie,
                    retry_delay = 0.01, timeout = 10 }
  for k, v in pairs(opts or {}) do
    if v == false and (k == "cookie" or k == "api_key" or k == "access_token") then
      options[k] = nil
    else
      options[k] = v
    end
  end
  return robloxsocial.new(options)
end

-- The 29 endpoints that take only the cookie (api/drift-2026.md), each
-- { method, path } with ids of the default world: what the sandbox specs
-- call with other credentials or none, and expect 401 from.  One list for
-- them all; a spec does not change it.
do
  local MAIN, REQUESTER = 1234567890123456, 2000000003434      -- the newest of the 34 requesters
  local STRANGER, FRIEND_ONE = 7000000039, 1234567890200037      -- no relation; the first friend
  local function u(path, id) return (path:gsub("{id}", tostring(id or MAIN))) end
  support.COOKIE_ONLY = {
    { "POST", "/v1/contacts/c-1001/request-friendship" }, { "GET", "/v1/my/friends/count" },
    { "POST", "/v1/my/friends/refresh-qr-session" }, { "GET", "/v1/my/friends/requests" },
    { "GET", u "/v1/my/friends/{id}/check-qr-session" }, { "DELETE", "/v1/my/new-friend-requests" },
    { "GET", "/v1/my/new-friend-requests/count" }, { "GET", "/v1/user/friend-requests/count" },
    { "POST", "/v1/user/friend-requests/decline-all" },
    { "POST", u("/v1/users/{id}/accept-friend-request", REQUESTER) },
    { "POST", u("/v1/users/{id}/decline-friend-request", REQUESTER) },
    { "POST", u("/v1/users/{id}/accept-friend-request-with-token", STRANGER) },
    { "POST", u("/v1/users/{id}/request-friendship", STRANGER) },
    { "POST", u("/v1/users/{id}/unfriend", FRIEND_ONE) },
    { "GET", u "/v1/users/{id}/friends/inactive" }, { "GET", u "/v1/users/{id}/friends/online" },
    { "GET", u "/v1/users/{id}/friends/search" },
    { "GET", "/v1/user/tag/validate" }, { "POST", "/v1/user/get-tags" }, { "POST", "/v1/user/tag" },
    { "GET", "/v1/announcements" }, { "GET", "/v1/announcements/metadata" }, { "GET", "/v1/messages" },
    { "GET", "/v1/messages/4503599627371473" }, { "GET", "/v1/messages/unread/count" },
    { "POST", "/v1/messages/archive" }, { "POST", "/v1/messages/unarchive" },
    { "POST", "/v1/messages/mark-read" }, { "POST", "/v1/messages/mark-unread" },
  
  }
end

-- Resets the sandbox (support.reset) and returns a new client of it
-- (support.client(opts)): a test's fresh start.
function support.fresh_client(opts)
  support.reset()
  return support.client(opts)
end

-- The same as support.client, through a TLS front of the sandbox (spec/tls.lua's nginx):
-- its base_url, trusting its throwaway CA.
function support.client_via(front, opts)
  local options = { base_url = front.base_url, cainfo = front.cainfo }
  for k, v in pairs(opts or {}) do options[k] = v end
  return support.client(options)
end

-- Makes client hold a CSRF token, through a cookie write that changes
-- nothing (the main user's tags), and forgets the request log: the writes
-- a spec then counts go out once, with the token, as with the live
-- services once a session has written.  Returns client.
function support.with_csrf_token(client)
  local sb = support.sandbox()
  assert(client:request("POST", "contacts", "/v1/user/get-tags",
                        { body = { targetUserIds = { sb.credentials.user_id } } }))
  sb:clear_requests()
  return client
end

-- Restores the default world (whatever world a spec may have loaded),
-- drops pending faults and forgets the request log, between tests.
function support.reset()
  local sb = support.sandbox()
  sb:reset(sb.world_path)
  sb:clear_faults()
  sb:clear_requests()
  return sb
end

-- The requests the sandbox saw for method and path (all when omitted).
function support.requests(method, path)
  local seen = {}
  for _, r in ipairs(support.sandbox():requests()) do
    if (not method or r.method == method) and (not path or r.path == path) then
      seen[#seen + 1] = r
    end
  end
  return seen
end

-- How many of those requests the sandbox refused with a 429.
function support.refused(method, path)
  local n = 0
  for _, r in ipairs(support.requests(method, path)) do
    if r.status == 429 then n = n + 1 end
  end
  return n
end

-- The list first, first + 1, ..., last.
function support.range(first, last)
  local out = {}
  for i = first, last do out[#out + 1] = i end
  return out
end

-- The requests the sandbox processed for method and path, leaving out the
-- first attempt of a CSRF handshake (a write answered 403 before it
-- carried a token): it is the same request, sent again with the token.
function support.sent(method, path)
  local out = {}
  for _, r in ipairs(support.requests(method, path)) do
    if not (r.status == 403 and r.csrf_token == nil and r.method ~= "GET") then
      out[#out + 1] = r
    end
  end
  return out
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- A logged request's query string as { name = { value, ... } }, unescaped.
function support.query_lists(entry)
  local q = {}
  for pair in (entry.query or ""):gmatch("[^&]+") do
    local name, value = pair:match("^([^=]*)=?(.*)$")
    name = unescape(name)
    q[name] = q[name] or {}
    q[name][#q[name] + 1] = unescape(value)
  end
  return q
end

-- The same as { name = value } (the last value of a repeated name).
function support.query_params(entry)
  local q = {}
  for name, values in pairs(support.query_lists(entry)) do q[name] = values[#values] end
  return q
end

-- Every string inside v, keys and values, recursively: for the checks
-- that no credential shows anywhere in an error.
function support.strings_of(v, out)
  out = out or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do support.strings_of(k, out); support.strings_of(x, out) end
  end
  return out
end

function support.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- Bounded waits, as lua-http's assert_loop: a spec that waits for the
-- library steps it until a condition holds and, past a deadline, fails
-- saying what is stuck instead of hanging the run.

local WAIT_SECONDS = 10

-- What the library and the sandbox are doing now, in one line.
function support.stuck()
  local st = core.stats()
  local text = ("%d task(s) not done, %d transfer(s) in flight (%d on the network, %d allocated)")
    :format(core.live(), st.in_flight, st.on_network, st.transfers)
  local ok, seen = pcall(function() return server and server:requests() end)
  if ok and seen then
    local last = seen[#seen]
    text = text .. ("; the sandbox saw %d request(s)%s"):format(#seen,
      last and (", the last %s %s -> %s"):format(last.method, last.path, tostring(last.status)) or "")
  end
  return text
end

-- Steps robloxsocial until cond() is true; raises naming `what` and what
-- is stuck when `seconds` (default 10) pass first.  Returns cond()'s value.
function support.step_until(cond, what, seconds)
  local deadline = core.now() + (seconds or WAIT_SECONDS)
  while true do
    local v = cond()
    if v then return v end
    local left = deadline - core.now()
    if left <= 0 then
      error(("spec: gave up after %g s waiting for %s: %s")
        :format(seconds or WAIT_SECONDS, what or "a condition", support.stuck()), 2)
    end
    robloxsocial.step(math.min(left, 0.01))
  end
end

-- task:wait(), bounded: the task's results, or its error raised.
function support.wait(task, seconds)
  support.step_until(function() return task:done() end, tostring(task), seconds)
  return task:wait()
end

-- robloxsocial.run(), bounded: raises naming what is stuck when the tasks
-- are not all done within `seconds` (default 10).
function support.run(seconds)
  if not robloxsocial.run(seconds or WAIT_SECONDS) then
    error(("spec: robloxsocial.run() gave up after %g s: %s")
      :format(seconds or WAIT_SECONDS, support.stuck()), 2)
  end
  return true
end

-- Runs call() in n tasks at once, bounded as support.run(seconds);
-- returns how many of them returned no answer.
function support.failed_calls(n, call, seconds)
  local failed = 0
  for _ = 1, n do
    robloxsocial.spawn(function()
      if not call() then failed = failed + 1 end
    end)
  end
  support.run(seconds)
  return failed
end

-- Ends a test that may leave tasks or latency behind: runs the tasks
-- left (raising past 10 s) and takes the sandbox's latency back to 0.
function support.settle()
  support.run(10)
  support.sandbox():configure{ latency = 0 }
end

function support.stop()
  if server then server:stop() end
  server = nil
end

return support

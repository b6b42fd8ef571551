-- One sandbox: the world's live state plus what the admin API drives
-- (faults, the request log, rate-limit counters, CSRF tokens), and the
-- pipeline every service request goes through:
--   admin? -> latency -> log -> fault -> route -> who -> rate limit -> 401 -> CSRF -> body -> handler
local http = require "robloxsocial.sandbox.http"
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local world = require "robloxsocial.sandbox.world"
local reply = require "robloxsocial.sandbox.reply"
local router = require "robloxsocial.sandbox.router"
local auth = require "robloxsocial.sandbox.auth"
local faults = require "robloxsocial.sandbox.faults"
local ratelimit = require "robloxsocial.sandbox.ratelimit"
local admin = require "robloxsocial.sandbox.admin"
local clock = require "robloxsocial.sandbox.clock"

local App = {}
App.__index = App

local LOG_CAP = 50000

-- The answer to a body that is not the JSON an endpoint expects, per
-- service: each service's documented "invalid parameters" code.
local BAD_BODY = {
  friends = { 6, "Invalid parameters." },
  contacts = { 4, "Invalid parameters." },
}

local function all_routes()
  local routes = {}
  for _, name in ipairs { "routes_friends", "routes_friends_lists", "routes_presence_groups",
                          "routes_contacts", "routes_messages", "routes_users", "routes_apis" } do
    for _, r in ipairs(require("robloxsocial.sandbox." .. name)) do routes[#routes + 1] = r end
  end
  return routes
end

local ROUTER = router.new(all_routes())

-- A new sandbox for checked world data.  opts.latency: seconds every
-- answer waits unless configured otherwise (the --latency of the command).
function App.new(data, opts)
  local self = setmetatable({ router = ROUTER, log = {}, stop_requested = false,
                              base_latency = opts and opts.latency }, App)
  self:reset(data)
  return self
end

-- Restores the world as loaded (or replaces it) and forgets faults, the
-- request log, rate-limit counts, CSRF tokens, rotated cookies and
-- configured settings (the latency returns to the command's); a frozen
-- clock runs again.
function App:reset(data)
  self.data = data or self.data
  self.st = world.build(self.data)
  if self.base_latency then self.st.settings.latency = self.base_latency end
  self.faults, self.counters, self.csrf = {}, {}, {}
  self.log = {}
  clock.freeze(false)
end

-- The seconds to wait before answering req: settings.latency is a number,
-- or an object whose keys are "METHOD /path", "/path" (exact) or "*".
function App:latency_for(req)
  local l = self:settings().latency
  if type(l) == "table" then
    l = l[req.method .. " " .. req.path] or l[req.path] or l["*"]
  end
  return tonumber(l) or 0
end

-- Gives account i (default 1) a new cookie; the old one stops working.
-- The world's accounts are copied first, so that reset brings the loaded
-- cookies back.  Returns the new value, or nil when there is no account i.
function App:rotate_cookie(i)
  local st = self.st
  if not st.own_accounts then
    local copy = {}
    for k, a in ipairs(st.accounts) do
      copy[k] = {}
      for f, v in pairs(a) do copy[k][f] = v end
    end
    st.accounts, st.own_accounts = copy, true
  end
  local a = st.accounts[i or 1]
  if not a then return nil end
  a.cookie = auth.new_cookie()
  return a.cookie
end

-- The index of the account of user uid.
function App:account_index(uid)
  for i, a in ipairs(self.st.accounts) do
    if a.user_id == uid then return i end
  end
end

local COOKIE_TTL = 365 * 24 * 3600

-- What a fault may need of the app: a CSRF token for the caller, and a
-- cookie rotation that gives the Set-Cookie value.
local function fault_ctx(self, f, identity)
  return {
    csrf_token = function()
      if identity and identity.kind == "cookie" then
        return auth.current_token(self.csrf, identity.uid, self:settings().csrf_ttl)
      end
      return auth.current_token({}, 0, 1)
    end,
    too_many_requests = self:settings().too_many_requests,
    rotate = function()
      local i = identity and self:account_index(identity.uid) or math.tointeger(f.account) or 1
      local value = self:rotate_cookie(i) or ""
      return (".ROBLOSECURITY=%s; domain=.roblox.com; expires=%s; path=/; secure; HttpOnly")
        :format(value, os.date("!%a, %d-%b-%Y %H:%M:%S GMT", os.time() + COOKIE_TTL))
    end,
  }
end

function App:settings()
  return self.st.settings
end

-- The sandbox's clock (real time plus what sb:advance() added).
function App:now()
  return clock.now()
end

function App:log_request(req, carried)
  local entry = {
    method = req.method, path = req.path, query = req.query, body = req.body,
    auth = carried, csrf_token = req.headers["x-csrf-token"],
    user_agent = req.headers["user-agent"], content_type = req.headers["content-type"],
    conn = req.conn, port = req.peer_port, time = util.now_iso(),
  }
  if #self.log >= LOG_CAP then table.remove(self.log, 1) end
  self.log[#self.log + 1] = entry
  return entry
end

local function bad_body(route)
  local b = BAD_BODY[route.service] or { 0, "Invalid parameters." }
  return reply.error(400, b[1], b[2])
end

-- Decodes the JSON body of a route that takes one; returns body or nil, reply.
local function decode_body(route, req)
  if req.body == "" then return {} end
  local ct = req.headers["content-type"] or ""
  if not ct:lower():find("json", 1, true) then return nil, reply.unsupported_media(ct) end
  local body = json.decode(req.body)
  if type(body) ~= "table" then return nil, bad_body(route) end
  return body
end

local function flood_reply(self, route, headers, retry_after)
  if retry_after then headers[#headers + 1] = { "Retry-After", retry_after } end
  return reply.too_many_requests(self:settings().too_many_requests, route.service, headers)
end

local function add_headers(resp, headers)
  for _, h in ipairs(headers or {}) do table.insert(resp.headers, h) end
  return resp
end

-- Who the caller of a route is: by the cookie on the social hosts (a key
-- or a token there is no credential), by the key or token on apis.
local function caller_of(self, route, req, cookie_identity)
  if route.service == "apis" then return (auth.identify(req, self.st.accounts, auth.KEYS)) end
  return cookie_identity
end

local function refusal(self, route, identity)
  if identity then return nil end
  if route.auth == "key" then return reply.invalid_api_key() end
  if route.auth then return reply.unauthorized(self:settings().unauthorized) end
end

-- Routing, limits, auth, CSRF and the endpoint itself.
function App:serve(req, cookie_identity)
  local route, params = router.match(self.router, req)
  if not route then
    if #params > 0 then return reply.method_not_allowed(req.method, params) end
    return reply.not_found()
  end
  local identity = caller_of(self, route, req, cookie_identity)
  local settings = self:settings()
  local caller = identity and ("user:" .. identity.uid) or ("peer:" .. tostring(req.peer))
  local allowed, rl_headers, retry_after = ratelimit.check(self.counters, settings, route, caller, self:now())
  if allowed == false then return flood_reply(self, route, rl_headers, retry_after) end
  local refused = refusal(self, route, identity)
  if refused then return add_headers(refused, rl_headers) end
  local token = auth.csrf_challenge(self.csrf, identity, req, settings.csrf_ttl, settings.anonymous_csrf)
  if token then
    return add_headers(reply.plain_error(403, 0, "XSRF token invalid", { { "x-csrf-token", token } }), rl_headers)
  end
  local ctx = { app = self, st = self.st, req = req, params = params,
                q = util.parse_query(req.query), uid = identity and identity.uid }
  if route.body then
    local body, err = decode_body(route, req)
    if not body then return add_headers(err, rl_headers) end
    ctx.body = body
  end
  return add_headers(route.handler(ctx), rl_headers)
end

-- The HTTP handler.
function App:handle(req)
  if req.path:sub(1, 10) == "/_sandbox/" then return admin.handle(self, req) end
  self.last_activity = os.time()
  local delay = self:latency_for(req)
  if delay > 0 then http.sleep(delay) end
  local identity, carried = auth.identify(req, self.st.accounts)
  local entry = self:log_request(req, carried)
  local fault = faults.take(self.faults, req)
  local ctx = fault and fault_ctx(self, fault, identity)
  local resp = fault and faults.answer(fault, req, ctx)
  if not resp then
    if fault and fault.kind == "stall" then http.sleep(tonumber(fault.seconds) or 5) end
    resp = self:serve(req, identity)
    if fault then resp = faults.mangle(fault, resp, ctx) end
  end
  entry.status = resp.status
  if fault then entry.fault = fault.kind end
  return resp
end

return App

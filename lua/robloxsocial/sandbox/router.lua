-- Routing on the path alone (no two endpoints share a method and path),
-- narrowed to one service when the Host header names it, as it does when a
-- client talks to friends.roblox.com, contacts.roblox.com and so on.
-- Literal segments match case-insensitively, as ASP.NET routes do; a
-- trailing slash is ignored.
local util = require "robloxsocial.sandbox.util"

local router = {}

-- Through one base_url (a client's `base_url`, the sandbox's own address)
-- every service shares one host, and the path alone routes: no two
-- routes share a method and a path, and Open Cloud's start with /cloud/.
router.SERVICES = { "friends", "presence", "groups", "contacts", "privatemessages", "users", "apis" }

local function split(path)
  local segs = {}
  for seg in path:gmatch("[^/]+") do segs[#segs + 1] = seg end
  return segs
end

-- Compiles routes ({method, pattern, ...}) into a router.
function router.new(routes)
  local by_len = {}
  for _, r in ipairs(routes) do
    r.method, r.pattern = r[1], r[2]
    r.segs = {}
    for i, seg in ipairs(split(r.pattern)) do
      local name = seg:match("^{(%w+)}$")
      -- Id parameters match digits only, so /v1/messages/archive never
      -- reaches /v1/messages/{messageId}; contact ids are free strings.
      r.segs[i] = name and { param = name, digits = not name:find("Contact") }
        or { lit = seg:lower() }
    end
    by_len[#r.segs] = by_len[#r.segs] or {}
    table.insert(by_len[#r.segs], r)
  end
  return { by_len = by_len, routes = routes }
end

local function match_route(r, segs)
  local params = {}
  for i, s in ipairs(r.segs) do
    if s.lit then
      if s.lit ~= segs[i]:lower() then return nil end
    elseif s.digits and not segs[i]:match("^%d+$") then
      return nil
    else
      params[s.param] = util.url_decode(segs[i])
    end
  end
  return params
end

local function host_service(req)
  local host = (req.headers["host"] or ""):lower()
  for _, s in ipairs(router.SERVICES) do
    if host:sub(1, #s + 1) == s .. "." then return s end
  end
end

-- Returns route, params; or nil, list of allowed methods (405 when not
-- empty, 404 when empty).
function router.match(rt, req)
  local segs = split(req.path)
  local service = host_service(req)
  local allowed = {}
  for _, r in ipairs(rt.by_len[#segs] or {}) do
    if not service or r.service == service then
      local params = match_route(r, segs)
      if params then
        if r.method == req.method then return r, params end
        allowed[#allowed + 1] = r.method
      end
    end
  end
  return nil, allowed
end

return router

-- Who is asking, and the x-csrf-token handshake.
--
-- A request may carry the cookie (Cookie: .ROBLOSECURITY=...), an API key
-- (x-api-key) or an OAuth token (Authorization: Bearer ...).  The world's
-- accounts name the valid ones.  As on the live services, the social
-- hosts (friends, presence, groups, contacts, privatemessages, users) know
-- only the cookie: a key or a token there identifies nobody, and the
-- request is anonymous.  Keys and tokens are credentials only on the apis
-- service (Open Cloud), which knows no cookie.  Only cookie-authenticated
-- writes need the CSRF token (and, with settings.anonymous_csrf, writes
-- with no cookie).
local clock = require "robloxsocial.sandbox.clock"

local auth = {}

local function cookie_value(req)
  local cookies = req.headers["cookie"]
  if not cookies then return nil end
  for pair in (cookies .. ";"):gmatch("([^;]*);") do
    local name, value = pair:match("^%s*([^=%s]+)%s*=%s*(.-)%s*$")
    if name == ".ROBLOSECURITY" then return (value:gsub('^"(.*)"$', "%1")) end
  end
end

local function bearer_value(req)
  local h = req.headers["authorization"]
  return h and h:match("^%s*[Bb]earer%s+(%S+)%s*$")
end

-- What the request carries, strongest first: list of {kind, value, the
-- account field that holds it}.
function auth.presented(req)
  local out = {}
  local bearer = bearer_value(req)
  if bearer then out[#out + 1] = { "bearer", bearer, "access_token" } end
  local key = req.headers["x-api-key"]
  if key then out[#out + 1] = { "api_key", key, "api_key" } end
  local cookie = cookie_value(req)
  if cookie then out[#out + 1] = { "cookie", cookie, "cookie" } end
  return out
end

-- The credentials each kind of host accepts.
auth.COOKIE = { cookie = true }
auth.KEYS = { api_key = true, bearer = true }

-- Returns identity {uid, kind} or nil, and the kind of credential the
-- request carried (for the request log), whether valid or not.  Only the
-- kinds in `accepted` (default auth.COOKIE) can identify.
function auth.identify(req, accounts, accepted)
  accepted = accepted or auth.COOKIE
  local creds = auth.presented(req)
  for _, c in ipairs(creds) do
    for _, a in ipairs(accepted[c[1]] and accounts or {}) do
      if a[c[3]] ~= nil and a[c[3]] == c[2] then
        return { uid = a.user_id, kind = c[1] }, c[1]
      end
    end
  end
  return nil, creds[1] and creds[1][1]
end

local function new_token()
  local t = {}
  for i = 1, 12 do t[i] = ("%02x"):format(math.random(0, 255)) end
  return table.concat(t)
end

-- The valid token of user uid, a fresh one when it has none or it expired.
function auth.current_token(tokens, uid, ttl)
  local now = clock.now()
  local cur = tokens[uid]
  if not cur or now - cur.issued >= ttl then
    cur = { value = new_token(), issued = now }
    tokens[uid] = cur
  end
  return cur.value
end

-- A new .ROBLOSECURITY value, shaped like the live ones.
function auth.new_cookie()
  return "_|WARNING:-DO-NOT-SHARE-THIS.--rbxsb-rotated-" .. new_token() .. new_token()
end

-- Checks the CSRF token of a write.  tokens maps a user id (or, for a
-- caller with no cookie, "peer:" and its address) to {value, issued}.
-- identity is the caller's, or nil when anonymous; anonymous writes are
-- checked only when `anonymous` is true.  Returns nil when the request may
-- proceed, or a fresh token to challenge it with.
function auth.csrf_challenge(tokens, identity, req, ttl, anonymous)
  if identity and identity.kind ~= "cookie" then return nil end
  if not identity and not anonymous then return nil end
  if req.method ~= "POST" and req.method ~= "DELETE"
    and req.method ~= "PUT" and req.method ~= "PATCH" then return nil end
  local now = clock.now()
  local who = identity and identity.uid or ("peer:" .. tostring(req.peer))
  local cur = tokens[who]
  local sent = req.headers["x-csrf-token"]
  if cur and sent == cur.value and now - cur.issued < ttl then return nil end
  if not cur or now - cur.issued >= ttl then
    cur = { value = new_token(), issued = now }
    tokens[who] = cur
  end
  return cur.value
end

return auth

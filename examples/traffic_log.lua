-- A bot's traffic, logged: the on_response hook sees every exchange (the
-- CSRF handshake and retries included) without credentials, and the
-- client paces itself by the services' rate limits.  Also: who am I, from
-- the users service through client:request.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" lua5.4 examples/traffic_log.lua
local robloxsocial = require "robloxsocial"

local function log(info)
  local limit = info.rate_limit
  io.write(("%-6s %-8s %-48s %s%s attempt %d, %.1f ms, %d bytes%s%s\n"):format(
    info.method, info.service, info.url:gsub("^https?://[^/]+", ""), tostring(info.status or "-"),
    info.error_kind and (" " .. info.error_kind) or "", info.attempt, info.seconds * 1000, info.bytes,
    limit and (", %d of %d left"):format(limit.remaining, limit.limit) or "",
    info.retry_in and (", next try in %.2f s"):format(info.retry_in) or ""))
end

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),     -- nil: the real services
  on_response = log,
  on_cookie = function() io.write("the service rotated the cookie: store the new one\n") end,
}

local me = assert(client:request("GET", "users", "/v1/users/authenticated"))
print(("I am %s (@%s, id %d)"):format(me.displayName, me.name, me.id))

local count = assert(client:friends_count(me.id))
local requests = assert(client:friend_requests{ limit = 10 })
print(("%d friends, %d requests on the first page"):format(count.count, #requests.data))

-- A write: its first attempt meets the CSRF handshake, which the log shows.
local declined, err = client:decline_friend_request(requests.data[1].id)
print(declined and "declined the oldest request" or ("could not decline: " .. tostring(err)))

local limit = client:rate_limit("friends")
if limit then
  print(("friends: %d of %d requests left, reset in %.0f s"):format(limit.remaining, limit.limit, limit.reset))
end

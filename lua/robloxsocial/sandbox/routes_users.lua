-- users.roblox.com: who the caller is.  /v1/users/authenticated has three
-- segments, and every /v1/users/{userId}/... route of the other services
-- has four or more with digits only in {userId}, so none of them can take
-- it.
local reply = require "robloxsocial.sandbox.reply"

-- The caller's id, name and display name (401 without the cookie, by the
-- route's auth flag: users.roblox.com, like the other legacy hosts, takes
-- no API key and no OAuth token).
local function authenticated(ctx)
  local u = ctx.st:user(ctx.uid)
  return reply.ok { id = u.id, name = u.name, displayName = u.displayName }
end

return {
  { "GET", "/v1/users/authenticated", service = "users", auth = true, handler = authenticated },
}

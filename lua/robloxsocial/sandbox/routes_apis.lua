-- apis.roblox.com: Open Cloud, the one place where API keys and OAuth
-- tokens are credentials (the social hosts know only the cookie).  One
-- route, enough for a client to show that it sends its key or token
-- there and nowhere else.  Paths start with /cloud/, which no route of
-- the social hosts does, so the path alone routes here.
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"

-- GET /cloud/v2/users/{userId}: the Open Cloud User resource (ids as
-- strings, as Open Cloud writes them); 404 NOT_FOUND in the v2 error
-- shape for a user who does not exist.
local function cloud_user(ctx)
  local u = ctx.st:user(util.to_id(ctx.params.userId))
  if not u or u.isDeleted then
    return reply.json(404, { code = "NOT_FOUND", message = "User not found." })
  end
  return reply.ok {
    path = "users/" .. u.id, createTime = u.created, id = tostring(u.id),
    name = u.name, displayName = u.displayName, about = u.description,
    locale = "en_us", premium = false, idVerified = false,
    socialNetworkProfiles = { visibility = "SOCIAL_NETWORK_VISIBILITY_UNSPECIFIED" },
  }
end

return {
  { "GET", "/cloud/v2/users/{userId}", service = "apis", auth = "key", handler = cloud_user },
}

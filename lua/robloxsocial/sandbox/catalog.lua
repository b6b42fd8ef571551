-- The documented error codes and messages of each service, verbatim from
-- the API documents, and a shortcut that answers one of them.
local reply = require "robloxsocial.sandbox.reply"

local catalog = {}

local MESSAGES = {
  friends = {
    [1] = "The target user is invalid or does not exist.",
    [2] = "The user is banned from performing operation.",
    [3] = "The user is blocked from performing this action.",
    [5] = "The target user is already a friend.",
    [6] = "Invalid parameters.",
    [7] = "The user cannot be friends with itself.",
    [10] = "The friend request does not exist.",
    [11] = "The current users friends limit has been exceeded.",
    [12] = "The target users friends limit has been exceeded.",
    [13] = "The users are not in the same game.",
    [14] = "The user has not passed the captcha.",
    [15] = "Too many ids.",
    [16] = "Invalid ids.",
    [31] = "User with max friends sent friend request.",
    [35] = "Invalid nickname.",
  },
  presence = {
    [0] = "Invalid request.",
    [2] = "Too many User Ids being sent in the request.",
  },
  groups = {
    [3] = "The user is invalid or does not exist.",
  },
  contacts = {
    [2] = "The target user is invalid or does not exist.",
    [4] = "Invalid parameters.",
    [5] = "The user cannot tag themselves.",
    [6] = "The userTag is too long.",
    [8] = "Too many user Tags are requested.",
  },
  privatemessages = {
    [0] = "Invalid parameters.",
    [2] = "Message does not exist or the current user is not authorized to view it.",
    [5] = "Too many ids in a batch request.",
  },
}

-- An error answer of `service` with its documented message for `code`.
-- status defaults to 400.
function catalog.fail(service, code, status)
  local msg = assert(MESSAGES[service][code], "no message for " .. service .. " " .. code)
  return reply.error(status or 400, code, msg)
end

-- A bound version: local fail = catalog.for_service("friends"); fail(5)
function catalog.for_service(service)
  return function(code, status) return catalog.fail(service, code, status) end
end

return catalog

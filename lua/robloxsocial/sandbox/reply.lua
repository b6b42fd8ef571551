-- Building responses: JSON bodies and the Roblox error envelope.
--
-- Endpoint errors carry userFacingMessage, as the live services' do; the
-- framework-level ones (401, the CSRF 403, 404) do not, again as the live
-- services answer them.
local json = require "robloxsocial.sandbox.json"

local reply = {}

local JSON_TYPE = "application/json; charset=utf-8"

-- A JSON response.  headers is a list of {name, value}.
function reply.json(status, value, headers)
  local h = { { "Content-Type", JSON_TYPE } }
  for _, pair in ipairs(headers or {}) do h[#h + 1] = pair end
  return { status = status, body = json.encode(value), headers = h }
end

function reply.ok(value)
  return reply.json(200, value)
end

local function envelope(code, message, user_facing)
  local e = { code = code, message = message }
  if user_facing then e.userFacingMessage = "Something went wrong" end
  return { errors = json.array { e } }
end

-- An endpoint error with the documented code and message.
function reply.error(status, code, message, headers)
  return reply.json(status, envelope(code, message, true), headers)
end

-- A framework-level error (no userFacingMessage).
function reply.plain_error(status, code, message, headers)
  return reply.json(status, envelope(code, message, false), headers)
end

-- A 401 in one of the wordings seen live (settings.unauthorized).
function reply.unauthorized(style)
  if style == "cookie_empty_flat" then
    return reply.json(401, { code = 0, message = "Authentication cookie is empty" })
  elseif style == "cookie_empty" then
    return reply.plain_error(401, 0, "Authentication cookie is empty")
  end
  return reply.plain_error(401, 0, "Authorization has been denied for this request.")
end

-- The flood codes that Roblox documents for its 429s (never seen live).
local FLOOD = { friends = 9, contacts = 10 }

-- A 429 (settings.too_many_requests): "live", as seen in 2025-2026, or
-- "documented", with the service's documented flood code.
function reply.too_many_requests(style, service, headers)
  if style == "documented" then
    return reply.error(429, FLOOD[service] or 0, "The flood limit has been exceeded.", headers)
  end
  return reply.plain_error(429, 0, "Too many requests", headers)
end

-- Open Cloud's gateway refusing a request without a valid key or token.
function reply.invalid_api_key()
  return reply.plain_error(401, 0, "Invalid API Key")
end

function reply.not_found()
  return reply.plain_error(404, 404, "NotFound")
end

function reply.method_not_allowed(method, allowed)
  return reply.plain_error(405, 0,
    ("The requested resource does not support http method '%s'."):format(method),
    { { "Allow", table.concat(allowed, ", ") } })
end

function reply.unsupported_media(content_type)
  return reply.plain_error(415, 0,
    ("The request entity's media type '%s' is not supported for this resource.")
      :format(content_type))
end

function reply.html(status, title)
  local body = ("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
    .. "<body><h1>%d %s</h1><p>The service is temporarily unavailable.</p>"
    .. "</body></html>\n"):format(status, title, status, title)
  return { status = status, body = body,
           headers = { { "Content-Type", "text/html; charset=utf-8" } } }
end

return reply

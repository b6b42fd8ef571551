-- contacts.roblox.com: the private tags (aliases) a user gives others.
-- A tag longer than settings.max_tag_length characters is too long; one
-- containing any of settings.moderated_words is "Moderated" (and not saved).
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"
local catalog = require "robloxsocial.sandbox.catalog"

local fail = catalog.for_service("contacts")
local ok = reply.ok
local MAX_TAG_IDS = 200

local function moderated(st, text)
  for _, word in ipairs(st.settings.moderated_words) do
    if text:lower():find(word:lower(), 1, true) then return true end
  end
  return false
end

local function too_long(st, text)
  return (utf8.len(text) or #text) > st.settings.max_tag_length
end

local function validate(ctx)
  local alias = util.qget(ctx.q, "alias")
  if alias == nil then return fail(4) end
  if too_long(ctx.st, alias) then return ok { status = "TooLong" } end
  if moderated(ctx.st, alias) then return ok { status = "Moderated" } end
  return ok { status = "Success" }
end

-- A bare JSON array, in the order asked; an untagged user's tag is null.
local function get_tags(ctx)
  local ids = ctx.body.targetUserIds
  if not util.is_list(ids) then return fail(4) end
  if #ids > MAX_TAG_IDS then return fail(8) end
  local out = json.array()
  for i, v in ipairs(ids) do
    local id = util.to_id(v)
    if not id then return fail(4) end
    out[i] = { targetUserId = id, targetUserTag = json.opt(ctx.st:get_tag(ctx.uid, id)) }
  end
  return ok(out)
end

-- Setting an empty or null tag removes it.
local function set_tag(ctx)
  local st, body = ctx.st, ctx.body
  local target = util.to_id(body.targetUserId)
  local tag = body.userTag
  if not target or not (json.is_null(tag) or type(tag) == "string") then return fail(4) end
  local u = st:user(target)
  if not u or u.isDeleted then return fail(2) end
  if target == ctx.uid then return fail(5, 403) end
  if type(tag) == "string" then
    if too_long(st, tag) then return fail(6) end
    if moderated(st, tag) then return ok { status = "Moderated" } end
  end
  st:set_tag(ctx.uid, target, tag)
  return ok { status = "Success" }
end

local C = "contacts"
return {
  { "GET", "/v1/user/tag/validate", service = C, auth = true, handler = validate },
  { "POST", "/v1/user/get-tags", service = C, auth = true, body = true, handler = get_tags },
  { "POST", "/v1/user/tag", service = C, auth = true, body = true, handler = set_tag },
}

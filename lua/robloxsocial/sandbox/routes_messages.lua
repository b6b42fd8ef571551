-- privatemessages.roblox.com: the inbox, sent and archive tabs, one
-- message, the unread count, the four batch operations and announcements.
local json = require "robloxsocial.sandbox.json"
local util = require "robloxsocial.sandbox.util"
local reply = require "robloxsocial.sandbox.reply"
local models = require "robloxsocial.sandbox.models"
local catalog = require "robloxsocial.sandbox.catalog"

local fail = catalog.for_service("privatemessages")
local ok = reply.ok

local MAX_PAGE = 20      -- the service caps a page at 20 whatever pageSize says
local MAX_BATCH = 20
local NOT_FOUND = "Message does not exist or the current user is not authorized to view it."

local function message_model(st, m)
  return {
    id = m.id, sender = models.skinny(st:user(m.from)), recipient = models.skinny(st:user(m.to)),
    subject = m.subject, body = m.body, created = m.created, updated = m.updated,
    isRead = m.isRead, isSystemMessage = m.isSystemMessage,
    isReportAbuseDisplayed = m.isReportAbuseDisplayed,
  }
end

local TABS = {
  inbox = function(m, uid) return m.to == uid and not m.archived end,
  sent = function(m, uid) return m.from == uid end,
  archive = function(m, uid) return m.to == uid and m.archived end,
}

-- The messages of a tab, newest first.
local function tab_messages(st, uid, keep)
  local list = {}
  for _, m in ipairs(st.messages) do
    if keep(m, uid) then list[#list + 1] = m end
  end
  table.sort(list, function(a, b)
    if a.created ~= b.created then return a.created > b.created end
    return a.id > b.id
  end)
  return list
end

-- pageNumber from 0; pageSize defaults to 20 and is capped at 20 (below
-- 1 it is taken as 20 too); an unknown messageTab is refused.
local function paging_params(q)
  local page = util.to_int(util.qget(q, "pageNumber") or "0")
  local size = util.to_int(util.qget(q, "pageSize") or "20")
  local keep = TABS[(util.qget(q, "messageTab") or "Inbox"):lower()]
  if not page or page < 0 or not size or not keep then return nil end
  if size < 1 or size > MAX_PAGE then size = MAX_PAGE end
  return page, size, keep
end

local function list_messages(ctx)
  local page, size, keep = paging_params(ctx.q)
  if not page then return fail(0) end
  local all = tab_messages(ctx.st, ctx.uid, keep)
  local collection = json.array()
  for i = page * size + 1, math.min(#all, (page + 1) * size) do
    collection[#collection + 1] = message_model(ctx.st, all[i])
  end
  return ok { collection = collection, totalCollectionSize = #all,
              totalPages = (#all + size - 1) // size, pageNumber = page }
end

local function one_message(ctx)
  local m = ctx.st.messages_by_id[util.to_id(ctx.params.messageId)]
  if not m or (m.to ~= ctx.uid and m.from ~= ctx.uid) then return fail(2) end
  return ok(message_model(ctx.st, m))
end

local function unread_count(ctx)
  local n = 0
  for _, m in ipairs(ctx.st.messages) do
    if m.to == ctx.uid and not m.archived and not m.isRead then n = n + 1 end
  end
  return ok { count = n }
end

-- A batch operation on messages the caller received; the others are
-- reported in failedMessages.
local function batch(apply)
  return function(ctx)
    local ids = ctx.body.messageIds
    if not util.is_list(ids) then return fail(0) end
    if #ids > MAX_BATCH then return fail(5) end
    local failed = json.array()
    for _, v in ipairs(ids) do
      local m = ctx.st.messages_by_id[util.to_id(v) or 0]
      if m and m.to == ctx.uid then
        apply(m)
      else
        failed[#failed + 1] = { messageId = math.tointeger(v) or 0, errorMessage = NOT_FOUND }
      end
    end
    return ok { failedMessages = failed }
  end
end

local function announcements(ctx)
  local collection = json.array()
  for i, a in ipairs(ctx.st.announcements) do
    local sender = ctx.st:user(a.sender)
    collection[i] = { id = a.id, sender = sender and models.skinny(sender) or json.null,
                      subject = a.subject, body = a.body, created = a.created, updated = a.updated }
  end
  return ok { collection = collection, totalCollectionSize = #collection }
end

local P = "privatemessages"
return {
  { "GET", "/v1/announcements", service = P, auth = true, handler = announcements },
  { "GET", "/v1/announcements/metadata", service = P, auth = true,
    handler = function(ctx) return ok { numOfAnnouncements = #ctx.st.announcements } end },
  { "GET", "/v1/messages", service = P, auth = true, handler = list_messages },
  { "GET", "/v1/messages/{messageId}", service = P, auth = true, handler = one_message },
  { "GET", "/v1/messages/unread/count", service = P, auth = true, handler = unread_count },
  { "POST", "/v1/messages/archive", service = P, auth = true, body = true,
    handler = batch(function(m) m.archived = true end) },
  { "POST", "/v1/messages/unarchive", service = P, auth = true, body = true,
    handler = batch(function(m) m.archived = false end) },
  { "POST", "/v1/messages/mark-read", service = P, auth = true, body = true,
    handler = batch(function(m) m.isRead = true end) },
  { "POST", "/v1/messages/mark-unread", service = P, auth = true, body = true,
    handler = batch(function(m) m.isRead = false end) },
}

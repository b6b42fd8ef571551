-- Cursor paging for friends/find, friends/search and my/friends/requests.
-- Cursors are opaque base64 strings; inside they name the list they belong
-- to and an offset, so a cursor from one list is refused by another.
local util = require "robloxsocial.sandbox.util"
local json = require "robloxsocial.sandbox.json"

local paging = {}

function paging.cursor(list_key, offset)
  return util.b64encode(("RBXSB1|%s|%d"):format(list_key, offset))
end

-- The offset a cursor stands for (0 for none), or nil when it is invalid.
function paging.offset(list_key, cursor)
  if cursor == nil or cursor == "" then return 0 end
  local raw = util.b64decode(cursor)
  local key, offset = (raw or ""):match("^RBXSB1|(.*)|(%d+)$")
  if key ~= list_key then return nil end
  return math.tointeger(tonumber(offset))
end

-- Slices items[offset+1 .. offset+limit]; returns the page (a JSON array),
-- the previous page's cursor and the next page's cursor (JSON null when
-- there is none).
function paging.page(items, offset, limit, list_key)
  local page = json.array()
  for i = offset + 1, math.min(#items, offset + limit) do page[#page + 1] = items[i] end
  local prev = json.null
  if offset > 0 then prev = paging.cursor(list_key, math.max(0, offset - limit)) end
  local nxt = json.null
  if offset + limit < #items then nxt = paging.cursor(list_key, offset + limit) end
  return page, prev, nxt
end

return paging

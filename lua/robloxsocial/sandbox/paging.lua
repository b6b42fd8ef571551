-- Cursor paging for friends/find, friends/search and my/friends/requests.
--
-- Cursors are opaque base64 strings.  Inside, they name the list they
-- belong to (so a cursor from one list is refused by another) and the
-- sort key of the item at the edge of the page handed out: the next page
-- starts after the last item's key, the previous page ends before the
-- first item's key.  No offsets: removing items already handed out (say,
-- accepting friend requests while iterating) neither skips nor repeats
-- any other item.
--
-- A list is given as sorted entries { key = {...}, value = item }, where
-- key is a tuple (numbers and strings) unique within the list and ordered
-- as the list is, component by component; desc[i] true means component i
-- runs from high to low.
local util = require "robloxsocial.sandbox.util"
local json = require "robloxsocial.sandbox.json"

local paging = {}

-- -1, 0 or 1 as key a sorts before, with or after key b.
function paging.compare(a, b, desc)
  for i = 1, math.max(#a, #b) do
    local x, y = a[i], b[i]
    if x ~= y then
      if x == nil or y == nil or type(x) ~= type(y) then return x == nil and -1 or 1 end
      local r = x < y and -1 or 1
      if desc and desc[i] then r = -r end
      return r
    end
  end
  return 0
end

function paging.cursor(list_key, direction, key)
  return util.b64encode(("RBXSB2|%s|%s|%s"):format(list_key, direction, json.encode(json.array(key))))
end

-- The direction ("after" or "before") and key a cursor stands for; none
-- for no cursor; nil when it is invalid or belongs to another list.
function paging.parse(list_key, cursor)
  if cursor == nil or cursor == "" then return "none" end
  local raw = util.b64decode(cursor) or ""
  local prefix = "RBXSB2|" .. list_key .. "|"
  if raw:sub(1, #prefix) ~= prefix then return nil end
  local direction, text = raw:sub(#prefix + 1):match("^(%a+)|(.*)$")
  if direction ~= "after" and direction ~= "before" then return nil end
  local key = json.decode(text or "")
  if type(key) ~= "table" or not util.is_list(key) then return nil end
  for _, v in ipairs(key) do
    if type(v) ~= "string" and math.type(v) ~= "integer" then return nil end
  end
  return direction, key
end

-- The page of `entries` a cursor asks for.  Returns the page (a JSON
-- array of the values), the previous and the next page's cursors (JSON
-- null when there is none); nil when the cursor is invalid.
function paging.page(entries, cursor, limit, list_key, desc)
  local direction, key = paging.parse(list_key, cursor)
  if not direction then return nil end
  local first, last
  if direction == "before" then
    last = 0
    for i, e in ipairs(entries) do
      if paging.compare(e.key, key, desc) < 0 then last = i else break end
    end
    first = math.max(1, last - limit + 1)
  else
    first = 1
    if direction == "after" then
      first = #entries + 1
      for i, e in ipairs(entries) do
        if paging.compare(e.key, key, desc) > 0 then first = i; break end
      end
    end
    last = math.min(#entries, first + limit - 1)
  end
  local page = json.array()
  for i = first, last do page[#page + 1] = entries[i].value end
  local prev, nxt = json.null, json.null
  if first > 1 and first <= #entries then prev = paging.cursor(list_key, "before", entries[first].key) end
  if last < #entries and last >= 1 then nxt = paging.cursor(list_key, "after", entries[last].key) end
  return page, prev, nxt
end

return paging

-- Iterators over paged endpoints, in the style of io.lines:
--   for friend in client:each_friend(user_id) do ... end
-- A page is fetched only when the previous one is used up.  When a page
-- cannot be fetched the iterator raises the error object: ending the loop
-- would look like the end of the list.

local core = require "robloxsocial.core"
local methods = require "robloxsocial.methods"

local null, error_mt = core.null, core.error_mt

local paging = {}

local function is_set(v)
  return v ~= nil and v ~= null and v ~= ""
end

-- An error object for a service that breaks the paging rules.
local function paging_error(row, message)
  return setmetatable({ kind = "decode", message = message, method = row.method }, error_mt)
end

-- Moves the opts to the next page; returns false when there is none.
local function advance_cursor(row, opts, answer)
  local cursor = answer[row.paging.cursor]
  if not is_set(cursor) or answer.HasMore == false then return false end
  if cursor == opts.cursor then
    error(paging_error(row, "the service answered the same cursor twice"), 0)
  end
  opts.cursor = cursor
  return true
end

-- pageNumber counts from 0; the service may cap a page below page_size,
-- so only totalPages says when the list ends.
local function advance_page(row, opts, answer)
  local page, total = opts.page or 0, answer.totalPages
  if math.type(total) ~= "integer" then
    error(paging_error(row, "the answer has no totalPages"), 0)
  end
  if page + 1 >= total then return false end
  opts.page = page + 1
  return true
end

function paging.iterator(row, client_mt)
  local name = row.paging.iterator
  local advance = row.paging.numbered and advance_page or advance_cursor
  local items_field = row.paging.items
  local opts_at = #row.params + 1
  local check_call = methods.check_call
  return function(self, ...)
    local values = check_call(row, name, client_mt, self, ...)
    local items, i, more = {}, 0, true
    return function()
      while i >= #items do
        if not more then return nil end
        local answer, err = methods.call(self, row, values)
        if not answer then error(err, 0) end
        local page = answer[items_field]
        items, i = type(page) == "table" and page or {}, 0
        more = advance(row, values[opts_at], answer)
      end
      i = i + 1
      return items[i]
    end
  end
end

return paging

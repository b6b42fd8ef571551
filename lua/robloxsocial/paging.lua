-- Iterators over paged endpoints, in the style of io.lines:
--   for friend in client:each_friend(user_id) do ... end
-- A page is fetched only when the previous one is used up (or, with
-- opts.prefetch, as soon as the previous one is handed out).  When a page
-- cannot be fetched the iterator raises the error object: ending the loop
-- would look like the end of the list.  Nor does it run without end: a
-- cursor seen before, or more than MAX_EMPTY pages in a row without an
-- item, is a decode error.  opts.deadline (or the client's deadline)
-- bounds the whole walk from when the iterator is made: every page is
-- sent with that one deadline, and a page due after it raises a timeout.

local core = require "robloxsocial.core"
local methods = require "robloxsocial.methods"
local deadline = require "robloxsocial.deadline"
local tasks = require "robloxsocial.tasks"

local null, error_mt = core.null, core.error_mt
local start, start_blocking, result, cancel = core.start, core.start_blocking, core.result, core.cancel
local progress, adopt = core.progress, core.adopt

local MAX_EMPTY = 10

local paging = {}

local function is_set(v)
  return v ~= nil and v ~= null and v ~= ""
end

-- An error object for a service that breaks the paging rules.
local function paging_error(row, message)
  return setmetatable({ kind = "decode", message = message, method = row.method }, error_mt)
end

-- A 64-bit FNV-1a digest of a cursor: what the walk remembers of it.
-- Two cursors of one walk share a digest with a chance of about 1 in 10^11.
local byte = string.byte
local function digest(s)
  local h = -3750763034362895579                -- 0xcbf29ce484222325
  for i = 1, #s do h = (h ~ byte(s, i)) * 1099511628211 end
  return h
end

-- The cursors of a walk.  The first EXACT are all remembered, so that a
-- service answering any of them again is caught at once; past those (a
-- list of more than 50,000 items) memory stays flat: Brent's method keeps
-- one checkpoint, moved to the current cursor whenever the steps since
-- the last move reach a power of two, and a cycle is caught before the
-- walk has doubled in length.  Returns true for a cursor seen before.
local EXACT = 1024
local function seen_before(walk, cursor)
  local key = digest(cursor)
  if walk.count < EXACT then
    if walk[key] then return true end
    walk[key], walk.count = true, walk.count + 1
    walk.checkpoint, walk.power, walk.steps = key, EXACT, 0
    return false
  end
  if key == walk.checkpoint or walk[key] then return true end
  walk.steps = walk.steps + 1
  if walk.steps == walk.power then
    walk.checkpoint, walk.power, walk.steps = key, walk.power * 2, 0
  end
  return false
end

paging.seen_before = seen_before      -- for the specs

-- Moves the opts to the next page; returns false when there is none.
local function advance_cursor(row, opts, answer, walk)
  local cursor = answer[row.paging.cursor]
  if not is_set(cursor) or answer.HasMore == false then return false end
  if cursor == opts.cursor
     or seen_before(walk, type(cursor) == "string" and cursor or tostring(cursor)) then
    error(paging_error(row, "the service answered a cursor it had answered before"), 0)
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

-- The request of the page that values describe, started (a transfer),
-- bound by the walk's deadline due (or nil); past it, raises a timeout.
local function start_page(self, row, values, due)
  if deadline.passed(due) then error(deadline.error(row.method), 0) end
  local path, query, body = methods.build(row, values)
  if tasks.current() then
    return start(self, row.method, row.service, path, query, body, nil, nil, nil, due)
  end
  local t = start_blocking(self, row.method, row.service, path, query, body, nil, nil, nil, due)
  progress(0)               -- on its way while the caller works
  return t
end

-- A page prefetched outside a task may be taken inside one (the loop
-- began outside and goes on in a task): the task waits for it as for a
-- page of its own, which the loop lists once it is over.
local function take_page(t)
  if tasks.current() then
    adopt(t)
    tasks.await(t)
  end
  return result(t)
end

-- Closing the loop early (break, error) abandons a prefetched page; so
-- does dropping an iterator called by hand (its state is collected),
-- which would otherwise leave a page of a task anchored in the loop.
local function abandon_pending(state)
  if state.pending then cancel(state.pending); state.pending = nil end
end
local closer_mt = { __close = abandon_pending, __gc = abandon_pending }

function paging.iterator(row, client_mt)
  local name = row.paging.iterator
  local advance = row.paging.numbered and advance_page or advance_cursor
  local items_field = row.paging.items
  local opts_at = #row.params + 1
  local check_call_as = methods.check_call_as
  return function(self, ...)
    local values = check_call_as("iterator", row, name, client_mt, self, ...)
    local due = deadline.at(self, values.call.deadline)     -- from when the iterator is made
    return paging.iterator_of(row, values, self, advance, items_field, opts_at,
                              values.call.prefetch == true, due)
  end
end

function paging.iterator_of(row, values, self, advance, items_field, opts_at, prefetch, due)
  local items, i, more, empty, walk = {}, 0, true, 0, { count = 0 }
  local state = setmetatable({}, closer_mt)
  local function fetch()
    local t = state.pending or start_page(self, row, values, due)
    state.pending = nil
    local answer, err = take_page(t)
    if not answer then error(err, 0) end
    local page = answer[items_field]
    items, i = type(page) == "table" and page or {}, 0
    empty = #items == 0 and empty + 1 or 0
    if empty > MAX_EMPTY then
      error(paging_error(row, ("the service answered more than %d pages in a row without an item")
        :format(MAX_EMPTY)), 0)
    end
    more = advance(row, values[opts_at], answer, walk)
    -- past the deadline the next fetch raises, once this page is used up
    if more and prefetch and not deadline.passed(due) then
      state.pending = start_page(self, row, values, due)
    end
  end
  return function()
    while i >= #items do
      if not more then return nil end
      fetch()
    end
    i = i + 1
    return items[i]
  end, nil, nil, state
end

return paging

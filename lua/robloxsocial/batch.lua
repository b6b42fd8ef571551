-- Methods that take a list of ids of any length: the list is split into
-- requests of at most the endpoint's batch size, sent concurrently (the
-- client's concurrency caps them), and the answers merged in the order of
-- the list into one result of the same shape as a single answer.

local core = require "robloxsocial.core"
local methods = require "robloxsocial.methods"
local tasks = require "robloxsocial.tasks"

local move, min, tointeger = table.move, math.min, math.tointeger
local start, start_blocking, result, done = core.start, core.start_blocking, core.result, core.done
local withdraw, progress, cancel = core.withdraw, core.progress, core.cancel

local batch = {}

-- Per-client overrides from robloxsocial.new{ batch_sizes = ... }; weak
-- keys, so the table never keeps a client alive.
local sizes_of = setmetatable({}, { __mode = "k" })

function batch.set_sizes(client, sizes)
  sizes_of[client] = sizes
end

function batch.size(client, row)
  local sizes = sizes_of[client]
  return sizes and sizes[row.name] or row.batch.size
end

local function position_of(row)
  for i, p in ipairs(row.params) do
    if p[1] == row.batch.param then return i end
  end
  error("robloxsocial: batch parameter missing in row " .. row.name)
end

-- The answer to no ids at all, without asking the service.
local function empty_result(row)
  local merge = row.batch.merge
  if merge == "list" then return {} end
  return { [merge] = {} }
end

-- Appends the items of answer to result (both of the row's shape).
local function append(row, result, answer)
  local merge = row.batch.merge
  local into = merge == "list" and result or result[merge]
  local from = merge == "list" and answer or answer[merge]
  if type(from) == "table" then move(from, 1, #from, #into + 1, into) end
end

-- The first answer becomes the result, with its list made a table even
-- when the service sent null or nothing.
local function first_result(row, answer)
  local merge = row.batch.merge
  if merge ~= "list" and type(answer[merge]) ~= "table" then answer[merge] = {} end
  return answer
end

-- Each call's transfers share a group: after one fails, the loop starts
-- none of the others still waiting for a slot.
local last_group = 0

-- The chunks of a call, in a to-be-closed variable: however the call
-- ends (a hook or a memory error raised, its task cancelled), none of
-- its requests not yet settled goes out afterwards, and the loop lets go
-- of them.  Once every chunk is settled this does nothing.
local chunks_mt = { __close = function(chunks)
  for _, c in ipairs(chunks) do
    if not c.settled and c.t then cancel(c.t) end
  end
end }

-- Starts one transfer per chunk of ids into chunks; they queue on the
-- client.
local function start_chunks(self, row, values, at, ids, size, in_task, chunks)
  local begin = in_task and start or start_blocking
  last_group = last_group % 0x7fffffff + 1
  local group = last_group
  for first = 1, #ids, size do
    local last = min(first + size - 1, #ids)
    local path, query, body
    if row.ids_body then                -- the chunk written straight from the list
      values[at] = ids
      path, query, body = methods.build(row, values, first, last)
    else
      values[at] = move(ids, first, last, 1, {})
      path, query, body = methods.build(row, values)
    end
    local c = { first = first, last = last }
    chunks[#chunks + 1] = c       -- in the list before it starts: a raise leaves none behind
    c.t = begin(self, row.method, row.service, path, query, body, group, nil, row.read)
  end
end

-- How many chunks, from the first not settled on, a batch looks at and
-- waits for.  A client's queue is first come, first served, so a chunk
-- starts only after those before it: the first ones not settled are the
-- ones in flight, or go next.  Answers further on are taken once the
-- window reaches them (their slots are free meanwhile), and a batch of
-- many chunks costs each answer this much, not the whole list.
local WINDOW = 64

-- Waits until a transfer of the chunks from..last not yet settled is over.
local function wait_some(chunks, from, last, in_task)
  if in_task then
    local open = {}
    for i = from, last do
      local c = chunks[i]
      if not c.settled then open[#open + 1] = c.t end
    end
    return tasks.await_any(open)
  end
  progress(1.0)
end

-- Cancels the chunks from `from` on still waiting for a slot.
local function withdraw_rest(chunks, from)
  for i = from, #chunks do
    local c = chunks[i]
    if not c.settled and withdraw(c.t) then c.settled, c.withdrawn = true, true end
  end
end

-- Takes the answers as they come.  After the first failure no further
-- chunk starts: the loop cancels those still waiting for a slot (and so
-- does this, for a failure it sees first).
local function settle(chunks, in_task)
  local n, from, failed, withdrawn = #chunks, 1, false, false
  while true do
    local last = min(from + WINDOW - 1, n)
    for i = from, last do
      local c = chunks[i]
      if not c.settled and done(c.t) then
        c.settled = true
        c.answer, c.err = result(c.t)
        if not c.answer then
          failed = true
          c.withdrawn = c.err.kind == "cancelled"
        end
      end
    end
    if failed and not withdrawn then
      withdraw_rest(chunks, from)
      withdrawn = true
    end
    while from <= n and chunks[from].settled do from = from + 1 end
    if from > n then return failed end
    wait_some(chunks, from, min(from + WINDOW - 1, n), in_task)
  end
end

-- The error of the first chunk that failed, in list order, with what was
-- done: done (ids handled), partial (their merged answer), failed (the
-- ids not handled, in order, to call the method again with).
local function batch_error(row, chunks, ids)
  local err, first_cancelled, partial, rest, handled = nil, nil, empty_result(row), {}, 0
  for _, c in ipairs(chunks) do
    if c.answer then
      append(row, partial, first_result(row, c.answer))
      handled = handled + (c.last - c.first + 1)
    else
      if not err and not c.withdrawn then err = c.err end
      first_cancelled = first_cancelled or c.err
      for i = c.first, c.last do rest[#rest + 1] = tointeger(ids[i]) end   -- 12.0 as 12
    end
  end
  err = err or first_cancelled
  err.done, err.partial, err.failed = handled, partial, rest
  return err
end

function batch.method(row, client_mt)
  local at = position_of(row)
  local check_call, name = methods.check_call, row.name
  return function(self, ...)
    local values = check_call(row, name, client_mt, self, ...)
    local ids = values[at]
    if #ids == 0 then return empty_result(row) end
    local in_task = tasks.current() ~= nil
    local chunks <close> = setmetatable({}, chunks_mt)
    start_chunks(self, row, values, at, ids, batch.size(self, row), in_task, chunks)
    if settle(chunks, in_task) then return nil, batch_error(row, chunks, ids) end
    local merged = first_result(row, chunks[1].answer)
    for i = 2, #chunks do append(row, merged, chunks[i].answer) end
    return merged
  end
end

return batch

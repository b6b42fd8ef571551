-- Methods that take a list of ids of any length: the list is split into
-- requests of at most the endpoint's batch size, fed to the client's
-- queue as its slots free up (at most `concurrency` of them ahead of the
-- answers, so that a long batch and a call made meanwhile take turns),
-- and the answers merged in the order of the list into one result of the
-- same shape as a single answer.  The last, optional opts table:
-- on_progress(done, total) after each request answered; on_chunk(answer,
-- first, last) takes each answer instead of the merge (the call then
-- returns the number of ids handled); deadline bounds the whole call.

local core = require "robloxsocial.core"
local methods = require "robloxsocial.methods"
local deadline = require "robloxsocial.deadline"
local tasks = require "robloxsocial.tasks"

local move, min, tointeger = table.move, math.min, math.tointeger
local start, start_blocking, result, done = core.start, core.start_blocking, core.result, core.done
local withdraw, progress, cancel = core.withdraw, core.progress, core.cancel
local concurrency = core.concurrency

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

-- A call's state, in a to-be-closed variable: however the call ends (a
-- callback, a hook or a memory error raised, its task cancelled), none of
-- its requests not yet settled goes out afterwards, and the loop lets go
-- of them.  Once every chunk is settled this does nothing.
--   chunks   those started, in list order: { first, last, t, settled,
--            ok (answered), answer (kept for the merge), err, withdrawn }
--   open     the chunks started and not settled
--   done     ids handled;  sent  whether a write may have taken effect
local job_mt = { __close = function(job)
  for _, c in ipairs(job.chunks) do
    if not c.settled and c.t then cancel(c.t) end
  end
end }

-- Starts the next chunk of ids; it queues on the client.
local function start_chunk(job)
  local row, values, at, ids = job.row, job.values, job.at, job.ids
  local first = #job.chunks * job.size + 1
  local last = min(first + job.size - 1, #ids)
  local path, query, body
  if row.ids_body then                  -- the chunk written straight from the list
    values[at] = ids
    path, query, body = methods.build(row, values, first, last)
  else
    values[at] = move(ids, first, last, 1, {})
    path, query, body = methods.build(row, values)
  end
  local c = { first = first, last = last }
  job.chunks[#job.chunks + 1] = c       -- listed before it starts: a raise leaves none behind
  job.open[#job.open + 1] = c
  c.t = job.begin(job.client, row.method, row.service, path, query, body, job.group, nil, row.read, job.due)
end

-- Cancels the open chunks still waiting for a slot.
local function withdraw_open(job)
  local open, kept = job.open, 0
  for i = 1, #open do
    local c = open[i]
    open[i] = nil
    if withdraw(c.t) then
      c.settled, c.withdrawn = true, true
    else
      kept = kept + 1
      open[kept] = c
    end
  end
end

-- After the first failure (or the deadline) no further chunk starts, and
-- those still waiting for a slot are withdrawn (the loop withdraws them
-- too, for a failure it sees first).
local function fail(job)
  if job.failed then return end
  job.failed = true
  withdraw_open(job)
end

-- Starts chunks while fewer than the client's concurrency are open: the
-- queue never holds more of this call than its slots could take, so a
-- call made meanwhile waits for those at most.
local function feed(job)
  while not job.failed and #job.chunks < job.count and #job.open < job.ahead do
    if deadline.passed(job.due) then
      job.late = deadline.error(job.row.method)
      fail(job)
    else
      start_chunk(job)
    end
  end
end

-- Takes the answer of a chunk that is over; callbacks run here, in the
-- Lua layer, once the core has handed the answer over.
local function settle(job, c)
  c.settled = true
  local answer, err = result(c.t)
  c.t = nil
  if not answer then
    c.err, c.withdrawn = err, err.kind == "cancelled"
    -- an answered 429 was not carried out, whatever its own error says
    if job.write and err.sent and err.status ~= 429 then job.sent = true end
    return fail(job)
  end
  c.ok = true
  if job.write then job.sent = true end
  job.done = job.done + (c.last - c.first + 1)
  if job.on_chunk then job.on_chunk(answer, c.first, c.last) else c.answer = answer end
  if job.on_progress then job.on_progress(job.done, #job.ids) end
end

-- Settles the open chunks that are over; returns how many there were.
local function take_over(job)
  local open, kept, over = job.open, 0, {}
  for i = 1, #open do
    local c = open[i]
    open[i] = nil
    if done(c.t) then
      over[#over + 1] = c
    else
      kept = kept + 1
      open[kept] = c
    end
  end
  for _, c in ipairs(over) do settle(job, c) end
  return #over
end

-- Waits until a transfer of the open chunks is over.
local function wait_some(job)
  if job.in_task then
    local open = {}
    for i, c in ipairs(job.open) do open[i] = c.t end
    return tasks.await_any(open)
  end
  progress(1.0)
end

local function run(job)
  feed(job)
  while #job.open > 0 do
    if take_over(job) == 0 then wait_some(job) else feed(job) end
  end
end

-- The ids of positions first..last, as integers (12.0 as 12), added to out.
local function add_ids(out, ids, first, last)
  for i = first, last do out[#out + 1] = tointeger(ids[i]) end
end

-- The error of the first chunk that failed, in list order (else the
-- deadline's, else a cancellation), with what was done: done (ids
-- handled), partial (their merged answer; none with on_chunk, which had
-- them), failed (the ids not handled, in order, to call the method again
-- with), and for a write sent (whether any request may have taken effect).
local function batch_error(job)
  local row, ids = job.row, job.ids
  local err, first_cancelled, rest = nil, nil, {}
  local partial = not job.on_chunk and empty_result(row) or nil
  for _, c in ipairs(job.chunks) do
    if c.ok then
      if partial then append(row, partial, first_result(row, c.answer)) end
    else
      if not err and c.err and not c.withdrawn then err = c.err end
      first_cancelled = first_cancelled or c.err
      add_ids(rest, ids, c.first, c.last)
    end
  end
  add_ids(rest, ids, #job.chunks * job.size + 1, #ids)      -- never started
  err = err or job.late or first_cancelled or deadline.error(row.method)
  err.done, err.partial, err.failed = job.done, partial, rest
  if job.write then err.sent = job.sent else err.sent = nil end
  return err
end

function batch.method(row, client_mt)
  local at = position_of(row)
  local check_call_as, name = methods.check_call_as, row.name
  local write = row.method ~= "GET" and not row.read
  return function(self, ...)
    local values = check_call_as("batch", row, name, client_mt, self, ...)
    local call = values.call
    local due = deadline.at(self, call.deadline)            -- the call is made now
    local ids = values[at]
    if #ids == 0 then
      if call.on_chunk then return 0 end
      return empty_result(row)
    end
    local in_task = tasks.current() ~= nil
    local size = batch.size(self, row)
    last_group = last_group % 0x7fffffff + 1
    local job <close> = setmetatable({
      client = self, row = row, values = values, at = at, ids = ids, size = size,
      count = (#ids + size - 1) // size, ahead = concurrency(self), due = due,
      in_task = in_task, begin = in_task and start or start_blocking, group = last_group,
      write = write, on_chunk = call.on_chunk, on_progress = call.on_progress,
      chunks = {}, open = {}, done = 0, sent = false, failed = false,
    }, job_mt)
    run(job)
    if job.failed then return nil, batch_error(job) end
    if job.on_chunk then return job.done end
    local chunks = job.chunks
    local merged = first_result(row, chunks[1].answer)
    for i = 2, #chunks do append(row, merged, chunks[i].answer) end
    return merged
  end
end

return batch

-- Methods that take a list of ids of any length: the list is split into
-- requests of at most the endpoint's batch size, sent in order, and the
-- answers merged into one result of the same shape as a single answer.

local methods = require "robloxsocial.methods"

local move, min = table.move, math.min

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

function batch.method(row, client_mt)
  local at = position_of(row)
  local check_call, name = methods.check_call, row.name
  return function(self, ...)
    local values = check_call(row, name, client_mt, self, ...)
    local ids, size, result = values[at], batch.size(self, row), nil
    if #ids == 0 then return empty_result(row) end
    for first = 1, #ids, size do
      values[at] = move(ids, first, min(first + size - 1, #ids), 1, {})
      local answer, err = methods.call(self, row, values)
      if not answer then
        -- What was done before the failure, so that a caller can resume.
        err.done, err.partial = first - 1, result or empty_result(row)
        return nil, err
      end
      if result then append(row, result, answer) else result = first_result(row, answer) end
    end
    return result
  end
end

return batch

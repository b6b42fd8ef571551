-- What the bench scripts share: running commands, reading their output,
-- and counting instructions under callgrind by the difference method.

local harness = {}

-- Quotes s for the shell.
function harness.q(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
local q = harness.q

-- Runs a shell command and returns its output; raises when it fails.
function harness.run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local text = p:read("a")
  local ok, _, code = p:close()
  if not ok then error(("bench: `%s` failed (%s):\n%s"):format(cmd, tostring(code), text), 0) end
  return text
end
local run = harness.run

-- The number after key in a line like "requests 20000 seconds 0.8 rps 25000".
function harness.field(text, key)
  local value = tonumber(text:match(key .. " ([%d.]+)"))
  return value or error("bench: no " .. key .. " in: " .. text, 0)
end

function harness.median(t)
  local s = table.move(t, 1, #t, 1, {})
  table.sort(s)
  local m = #s // 2
  return #s % 2 == 1 and s[m + 1] or (s[m] + s[m + 1]) / 2
end

local function callgrind_total(file)
  local f = assert(io.open(file))
  local text = f:read("a")
  f:close()
  local total = tonumber(text:match("\nsummary:%s*(%d+)") or text:match("\ntotals:%s*(%d+)"))
  return total or error("bench: no totals in " .. file, 0)
end

-- Instructions per unit of work: (I(n2) - I(n1)) / (n2 - n1), so that
-- start-up, loading and connecting cancel.  make_cmd(n) is the command
-- doing n units.  The median of reps: with a server on the other end,
-- how often a read finds no data yet varies a little from run to run.
-- The files of the last repetition stay as OUT/callgrind.NAME.N for
-- callgrind_annotate and harness.profile.
function harness.per_unit(out, name, make_cmd, n1, n2, reps)
  local values = {}
  for rep = 1, reps or 1 do
    local totals = {}
    for _, n in ipairs({ n1, n2 }) do
      local file = ("%s/callgrind.%s.%d"):format(out, name, n)
      run(("valgrind --tool=callgrind --callgrind-out-file=%s %s"):format(q(file), make_cmd(n)))
      totals[n] = callgrind_total(file)
    end
    values[rep] = (totals[n2] - totals[n1]) / (n2 - n1)
  end
  return harness.median(values)
end

-- Per-function instructions per unit of the last per_unit run of name,
-- from cg_diff.lua; the text is also written to OUT/profile_NAME.txt
-- (OUT/profile_NAME_inclusive.txt with inclusive costs).
function harness.profile(out, name, n1, n2, top, inclusive)
  local bench = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  local text = run(("lua5.4 %s %s %s %d %d %s"):format(q(bench .. "/cg_diff.lua"),
    q(("%s/callgrind.%s.%d"):format(out, name, n1)),
    q(("%s/callgrind.%s.%d"):format(out, name, n2)), n2 - n1, top, inclusive and "inclusive" or ""))
  local f = assert(io.open(("%s/profile_%s%s.txt"):format(out, name, inclusive and "_inclusive" or ""), "w"))
  f:write(text)
  f:close()
  return text
end

-- The cost per unit of the function called name in a cg_diff text (the
-- largest, when callgrind lists it under several source files), or 0.
function harness.cost_of(text, name)
  local best = 0
  for n, fn in text:gmatch("\n%s*(%d+)%s+[^\n]-:([%w_]+) %[") do
    if fn == name then best = math.max(best, tonumber(n)) end
  end
  return best
end

return harness

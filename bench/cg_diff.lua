-- Per-function cost of one unit of work, from two callgrind runs that did
-- SMALL and BIG units: (cost in BIG - cost in SMALL) / (BIG - SMALL), so
-- start-up, module loading and connection set-up cancel out.
--
--   lua5.4 cg_diff.lua OUT_SMALL OUT_BIG UNITS [TOP] [inclusive]
--
-- UNITS is BIG - SMALL.  Prints the TOP (default 25) functions by
-- instructions per unit, exclusive cost unless "inclusive" is given.

local small, big, units = arg[1], arg[2], tonumber(arg[3])
local top, inclusive = tonumber(arg[4] or 25), arg[5] == "inclusive"
assert(small and big and units, "usage: lua5.4 cg_diff.lua OUT_SMALL OUT_BIG UNITS [TOP] [inclusive]")

-- Reads callgrind_annotate's function table: cost by "file:function [object]".
local function costs(file)
  local cmd = ("callgrind_annotate --auto=no --threshold=100 --inclusive=%s %s 2>/dev/null")
    :format(inclusive and "yes" or "no", file)
  local t, total = {}, nil
  local p = assert(io.popen(cmd))
  for line in p:lines() do
    local n, rest = line:match("^%s*([%d,]+)%s+%b()%s+(.+)$")
    -- Lines of callers and callees ("=> ...") repeat costs: skip them.
    if n and not rest:match("^[<=]") then
      n = tonumber((n:gsub(",", "")))
      if rest:match("^PROGRAM TOTALS") then total = n else t[rest] = (t[rest] or 0) + n end
    end
  end
  p:close()
  return t, assert(total, "no totals in " .. file)
end

local a, ta = costs(small)
local b, tb = costs(big)
local rows = {}
for name, cost in pairs(b) do
  local d = (cost - (a[name] or 0)) / units
  if d ~= 0 then rows[#rows + 1] = { name = name, per = d } end
end
table.sort(rows, function(x, y) return x.per > y.per end)

print(("%12.0f  instructions per unit in all (%s)"):format((tb - ta) / units,
  inclusive and "inclusive costs below" or "exclusive costs below"))
for i = 1, math.min(top, #rows) do
  -- Drop the source directory: the function and its object say enough.
  local name = rows[i].name:gsub("^[^ ]*/([^/ ]+:)", "%1")
  print(("%12.0f  %s"):format(rows[i].per, name))
end

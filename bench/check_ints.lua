-- Checks that robloxsocial's decoder gives back exactly the values the
-- bench bodies were written from (gen_bodies.lua): every integer a Lua
-- integer with the same value, every string, boolean and null the same.
-- lua-cjson decodes the same bytes for contrast.
--
--   lua5.4 check_ints.lua DIR NAME...
--
-- Prints one line per body: "NAME ints N exact N cjson_exact M mismatches
-- X" and exits 1 when robloxsocial got anything wrong.

local core = require "robloxsocial.core"
local cjson = require "cjson"
local bodies = require "gen_bodies"

local NULL = bodies.NULL

-- Walks the source value and the decoded one together; counts integers
-- and calls wrong(path) for each difference.
local function compare(src, got, path, tally, strict)
  if src == NULL then
    if got ~= core.null then tally.wrong(path) end
  elseif math.type(src) == "integer" then
    tally.ints = tally.ints + 1
    local exact = got == src and (not strict or math.type(got) == "integer")
    -- A float equal to src only means the float rounds to it; check the
    -- conversion both ways, as an id compared to a stored id would.
    if exact and math.type(got) == "float" then exact = math.tointeger(got) == src end
    if exact then tally.exact = tally.exact + 1 else tally.wrong(path) end
  elseif type(src) == "table" then
    if type(got) ~= "table" then return tally.wrong(path) end
    for k, v in pairs(src) do compare(v, got[k], path .. "." .. k, tally, strict) end
    for k in pairs(got) do
      if src[k] == nil then tally.wrong(path .. "." .. tostring(k)) end
    end
  elseif src ~= got then
    tally.wrong(path)
  end
end

local function check(decoded, src, strict)
  local tally = { ints = 0, exact = 0, mismatches = 0, first = nil }
  function tally.wrong(path)
    tally.mismatches = tally.mismatches + 1
    tally.first = tally.first or path
  end
  compare(src, decoded, "$", tally, strict)
  return tally
end

local dir, failed = arg[1], false
for i = 2, #arg do
  local name = arg[i]
  local f = assert(io.open(dir .. "/" .. name .. ".json", "rb"))
  local text = f:read("a")
  f:close()
  local src = bodies[name].value
  local ours = check(assert(core.json_decode(text)), src, true)
  -- cjson decodes null as its own light userdata NULL, the same value as
  -- robloxsocial.null; its integers come back as floats.
  local theirs = check(cjson.decode(text), src, false)
  print(("%s ints %d exact %d cjson_exact %d mismatches %d%s"):format(name, ours.ints,
    ours.exact, theirs.exact, ours.mismatches, ours.first and " first " .. ours.first or ""))
  failed = failed or ours.mismatches > 0 or ours.exact ~= ours.ints
end
os.exit(failed and 1 or 0)

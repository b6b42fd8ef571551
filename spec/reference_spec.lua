-- The README's API reference is generated from the endpoint table; this
-- fails when one changed without the other.
local reference = dofile("scripts/gen_reference.lua")

describe("README.md's API reference", function()
  it("is exactly what scripts/gen_reference.lua makes of endpoints.lua", function()
    local f = assert(io.open("README.md"))
    local readme = f:read("a")
    f:close()
    local first = readme:find(reference.BEGIN, 1, true)
    local _, last = readme:find(reference.END, 1, true)
    assert.is_number(first, "README.md has no reference block")
    assert.equal(reference.render(), readme:sub(first, last))
  end)

  it("shows each method's rule and marks the eight writes removed from Roblox's reference", function()
    local endpoints = require("robloxsocial").endpoints
    local text, wrong, removed = reference.render(), {}, 0
    local rules = { cookie = "cookie only", any = "anonymous or cookie" }
    for _, row in ipairs(endpoints) do
      local line = text:match("\n(| `" .. row.name .. "%(.-)\n")
      local cells = {}
      for cell in (line or ""):gmatch("|([^|]*)") do cells[#cells + 1] = cell:match("^%s*(.-)%s*$") end
      local note = (line or ""):find("Removed from Roblox's API reference on 2026-06-15: may stop working", 1, true)
      if cells[3] ~= rules[row.auth] or (row.removed ~= nil) ~= (note ~= nil) then wrong[#wrong + 1] = row.name end
      if note then removed = removed + 1 end
    end
    assert.same({}, wrong)
    assert.equal(8, removed)
  end)

  it("lists every method of the client", function()
    local client_methods = getmetatable(require("spec.support").client()).__index
    local f = assert(io.open("README.md"))
    local readme = f:read("a")
    f:close()
    local missing = {}
    for name in pairs(client_methods) do
      if name ~= "close" and name ~= "request" and not readme:find("`" .. name .. "(", 1, true) then
        missing[#missing + 1] = name
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)

describe("lua/robloxsocial/types.lua, the LuaLS annotations", function()
  local annotations = dofile("scripts/gen_annotations.lua")

  it("is exactly what scripts/gen_annotations.lua makes of endpoints.lua", function()
    local f = assert(io.open(annotations.PATH))
    local text = f:read("a")
    f:close()
    assert.equal(annotations.render(), text)
  end)

  it("marks the eight removed writes deprecated, and says each method's rule", function()
    local endpoints = require("robloxsocial").endpoints
    local text, wrong = annotations.render(), {}
    for _, row in ipairs(endpoints) do
      local doc = text:match("\n(%-%-%- [^\n]*%(" .. row.method .. " " .. row.path:gsub("%p", "%%%0")
                             .. "%).-)\nfunction Client:" .. row.name .. "%(")
      local rule = row.auth == "cookie" and "--- Cookie only" or "--- Anonymous or cookie"
      local deprecated = doc and doc:find("---@deprecated", 1, true)
                         and doc:find("Removed from Roblox's API reference on 2026-06-15", 1, true)
      if not doc or not doc:find(rule, 1, true) or (row.removed ~= nil) ~= (deprecated ~= nil) then
        wrong[#wrong + 1] = row.name
      end
    end
    assert.same({}, wrong)
  end)

  it("annotates every method of the client", function()
    local client_methods = getmetatable(require("spec.support").client()).__index
    local text = annotations.render()
    local missing = {}
    for name in pairs(client_methods) do
      if not text:find("function Client:" .. name .. "(", 1, true) then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)

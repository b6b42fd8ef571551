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

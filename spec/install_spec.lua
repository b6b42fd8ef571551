-- Installing: `luarocks make` into a fresh tree brings the sandbox's
-- README and the examples along, and a build against the headers of a Lua
-- other than 5.4 stops at configure time with a message that says so.

local proc = require "spec.proc"
local exists = proc.exists

-- Runs a build tool; under scripts/sanitize.sh, without the ASan preload
-- (the tools are not what is tested, and their own leaks would fail them).
local function run(command)
  return proc.output(proc.CLEAN_ENV .. command .. " 2>&1")
end

local function temp_dir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p '" .. path .. "'"))
  return path
end

describe("luarocks make into a fresh tree", function()
  it("installs the modules, the sandbox's README and world, and the examples", function()
    local tree = temp_dir()
    local ok, out = run(("luarocks --lua-version=5.4 make --deps-mode=none --tree '%s' robloxsocial-scm-1.rockspec"):format(tree))
    assert.is_true(ok, out)
    local lua_dir = tree .. "/share/lua/5.4/robloxsocial/"
    local rock_dir = tree .. "/lib/luarocks/rocks-5.4/robloxsocial/scm-1/"
    local missing = {}
    for _, path in ipairs { lua_dir .. "init.lua", lua_dir .. "models.lua", lua_dir .. "types.lua",
                            lua_dir .. "sandbox/README.md", lua_dir .. "sandbox/world.json",
                            tree .. "/lib/lua/5.4/robloxsocial/core.so",
                            rock_dir .. "examples/moderation_bot.lua", rock_dir .. "examples/dashboard.lua",
                            rock_dir .. "examples/inbox_cleaner.lua", rock_dir .. "examples/tour.lua" } do
      if not exists(path) then missing[#missing + 1] = path:sub(#tree + 2) end
    end
    os.execute("rm -rf '" .. tree .. "'")
    assert.same({}, missing)
  end)
end)

describe("cmake configure", function()
  it("refuses the headers of another Lua, naming the version found", function()
    local inc, build = temp_dir(), temp_dir()
    local f = assert(io.open(inc .. "/lua.h", "w"))
    f:write('#define LUA_VERSION_NUM\t\t503\n')
    f:close()
    local ok, out = run(("cmake -S . -B '%s' -DLUA_INCDIR='%s'"):format(build, inc))
    os.execute("rm -rf '" .. inc .. "' '" .. build .. "'")
    assert.is_false(ok)
    assert.matches("robloxsocial needs Lua 5.4, but .*LUA_VERSION_NUM '503'", out:gsub("\n%s*", " "))
  end)
end)

-- The ways the specs, the benches and scripts/with_sandbox.lua hand the
-- sandbox's cookie to a child process (spec/proc.lua's secret_env,
-- lua_command's secrets, lua_program): never on a command line, which
-- ps and /proc/<pid>/cmdline show every user of the machine.  Each child
-- looks at every command line while it runs, and so while the shells and
-- tools that started it (sh -c, env, timeout) wait for it: its lineage.
-- (fleet_spec checks its fleet's children from outside, as this
-- process's descendants.)
local support = require "spec.support"
local proc = require "spec.proc"

-- A chunk (one line: see proc.lua_command) that writes how many command
-- lines of its own process and its ancestors hold the value of the
-- environment variable name, and how long that value is.
local function census(name)
  return ([[local v, proc = assert(os.getenv(%q), "no %s"), require "spec.proc" ]]
    .. [[io.write(#proc.command_lines_holding(v, proc.lineage(proc.own_pid())), " ", #v)]]):format(name, name)
end

describe("a cookie handed to a child", function()
  local sb
  setup(function() sb = support.sandbox() end)

  it("by proc.lua_command's secrets is in its environment and in no command line", function()
    local ok, out = proc.output(proc.lua_command(census("COOKIE"),
      { secrets = { COOKIE = sb.credentials.cookie }, timeout = 30 }) .. " 2>&1")
    assert(ok, "the child failed: " .. out)
    assert.equal("0 " .. #sb.credentials.cookie, out)
  end)

  it("by proc.lua_program is in its environment and in no command line", function()
    local out = proc.lua_program(census("COOKIE") .. "\nio.write(' ', os.getenv('BASE'))\n",
      { BASE = sb.base_url }, { COOKIE = sb.credentials.cookie })
    assert.equal("0 " .. #sb.credentials.cookie .. " " .. sb.base_url, out)
  end)

  it("by scripts/with_sandbox.lua is in the command's environment and in no command line", function()
    local q = proc.quote
    local ok, out = proc.output(("LUA_PATH_5_4=%s LUA_CPATH_5_4=%s timeout 60 lua5.4 scripts/with_sandbox.lua "
      .. "lua5.4 -e %s 2>&1"):format(q(package.path), q(package.cpath), q(census("ROBLOSECURITY"))))
    assert(ok, "with_sandbox failed: " .. out)
    assert.matches("^0 %d+$", out)
  end)

  it("is in a file of its own that only this user can read, in a directory only this user can open", function()
    local path = proc.secret_file(sb.credentials.cookie)
    assert.equal(sb.credentials.cookie, proc.read_file(path))
    local modes = proc.run("stat -c %a " .. proc.quote(path) .. " " .. proc.quote(path:match("^(.*)/")))
    assert.equal("600\n700\n", modes)
    assert.equal(path, proc.secret_file(sb.credentials.cookie))     -- one file a value
  end)
end)

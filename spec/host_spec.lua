-- The C host of examples/host/ (README "Embedding in a C host"), when it
-- has been built (`make host-example`, part of `make examples`); this spec
-- builds nothing, and is pending without it.
local sandbox = require "robloxsocial.sandbox"
local proc = require "spec.proc"

local BUILD = "./build/"

local exists, quote = proc.exists, proc.quote

-- Runs a host with the environment env (a table; its ROBLOSECURITY, a
-- cookie, from a private file: see proc.secret_env); returns whether it
-- exited 0, and its output and error output together.
local function run(env, words)
  local secret = env.ROBLOSECURITY and proc.secret_env { ROBLOSECURITY = env.ROBLOSECURITY } or ""
  local parts = { "env", "-u", "LD_PRELOAD" }
  for k, v in pairs(env) do
    if k ~= "ROBLOSECURITY" then parts[#parts + 1] = k .. "=" .. quote(v) end
  end
  for _, w in ipairs(words) do parts[#parts + 1] = quote(w) end
  return proc.output(secret .. table.concat(parts, " ") .. " 2>&1")
end

-- A script for the host, in a temporary file.
local function script(text)
  local path = os.tmpname()
  proc.write_file(path, text)
  return path
end

describe("the C host example", function()
  if not (exists(BUILD .. "host") and exists(BUILD .. "host_module")
          and exists(BUILD .. "host_module_unexported")) then
    pending("the host examples are not in ./build: `make host-example` builds them")
    return
  end

  local sb
  setup(function() sb = sandbox.start() end)
  teardown(function() sb:stop() end)

  local function sandbox_env()
    return { ROBLOX_BASE_URL = sb.base_url, ROBLOSECURITY = sb.credentials.cookie,
             ROBLOX_USER_ID = tostring(sb.credentials.user_id) }
  end

  it("runs frame.lua's tasks from its frame loop, the core linked in, and exits 0", function()
    local ok, out = run(sandbox_env(), { BUILD .. "host", "lua", "examples/host/frame.lua" })
    assert.is_true(ok, out)
    assert.matches("host: %d+ frames at 60 Hz", out)
    assert.matches("unread messages%s+%d+\n", out)
    assert.matches("greeting, shown after a second%s+hello ", out)
    assert.is_nil(out:find("FAILED", 1, true))
    assert.is_nil(out:find(sb.credentials.cookie, 1, true))
  end)

  it("waits between frames in poll() on robloxsocial.pollfd(), woken when an answer comes", function()
    sb:configure{ latency = 0.05 }          -- every answer comes while the host waits
    finally(function() sb:configure{ latency = 0 } end)
    local ok, out = run(sandbox_env(), { BUILD .. "host", "lua", "examples/host/frame.lua" })
    assert.is_true(ok, out)
    local woken = math.tointeger(tonumber(out:match("woken (%d+) times by robloxsocial%.pollfd%(%)")))
    assert(woken, "the host says nothing of the descriptor: " .. out)
    assert.is_true(woken > 0, out)
  end)

  it("runs them with the core loaded from core.so, the Lua API exported", function()
    local ok, out = run(sandbox_env(), { BUILD .. "host_module", "lua", "examples/host/frame.lua",
                                         BUILD .. "?.so" })
    assert.is_true(ok, out)
    assert.is_nil(out:find("FAILED", 1, true))
  end)

  it("cannot load core.so when the Lua API is not exported (no -Wl,-E)", function()
    local ok, out = run({}, { BUILD .. "host_module_unexported", "lua", "examples/host/frame.lua",
                              BUILD .. "?.so" })
    assert.is_false(ok)
    assert.matches("core%.so: undefined symbol: lua_", out)
  end)

  it("exits non-zero when the script's finishing function counts a failure", function()
    local path = script([[
      local robloxsocial = require "robloxsocial"
      local t = robloxsocial.spawn(function() robloxsocial.sleep(0.05); error("boom") end)
      return function()
        local ok, err = pcall(t.wait, t)
        print("task:", ok, err)
        return ok and 0 or 1
      end
    ]])
    local ok, out = run({}, { BUILD .. "host", "lua", path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches("task:%s+false%s+[^\n]*boom", out)
  end)

  it("exits 0 when every task is done and nothing failed", function()
    local path = script([[
      local robloxsocial = require "robloxsocial"
      local t = robloxsocial.spawn(function() robloxsocial.sleep(0.05); return 42 end)
      return function() print("task:", t:wait()); return 0 end
    ]])
    local ok, out = run({}, { BUILD .. "host", "lua", path })
    os.remove(path)
    assert.is_true(ok, out)
    assert.matches("task:%s+42", out)
  end)

  it("exits non-zero when the script raises, with the error and a traceback", function()
    local path = script("error('no script today')")
    local ok, out = run({}, { BUILD .. "host", "lua", path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches("no script today\nstack traceback:", out)
  end)
end)

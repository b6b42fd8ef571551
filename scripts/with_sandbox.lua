-- lua5.4 scripts/with_sandbox.lua COMMAND...
-- Starts the sandbox with its default world, runs COMMAND with
-- ROBLOX_BASE_URL, ROBLOSECURITY and ROBLOX_USER_ID pointing at it, stops the sandbox and
-- exits with COMMAND's status.  SANDBOX_LATENCY (seconds) delays every
-- answer, as the real services are tens of milliseconds away.
-- The cookie reaches COMMAND's environment from a private file
-- (spec/proc.lua's secret_env), never on a command line.
local sandbox = require "robloxsocial.sandbox"
local proc = require "spec.proc"
local quote = proc.quote

local sb = sandbox.start{ latency = tonumber(os.getenv("SANDBOX_LATENCY") or "") }
local words = {}
for i = 1, #arg do words[#words + 1] = quote(arg[i]) end
local env = proc.secret_env { ROBLOSECURITY = sb.credentials.cookie }
  .. ("ROBLOX_BASE_URL=%s ROBLOX_USER_ID=%d LUA_PATH_5_4=%s LUA_CPATH_5_4=%s")
  :format(quote(sb.base_url), sb.credentials.user_id, quote(package.path), quote(package.cpath))
local ok, how, code = os.execute(env .. " " .. table.concat(words, " "))
sb:stop()
if not ok then
  io.stderr:write(("with_sandbox: the command ended with %s %s\n"):format(how, code))
  os.exit(how == "exit" and code or 1)
end

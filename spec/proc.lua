-- Child processes, files and ports for the specs' fixtures (nginx in
-- spec/tls.lua, redis-server in spec/redis.lua, spec/h2server.py, raw
-- servers, child Lua programs): one way to quote, read, start, watch and
-- stop, shared by all of them.
--
--   local proc = require "spec.proc"
--   proc.quote(s)  proc.read_file(path)  proc.write_file(path, text)  proc.exists(path)
--   proc.read_cmd(cmd)         -- its output and error output, whatever its exit
--   proc.run(cmd)              -- the same, raising when it fails
--   proc.temp_dir(name)        -- a fresh /tmp/robloxsocial-NAME.XXXXXX
--   local pid = proc.spawn(cmd)           -- in the background
--   proc.watchdog(cleanup[, also])        -- cleanup once this process has gone
--   proc.wait_ready(pid, ready, seconds)  -- until ready() holds, pid dies or time is up
--   proc.kill(pid[, signal])  proc.remove(dir)
--   proc.free_port()  proc.accepts(port)
--   proc.lua_command(chunk[, opts])       -- a child lua5.4 with this process's paths
--   proc.output(cmd)                      -- whether cmd exited 0, and its output
local socket = require "socket"
local util = require "robloxsocial.sandbox.util"

local proc = {}

-- Under scripts/sanitize.sh the ASan runtime is preloaded into every
-- child; openssl, nginx, redis, python and curl are fixtures, not the
-- code under test.
proc.CLEAN_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS -u LSAN_OPTIONS "

proc.quote = util.shell_quote
proc.read_file = util.read_file
proc.own_pid = util.own_pid
proc.alive = util.process_alive

function proc.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

function proc.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- What cmd (a shell command, run by a clean sh) wrote, error output
-- included, whatever its exit status.
function proc.read_cmd(cmd)
  local p = assert(io.popen(proc.CLEAN_ENV .. "sh -c " .. proc.quote(cmd .. " 2>&1")))
  local out = p:read("a")
  p:close()
  return out
end

-- Runs a shell command; returns what it wrote, or raises with that when
-- it fails.  The exit status is the one the clean shell prints: io.popen's
-- own shell may carry the sanitizers and fail at its exit for reasons of
-- its own.
function proc.run(cmd)
  local p = assert(io.popen(proc.CLEAN_ENV .. "sh -c "
    .. proc.quote("{ " .. cmd .. "; } 2>&1; echo \"rc=$?\""), "r"))
  local out = p:read("a")
  p:close()
  local text, rc = out:match("^(.-)rc=(%d+)\n?$")
  if rc ~= "0" then error("spec: command failed: " .. cmd .. "\n" .. (text or out), 3) end
  return text
end

-- A new private directory /tmp/robloxsocial-<name>.XXXXXX.
function proc.temp_dir(name)
  return proc.run("mktemp -d /tmp/robloxsocial-" .. name .. ".XXXXXX"):match("^(%S+)")
end

-- Starts cmd (with its own redirections) in the background, under the
-- clean environment; returns its pid.
function proc.spawn(cmd)
  local p = assert(io.popen(proc.CLEAN_ENV .. cmd .. " & echo $!"))
  local pid = math.tointeger(tonumber(p:read("l")))
  p:close()
  return pid
end

-- A watchdog: runs the shell command cleanup in the background once the
-- process that called this has gone, whatever way it went (or, with
-- also, a shell condition, once that fails).  Nothing when this
-- process's pid cannot be known.
function proc.watchdog(cleanup, also)
  local me = proc.own_pid()
  if not me then return end
  local cond = ("kill -0 %d 2>/dev/null"):format(me) .. (also and (" && " .. also) or "")
  os.execute(proc.CLEAN_ENV .. ("sh -c %s </dev/null >/dev/null 2>&1 &"):format(proc.quote(
    ("while %s; do sleep 1; done; %s"):format(cond, cleanup))))
end

-- Waits until ready() holds: true; false once pid has gone or seconds
-- have passed first.
function proc.wait_ready(pid, ready, seconds)
  local deadline = socket.gettime() + seconds
  while not ready() do
    if not proc.alive(pid) or socket.gettime() > deadline then return false end
    socket.sleep(0.02)
  end
  return true
end

-- Sends pid signal (a kill option such as "-9"; default TERM) when it
-- runs, and waits up to 5 seconds for it to go.
function proc.kill(pid, signal)
  if pid and proc.alive(pid) then
    os.execute(proc.CLEAN_ENV .. "kill " .. (signal and signal .. " " or "") .. pid .. " 2>/dev/null")
  end
  local deadline = socket.gettime() + 5
  while pid and proc.alive(pid) and socket.gettime() < deadline do socket.sleep(0.02) end
end

function proc.remove(dir)
  os.execute(proc.CLEAN_ENV .. "rm -rf " .. proc.quote(dir))
end

-- A port of 127.0.0.1 that nothing listens on now.
function proc.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return math.tointeger(tonumber(port))
end

-- Does something accept connections on port of 127.0.0.1?
function proc.accepts(port)
  local s = socket.connect("127.0.0.1", port)
  if s then s:close() end
  return s ~= nil
end

-- The shell command that runs chunk in a child lua5.4 with this process's
-- module paths.  The words are quoted with %q, which the shell reads as a
-- double-quoted word: a chunk goes as one line, with no comments.  opts:
-- prefix (shell text put before it: "A=1 B=2 ", "ulimit -n 64 && "),
-- timeout (seconds: coreutils' timeout ends the child then).
function proc.lua_command(chunk, opts)
  opts = opts or {}
  return ("%sLUA_PATH_5_4=%q LUA_CPATH_5_4=%q %slua5.4 -e %q"):format(opts.prefix or "", package.path,
    package.cpath, opts.timeout and ("timeout %d "):format(opts.timeout) or "", chunk)
end

-- Runs cmd; returns whether it exited 0, and what it wrote.
function proc.output(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  return p:close() == true, out
end

return proc

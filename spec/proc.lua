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
--   proc.secret_file(value)               -- a private file holding value (mode 0600)
--   proc.secret_env{ NAME = value }       -- shell words: NAME from its file, not the command line
--   proc.lua_program(text, vars, secrets) -- a Lua program in a process of its own, bounded
--   proc.lineage(pid)  proc.family(pid)   -- pid and its ancestors; pid and its descendants
--   proc.command_lines_holding(text, pids) -- those of pids whose command line holds text
--   proc.watch_command_lines(secret, marker, seconds)  -- of this process's descendants
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
-- timeout (seconds: coreutils' timeout ends the child then), secrets
-- ({ NAME = value }: in the child's environment, see proc.secret_env; a
-- chunk names them with os.getenv and never holds a cookie itself, as
-- the chunk is on the command line).
function proc.lua_command(chunk, opts)
  opts = opts or {}
  return ("%s%sLUA_PATH_5_4=%q LUA_CPATH_5_4=%q %slua5.4 -e %q"):format(opts.prefix or "",
    opts.secrets and proc.secret_env(opts.secrets) or "", package.path, package.cpath,
    opts.timeout and ("timeout %d "):format(opts.timeout) or "", chunk)
end

-- Runs cmd; returns whether it exited 0, and what it wrote.
function proc.output(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  return p:close() == true, out
end

-- Secrets (a cookie) for children.  A command line is no place for
-- one: every user of the machine reads it in ps and /proc/<pid>/cmdline,
-- for as long as the process (a popen's sh -c, env, timeout) lives.  A
-- secret goes in a file of mode 0600 (mktemp's) in a directory of mode
-- 0700 (mktemp -d's) of this process, removed once this process has gone;
-- a command line holds the file's path only.  One file a value.
local secrets_dir, secret_files = nil, {}

function proc.secret_file(value)
  assert(type(value) == "string", "spec: a secret is a string")
  if secret_files[value] then return secret_files[value] end
  if not secrets_dir then
    secrets_dir = proc.temp_dir("secrets")
    proc.watchdog("rm -rf " .. proc.quote(secrets_dir))
  end
  local path = proc.run("mktemp " .. proc.quote(secrets_dir .. "/secret.XXXXXX")):match("^(%S+)")
  proc.write_file(path, value)          -- opened for writing, the file keeps mktemp's mode
  secret_files[value] = path
  return path
end

-- Shell words to put before a command (as "A=1 " is) that set each NAME
-- of vars to its secret value in that command's environment: the shell
-- reads the value from its file (NAME="$(cat FILE)"), so it is in no
-- command line, the shell's own included.  A process's environment is
-- readable by its user only.
function proc.secret_env(vars)
  local words = {}
  for name, value in pairs(vars) do
    assert(name:match("^[%a_][%w_]*$"), "spec: a variable's name")
    words[#words + 1] = ('%s="$(cat %s)" '):format(name, proc.quote(proc.secret_file(value)))
  end
  table.sort(words)
  return table.concat(words)
end

-- Runs text, a Lua program, in a lua5.4 process of its own with this
-- process's module paths, vars ({ NAME = value }) and secrets (see
-- proc.secret_env) in its environment; bounded by 30 s (coreutils'
-- timeout).  Returns its output and error output.
function proc.lua_program(text, vars, secrets)
  local path = os.tmpname()
  proc.write_file(path, text)
  local words = { "LUA_PATH_5_4=" .. proc.quote(package.path), "LUA_CPATH_5_4=" .. proc.quote(package.cpath) }
  for name, value in pairs(vars or {}) do words[#words + 1] = name .. "=" .. proc.quote(tostring(value)) end
  local _, out = proc.output(proc.secret_env(secrets or {}) .. table.concat(words, " ")
    .. " timeout 30 lua5.4 " .. proc.quote(path) .. " 2>&1")
  os.remove(path)
  return out
end

-- The parent of process pid (from /proc/<pid>/stat: its name, in
-- parentheses, may hold spaces), or nil once it has gone.
local function parent_of(pid)
  return math.tointeger(tonumber(proc.read_file("/proc/" .. pid .. "/stat"):match(".*%) %S+ (%d+)")))
end

-- Process pid and its ancestors, up to init.
function proc.lineage(pid)
  local pids = {}
  while pid and pid > 1 do
    pids[#pids + 1] = pid
    pid = parent_of(pid)
  end
  return pids
end

-- Process pid and all its descendants running now.
function proc.family(pid)
  local parent = {}
  for p in proc.read_cmd("ls /proc"):gmatch("%f[%w](%d+)%f[%W]") do
    parent[math.tointeger(tonumber(p))] = parent_of(p)
  end
  local pids = {}
  for p in pairs(parent) do
    local q = p
    while q and q > 1 and q ~= pid do q = parent[q] end
    if q == pid then pids[#pids + 1] = p end
  end
  return pids
end

-- Those of the processes pids whose command line holds text, each as
-- "<pid> <name>" (its name from /proc/<pid>/comm: what a spec says of
-- one never holds the text itself).  Processes outside a spec's own (a
-- fixture of someone else's) may hold the sandbox's cookie, which is the
-- same in every sandbox: look at the ones a spec started.
function proc.command_lines_holding(text, pids)
  local found = {}
  for _, pid in ipairs(pids) do
    if proc.read_file("/proc/" .. pid .. "/cmdline"):find(text, 1, true) then
      found[#found + 1] = pid .. " " .. proc.read_file("/proc/" .. pid .. "/comm"):gsub("\n$", "")
    end
  end
  return found
end

-- Watches the command lines of this process's descendants until one
-- holds marker (the child a spec started is running, and so are the
-- shells and tools between it and the spec) or seconds have passed.
-- Returns whether marker was seen, and the processes seen holding secret
-- meanwhile.
function proc.watch_command_lines(secret, marker, seconds)
  local deadline, holding = socket.gettime() + seconds, {}
  repeat
    local family = proc.family(proc.own_pid())
    local started = #proc.command_lines_holding(marker, family) > 0    -- then one more look for secret
    for _, p in ipairs(proc.command_lines_holding(secret, proc.family(proc.own_pid()))) do
      holding[#holding + 1] = p
    end
    if started then return true, holding end
    socket.sleep(0.01)
  until socket.gettime() > deadline
  return false, holding
end

return proc

-- The robloxsocial-sandbox command: parse the arguments, load the world,
-- listen, print where and with which credentials, and serve.
local http = require "robloxsocial.sandbox.http"
local world = require "robloxsocial.sandbox.world"
local App = require "robloxsocial.sandbox.app"
local util = require "robloxsocial.sandbox.util"

local cli = {}

local USAGE = [[
usage: robloxsocial-sandbox [options]
  --host ADDR         address to listen on (default 127.0.0.1)
  --port N            port (default 8123; 0 picks a free one)
  --world FILE        world file (default: the world.json installed with the module)
  --quiet             print only the "listening on" line, no credentials
  --watch-pid PID     exit when process PID has gone
  --idle-exit SECS    exit after SECS without any request
  --latency MS        wait MS milliseconds before each answer (other
                      connections are served meanwhile)
  --world-path        print the default world file's path and exit
  --help              this text
]]

local FLAGS = { quiet = true, help = true, ["world-path"] = true }

-- Returns an options table, or nil and a message.
function cli.parse(args)
  local opts = { host = "127.0.0.1", port = 8123 }
  local i = 1
  while args[i] do
    local name = args[i]:match("^%-%-([%w-]+)$")
    if not name then return nil, "unexpected argument: " .. args[i] end
    if FLAGS[name] then
      opts[name] = true
      i = i + 1
    else
      local value = args[i + 1]
      if value == nil then return nil, "--" .. name .. " needs a value" end
      opts[name] = value
      i = i + 2
    end
  end
  for _, k in ipairs { "port", "watch-pid", "idle-exit" } do
    if opts[k] ~= nil then
      opts[k] = math.tointeger(tonumber(opts[k]))
      if not opts[k] or opts[k] < 0 then return nil, "--" .. k .. " needs a non-negative integer" end
    end
  end
  if opts.latency ~= nil then
    local ms = tonumber(opts.latency)
    if not ms or ms < 0 or ms ~= ms then return nil, "--latency needs milliseconds >= 0" end
    opts.latency = ms
  end
  for k in pairs(opts) do
    if not (FLAGS[k] or k == "host" or k == "port" or k == "world" or k == "watch-pid"
            or k == "idle-exit" or k == "latency") then
      return nil, "unknown option --" .. k
    end
  end
  return opts
end

local function banner(url, opts, app)
  local out = { "robloxsocial-sandbox listening on " .. url }
  if not opts.quiet then
    local a = app.st:main_account()
    local u = app.st:user(a.user_id)
    out[#out + 1] = "  world:        " .. (opts.world or world.default_path())
    out[#out + 1] = ("  user:         %s (id %d)"):format(u.name, u.id)
    if a.cookie then out[#out + 1] = "  cookie:       " .. a.cookie end
    if a.api_key then out[#out + 1] = "  api key:      " .. a.api_key .. "  (Open Cloud, /cloud/..., only)" end
    if a.access_token then out[#out + 1] = "  access token: " .. a.access_token .. "  (Open Cloud, /cloud/..., only)" end
    out[#out + 1] = ("  try:          robloxsocial.new{ base_url = %q, cookie = %q }")
      :format(url, a.cookie or "")
    out[#out + 1] = "  admin API:    " .. url .. "/_sandbox/  (reset, faults, requests, config, advance, shutdown)"
  end
  return table.concat(out, "\n") .. "\n"
end

-- Stops the server when the watched process has gone or when it idled.
local function ticker(server, app, opts)
  return function()
    if opts["watch-pid"] and not util.process_alive(opts["watch-pid"]) then server:stop() end
    local idle = opts["idle-exit"]
    if idle and idle > 0 and os.time() - app.last_activity >= idle then server:stop() end
  end
end

-- Runs the command; returns an exit status.
function cli.main(args)
  local opts, err = cli.parse(args or {})
  if not opts then
    io.stderr:write("robloxsocial-sandbox: ", err, "\n", USAGE)
    return 2
  end
  if opts.help then io.stdout:write(USAGE); return 0 end
  if opts["world-path"] then print(world.default_path()); return 0 end
  local data, werr = world.load(opts.world)
  if not data then io.stderr:write("robloxsocial-sandbox: ", werr, "\n"); return 1 end
  math.randomseed(os.time(), math.floor(os.clock() * 1e6))
  local app = App.new(data, { latency = opts.latency and opts.latency / 1000 })
  app.last_activity = os.time()
  local server, serr = http.new { host = opts.host, port = opts.port,
                                  handler = function(req) return app:handle(req) end }
  if not server then
    io.stderr:write("robloxsocial-sandbox: cannot listen on ", opts.host, ":", opts.port, ": ", serr, "\n")
    return 1
  end
  server.on_tick = ticker(server, app, opts)
  app.on_shutdown = function() server:stop() end
  local host = server.host:find(":", 1, true) and ("[" .. server.host .. "]") or server.host
  io.stdout:write(banner(("http://%s:%d"):format(host, server.port), opts, app))
  io.stdout:flush()
  server:run()
  return 0
end

return cli

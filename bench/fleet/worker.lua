-- One process of the fleet bench: a presence job of n ids, the cookie
-- from FLEET_COOKIE (never on a command line).  Prints
-- "ok|failed <seconds> shared <bool> store_wait <seconds>" (the longest a
-- request waited for the store itself, client:stats().store).
--   lua5.4 worker.lua base_url n first_id redis_url|none limit seconds
local robloxsocial = require "robloxsocial"
local socket = require "socket"
local base_url, n, first, url, limit, seconds = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4],
  tonumber(arg[5]), tonumber(arg[6])
local client = robloxsocial.new {
  base_url = base_url, cookie = os.getenv("FLEET_COOKIE"), concurrency = 8, timeout = 30,
  connect_timeout = 1, max_retries = 10,
  shared_limits = url ~= "none" and url or nil,
  rate_limits = { presence = { limit, seconds } },
}
local ids = {}
for i = 1, n do ids[i] = first + i end
local t0 = socket.gettime()
local answer = client:presence(ids)
local view = client:rate_limit("presence", "presence")
local store = client:stats().store
io.write(("%s %.3f shared %s store_wait %.4f\n"):format(answer and "ok" or "failed", socket.gettime() - t0,
  tostring(view and view.shared), store and store.longest_wait or 0))
client:close()

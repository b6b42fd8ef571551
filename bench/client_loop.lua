-- robloxsocial's side of curl_loop.c: N sequential client:friends_count()
-- calls on one client (one reused libcurl handle, keep-alive).
--
--   lua5.4 client_loop.lua BASE_URL N [WARMUP]
--
-- Prints "requests N seconds S rps R", timing only the N calls after
-- WARMUP untimed ones (default 100), as curl_loop does.  Raises on any
-- failed call: a bench that counts errors as requests measures nothing.

local robloxsocial = require "robloxsocial"
local gettime = require("socket").gettime   -- Lua has no wall clock below 1 s

local base_url, n, warmup = arg[1], tonumber(arg[2]), tonumber(arg[3] or 100)
assert(base_url and n, "usage: lua5.4 client_loop.lua BASE_URL N [WARMUP]")

local client = robloxsocial.new{ base_url = base_url, cookie = "bench", max_retries = 0 }
local USER = 4294967297                     -- above 2^32, like real ids

local function run(count)
  for i = 1, count do
    local answer, err = client:friends_count(USER)
    if not answer then error(("request %d: %s"):format(i, tostring(err)), 0) end
  end
end

run(warmup)
local t0 = gettime()
run(n)
local t1 = gettime()
print(("requests %d seconds %.6f rps %.1f"):format(n, t1 - t0, n / (t1 - t0)))
client:close()

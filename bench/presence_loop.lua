-- robloxsocial's side of `curl_loop --post=FILE`: N sequential
-- client:presence(ids) calls of 100 ids on one client, each one request
-- (batch_sizes = { presence = 100 }) answered with the 100 presences of
-- presence100.json, decoded.
--
--   lua5.4 presence_loop.lua BASE_URL N [WARMUP] [BODY_OUT]
--
-- Prints "requests N seconds S rps R", timing only the N calls after
-- WARMUP untimed ones (default 100), as curl_loop does.  With BODY_OUT,
-- it writes the JSON body it sends there first (for curl_loop --post) and
-- exits.  Raises on any failed call.

local robloxsocial = require "robloxsocial"
local gettime = require("socket").gettime

local base_url, n, warmup, body_out = arg[1], tonumber(arg[2]), tonumber(arg[3] or 100), arg[4]
assert(base_url and n, "usage: lua5.4 presence_loop.lua BASE_URL N [WARMUP] [BODY_OUT]")

-- The ids of presence100.json's users, as gen_bodies.lua wrote them.
local bodies = require "gen_bodies"
local ids = {}
for i, p in ipairs(bodies.presence100.value.userPresences) do ids[i] = p.userId end
assert(#ids == 100)

if body_out then
  local f = assert(io.open(body_out, "wb"))
  f:write(require("robloxsocial.core").ids_body(ids, "userIds"))
  f:close()
  return
end

local client = robloxsocial.new{ base_url = base_url, cookie = "bench", max_retries = 0,
                                 batch_sizes = { presence = 100 } }

local function run(count)
  for i = 1, count do
    local answer, err = client:presence(ids)
    if not answer then error(("request %d: %s"):format(i, tostring(err)), 0) end
  end
end

run(warmup)
local t0 = gettime()
run(n)
local t1 = gettime()
print(("requests %d seconds %.6f rps %.1f"):format(n, t1 - t0, n / (t1 - t0)))
client:close()

-- Writes over HTTP/2 through nginx while nginx reloads (each reload
-- ends the old worker's connections with a GOAWAY): are the writes that
-- fail with sent = true ones the sandbox saw, and is any write seen
-- twice?  Run from the repository's root:
--   lua5.4 bench/h2/soak.lua [writes] [reload every n writes]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./build/?.so;" .. package.cpath
local sandbox = require "robloxsocial.sandbox"
local tls = require "spec.tls"
local robloxsocial = require "robloxsocial"

local total = tonumber(arg[1]) or 3000
local every = tonumber(arg[2]) or 150

local sb = sandbox.start{}
local front = tls.start(sb)
sb:clear_requests()
local c <close> = robloxsocial.new{ base_url = front.base_url, cainfo = front.cainfo, concurrency = 32,
                                    timeout = 30, retry_delay = 0.01 }
local results, started, done = {}, 0, 0
local function write(i)
  local answer, err = c:request("POST", "friends", "/v1/soak/" .. i, { body = { i = i } })
  results[i] = answer and "ok" or err
  done = done + 1
end
local reloads = 0
while done < total do
  while started < total and started - done < 64 do
    started = started + 1
    robloxsocial.spawn(write, started)
  end
  robloxsocial.step(0.01)
  if done >= (reloads + 1) * every then
    reloads = reloads + 1
    os.execute(tls.CLEAN_ENV .. "kill -HUP " .. front.pid)
  end
end
local seen = {}
for _, r in ipairs(sb:requests()) do
  local i = r.path and tonumber(r.path:match("^/v1/soak/(%d+)$"))
  if i then seen[i] = (seen[i] or 0) + 1 end
end
local counts = { ok = 0, http = 0, sent_seen = 0, sent_unseen = 0, unsent_seen = 0, unsent_unseen = 0, twice = 0 }
for i = 1, total do
  local r = results[i]
  if (seen[i] or 0) > 1 then counts.twice = counts.twice + 1 end
  if r == "ok" then counts.ok = counts.ok + 1
  elseif r.kind == "http" then counts.http = counts.http + 1
  elseif r.sent then
    if seen[i] then counts.sent_seen = counts.sent_seen + 1 else counts.sent_unseen = counts.sent_unseen + 1 end
  else
    if seen[i] then counts.unsent_seen = counts.unsent_seen + 1 else counts.unsent_unseen = counts.unsent_unseen + 1 end
  end
end
print(("writes %d, nginx reloads %d"):format(total, reloads))
print(("answered: %d (2xx %d, an HTTP error %d)"):format(counts.ok + counts.http, counts.ok, counts.http))
print(("failed, sent = true:  the sandbox saw it %d, never saw it %d"):format(counts.sent_seen, counts.sent_unseen))
print(("failed, sent = false: the sandbox saw it %d, never saw it %d"):format(counts.unsent_seen, counts.unsent_unseen))
print(("seen twice by the sandbox: %d"):format(counts.twice))
front.stop()
sb:stop()

-- First bursts over HTTP/2: how many connections a fresh client opens for
-- 100, 150 and 256 requests sent at once to one host, through nginx
-- (spec/tls.lua: TLS, http2) in front of the sandbox.  Run from the
-- repository's root: lua5.4 bench/h2/burst.lua [curl_burst binary]
-- Each burst runs twice: with the sandbox answering at once, and with it
-- answering 50 ms late, so that every request of the burst is in flight
-- together.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./build/?.so;" .. package.cpath
local sandbox = require "robloxsocial.sandbox"
local tls = require "spec.tls"
local robloxsocial = require "robloxsocial"

local sizes = { 100, 150, 256 }
local targets = { [100] = 1, [150] = 2, [256] = 3 }
local curl_burst = arg[1]

local sb = sandbox.start{}
local front = tls.start(sb)
local me = sb.credentials.user_id

-- The nginx connections that served the log entries after the first
-- `before`.
local function connections_since(before, n)
  local entries = front.log(before + n)
  local seen, count = {}, 0
  for i = before + 1, #entries do
    if not seen[entries[i].connection] then
      seen[entries[i].connection] = true
      count = count + 1
    end
  end
  return count, #entries - before
end

local function burst(n)
  local before = #front.log()
  local c <close> = robloxsocial.new{ base_url = front.base_url, cainfo = front.cainfo,
                                      cookie = sb.credentials.cookie, concurrency = 256, timeout = 30 }
  local tasks, failed = {}, 0
  for i = 1, n do
    tasks[i] = robloxsocial.spawn(function() return c:friends_count(me) end)
  end
  assert(robloxsocial.run(60), "the burst did not end")
  for i = 1, n do
    if not tasks[i]:wait() then failed = failed + 1 end
  end
  local opened = 0
  for _, count in pairs(c:stats().connections) do opened = opened + count end
  local nginx_conns, logged = connections_since(before, n)
  return opened, nginx_conns, failed, logged
end

local function curl_reference(n)
  if not curl_burst then return "-" end
  local url = front.base_url .. "/v1/users/" .. me .. "/friends/count"
  local p = io.popen(tls.CLEAN_ENV .. ("%s %s %s %d"):format(curl_burst, url, front.cainfo, n))
  local out = p:read("a")
  p:close()
  return out:match("connections=(%d+)") or "?"
end

print(("%-8s %-6s %-8s %-8s %-7s %-7s %-8s %s"):format("latency", "burst", "target", "client", "nginx",
  "failed", "C multi", "result"))
local all_pass = true
for _, latency in ipairs{ 0, 0.05 } do
  sb:configure{ latency = latency }
  for _, n in ipairs(sizes) do
    local opened, nginx_conns, failed, logged = burst(n)
    local pass = opened <= targets[n] and nginx_conns <= targets[n] and failed == 0 and logged == n
    all_pass = all_pass and pass
    print(("%-8s %-6d <= %-5d %-8d %-7d %-7d %-8s %s"):format(("%d ms"):format(latency * 1000), n, targets[n],
      opened, nginx_conns, failed, curl_reference(n), pass and "PASS" or "FAIL"))
  end
end
sb:configure{ latency = 0 }
front.stop()
sb:stop()
os.exit(all_pass and 0 or 1)

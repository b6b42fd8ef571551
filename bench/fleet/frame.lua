-- A frame host for the fleet bench: step(0) once a frame (16 ms), 60
-- friends_count tasks paced at 20 per second; prints the worst step(0)
-- in milliseconds, its median, the number of frames, and the most
-- processor time a step took (os.clock: what a step cost, without the
-- time the machine gave other processes meanwhile).
--   lua5.4 frame.lua base_url user_id redis_url|none
local robloxsocial = require "robloxsocial"
local socket = require "socket"
local base_url, me, url = arg[1], tonumber(arg[2]), arg[3]
local client = robloxsocial.new {
  base_url = base_url, cookie = os.getenv("FLEET_COOKIE"), concurrency = 8, connect_timeout = 1,
  shared_limits = url ~= "none" and url or nil,
  rate_limits = { friends_count = { 20, 1 } },
}
local left = 60
for _ = 1, left do
  robloxsocial.spawn(function()
    assert(client:friends_count(me))
    left = left - 1
  end)
end
local steps, cpu = {}, {}
while left > 0 do
  local t0, c0 = socket.gettime(), os.clock()
  robloxsocial.step(0)
  steps[#steps + 1] = (socket.gettime() - t0) * 1000
  cpu[#cpu + 1] = (os.clock() - c0) * 1000
  socket.sleep(0.016)
end
table.sort(steps)
table.sort(cpu)
io.write(("%.3f %.3f %d %.3f\n"):format(steps[#steps], steps[(#steps + 1) // 2], #steps, cpu[#cpu]))
client:close()

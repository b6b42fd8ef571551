-- Calls from a game's frame loop: robloxsocial.step(0) once a frame never
-- blocks, so the frame rate holds while requests are in flight.
--   ROBLOSECURITY="$(cat ~/.roblosecurity)" ROBLOX_USER_ID=... lua5.4 examples/game_loop.lua
local robloxsocial = require "robloxsocial"

local client <close> = robloxsocial.new{
  cookie = os.getenv("ROBLOSECURITY"),
  base_url = os.getenv("ROBLOX_BASE_URL"),
}
local me = math.tointeger(tonumber(os.getenv("ROBLOX_USER_ID") or ""))
assert(me, "set ROBLOX_USER_ID to your user id")

-- What the game wants to show: a friend list with who is online, and the
-- inbox count.  Each is a task; each call inside suspends only its task.
local hud = {}
robloxsocial.spawn(function()
  local ids = {}
  for f in client:each_friend(me, { prefetch = true }) do ids[#ids + 1] = f.id end
  local presence, err = client:presence(ids)
  if not presence then hud.error = tostring(err); return end
  local online = 0
  for _, p in ipairs(presence.userPresences) do
    if p.userPresenceType ~= 0 then online = online + 1 end
  end
  hud.friends, hud.online = #ids, online
end)
robloxsocial.spawn(function()
  local unread, err = client:unread_messages_count()
  hud.unread = unread and unread.count or tostring(err)
end)

-- The frame loop: ~60 frames a second, a step per frame, no waiting in it.
local frame_time, frames = 1 / 60, 0
local socket_ok, socket = pcall(require, "socket")
local function sleep(s)
  if socket_ok then socket.sleep(s) else robloxsocial.sleep(s) end
end
while robloxsocial.step(0) > 0 do
  frames = frames + 1
  -- ... draw the frame ...
  sleep(frame_time)
  if frames > 60 * 30 then error("the HUD did not fill in 30 s") end
end
if hud.error then io.stderr:write(hud.error, "\n"); os.exit(1) end
print(("after %d frames: %d friends, %d online, %s unread messages"):format(
  frames, hud.friends, hud.online, tostring(hud.unread)))

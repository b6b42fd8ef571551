-- The Lua layer's share of a client:friends_count() call, without the
-- network: core.send and core.send_id (the id-only methods' entry) are
-- replaced by stubs before robloxsocial loads, so that what runs is the
-- generated method alone, or one of its steps.
--
--   lua5.4 lua_layer.lua STEP N
--
-- STEP: method (the whole generated method), check (methods.check_call),
-- build (methods.build), format (the path's "%d" and concatenation), or
-- empty (the loop alone, to subtract).  For callgrind's difference method.

local core = require "robloxsocial.core"
local answer = { count = 1 }
core.send = function() return answer end
core.send_id = core.send
local robloxsocial = require "robloxsocial"
local methods = require "robloxsocial.methods"

local step, n = arg[1], tonumber(arg[2])
local USER = 4294967297
local client = robloxsocial.new{ base_url = "http://127.0.0.1:9", cookie = "bench" }
local row
for _, r in ipairs(robloxsocial.endpoints) do
  if r.name == "friends_count" then row = r end
end
local mt, format = core.client_mt, string.format
local values = methods.check_call(row, "friends_count", mt, client, USER)

local steps = {
  method = function() return client:friends_count(USER) end,
  check = function() return methods.check_call(row, "friends_count", mt, client, USER) end,
  build = function() return methods.build(row, values) end,
  format = function() return row.path_head .. format("%d", USER) .. row.path_tail end,
  empty = function() end,
}
local f = assert(steps[step], "usage: lua5.4 lua_layer.lua method|check|build|format|empty N")
for _ = 1, assert(n) do f() end

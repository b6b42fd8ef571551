-- The request side of client:presence(ids) for a list of 100 ids, without
-- the network: the argument check (methods.check_args) and the body
-- (methods.build), the steps the Lua layer runs before core.send.
--
--   lua5.4 ids_body.lua STEP N
--
-- STEP: both (check and build), check, build, onepass (core.ids_body of
-- the whole list: check, stray keys and body in one call), or empty (the
-- loop alone, to subtract).  For callgrind's difference method: run it with two
-- values of N; the difference is the cost of the extra calls.

local robloxsocial = require "robloxsocial"
local methods = require "robloxsocial.methods"

local step, n = arg[1], tonumber(arg[2])
local row
for _, r in ipairs(robloxsocial.endpoints) do
  if r.name == "presence" then row = r end
end

-- Ids as the service has them: above 2^32, some of 16 digits, every 25th
-- above 2^53, as in gen_bodies.lua.
math.randomseed(20240501)
local ids = {}
for i = 1, 100 do
  ids[i] = i % 25 == 0 and 9007199254740993 + 2 * math.random(0, 1 << 20)
    or i % 8 == 0 and math.random(1000000000000000, 8999999999999999)
    or math.random(1 << 32, 9999999999)
end
local values = assert(methods.check_args(row, ids))
local ids_body = require("robloxsocial.core").ids_body

local steps = {
  both = function() return methods.build(row, (methods.check_args(row, ids))) end,
  check = function() return methods.check_args(row, ids) end,
  build = function() return methods.build(row, values) end,
  onepass = function() return ids_body(ids, "userIds") end,
  empty = function() end,
}
local f = assert(steps[step], "usage: lua5.4 ids_body.lua both|check|build|onepass|empty N")
for _ = 1, assert(n) do f() end

-- Decodes one body K times with one decoder, for callgrind: run it with
-- two values of K and the difference is the cost of K2 - K1 decodes,
-- without start-up or module loading.
--
--   lua5.4 decode.lua rs|cjson FILE K
--
-- The collector runs as in any program, so a decode pays for the garbage
-- it makes: both decoders build the same tables.

local which, file, k = arg[1], arg[2], tonumber(arg[3])
assert((which == "rs" or which == "cjson") and file and k,
  "usage: lua5.4 decode.lua rs|cjson FILE K")

local decode = which == "rs" and require("robloxsocial.core").json_decode
  or require("cjson").decode

local f = assert(io.open(file, "rb"))
local text = f:read("a")
f:close()

for _ = 1, k do
  if decode(text) == nil then error("decode.lua: " .. file .. " did not decode") end
end

-- busted's helper: loaded once, before the spec files are insulated.
local support = require "spec.support"

local ok, busted = pcall(require, "busted")
if ok and type(busted) == "table" and busted.subscribe then
  busted.subscribe({ "suite", "end" }, function()
    support.stop()
    return nil, true
  end)
end

-- Where robloxsocial's instructions per friends/count request go, for
-- the report when the instruction target is missed: the split between
-- the Lua layer, the C core and libcurl; the price of each libcurl option
-- robloxsocial sets, alone on the C loop; the steps of the Lua layer.
-- Debian's libcurl has no symbols for its internal functions, so pricing
-- the options one by one is what names the causes there.
--
--   local breakdown = require "breakdown"
--   local text = breakdown(ctx)
--   -- ctx: out, bench, curl_loop, count_url, reps, and the instructions per
--   -- request of the bare C loop (bare) and of the same-request one (like)

local harness = require "harness"
local q, per_unit, profile, cost_of = harness.q, harness.per_unit, harness.profile, harness.cost_of

-- Options of curl_loop.c priced alone (or a few together), with what
-- they stand for.  The small ones go together: each is below the noise
-- of about 1,000 instructions per request.
local OPTIONS = {
  { "accept", "Accept: application/json (custom header)" },
  { "cookie", "Cookie (custom header)" },
  { "uaheader", "User-Agent as a header line (as robloxsocial does)" },
  { "useragent", "User-Agent by CURLOPT_USERAGENT instead (libcurl formats it per request)" },
  { "encoding", "CURLOPT_ACCEPT_ENCODING \"\" (not set by robloxsocial)" },
  { "share,headerfn,timeouts,protocols,errorbuffer,perrequest",
    "the six others together: share handle, header callback, timeouts, protocols, error buffer, per-request setopt" },
  { "cookie,uaheader", "the least the contract asks: Cookie and User-Agent, both custom headers" },
}
local STEPS = { "method", "check", "build", "format" }

local function line(lines, n, what)
  lines[#lines + 1] = ("%10.0f  %s"):format(n, what)
end

-- The split, from the inclusive profile of the request_rs measure.
local function split(ctx, lines)
  local text = profile(ctx.out, "request_rs", 2000, 4000, 400, true)
  local total = tonumber(text:match("^%s*(%d+)"))
  -- The id-only methods enter the core by core.send_id; libcurl is driven
  -- through the multi handle.
  local send = math.max(cost_of(text, "client_send"), cost_of(text, "client_send_id"))
  local curl = cost_of(text, "curl_multi_perform") + cost_of(text, "curl_multi_poll")
  lines[#lines + 1] = "robloxsocial, instructions per friends/count request:"
  line(lines, total, "in all")
  line(lines, total - send, "Lua layer (generated method, argument checks, path; Lua VM and GC)")
  line(lines, send - curl, "C core outside libcurl (core.send_id), of which:")
  line(lines, cost_of(text, "rs_json_decode"), "  rs_json_decode (with the GC steps its allocations trigger)")
  line(lines, cost_of(text, "rs_url_build_id"), "  rs_url_build_id")
  line(lines, curl, "libcurl (curl_multi_perform and curl_multi_poll)")
  line(lines, ctx.bare, "  (the bare C loop, in all, for comparison)")
end

local function options(ctx, lines)
  lines[#lines + 1] = "libcurl options, alone on the C loop (instructions added per request, noise about 1,000):"
  for _, o in ipairs(OPTIONS) do
    local cost = per_unit(ctx.out, "option_" .. o[1]:gsub(",", "+"), function(n)
      return ("%s --options=%s %s %d"):format(q(ctx.curl_loop), o[1], q(ctx.count_url), n)
    end, 2000, 4000, ctx.reps)
    line(lines, cost - ctx.bare, o[2])
  end
  line(lines, ctx.like - ctx.bare, "all of robloxsocial's together (the C loop sending the same request)")
end

local function steps(ctx, lines)
  local script = q(ctx.bench .. "/lua_layer.lua")
  local function cost(step)
    return per_unit(ctx.out, "lua_" .. step, function(n)
      return ("lua5.4 %s %s %d"):format(script, step, n)
    end, 20000, 40000, 1)
  end
  local empty = cost("empty")
  lines[#lines + 1] = "Lua layer, core.send stubbed out (instructions per call):"
  for _, step in ipairs(STEPS) do
    line(lines, cost(step) - empty, step == "method" and "client:friends_count(id), whole (its fast path)"
      or step == "check" and "  for comparison, the general path's methods.check_call (self, closed?, arguments, values table)"
      or step == "build" and "  and its methods.build (path, query, body)"
      or "    of which format(\"%d\", id) and the path concatenation")
  end
end

return function(ctx)
  local lines = {}
  split(ctx, lines)
  options(ctx, lines)
  steps(ctx, lines)
  return table.concat(lines, "\n")
end

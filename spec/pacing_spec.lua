-- The pacing rule of one endpoint's bucket (csrc/pacing.c; for an
-- endpoint that says nothing of its limit, csrc/pacing_untold.c), driven on a
-- virtual clock through core.pacing_bucket: every time below is a number
-- passed in, so windows of minutes cost nothing and nothing sleeps.  The
-- servers are the sandbox's own rate-limit styles
-- (lua/robloxsocial/sandbox/ratelimit_styles.lua) on the same clock.
local core = require "robloxsocial.core"
local styles = require "robloxsocial.sandbox.ratelimit_styles"

local HUGE = math.huge

-- One endpoint limited to L requests per W seconds in a style, answering
-- as the sandbox does: headers (unless o.headers == false) with resets
-- rounded up (whole seconds for windows, milliseconds for buckets), and a
-- 429's Retry-After (unless o.retry_after == false).
-- o.early: remaining is said as it was before the request was counted
-- (one more than the others say), as some servers do.  style may be a
-- style's table.
local function server(style, L, W, o)
  o = o or {}
  local st, c = type(style) == "table" and style or styles[style], nil
  local s = { passed = 0, refused = 0 }
  local function round(x)
    if st.fraction then return math.ceil(x * 1000 - 1e-6) / 1000 end
    return math.ceil(x - 1e-9)
  end
  function s.handle(now)
    c = c or st.new(L, W, now)
    local before = st.remaining(c, L, W, now)
    local ok = before >= 1
    if ok then
      st.take(c, L, W, now)
      s.passed = s.passed + 1
    else
      s.refused = s.refused + 1
    end
    local headers, retry_after
    if o.headers ~= false then
      headers = {
        limit = string.format("%d, %d;w=%g", L, L, W),
        remaining = tostring(math.max(0, o.early and before or st.remaining(c, L, W, now))),
        reset = tostring(round(math.max(0, st.reset(c, L, W, now)))),
      }
    end
    if not ok and o.retry_after ~= false then retry_after = round(st.wait(c, L, W, now, 1)) end
    return ok, headers, retry_after
  end
  return s
end

-- A fixed window on the clock: one from each multiple of W seconds, so
-- that it may have opened before the client's first request.
local on_the_clock = {
  new = function(_, W, now) return { start = W * math.floor(now / W), count = 0 } end,
  remaining = function(c, L, W, now)
    if now >= c.start + W then c.start, c.count = W * math.floor(now / W), 0 end
    return L - c.count
  end,
  take = styles.fixed.take,
  reset = styles.fixed.reset,
  wait = styles.fixed.wait,
}

-- Sends n requests through bucket b to server s, at most conc at once,
-- each answered rtt seconds after it went (counted by the server half
-- way); a 429 is sent again.  Starts at o.start (0) and returns the
-- virtual time when the last was answered.
local function drive(b, s, n, conc, rtt, o)
  o = o or {}
  local now, pending, flight, done, steps = o.start or 0, n, {}, 0, 0
  while done < n do
    steps = steps + 1
    assert(steps < 200000, "no progress")
    while pending > 0 and #flight < conc and b:delay(now) == 0 do
      local q = b:send(now)
      local ok, headers, retry_after = s.handle(now + rtt / 2)
      flight[#flight + 1] = { q = q, at = now + rtt, ok = ok, headers = headers, retry_after = retry_after }
      pending = pending - 1
    end
    local d = (pending > 0 and #flight < conc) and b:delay(now) or HUGE
    table.sort(flight, function(x, y) return x.at < y.at or (x.at == y.at and x.q < y.q) end)
    local first = flight[1]
    if first and first.at <= now + d then
      table.remove(flight, 1)
      now = first.at
      if first.ok then
        b:answer(first.q, now, first.headers)
        done = done + 1
      else
        b:refused(first.q, now, first.headers, first.retry_after, o.jitter or 0.5)
        pending = pending + 1
      end
    else
      assert(d < HUGE, "the bucket waits for an answer while none is in flight")
      now = now + d
    end
  end
  return now
end

describe("a bucket (csrc/pacing.c)", function()
  describe("where nothing is known", function()
    it("lets one request go and holds the rest until its answer", function()
      local b = core.pacing_bucket(1)
      assert.equal(0, b:delay(0))
      local q = b:send(0)
      assert.equal(HUGE, b:delay(0))
      assert.equal(HUGE, b:delay(5))
      b:answer(q, 0.2)
      assert.equal(0, b:delay(0.2))
    end)

    it("is free once an answer announces nothing: every request goes at once", function()
      -- no cap before a first 429: it would slow every endpoint without a
      -- limit (bench/concurrency: 7.4x the C loop at 100 in flight)
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0.1)
      for i = 1, 50 do
        assert.equal(0, b:delay(0.1))
        b:send(0.1)
      end
      assert.is_true(b:state().free)
    end)

    it("lets the next request probe when the probe got no answer", function()
      local b = core.pacing_bucket(1)
      local q = b:send(0)
      b:lost(q, 1)
      assert.equal(0, b:delay(1))
      b:send(1)
      assert.equal(HUGE, b:delay(1))
    end)
  end)

  describe("with the limit announced", function()
    for _, style in ipairs { "fixed", "sliding", "bucket_full", "bucket_next" } do
      for _, conc in ipairs { 1, 8, 100 } do
        it(style .. ": 100 requests, 10 per 10 s, " .. conc .. " at once: no 429, the budget used", function()
          local s = server(style, 10, 10)
          local t = drive(core.pacing_bucket(1), s, 100, conc, 0.1)
          assert.equal(0, s.refused)
          assert.equal(100, s.passed)
          -- 100 requests at 10 per 10 s take 90 s at the least; paced
          -- within a round trip a window, about 100 s at most
          assert.is_true(t >= 90 and t < 102, "took " .. t)
        end)
      end
    end

    -- Two requests at once, each a second long, against 10 per 10 s: the
    -- first ten go in 5 s, during which a token bucket refills five more.
    -- At most L in any W would then wait for the first window to pass (40
    -- requests: four bursts, about 36 s); a token bucket lets 10 + t go by
    -- t, so about 30 s.  Fixed and sliding windows keep their rule.
    for _, style in ipairs { "bucket_next", "bucket_full" } do
      it(style .. ": takes the tokens that refill, once the answers prove a token bucket", function()
        local s = server(style, 10, 10)
        local b = core.pacing_bucket(1)
        local t = drive(b, s, 40, 2, 1)
        assert.equal(0, s.refused)
        assert.is_true(t < 34, "took " .. t)
        assert.is_true(b:state().token)
      end)
    end
    for _, style in ipairs { "fixed", "sliding" } do
      it(style .. ": is never taken for a token bucket", function()
        for _, conc in ipairs { 1, 2, 8, 100 } do
          local s = server(style, 10, 10)
          local b = core.pacing_bucket(1)
          drive(b, s, 60, conc, 1)
          drive(b, s, 30, conc, 0.1, { start = 61.3 })
          assert.equal(0, s.refused)
          assert.is_false(b:state().token)
        end
      end)
    end

    -- A window that opened before the client's first request, whose
    -- answers say remaining before counting: the first answer says 10 of
    -- 10, which taken as said would mean that more came back since the
    -- window opened than a fixed window lets, as a token bucket does.
    for _, early in ipairs { false, true } do
      local said = early and ", remaining said before counting" or ""
      it("a fixed window on the clock" .. said .. ": no 429, never a token bucket", function()
        for _, conc in ipairs { 1, 2, 8, 100 } do
          for _, start in ipairs { 3, 9.5 } do
            local s = server(on_the_clock, 10, 10, { early = early })
            local b = core.pacing_bucket(1)
            drive(b, s, 60, conc, 1, { start = start })
            assert.equal(0, s.refused, conc .. " at once from " .. start)
            assert.is_false(b:state().token, conc .. " at once from " .. start)
          end
        end
      end)
    end
    for _, style in ipairs { "fixed", "sliding" } do
      it(style .. ", remaining said before counting: no 429, never a token bucket", function()
        for _, conc in ipairs { 1, 2, 8, 100 } do
          local s = server(style, 10, 10, { early = true })
          local b = core.pacing_bucket(1)
          drive(b, s, 60, conc, 1)
          drive(b, s, 30, conc, 0.1, { start = 61.3 })
          assert.equal(0, s.refused, conc .. " at once")
          assert.is_false(b:state().token, conc .. " at once")
        end
      end)
    end
    for _, style in ipairs { "bucket_next", "bucket_full" } do
      it(style .. ", remaining said before counting: still a token bucket, no 429", function()
        local s = server(style, 10, 10, { early = true })
        local b = core.pacing_bucket(1)
        local t = drive(b, s, 40, 2, 1)
        assert.equal(0, s.refused)
        assert.is_true(t < 34, "took " .. t)
        assert.is_true(b:state().token)
      end)
    end

    it("leaves the token bucket's level for good after a 429", function()
      local s = server("bucket_next", 10, 10)
      local b = core.pacing_bucket(1)
      local t = drive(b, s, 20, 2, 1)
      assert.is_true(b:state().token)
      b:refused(b:send(t), t + 0.1, nil, 1)
      assert.is_false(b:state().token)
      drive(b, s, 20, 2, 1, { start = t + 1.2 })
      assert.is_false(b:state().token)
    end)

    it("reads remaining one lower once an answer, a success or not, says as many as the limit", function()
      local b = core.pacing_bucket(1)
      local limit = "10, 10;w=10"
      b:answer(b:send(0), 0.1, { limit = limit, remaining = "10", reset = "10" }, false)
      assert.equal(9, b:view(0.1).remaining)
      b:answer(b:send(0.1), 0.2, { limit = limit, remaining = "9", reset = "9.9" })
      assert.equal(8, b:view(0.2).remaining)
      b = core.pacing_bucket(1)                 -- one that says it after counting
      b:answer(b:send(0), 0.1, { limit = limit, remaining = "9", reset = "10" })
      assert.equal(9, b:view(0.1).remaining)
    end)

    -- Within the first window the answers could prove a token bucket
    -- again: a 429 must keep them from it.
    it("does not take a token bucket again after a 429 in its first window", function()
      local s = server("bucket_next", 10, 10)
      local b = core.pacing_bucket(1)
      local t = drive(b, s, 6, 2, 1)
      assert.is_true(t < 5 and b:state().token)
      b:refused(b:send(t), t + 0.1, nil, 1)
      drive(b, s, 20, 2, 1, { start = t + 1.2 })
      assert.is_false(b:state().token)
    end)

    it("keeps every window of the limit header", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "2, 2;w=1, 3;w=60", remaining = "1", reset = "1" })
      assert.equal(0, b:delay(0))
      b:answer(b:send(0), 0, { limit = "2, 2;w=1, 3;w=60", remaining = "0", reset = "1" })
      assert.near(1, b:delay(0), 1e-9)          -- the second window of 1 s
      b:answer(b:send(1), 1, { limit = "1, 2;w=1, 3;w=60", remaining = "1", reset = "1" })
      -- three in 60 s: the next one waits for the first to leave
      assert.near(59, b:delay(1), 1e-9)
      assert.same({ { 2, 1 }, { 3, 60 } }, b:view(1).windows)
    end)

    it("never reopens a closed gate on an older, higher remaining count", function()
      -- two requests out; the later one's answer says none remain (another
      -- client spent the rest), then the earlier one's says 5 did
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "10, 10;w=60", remaining = "9", reset = "60" })
      local q1, q2 = b:send(1), b:send(1)
      b:answer(q2, 1.1, { limit = "10, 10;w=60", remaining = "0", reset = "59" })
      b:answer(q1, 1.2, { limit = "10, 10;w=60", remaining = "5", reset = "59" })
      -- (counted by 0.045 s before its answer: half q2's round trip, but a tenth)
      assert.near(58.9 - 0.045, b:delay(1.2), 1e-9)
      assert.equal(0, b:view(1.2).remaining)
    end)

    -- A request is counted between its send and its answer: half the
    -- fastest round trip heard (1 s here) less a tenth of it, 0.45 s, is
    -- taken off an answer's time, for the windows' log and for the end of
    -- a remaining count.
    it("counts a request from when it can have been counted, not from its answer", function()
      local b = core.pacing_bucket(1)
      local limit = "2, 2;w=10"
      b:answer(b:send(0), 1, { limit = limit, remaining = "1", reset = "10" })
      b:answer(b:send(1), 2, { limit = limit, remaining = "0", reset = "9" })
      -- the first counted by 0.55: a request sent 10 s later is counted 10 s
      -- after it or more (from its answer at 1, it would wait until 11)
      assert.near(8.55, b:delay(2), 1e-9)
      -- a faster round trip (0.1 s) moves every answer, the first one too
      b = core.pacing_bucket(1)
      b:answer(b:send(0), 1, { limit = limit, remaining = "1", reset = "10" })
      b:answer(b:send(0.9), 1, { limit = limit, remaining = "0", reset = "9.1" })
      assert.near(9.955, b:delay(1), 1e-9)
    end)

    it("takes the round trip the loop measured, from the request on the network", function()
      local b = core.pacing_bucket(1)
      local limit = "1, 1;w=10"
      local q = b:send(0)
      b:round_trip(q, 0.2)                      -- a connection was made first
      b:answer(q, 1, { limit = limit, remaining = "0", reset = "10" })
      assert.near(9.91, b:delay(1), 1e-9)       -- counted by 1 - 0.09
      b = core.pacing_bucket(1)
      q = b:send(0)
      b:round_trip(q, 0)                        -- the loop could not say: none taken
      b:answer(q, 1, { limit = limit, remaining = "0", reset = "10" })
      assert.near(10, b:delay(1), 1e-9)
    end)

    it("with a window announced, paces the requests past a spent count's reset by the windows", function()
      local b = core.pacing_bucket(1)
      local limit = "3, 3;w=10"
      for i = 2, 0, -1 do
        b:answer(b:send(0), 0, { limit = limit, remaining = tostring(i), reset = "10" })
      end
      assert.near(10, b:delay(0), 1e-9)
      assert.equal(0, b:delay(10))
      b:send(10)
      assert.equal(0, b:delay(10))              -- no probe: the windows allow two more
      b:send(10)
      b:send(10)
      assert.equal(HUGE, b:delay(10))           -- three out: the window is full
    end)

    it("with others drawing on the budget, still lets one request ask past the reset", function()
      local b = core.pacing_bucket(1)
      local limit = "10, 10;w=60"
      b:answer(b:send(0), 0, { limit = limit, remaining = "9", reset = "60" })
      b:answer(b:send(1), 1, { limit = limit, remaining = "0", reset = "59" })
      assert.near(59, b:delay(1), 1e-9)         -- two sent, none remain: not ours alone
      assert.equal(0, b:delay(60))
      b:send(60)
      assert.equal(HUGE, b:delay(60))
    end)

    it("lets the requests a remaining count allows go, whatever the windows say", function()
      -- a fixed window of 2 per 10 s: two requests at 0 and 9, then the
      -- next window opens at 10 and its first answer says one remains
      local b = core.pacing_bucket(1)
      local limit = "2, 2;w=10"
      b:answer(b:send(0), 0, { limit = limit, remaining = "1", reset = "10" })
      b:answer(b:send(9), 9, { limit = limit, remaining = "0", reset = "1" })
      assert.equal(0, b:delay(10))
      b:answer(b:send(10), 10, { limit = limit, remaining = "1", reset = "10" })
      assert.equal(0, b:delay(10))              -- two in the last 10 s, yet one remains
      b:send(10)
      assert.near(10, b:delay(10), 1e-9)        -- then the windows again
    end)

    it("after a 429, probes past each reset of a spent count", function()
      local b = core.pacing_bucket(1)
      local limit = "3, 3;w=10"
      b:answer(b:send(0), 0, { limit = limit, remaining = "2", reset = "10" })
      b:refused(b:send(0), 0, nil, 10)
      assert.equal(0, b:delay(10))
      b:answer(b:send(10), 10, { limit = limit, remaining = "0", reset = "0.2" })
      assert.near(0.2, b:delay(10), 1e-9)       -- within a reset's rounding: no sign of others
      assert.equal(0, b:delay(10.2))
      b:send(10.2)
      assert.equal(HUGE, b:delay(10.2))         -- its answer first: the 429 said the budget is not ours alone
    end)

    it("past the reset of a spent count lets one request ask again", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "5", remaining = "0", reset = "2.5" })
      assert.near(2.5, b:delay(0), 1e-9)        -- a fractional reset
      assert.equal(0, b:delay(2.5))
      b:send(2.5)
      assert.equal(HUGE, b:delay(2.5))
    end)

    it("believes a limit of 0 until its reset, then asks again", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "0, 0;w=30", remaining = "0", reset = "30" })
      assert.near(30, b:delay(0), 1e-9)
      assert.equal(0, b:delay(30))
      local q = b:send(30)
      assert.equal(HUGE, b:delay(30))
      b:answer(q, 30.1, { limit = "0, 0;w=30", remaining = "0", reset = "30" })
      assert.near(30, b:delay(30.1), 1e-9)
    end)

    it("believes a reset above a day only up to the longest window, or 60 s", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "5, 5;w=10, 9;w=40", remaining = "0", reset = "999999" })
      assert.near(40, b:delay(0), 1e-9)
      b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "5", remaining = "0", reset = "999999" })
      assert.near(60, b:delay(0), 1e-9)
    end)

    it("paces a limit larger than its log in the same share of the window", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "1000000, 1000000;w=60", remaining = "999999", reset = "60" })
      for i = 1, 200 do
        assert.equal(0, b:delay(0))
        b:answer(b:send(0), 0)
      end
      assert.is_true(b:state().log <= 1024)
    end)
  end)

  describe("given rate_limits", function()
    for _, style in ipairs { "fixed", "sliding", "bucket_full", "bucket_next" } do
      it(style .. " without headers: paced from the first request, no 429", function()
        local s = server(style, 5, 10, { headers = false, retry_after = false })
        local b = core.pacing_bucket(1)
        b:seed(5, 10)
        local t = drive(b, s, 40, 8, 0.1)
        assert.equal(0, s.refused)
        assert.is_true(t < 80, "took " .. t)
      end)
    end

    -- Without headers, what the client knows is its own count: the limit
    -- given less the requests of the last W seconds (those out counting
    -- as now), and a reset when the oldest of them leaves the window.
    it("shows the limit given less the requests counted in the last window, without headers", function()
      local b = core.pacing_bucket(1)
      b:seed(5, 60)
      local v = b:view(0)
      assert.same({ 5, 5, 0, 60 }, { v.limit, v.remaining, v.reset, v.window })
      local q = b:send(0)
      v = b:view(0)
      assert.same({ 4, 60 }, { v.remaining, v.reset })
      b:answer(q, 0.2)
      v = b:view(0.2)
      assert.equal(4, v.remaining)
      assert.near(60, v.reset, 1e-9)
      b:answer(b:send(10), 10.1)
      b:answer(b:send(10), 10.1)
      v = b:view(10.1)
      assert.equal(2, v.remaining)
      assert.near(50.1, v.reset, 1e-9)
      v = b:view(60.5)                          -- the first has left the window
      assert.equal(3, v.remaining)
      assert.near(9.6, v.reset, 1e-9)
      v = b:view(70.1)
      assert.same({ 5, 0 }, { v.remaining, v.reset })
    end)
  end)

  describe("after a 429", function()
    it("holds every request of the bucket until Retry-After, then one", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0, { limit = "10, 10;w=60", remaining = "9", reset = "60" })
      local q1, q2, q3 = b:send(1), b:send(1), b:send(1)
      b:refused(q1, 1, nil, 5)
      assert.near(5, b:delay(1), 1e-9)
      b:refused(q2, 1.2, nil, nil)              -- sent before it closed: no longer
      assert.near(4.8, b:delay(1.2), 1e-9)
      b:answer(q3, 1.3)
      assert.near(4.7, b:delay(1.3), 1e-9)
      assert.equal(0, b:delay(6))
      b:send(6)
      assert.equal(HUGE, b:delay(6))
    end)

    it("without Retry-After waits for the reset the 429 announced", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0)
      b:refused(b:send(1), 1, { limit = "3, 3;w=10", remaining = "0", reset = "7.25" }, nil)
      assert.near(7.25, b:delay(1), 1e-9)
    end)

    it("without either backs off, doubling from retry_delay up to 60 s, with jitter", function()
      local b = core.pacing_bucket(0.5)
      b:answer(b:send(0), 0)
      local now, waits = 1, {}
      for i = 1, 10 do
        b:refused(b:send(now), now, nil, nil, 0)
        waits[i] = b:delay(now)
        now = now + waits[i]
      end
      assert.same({ 0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60 }, waits)
      b = core.pacing_bucket(0.5)
      b:answer(b:send(0), 0)
      b:refused(b:send(1), 1, nil, nil, 0.8)
      assert.near(0.6, b:delay(1), 1e-9)
    end)

    it("doubles once for the requests that were out together", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0)
      local qs = {}
      for i = 1, 8 do qs[i] = b:send(1) end
      for i = 1, 8 do b:refused(qs[i], 1.1, nil, nil, 0) end
      assert.near(1, b:delay(1.1), 1e-9)
      assert.equal(1, b:state().backoffs)
    end)

    it("starts over from retry_delay after a success", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0)
      b:refused(b:send(1), 1, nil, nil, 0)
      b:refused(b:send(2), 2, nil, nil, 0)
      local q = b:send(4)
      b:answer(q, 4)
      b:refused(b:send(5), 5, nil, nil, 0)
      assert.near(1, b:delay(5), 1e-9)
    end)
  end)

  describe("without any header", function()
    for _, style in ipairs { "fixed", "sliding", "bucket_full", "bucket_next" } do
      it(style .. ": learns the rate from the 429s and approaches it from below", function()
        local s = server(style, 5, 10, { headers = false, retry_after = false })
        local b = core.pacing_bucket(1)
        local t = drive(b, s, 200, 8, 0.1)
        assert.equal(200, s.passed)
        assert.is_truthy(b:state().learnt)
        -- the first burst meets a closed window, and the learning costs a
        -- few more; then the rate learnt draws none, and uses most of
        -- the budget (100 requests at 5 per 10 s: 200 s at the least)
        assert.is_true(s.refused <= 25, s.refused .. " refused")
        local before = s.refused
        local t2 = drive(b, s, 100, 8, 0.1, { start = t })
        assert.is_true(s.refused - before <= 1, (s.refused - before) .. " more refused")
        assert.is_true(t2 - t < 240, "took " .. (t2 - t))
      end)
    end

    it("with Retry-After: one 429 a closure, not one a slot", function()
      local s = server("fixed", 5, 10, { headers = false })
      local b = core.pacing_bucket(1)
      drive(b, s, 100, 8, 0.1)
      assert.is_true(s.refused <= 12, s.refused .. " refused")
    end)

    it("with Retry-After: sends a round trip before the end it says, the earliest of a closure's 429s", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0.1)                  -- a round trip of 0.1
      local q1, q2 = b:send(0.1), b:send(0.1)
      b:refused(q1, 0.2, nil, 5)                -- ends at 5.2 as seen here: sent at 5.1
      assert.near(4.9, b:delay(0.2), 1e-9)
      b:refused(q2, 0.25, nil, 4.9)             -- rounded up less: 5.15, sent at 5.05
      assert.near(4.8, b:delay(0.25), 1e-9)
    end)

    for _, style in ipairs { "fixed", "sliding", "bucket_full", "bucket_next" } do
      it(style .. " with Retry-After: learns the count and the end of a window from its 429s, and uses it in full", function()
        -- 100 requests at 5 per 10 s, 8 at once: the first burst meets
        -- the closed window; from then on each window takes its count
        -- from its start (a token bucket: a token at each refill), and
        -- none draws a 429 (before: 11-17, and 218 s for the windows)
        local s = server(style, 5, 10, { headers = false })
        local b = core.pacing_bucket(1)
        local t = drive(b, s, 100, 8, 0.1)
        assert.equal(100, s.passed)
        assert.is_true(s.refused <= 12, s.refused .. " refused")
        assert.is_true(t < 195, "took " .. t)   -- 20 windows: 190 s at the least
        local before = s.refused
        drive(b, s, 50, 8, 0.1, { start = t })
        assert.equal(before, s.refused)
      end)
    end

    it("with Retry-After: a window that opens at its first request, after a pause, draws no 429", function()
      -- the sandbox's fixed window starts at the first request after the
      -- last one ended: after a pause of 1.25 windows the next one ends
      -- 10 s after that request, not on the grid of the windows before
      -- (before: 5 refused, at the start believed)
      local s = server("fixed", 5, 10, { headers = false })
      local b = core.pacing_bucket(1)
      local t = drive(b, s, 100, 8, 0.1)
      assert.is_truthy(b:state().fixed)
      local before = s.refused
      t = drive(b, s, 3, 8, 0.1, { start = t + 12.5 })
      drive(b, s, 20, 8, 0.1, { start = t })
      assert.equal(before, s.refused)
    end)

    it("with Retry-After: rate_limit's view is the window learnt", function()
      local s = server("fixed", 5, 10, { headers = false })
      local b = core.pacing_bucket(1)
      local t = drive(b, s, 22, 8, 0.1)         -- the last 2 went in a window of 5
      local fixed, v = b:state().fixed, b:view(t)
      assert.same({ 5, 3, fixed.seconds }, { v.limit, v.remaining, v.window })
      assert.same({ { 5, fixed.seconds } }, v.windows)
      assert.near(fixed.open + fixed.seconds - t, v.reset, 1e-9)
    end)

    it("with Retry-After: a window that draws a 429 says the count, which the next ones keep to", function()
      local b = core.pacing_bucket(1)
      local t = drive(b, server("fixed", 5, 10, { headers = false }), 30, 8, 0.1)
      assert.equal(5, b:state().fixed.limit)
      local s = server("fixed", 3, 10, { headers = false })  -- the limit is lowered
      drive(b, s, 30, 8, 0.1, { start = t })
      assert.equal(3, b:state().fixed.limit)
      assert.is_true(s.refused <= 2, s.refused .. " refused")
    end)

    it("with Retry-After: a first window that began before the first request is made up for", function()
      -- 2 of the 5 were taken 3 s before: the first window counts 3 in 7 s
      local s = server("fixed", 5, 10, { headers = false })
      s.handle(-3)
      s.handle(-3)
      local b = core.pacing_bucket(1)
      local t = drive(b, s, 100, 8, 0.1)
      assert.equal(5, b:state().fixed.limit)
      assert.is_true(s.refused <= 16, s.refused .. " refused")
      local before = s.refused
      drive(b, s, 50, 8, 0.1, { start = t })
      assert.equal(before, s.refused)
    end)

    it("with Retry-After: each window lets 8 go until one of them succeeds, then its whole count", function()
      local b = core.pacing_bucket(1)
      local function ok_burst(k, at)
        local q = {}
        for i = 1, k do
          assert.equal(0, b:delay(at))
          q[i] = b:send(at)
        end
        for i = 1, k do b:answer(q[i], at + 0.1) end
      end
      ok_burst(1, 0)                            -- the first success went at 0
      ok_burst(8, 0.1); ok_burst(8, 0.2); ok_burst(3, 0.3)
      b:refused(b:send(0.4), 0.5, nil, 9.6)     -- 20 in the window, which ends at 10 (sent)
      -- said by the 429, then foretold (a window used in full: one more)
      for _, w in ipairs { { start = 10, count = 20 }, { start = 20, count = 21 } } do
        local q = {}
        for i = 1, 8 do
          assert.equal(0, b:delay(w.start))
          q[i] = b:send(w.start)
        end
        assert.equal(HUGE, b:delay(w.start))    -- it may not have opened yet
        b:answer(q[1], w.start + 0.1)
        for i = 9, w.count do
          assert.equal(0, b:delay(w.start + 0.1))
          q[i] = b:send(w.start + 0.1)
        end
        assert.near(9.9, b:delay(w.start + 0.1), 1e-9)  -- its count is taken
        for i = 2, w.count do b:answer(q[i], w.start + 0.2) end
      end
    end)

    it("with Retry-After: a first window begun before the first request, windows on the clock: made up for", function()
      -- windows of a minute on the server's clock (from -30), 40 of 60
      -- taken before the client's first request: the first window counts
      -- 20 in 30 s, and the windows learnt from it split the real ones
      local s, start, count = { passed = 0, refused = 0 }, -30, 40
      function s.handle(now)
        if now >= start + 60 then
          start, count = start + 60 * math.floor((now - start) / 60), 0
        end
        if count < 60 then
          count, s.passed = count + 1, s.passed + 1
          return true
        end
        s.refused = s.refused + 1
        return false, nil, math.ceil(start + 60 - now)     -- whole seconds, as live
      end
      local b = core.pacing_bucket(1)
      drive(b, s, 300, 8, 0.1)
      assert.equal(60, b:state().fixed.limit)
      assert.is_true(math.abs(b:state().fixed.seconds - 60) < 1, b:state().fixed.seconds)
      assert.is_true(s.refused <= 24, s.refused .. " refused")
    end)

    it("with Retry-After: a request sent at the very end of a window counts in the next one too", function()
      -- the end learnt may be late (Retry-After is rounded up): one sent
      -- in its last thirtieth may be counted after it
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0.25)                 -- a round trip of 0.25
      local qs = {}
      for i = 1, 4 do qs[i] = b:send(0.25) end
      for i = 1, 4 do b:answer(qs[i], 0.5) end
      b:refused(b:send(0.5), 0.75, nil, 9.5)    -- 5 per 10 s, the next from 10
      assert.equal(0, b:delay(10))
      b:answer(b:send(10), 10.25)
      for i = 1, 4 do                           -- in the window's last third of a second
        assert.equal(0, b:delay(19.75))
        qs[i] = b:send(19.75)
      end
      assert.equal(0.25, b:delay(19.75))
      for i = 1, 4 do b:answer(qs[i], 20) end
      local went = 0
      while b:delay(20) == 0 do
        b:send(20)
        went = went + 1
      end
      assert.equal(b:state().fixed.limit - 4, went)
    end)

    it("with Retry-After: a window that opened early moves the windows later, and lets one ask first", function()
      local b = core.pacing_bucket(1)
      b:answer(b:send(0), 0.1)                  -- the first success went at 0
      local q = {}
      for i = 1, 4 do q[i] = b:send(0.1) end
      for i = 1, 3 do b:answer(q[i], 0.2) end
      b:refused(q[4], 0.2, nil, 9.9)            -- the window ends at 10 (sent)
      assert.near(9.8, b:delay(0.2), 1e-9)
      assert.equal(0, b:delay(10))
      assert.same({ 4, 10 }, { b:state().fixed.limit, b:state().fixed.seconds })
      for i = 1, 4 do q[i] = b:send(10) end
      assert.is_true(b:delay(10) > 9)           -- its count is taken
      for i = 1, 4 do b:refused(q[i], 10.1, nil, 0.5) end  -- it had not opened
      assert.near(0.4, b:delay(10.1), 1e-9)
      assert.equal(0, b:delay(10.5))
      assert.near(10.5, b:state().fixed.seconds, 1e-9)
      local probe = b:send(10.5)
      assert.equal(HUGE, b:delay(10.5))
      b:answer(probe, 10.6)
      assert.equal(0, b:delay(10.6))
    end)

    it("gives the fixed window up for the rate learnt at a 429 without Retry-After", function()
      local b = core.pacing_bucket(1)
      local t = drive(b, server("fixed", 5, 10, { headers = false }), 12, 8, 0.1)
      assert.is_truthy(b:state().fixed)
      b:refused(b:send(t), t + 0.1, nil, nil, 0)
      assert.is_nil(b:state().fixed)
      assert.is_true(b:state().fixed_given_up)
      assert.near(1, b:delay(t + 0.1), 1e-9)    -- the backoff, then the rate learnt
    end)

    it("with Retry-After: gives the fixed window up when its windows keep drawing 429s", function()
      -- a Retry-After of 1 s whatever the window (10 s) says no window's
      -- end: the windows learnt from it meet closed ones, again and
      -- again; the rate learnt then paces it
      local s = server("fixed", 5, 10, { headers = false })
      local handle = s.handle
      s.handle = function(now)
        local ok, headers, retry_after = handle(now)
        return ok, headers, retry_after and 1
      end
      local b = core.pacing_bucket(1)
      drive(b, s, 100, 8, 0.1)
      assert.is_true(b:state().fixed_given_up)
      assert.is_nil(b:state().fixed)
      assert.is_truthy(b:state().learnt)
      assert.is_true(s.refused <= 40, s.refused .. " refused")     -- before: 27
    end)
  end)

  describe("core.pace_key", function()
    it("names a bucket by method, service and path, numbers taken out, without the query", function()
      assert.equal("GET friends /v1/users/{id}/friends/count",
        core.pace_key("GET", "friends", "/v1/users/123/friends/count?x=1"))
      assert.equal("GET apis /a/12b/{id}", core.pace_key("GET", "apis", "/a/12b/34"))
      assert.equal("POST presence /v1/presence/users", core.pace_key("POST", "presence", "/v1/presence/users"))
      assert.equal("GET friends /v1/users/{id}/friends/count",
        core.pace_key("GET", "friends", "/v1/users/", "/friends/count"))
      assert.equal("GET x /{id}", core.pace_key("GET", "x", "/5"))
    end)

    it("finds the bucket found last, and none of another endpoint for it", function()
      local keys, count = core.pace_keys {
        { "GET", "friends", "/v1/users/1/friends/count" },
        { "GET", "friends", "/v1/users/2/friends/count" },
        { "GET", "friends", "/v1/users/", "/friends/count" },
        { "GET", "friends", "/v1/users/3/friends" },
        { "GET", "friends", "/v1/users/3/friends/count/x" },
        { "POST", "friends", "/v1/users/3/friends/count/x" },
        { "POST", "friend", "/v1/users/3/friends/count/x" },
        { "POST", "friend", "/v1/users/3a/friends/count/x?y=1" },
        { "POST", "friend", "/v1/users/3a/friends/count/x?z=2" },
        { "POST", "friend", "/v1/users/3a/friends/count/x/" },
        { "GET", "friends", "/v1/users/", "/friends" },
        { "GET", "friends", "/v1/users/", "/friends" },
        { "GET", "friends", "/v1/users/", "/friends/count" },
        { "GET", "groups", "/v1/users/", "/friends/count" },
        { "GET", "groups", "/v1/users/" },
      }
      assert.same({
        "GET friends /v1/users/{id}/friends/count", "GET friends /v1/users/{id}/friends/count",
        "GET friends /v1/users/{id}/friends/count", "GET friends /v1/users/{id}/friends",
        "GET friends /v1/users/{id}/friends/count/x", "POST friends /v1/users/{id}/friends/count/x",
        "POST friend /v1/users/{id}/friends/count/x", "POST friend /v1/users/3a/friends/count/x",
        "POST friend /v1/users/3a/friends/count/x", "POST friend /v1/users/3a/friends/count/x/",
        "GET friends /v1/users/{id}/friends", "GET friends /v1/users/{id}/friends",
        "GET friends /v1/users/{id}/friends/count", "GET groups /v1/users/{id}/friends/count",
        "GET groups /v1/users/",
      }, keys)
      assert.equal(9, count)
    end)
  end)

  describe("robloxsocial.limits", function()
    local limits = require "robloxsocial.limits"
    local endpoints = require "robloxsocial.endpoints"

    it("names each endpoint's bucket as the core finds it from the path sent", function()
      for _, row in ipairs(endpoints) do
        local path = row.path:gsub("{[^}]*}", "4294967297")
        if not row.path:find("Contact", 1, true) then     -- its one value is no number
          assert.equal(limits.key(row), core.pace_key(row.method, row.service, path), row.name)
        end
      end
    end)

    it("turns rate_limits by method name into the core's keys, and \"live\" into the observed limits", function()
      assert.same({ ["POST presence /v1/presence/users"] = { 60, 60 } },
        limits.check { presence = { 60, 60 } })
      assert.same({
        ["POST presence /v1/presence/users"] = { 60, 60 },
        ["GET friends /v1/users/{id}/friends"] = { 20, 60 },
        ["GET friends /v1/users/{id}/friends/count"] = { 100, 60 },
        ["GET friends /v1/users/{id}/friends/find"] = { 100, 60 },
      }, limits.check "live")
    end)

    it("refuses what is not a limit by method name", function()
      assert.has_error(function() limits.check { presense = { 1, 1 } } end,
        "bad argument #1 to 'new' (option 'rate_limits' names 'presense', which is not a method)")
      assert.has_error(function() limits.check { presence = { 0, 1 } } end,
        "bad argument #1 to 'new' (option 'rate_limits' presence must be { requests, seconds }: "
        .. "a positive whole number and 0 to 86400 seconds)")
      assert.has_error(function() limits.check(true) end,
        "bad argument #1 to 'new' (option 'rate_limits' must be a table by method name or \"live\")")
    end)
  end)
end)

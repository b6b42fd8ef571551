-- The sandbox's rate-limit styles (fixed and sliding windows, token
-- buckets that report the time until full or until the next token), the
-- per-rule options (headers off, what Retry-After says) and zeroing one
-- caller's counts.  Driven by sb:advance() on a frozen clock: no sleeping,
-- and every x-ratelimit-reset is exact.  LuaSocket only; credentials are
-- never printed.
local socket_http = require "socket.http"
local ltn12 = require "ltn12"
local sandbox = require "robloxsocial.sandbox"

local COUNT = "/v1/users/1234567890123456/friends/count"
local PATTERN = "GET /v1/users/{userId}/friends/count"

local sb

-- GET COUNT, anonymous or with account's cookie; { status, limit,
-- remaining, reset, retry_after } from the answer.
local function hit(account)
  local headers = { ["user-agent"] = "sandbox-ratelimit-spec/1" }
  if account then headers.cookie = ".ROBLOSECURITY=" .. account.cookie end
  local _, status, h = socket_http.request {
    url = sb.base_url .. COUNT, headers = headers, sink = ltn12.sink.null() }
  h = h or {}
  return { status = status, limit = h["x-ratelimit-limit"], remaining = h["x-ratelimit-remaining"],
           reset = h["x-ratelimit-reset"], retry_after = h["retry-after"] }
end

-- status, remaining and reset of one request, in one list for assert.same.
local function srr(account)
  local r = hit(account)
  return { r.status, r.remaining, r.reset }
end

local function limit(rule)
  sb:configure { rate_limits = { [PATTERN] = rule } }
end

describe("the sandbox's rate limits", function()
  setup(function() sb = sandbox.start() end)
  teardown(function() sb:stop() end)
  before_each(function()
    sb:reset()
    sb:freeze_clock()
  end)

  describe("in fixed windows", function()
    it("count from a window's first request to its end, then open the next on the next request", function()
      limit { limit = 3, window = 10, style = "fixed" }
      assert.same({ 200, "2", "10" }, srr())
      sb:advance(4)
      assert.same({ 200, "1", "6" }, srr())
      assert.same({ 200, "0", "6" }, srr())
      local refused = hit()
      assert.same({ 429, "0", "6", "6" }, { refused.status, refused.remaining, refused.reset, refused.retry_after })
      sb:advance(6.5)
      assert.same({ 200, "2", "10" }, srr())     -- a new window, from this request
    end)
  end)

  describe("in sliding windows", function()
    it("let at most L requests through in any W seconds", function()
      limit { limit = 3, window = 10, style = "sliding" }
      assert.same({ 200, "2", "10" }, srr())     -- t = 0
      assert.same({ 200, "1", "10" }, srr())     -- t = 0
      sb:advance(5)
      assert.same({ 200, "0", "5" }, srr())      -- t = 5: the oldest leaves at 10
      local refused = hit()                      -- t = 5
      assert.same({ 429, "5" }, { refused.status, refused.retry_after })
      sb:advance(5.01)                           -- t = 10.01: both t = 0 requests have left
      assert.same({ 200, "1", "5" }, srr())      -- the t = 5 one leaves at 15 (4.99 s)
      assert.same({ 200, "0", "5" }, srr())
      assert.equal(429, hit().status)
      sb:advance(5)                              -- t = 15.01: the t = 5 request has left
      assert.same({ 200, "0", "5" }, srr())      -- the next leaves at 20.01
    end)
  end)

  describe("as token buckets", function()
    it("refill token by token and say the seconds until full (bucket_full)", function()
      limit { limit = 3, window = 10, style = "bucket_full" }   -- a token every 3.333 s
      assert.same({ 200, "2", "3.334" }, srr())
      assert.same({ 200, "1", "6.667" }, srr())
      assert.same({ 200, "0", "10" }, srr())
      local refused = hit()
      assert.same({ 429, "0", "10", "4" }, { refused.status, refused.remaining, refused.reset, refused.retry_after })
      sb:advance(3)
      assert.equal(429, hit().status)            -- 0.9 token
      sb:advance(0.4)                            -- 1.02 tokens
      assert.same({ 200, "0", "9.934" }, srr())  -- 0.02 token left: 2.98 missing
      sb:advance(10)
      assert.same({ 200, "2", "3.334" }, srr())  -- full again, never more than 3
    end)

    it("say the seconds until the next token (bucket_next)", function()
      limit { limit = 3, window = 10, style = "bucket_next" }
      assert.same({ 200, "2", "3.334" }, srr())
      assert.same({ 200, "1", "3.334" }, srr())
      sb:advance(1)
      assert.same({ 200, "0", "2.334" }, srr())  -- 0.3 token: the next one in 2.333 s
      assert.equal(429, hit().status)
      sb:advance(2.5)                            -- 1.05 tokens
      assert.same({ 200, "0", "3.167" }, srr())  -- 0.05 token left
      sb:advance(20)
      assert.same({ 200, "2", "3.334" }, srr())  -- full again, never more than 3
    end)
  end)

  describe("rule options", function()
    it("headers = false: no x-ratelimit-* at all, still limited, Retry-After still there", function()
      limit { limit = 1, window = 10, headers = false }
      local ok, refused = hit(), hit()
      assert.same({ 200, 429 }, { ok.status, refused.status })
      assert.same({}, { ok.limit, ok.remaining, ok.reset, refused.limit, refused.remaining, refused.reset })
      assert.equal("10", refused.retry_after)
    end)

    it("retry_after: false none, a number always, \"reset\" the reset, \"date\" an HTTP date", function()
      local function retry(ra, style)
        sb:reset()
        sb:freeze_clock()
        limit { limit = 2, window = 10, retry_after = ra, style = style }
        hit()
        hit()
        return hit().retry_after
      end
      assert.is_nil(retry(false))
      assert.equal("5", retry(5))
      assert.equal("10", retry(true))                     -- the fixed window's end
      assert.equal("5", retry(true, "bucket_full"))       -- the next token: one every 5 s
      assert.equal("10", retry("reset", "bucket_full"))   -- what x-ratelimit-reset says: until full
      assert.matches("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$", retry("date"))
    end)

    it("are checked: a bad retry_after, headers or style is refused by name", function()
      for _, case in ipairs {
        { { limit = 1, retry_after = "soon" }, "retry_after must be" },
        { { limit = 1, headers = "no" }, "headers must be a boolean" },
        { { limit = 1, style = "leaky" }, 'style "leaky" is not a style' },
      } do
        local ok, err = pcall(limit, case[1])
        assert.is_false(ok)
        assert.matches(case[2], err, 1, true)
      end
    end)

    it("keep the live header form with policy = true in every style", function()
      limit { limit = 3, window = 10, style = "sliding", policy = true }
      assert.equal("3, 3;w=10", hit().limit)
    end)
  end)

  describe("counts", function()
    it("are kept per caller, and sb:reset_limits() zeroes one caller's or everyone's", function()
      limit { limit = 1, window = 60 }
      local main, side = sb.accounts[1], sb.accounts[2]
      assert.same({ 200, 200, 200 }, { hit(main).status, hit(side).status, hit().status })
      assert.same({ 429, 429, 429 }, { hit(main).status, hit(side).status, hit().status })
      assert.equal(1, sb:reset_limits { account = 1 })
      assert.same({ 200, 429, 429 }, { hit(main).status, hit(side).status, hit().status })
      assert.equal(1, sb:reset_limits { peer = "127.0.0.1" })
      assert.same({ 429, 429, 200 }, { hit(main).status, hit(side).status, hit().status })
      assert.equal(1, sb:reset_limits { user_id = side.user_id })
      assert.equal(200, hit(side).status)
      assert.equal(3, sb:reset_limits())
      assert.same({ 200, 200, 200 }, { hit(main).status, hit(side).status, hit().status })
      assert.has_error(function() sb:reset_limits { account = 9 } end)
    end)

    it("are zeroed by sb:reset() and by configuring the limits", function()
      limit { limit = 1, window = 60, style = "sliding" }
      assert.same({ 200, 429 }, { hit().status, hit().status })
      limit { limit = 1, window = 60, style = "sliding" }
      assert.equal(200, hit().status)
      sb:reset()
      limit { limit = 1, window = 60, style = "sliding" }
      assert.equal(200, hit().status)
    end)
  end)
end)

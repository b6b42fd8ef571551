-- The three reads that travel as POST (presence, multiget_are_friends,
-- user_tags) are reads: retried after a 5xx or a network failure as a GET
-- is, with errors that have no `sent` and never speak of a write.  They
-- still carry the x-csrf-token handshake, as every POST of a cookie
-- client does.  client:request's POSTs stay writes.
local support = require "spec.support"

local sb, me = support.main()
before_each(support.reset)

local READS = {
  { name = "presence", path = "/v1/presence/users",
    call = function(c) return c:presence{ me } end },
  { name = "multiget_are_friends", path = nil,        -- set below: it names the user
    call = function(c) return c:multiget_are_friends(me, { 1, 2 }) end },
  { name = "user_tags", path = "/v1/user/get-tags",
    call = function(c) return c:user_tags{ 1, 2 } end },
}

local function path_of(read)
  return read.path or ("/v1/user/%d/multiget-are-friends"):format(me)
end

-- A cookie client that already holds its csrf token.
local function warm_client(read, opts)
  local client = support.client(opts)
  assert(read.call(client))
  sb:clear_requests()
  return client
end

for _, read in ipairs(READS) do
  describe(read.name, function()
    it("is retried after a 503, as a GET is", function()
      local client <close> = warm_client(read)
      sb:fault{ method = "POST", path = path_of(read), kind = "status", status = 503 }
      assert(read.call(client))
      assert.equal(2, #support.sent("POST", path_of(read)))
    end)

    it("is retried after a network failure", function()
      local client <close> = warm_client(read)
      sb:fault{ method = "POST", path = path_of(read), kind = "reset" }
      assert(read.call(client))
      assert.equal(2, #support.requests("POST", path_of(read)))
    end)

    it("fails with an error that has no sent field and speaks of no write", function()
      local client <close> = warm_client(read, { max_retries = 1 })
      sb:fault{ method = "POST", path = path_of(read), kind = "status", status = 500, count = -1 }
      local _, err = read.call(client)
      assert.same({ "http", 500 }, { err.kind, err.status })
      assert.is_nil(err.sent)
      assert.equal(2, #support.sent("POST", path_of(read)))
      sb:clear_faults()
      sb:fault{ method = "POST", path = path_of(read), kind = "drop", count = -1 }
      _, err = read.call(client)
      assert.equal("network", err.kind)
      assert.is_nil(err.sent)
      assert.is_nil(tostring(err):find("write", 1, true))
    end)

    it("still carries the x-csrf-token of a cookie client", function()
      local client <close> = support.client()
      assert(read.call(client))
      local posts = support.requests("POST", path_of(read))
      assert.equal(2, #posts)
      assert.same({ 403, false }, { posts[1].status, posts[1].csrf_token ~= nil })
      assert.same({ 200, true }, { posts[2].status, posts[2].csrf_token ~= nil })
    end)
  end)
end

describe("client:request", function()
  it("sends a POST as a write: not retried after a 503, and its error has sent", function()
    local client <close> = warm_client(READS[1])
    sb:fault{ method = "POST", path = "/v1/presence/users", kind = "status", status = 503 }
    local _, err = client:request("POST", "presence", "/v1/presence/users", { body = { userIds = { me } } })
    assert.equal(503, err.status)
    assert.is_true(err.sent)
    assert.equal(1, #support.sent("POST", "/v1/presence/users"))
  end)
end)

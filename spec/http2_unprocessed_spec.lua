-- Writes over HTTP/2 that the server provably did not process (a stream
-- refused with REFUSED_STREAM, or above a GOAWAY's last stream id) go
-- again and are not "sent"; a write that the server may have processed
-- is never sent twice.  Against spec/h2server.py, which counts what it
-- processed.
local h2server = require "spec.h2server"
local robloxsocial = require "robloxsocial"

local available, why = h2server.available()
local h2_describe = available and describe or function(name) pending(name .. " (" .. tostring(why) .. ")") end

h2_describe("a write over HTTP/2", function()
  local function client(srv, opts)
    local options = { base_url = srv.base_url, cainfo = srv.cainfo, retry_delay = 0.01, timeout = 10 }
    for k, v in pairs(opts or {}) do options[k] = v end
    return robloxsocial.new(options)
  end

  local function paths(events)
    local out = {}
    for i, ev in ipairs(events) do out[i] = ev.path end
    return out
  end

  -- Sends the writes /w/1 .. /w/n one after the other, on one client (so
  -- on one connection while it lasts); returns their answers and errors.
  local function writes(srv, n, opts)
    local c <close> = client(srv, opts)
    local answers, errs = {}, {}
    for i = 1, n do
      answers[i], errs[i] = c:request("POST", "friends", "/w/" .. i, { body = { i = i } })
    end
    return answers, errs
  end

  it("refused with REFUSED_STREAM goes again and succeeds, processed once", function()
    local srv <close> = h2server.start{ refuse = { 2 } }
    local answers, errs = writes(srv, 2)
    assert.is_nil(errs[2])
    assert.equal("/w/2", answers[2].path)
    assert.same({ "/w/2" }, paths(srv.events("refused")))
    assert.same({ "/w/1", "/w/2" }, paths(srv.events("processed")))
  end)

  it("refused on the connection's first stream goes again too", function()
    local srv <close> = h2server.start{ refuse = { 1 } }
    local answers, errs = writes(srv, 1)
    assert.is_nil(errs[1])
    assert.same({ "/w/1" }, paths(srv.events("processed")))
    assert.equal(2, answers[1].n)
  end)

  it("above a GOAWAY's last stream id goes again on a new connection", function()
    local srv <close> = h2server.start{ goaway = { 2 } }
    local answers, errs = writes(srv, 2)
    assert.is_nil(errs[2])
    assert.equal("/w/2", answers[2].path)
    local processed = srv.events("processed")
    assert.same({ "/w/1", "/w/2" }, paths(processed))
    assert.equal(srv.events("goaway")[1].connection, processed[1].connection)
    assert.are_not.equal(processed[1].connection, processed[2].connection)
  end)

  it("above a GOAWAY's last stream id, while a stream below is still answered, goes again", function()
    local srv <close> = h2server.start{ slow = { 1 }, goaway = { 2 } }
    local c <close> = client(srv)
    local tasks = {}
    for i = 1, 2 do
      tasks[i] = robloxsocial.spawn(function()
        return c:request("POST", "friends", "/w/" .. i, { body = { i = i } })
      end)
      robloxsocial.step(0)         -- /w/1 goes first
    end
    assert.is_true(robloxsocial.run(10))
    local first, second = tasks[1]:wait(), tasks[2]:wait()
    assert.equal("/w/1", first.path)
    assert.equal("/w/2", second.path)
    local processed = srv.events("processed")
    table.sort(processed, function(a, b) return a.n < b.n end)
    assert.same({ "/w/1", "/w/2" }, paths(processed))
    assert.equal(1, #srv.events("goaway"))
  end)

  it("refused every time fails with sent = false after five more tries", function()
    local srv <close> = h2server.start{ refuse = { 1, 2, 3, 4, 5, 6, 7, 8 } }
    local answers, errs = writes(srv, 1)
    assert.is_nil(answers[1])
    assert.equal("network", errs[1].kind)
    assert.is_false(errs[1].sent)
    assert.matches("did not process", errs[1].message)
    assert.equal(6, #srv.events("refused"))
    assert.same({}, srv.events("processed"))
  end)

  it("the hook sees the refused attempt and the one that went through", function()
    local srv <close> = h2server.start{ refuse = { 1 } }
    local seen = {}
    local answers, errs = writes(srv, 1, { on_response = function(info) seen[#seen + 1] = info end })
    assert.is_nil(errs[1])
    assert.equal(2, #seen)
    assert.equal("network", seen[1].error_kind)
    assert.is_nil(seen[1].status)
    assert.equal(200, seen[2].status)
    assert.truthy(answers[1])
  end)

  it("processed, then its connection reset, fails with sent = true and is not sent again", function()
    local srv <close> = h2server.start{ die = { 2 } }
    local answers, errs = writes(srv, 2)
    assert.is_nil(answers[2])
    assert.equal("network", errs[2].kind)
    assert.is_true(errs[2].sent)
    assert.same({ "/w/1", "/w/2" }, paths(srv.events("processed")))
    -- libcurl was about to send it again by itself: that was refused
    assert.matches("may have taken effect", errs[2].message)
  end)

  it("leaves reads as they were: a refused GET goes again", function()
    local srv <close> = h2server.start{ refuse = { 2 } }
    local c <close> = client(srv)
    assert(c:request("GET", "friends", "/r/1"))
    local answer = assert(c:request("GET", "friends", "/r/2"))
    assert.equal("/r/2", answer.path)
  end)
end)

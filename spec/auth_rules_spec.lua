-- Who may call what: Roblox takes no API key and no OAuth token on the 37
-- endpoints; 29 take only the .ROBLOSECURITY cookie, 8 also answer
-- without any credential.  Each row of the endpoint table says which
-- (`auth`), and a cookie-only method (its iterator, its batches) raises
-- on a client without a cookie before anything is sent.  The rules, and
-- the eight writes Roblox took out of its reference, are those of
-- ../shared/api/drift-2026.md.

local robloxsocial = require "robloxsocial"
local support = require "spec.support"

local sb, ME = support.main()

local ANONYMOUS = { "friends_metadata", "multiget_are_friends", "friends", "friends_count",
                    "find_friends", "friend_statuses", "presence", "friends_group_roles" }

local function row_of(name)
  for _, row in ipairs(robloxsocial.endpoints) do
    if row.name == name then return row end
  end
end

local function needs_cookie(name, row)
  return ("robloxsocial: %s needs a cookie: Roblox accepts only the .ROBLOSECURITY cookie on %s %s")
    :format(name, row.method, row.path)
end

-- Arguments that the method accepts: every check passes, so that only
-- the credential can stop the call.
local function valid_args(row)
  local out = {}
  for i, p in ipairs(row.params) do
    local kind = p[2]
    out[i] = kind == "id" and ME or kind == "ids" and { ME, 1 } or "x"
  end
  return out
end

local function rows_by_auth(auth)
  local out = {}
  for _, row in ipairs(robloxsocial.endpoints) do
    if row.auth == auth then out[#out + 1] = row end
  end
  return out
end

-- Clients of the sandbox without a cookie: none at all, and the other two
-- credentials (which the 37 endpoints do not take).
local CLIENTS = {
  ["no credential"] = { cookie = false },
  ["an API key and an OAuth token only"] = { cookie = false, api_key = "k-not-for-these-hosts",
                                             access_token = "t-not-for-these-hosts" },
}

before_each(function() support.reset() end)

describe("the endpoint table", function()
  it("gives every row a rule: 29 cookie only, 8 anonymous or cookie", function()
    local names, odd = {}, {}
    for _, row in ipairs(robloxsocial.endpoints) do
      if row.auth ~= "cookie" and row.auth ~= "any" then odd[#odd + 1] = row.name end
    end
    for i, row in ipairs(rows_by_auth("any")) do names[i] = row.name end
    assert.same({}, odd)
    assert.same(ANONYMOUS, names)
    assert.equal(29, #rows_by_auth("cookie"))
  end)
end)

for label, opts in pairs(CLIENTS) do
  describe("a cookie-only method on a client with " .. label, function()
    local client
    before_each(function() client = support.client(opts) end)
    after_each(function() client:close() end)

    for _, row in ipairs(rows_by_auth("cookie")) do
      it(row.name .. "() raises and sends nothing", function()
        local args = valid_args(row)
        assert.has_error(function() client[row.name](client, table.unpack(args)) end,
                         needs_cookie(row.name, row))
        if row.paging then
          local name = row.paging.iterator
          assert.has_error(function() client[name](client, table.unpack(args)) end, needs_cookie(name, row))
          args[#row.params + 1] = { prefetch = true }
          assert.has_error(function() client[name](client, table.unpack(args)) end, needs_cookie(name, row))
        end
        assert.same({}, support.requests())
      end)
    end

    it("raises inside a task too, before anything is sent", function()
      local t = robloxsocial.spawn(function() return client:my_friends_count() end)
      assert.has_error(function() t:wait() end, needs_cookie("my_friends_count", row_of("my_friends_count")))
      assert.same({}, support.requests())
    end)
  end)
end

describe("a method called on a closed client without a cookie", function()
  it("says the client is closed (the first thing wrong), not that it lacks a cookie", function()
    local client = support.client{ cookie = false }
    client:close()
    assert.has_error(function() client:my_friends_count() end, "robloxsocial: attempt to use a closed client")
    assert.has_error(function() client:message(1) end, "robloxsocial: attempt to use a closed client")
  end)
end)

describe("the anonymous methods on a client without a cookie", function()
  local client
  before_each(function() client = support.client{ cookie = false } end)
  after_each(function() client:close() end)

  for _, name in ipairs(ANONYMOUS) do
    it(name .. "() does not raise, and asks the service", function()
      local row = row_of(name)
      local args = valid_args(row)
      assert.has_no_error(function() client[name](client, table.unpack(args)) end)
      if row.paging then
        assert.has_no_error(function()
          for _ in client[row.paging.iterator](client, table.unpack(args)) do end
        end)
      end
      assert.is_true(#support.requests() > 0)
    end)
  end
end)

describe("a cookie-only method on a client with the cookie", function()
  it("is sent, by each way of calling it", function()
    local client <close> = support.client()
    assert.is_table((client:my_friends_count()))
    assert.is_boolean((client:check_qr_session(ME)))
    assert.is_table((client:inactive_friends(ME)))
    assert.is_table((client:online_friends(ME)))
    assert.is_table((client:user_tags{ ME }))
    for _ in client:each_friend_request() do break end
    assert.equal(6, #support.sent())     -- the CSRF handshake's first try left out
  end)
end)

---------------------------------------------------------------------------
-- The rules of ../shared/api/drift-2026.md (its "Credentials" section and
-- its list of the writes removed on 2026-06-15).

local DRIFT = "../shared/api/drift-2026.md"

local function read_drift()
  local f = io.open(DRIFT, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- "`GET /v1/users/{userId}/friends`, `.../friends/count`": a path that
-- starts with ... takes the head of the last full path, up to where its
-- own first segment starts there; a path with no method takes the last.
local function endpoint_list(text)
  local out, method, last = {}, nil, nil
  for item in text:gmatch("`([^`]+)`") do
    local m, path = item:match("^(%u+) (/%S*)$")
    if not m then
      local tail = item:match("^%.%.%.(/%S*)$")
      if tail and last then
        local at = last:find(tail:match("^/[^/]*"), 1, true)
        m, path = method, last:sub(1, at - 1) .. tail
      end
    end
    if m then
      out[#out + 1] = m .. " " .. path
      method, last = m, path
    end
  end
  table.sort(out)
  return out
end

local function rows_where(field, value)
  local out = {}
  for _, row in ipairs(robloxsocial.endpoints) do
    if row[field] == value then out[#out + 1] = row.method .. " " .. row.path end
  end
  table.sort(out)
  return out
end

describe("the rules against " .. DRIFT, function()
  local text = read_drift()
  if not text then
    pending("equal the document's (" .. DRIFT .. " is absent: skipped)")
    return
  end

  it("name the same eight endpoints anonymous or cookie, and 29 cookie only", function()
    local credentials = assert(text:match("\n## Credentials\n(.-)\n## "), "no '## Credentials' section")
    local item = assert(credentials:match("%*%*anonymous or cookie%*%* %((.-)%)%."), "no list of the anonymous")
    assert.equal("8", item:match("^(%d+):"))
    assert.equal("29", credentials:match("%*%*cookie only%*%* %((%d+)%)"))
    local listed = endpoint_list(item)
    assert.equal(8, #listed)
    assert.same(listed, rows_where("auth", "any"))
  end)

  it("mark as removed the eight writes the document says went on 2026-06-15", function()
    local item = assert(text:match("\n%- 2026%-06%-15: eight friend writes were removed[^\n]*\n(.-)\n%- "),
                        "no list of the removed writes")
    local listed = endpoint_list(item)
    assert.equal(8, #listed)
    assert.same(listed, rows_where("removed", "2026-06-15"))
  end)
end)

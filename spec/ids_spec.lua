-- The id-list path of robloxsocial.core: core.ids_check checks a list of
-- ids with the contract's rules, core.ids_body writes (a range of) it as a
-- one-field JSON body, exactly, in one pass.

local core = require "robloxsocial.core"

local ids_check, ids_body = core.ids_check, core.ids_body
local EXPECTED = "list of positive integers expected, got "

-- The error ids_body raises for a bad list.
local function bad(why)
  return "bad argument #1 to 'ids_body' (" .. EXPECTED .. why .. ")"
end

local function range(first, last)
  local t = {}
  for i = first, last do t[#t + 1] = i end
  return t
end

describe("core.ids_body()", function()
  it("writes a list as a one-field JSON body", function()
    assert.equal('{"userIds":[1,2,3]}', ids_body({ 1, 2, 3 }, "userIds"))
  end)

  it("writes 2^53+1 and 2^63-1 exactly", function()
    assert.equal('{"userIds":[9007199254740993,9223372036854775807]}',
      ids_body({ 9007199254740993, math.maxinteger }, "userIds"))
  end)

  it("writes every digit count from 1 to 19 exactly", function()
    local list, want = {}, {}
    for digits = 1, 19 do
      local low, high = math.tointeger(10 ^ (digits - 1)), digits == 19 and math.maxinteger
        or math.tointeger(10 ^ digits) - 1
      for _, id in ipairs({ low, low + 1, high - 1, high, (low + high) // 2 }) do
        if id > 0 then
          list[#list + 1] = id
          want[#want + 1] = ("%d"):format(id)
        end
      end
    end
    assert.equal('{"ids":[' .. table.concat(want, ",") .. "]}", ids_body(list, "ids"))
  end)

  it("writes a float with an integral value as that integer", function()
    assert.equal('{"userIds":[12,4294967297]}', ids_body({ 12.0, 4294967297.0 }, "userIds"))
  end)

  it("writes a long list, beyond its stack buffer, in order", function()
    local list = range(4294967297, 4294967297 + 999)
    local body = ids_body(list, "userIds")
    local i = 0
    for id in body:gmatch("%d+") do
      i = i + 1
      assert.equal(list[i], math.tointeger(tonumber(id)))
    end
    assert.equal(1000, i)
  end)

  it("writes an empty list as an empty array", function()
    assert.equal('{"userIds":[]}', ids_body({}, "userIds"))
  end)

  describe("with a range", function()
    local list = range(101, 110)

    it("writes the elements first..last", function()
      assert.equal('{"userIds":[103,104,105]}', ids_body(list, "userIds", 3, 5))
      assert.equal('{"userIds":[101]}', ids_body(list, "userIds", 1, 1))
      assert.equal('{"userIds":[110]}', ids_body(list, "userIds", 10, 10))
    end)

    it("writes an empty range as an empty array", function()
      assert.equal('{"userIds":[]}', ids_body(list, "userIds", 11, 10))
      assert.equal('{"userIds":[]}', ids_body(list, "userIds", 1, 0))
    end)

    it("defaults last to the end of the list", function()
      assert.equal('{"userIds":[109,110]}', ids_body(list, "userIds", 9))
    end)

    it("checks the elements it writes", function()
      local holes = { 1, 2, "3", 4 }
      assert.equal('{"userIds":[1,2]}', ids_body(holes, "userIds", 1, 2))
      assert.has_error(function() ids_body(holes, "userIds", 2, 4) end, bad("string at index 3"))
    end)

    it("raises when the range is outside the list", function()
      assert.has_error(function() ids_body(list, "userIds", 0, 2) end,
        "bad argument #3 to 'ids_body' (range start out of the list)")
      assert.has_error(function() ids_body(list, "userIds", 12, 12) end,
        "bad argument #3 to 'ids_body' (range start out of the list)")
      assert.has_error(function() ids_body(list, "userIds", 2, 11) end,
        "bad argument #4 to 'ids_body' (range end out of the list)")
      assert.has_error(function() ids_body(list, "userIds", 5, 3) end,
        "bad argument #4 to 'ids_body' (range end out of the list)")
    end)
  end)

  describe("refuses", function()
    it("zero and negative ids", function()
      assert.has_error(function() ids_body({ 1, 0 }, "userIds") end, bad("integer at index 2"))
      assert.has_error(function() ids_body({ -5 }, "userIds") end, bad("integer at index 1"))
      assert.has_error(function() ids_body({ math.mininteger }, "userIds") end, bad("integer at index 1"))
    end)

    it("NaN, infinities, fractions and floats beyond 2^63", function()
      assert.has_error(function() ids_body({ 0 / 0 }, "userIds") end, bad("float at index 1"))
      assert.has_error(function() ids_body({ 1, math.huge }, "userIds") end, bad("float at index 2"))
      assert.has_error(function() ids_body({ 1.5 }, "userIds") end, bad("float at index 1"))
      assert.has_error(function() ids_body({ 2.0 ^ 63 }, "userIds") end, bad("float at index 1"))
      assert.has_error(function() ids_body({ -0.0 }, "userIds") end, bad("float at index 1"))
    end)

    it("strings, even numeric ones, and other types", function()
      assert.has_error(function() ids_body({ "12" }, "userIds") end, bad("string at index 1"))
      assert.has_error(function() ids_body({ 1, true }, "userIds") end, bad("boolean at index 2"))
      assert.has_error(function() ids_body({ {} }, "userIds") end, bad("table at index 1"))
    end)

    it("a table with keys besides 1..n", function()
      assert.has_error(function() ids_body({ 1, 2, x = 3 }, "userIds") end, bad("a table with other keys"))
      assert.has_error(function() ids_body({ 1, 2, [4] = 4 }, "userIds") end, bad("a table with other keys"))
      assert.has_error(function() ids_body({ [1.5] = 1 }, "userIds") end, bad("a table with other keys"))
    end)

    it("a list whose keys 1..n sit in the hash part, with a stray key", function()
      -- Keys inserted into free hash slots never move to the array part.
      local t = { a = 1, b = 2, c = 3, d = 4 }
      t.a, t.b, t.c = nil, nil, nil
      t[1], t[2], t[3] = 11, 12, 13
      assert.equal(3, #t)
      assert.has_error(function() ids_body(t, "userIds") end, bad("a table with other keys"))
      t.d = nil
      assert.equal('{"userIds":[11,12,13]}', ids_body(t, "userIds"))
    end)

    it("what is not a table", function()
      assert.has_error(function() ids_body(nil, "userIds") end, bad("no value"))
      assert.has_error(function() ids_body(12, "userIds") end, bad("integer"))
      assert.has_error(function() ids_body("1,2", "userIds", 1, 2) end, bad("string"))
    end)

    it("a field name that would need escaping", function()
      local msg = "bad argument #2 to 'ids_body' "
        .. "(field name without quotes, backslashes or control characters expected)"
      assert.has_error(function() ids_body({ 1 }, 'user"Ids') end, msg)
      assert.has_error(function() ids_body({ 1 }, "") end, msg)
    end)
  end)

  it("reads the list raw: metamethods do not change what is written", function()
    local t = setmetatable({ 1, 2 }, {
      __index = function() return 99 end,
      __len = function() return 5 end,
    })
    assert.equal('{"userIds":[1,2]}', ids_body(t, "userIds"))
  end)
end)

describe("core.ids_check()", function()
  it("returns the length of a good list", function()
    assert.equal(3, ids_check({ 1, 2.0, math.maxinteger }))
    assert.equal(0, ids_check({}))
  end)

  it("returns nil, why and the index of the first bad element", function()
    assert.same({ nil, EXPECTED .. "string at index 2", 2 }, { ids_check({ 1, "2", -3 }) })
    assert.same({ nil, EXPECTED .. "float at index 1", 1 }, { ids_check({ 0 / 0 }) })
    assert.same({ nil, EXPECTED .. "integer at index 40", 40 },
      { ids_check((function() local t = range(1, 50); t[40] = 0; return t end)()) })
  end)

  it("returns nil and why for stray keys and non-tables", function()
    assert.same({ nil, EXPECTED .. "a table with other keys" }, { ids_check({ 1, n = 1 }) })
    assert.same({ nil, EXPECTED .. "no value" }, { ids_check(nil) })
    assert.same({ nil, EXPECTED .. "string" }, { ids_check("1") })
  end)

  it("reports a bad element before stray keys, as the Lua check did", function()
    assert.same({ nil, EXPECTED .. "boolean at index 1", 1 }, { ids_check({ false, x = 1 }) })
  end)
end)

describe("a method whose body is one list of ids", function()
  local robloxsocial = require "robloxsocial"
  local methods = require "robloxsocial.methods"
  local row
  for _, r in ipairs(robloxsocial.endpoints) do
    if r.name == "presence" then row = r end
  end

  it("builds its body with core.ids_body, 12.0 as 12", function()
    local values = assert(methods.check_args(row, { 12.0, 9007199254740993 }))
    local path, query, body = methods.build(row, values)
    assert.equal("/v1/presence/users", path)
    assert.is_nil(query)
    assert.equal('{"userIds":[12,9007199254740993]}', body)
  end)

  it("checks its list with the contract's messages", function()
    assert.same({ nil, 1, EXPECTED .. "string at index 2" },
      { methods.check_args(row, { 1, "2" }) })
    assert.same({ nil, 1, EXPECTED .. "a table with other keys" },
      { methods.check_args(row, { 1, x = 2 }) })
  end)

  it("copies a list that has a metatable, reading it raw", function()
    local list = setmetatable({ 5, 6 }, { __index = function() return 1 end })
    local values = assert(methods.check_args(row, list))
    assert.are_not.equal(list, values[1])
    assert.same({ 5, 6 }, values[1])
  end)
end)

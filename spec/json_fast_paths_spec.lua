-- The decoder's fast paths: the key caches and the key-order prediction
-- (on for bodies of 512 bytes or more), and integers read in line when
-- 20 bytes are left.  Each must give exactly what the plain path gives.

local core = require "robloxsocial.core"

local decode = core.json_decode

-- Deep equality where numbers must also have the same subtype.
local function same(a, b)
  if math.type(a) ~= math.type(b) or type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function page(items)
  local text = "[" .. table.concat(items, ",") .. "]"
  assert(#text >= 512, "the page must be long enough for the caches")
  return text
end

describe("core.json_decode() with the key caches on", function()
  it("follows items whose keys change order, come and go, or repeat", function()
    local items, want = {}, {}
    for i = 1, 12 do
      items[#items + 1] = ('{"id":%d,"name":"n%d","hasVerifiedBadge":false}'):format(i, i)
      want[#want + 1] = { id = i, name = "n" .. i, hasVerifiedBadge = false }
    end
    items[#items + 1] = '{"name":"swapped","id":13,"hasVerifiedBadge":true}'
    want[#want + 1] = { name = "swapped", id = 13, hasVerifiedBadge = true }
    items[#items + 1] = '{"id":14}'
    want[#want + 1] = { id = 14 }
    items[#items + 1] = '{"id":15,"name":"x","hasVerifiedBadge":true,"extra":[1,{"id":2}]}'
    want[#want + 1] = { id = 15, name = "x", hasVerifiedBadge = true, extra = { 1, { id = 2 } } }
    items[#items + 1] = '{"id":16,"id":17}'
    want[#want + 1] = { id = 17 }
    items[#items + 1] = '{}'
    want[#want + 1] = {}
    items[#items + 1] = '{"id":18,"name":"y","hasVerifiedBadge":false}'
    want[#want + 1] = { id = 18, name = "y", hasVerifiedBadge = false }
    assert.is_true(same(want, decode(page(items))))
  end)

  it("tells an escaped key from the cached plain key it spells, and back", function()
    local items, want = {}, {}
    for i = 1, 30 do
      local escaped = i % 3 == 0
      items[#items + 1] = escaped and ('{"i\\u0064":%d,"ab":1,"a\\"b":2}'):format(i)
        or ('{"id":%d,"ab":1,"a\\"b":2}'):format(i)
      want[#want + 1] = { id = i, ab = 1, ['a"b'] = 2 }
    end
    assert.is_true(same(want, decode(page(items))))
  end)

  it("tells apart keys of the same length at the same place", function()
    local items, want = {}, {}
    local keys = { "abcdefgh", "abcdefgX", "Xbcdefgh", "abcXefgh", "ab", "Xb", "aX" }
    for i = 1, 40 do
      local key = keys[i % #keys + 1]
      items[#items + 1] = ('{"%s":%d,"k":0}'):format(key, i)
      want[#want + 1] = { [key] = i, k = 0 }
    end
    assert.is_true(same(want, decode(page(items))))
  end)

  it("decodes keys longer than the cache holds, and nesting deeper than it predicts", function()
    local long = ("k"):rep(60)
    local items, want = {}, {}
    for i = 1, 10 do
      items[#items + 1] = ('{"%s":%d,"d":%s}'):format(long, i, ('{"x":'):rep(20) .. i .. ("}"):rep(20))
      local inner = i
      for _ = 1, 20 do inner = { x = inner } end
      want[#want + 1] = { [long] = i, d = inner }
    end
    assert.is_true(same(want, decode(page(items))))
  end)
end)

describe("core.json_decode() integers, in line and not", function()
  -- Every length of integer, at every distance from the end of the input.
  local cases = {}
  for digits = 1, 19 do
    local low = math.tointeger(10 ^ (digits - 1))
    local high = digits == 19 and math.maxinteger or math.tointeger(10 ^ digits) - 1
    for _, v in ipairs({ low, high, low + 7, (low + high) // 2 }) do cases[#cases + 1] = v end
  end

  it("reads every length from 1 to 19 digits exactly, wherever the input ends", function()
    for _, v in ipairs(cases) do
      for _, sign in ipairs({ 1, -1 }) do
        local n = sign * v
        for pad = 0, 22 do
          local text = "[" .. ("%d"):format(n) .. "]" .. (" "):rep(pad)
          local got = decode(text)
          assert.equal("integer", math.type(got[1]), text)
          assert.equal(n, got[1], text)
          got = decode(("%d"):format(n) .. (" "):rep(pad))
          assert.equal(n, got, text)
        end
      end
    end
  end)

  it("hands longer integers, fractions and exponents to the general path", function()
    local t = decode("[9223372036854775808,12345678901234567.5,123456789012345678e2,1234567890123456789,"
                     .. "-9223372036854775808,99999999999999999999,1e5,7E1]                    ")
    assert.same({ "float", "float", "float", "integer", "integer", "float", "float", "float" },
      { math.type(t[1]), math.type(t[2]), math.type(t[3]), math.type(t[4]),
        math.type(t[5]), math.type(t[6]), math.type(t[7]), math.type(t[8]) })
    assert.equal(2.0 ^ 63, t[1])
    assert.equal(12345678901234567.5, t[2])
    assert.equal(1.23456789012345678e19, t[3])
    assert.equal(1234567890123456789, t[4])
    assert.equal(math.mininteger, t[5])
    assert.equal(1e20, t[6])
    assert.equal(1e5, t[7])
    assert.equal(70.0, t[8])
  end)

  it("still refuses a leading zero and a lone minus sign", function()
    local pad = (" "):rep(30)
    assert.same({ nil, "leading zero in number at byte 2" }, { decode("[0123]" .. pad) })
    assert.same({ nil, "invalid number at byte 3" }, { decode("[-]" .. pad) })
    assert.same({ nil, "invalid number at byte 3" }, { decode("[-a1234567890123456789]") })
  end)
end)

-- The exact JSON codec of robloxsocial.core: 64-bit integers survive both
-- directions, malformed input is a soft error, unencodable values raise.

local core = require "robloxsocial.core"
local cjson = require "cjson"

local decode, encode, null = core.json_decode, core.json_encode, core.null

-- Deep comparison where numbers compare by value (cjson's 1234.0 equals
-- our 1234) and null is the same light userdata on both sides.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b or (a ~= a and b ~= b) end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function nested(open, close, n, inner)
  return open:rep(n) .. (inner or "") .. close:rep(n)
end

describe("core.json_decode()", function()
  describe("integers", function()
    it("decodes a 16-digit id as the exact integer", function()
      local v = decode("1234567890123456")
      assert.equal("integer", math.type(v))
      assert.equal(1234567890123456, v)
    end)

    it("decodes the id 2^53+1 as the exact integer", function()
      local v = decode('{"userId":9007199254740993}')
      assert.equal("integer", math.type(v.userId))
      assert.equal(9007199254740993, v.userId)
      assert.not_equal(9007199254740992, v.userId)
    end)

    it("decodes int64 max and min as exact integers", function()
      local t = decode("[9223372036854775807,-9223372036854775808]")
      assert.equal("integer", math.type(t[1]))
      assert.equal("integer", math.type(t[2]))
      assert.equal(math.maxinteger, t[1])
      assert.equal(math.mininteger, t[2])
    end)

    it("decodes small integers, zero and minus zero as integers", function()
      local t = decode("[0,-0,7,-42,1000000]")
      for i, want in ipairs({ 0, 0, 7, -42, 1000000 }) do
        assert.equal("integer", math.type(t[i]))
        assert.equal(want, t[i])
      end
    end)

    it("decodes integers beyond 64 bits as floats", function()
      local t = decode("[9223372036854775808,-9223372036854775809,"
                       .. "123456789012345678901234567890,184467440737095516160000,0,0]")
      assert.equal("float", math.type(t[1]))
      assert.equal(2.0^63, t[1])
      assert.equal("float", math.type(t[2]))
      assert.equal(-2.0^63, t[2])
      assert.equal(1.2345678901234568e29, t[3])
      assert.equal("float", math.type(t[4]))   -- 2^64 * 10^4: no wrap-around to 0
      assert.equal(1.8446744073709552e23, t[4])
    end)
  end)

  describe("floats", function()
    it("decodes fractions and exponents as floats, exactly", function()
      local t = decode("[1.5,-0.25,1e3,2.5E-3,1E+2,0.1,1.7976931348623157e308]")
      local want = { 1.5, -0.25, 1000.0, 0.0025, 100.0, 0.1, 1.7976931348623157e308 }
      for i, w in ipairs(want) do
        assert.equal("float", math.type(t[i]))
        assert.equal(w, t[i])
      end
    end)

    it("keeps the sign of -0.0", function()
      assert.equal(-math.huge, 1 / decode("-0.0"))
    end)
  end)

  describe("null, booleans and bare scalars", function()
    it("exposes null as the light userdata NULL, the same as cjson.null", function()
      assert.equal("userdata", type(null))
      assert.is_true(rawequal(null, cjson.null))
    end)

    it("keeps null members of objects as core.null", function()
      local t = decode('{"gameId":null,"placeId":1}')
      assert.is_true(rawequal(null, t.gameId))
      assert.equal(1, t.placeId)
    end)

    it("stores null array elements so the array keeps its length", function()
      local t = decode("[1,null,3,null]")
      assert.equal(4, #t)
      assert.is_true(rawequal(null, t[2]))
      assert.is_true(rawequal(null, t[4]))
    end)

    it("decodes bare true, false, null, numbers and strings", function()
      assert.is_true(decode("true"))
      assert.is_false(decode("false"))
      assert.is_true(rawequal(null, decode("null")))
      assert.equal(42, decode(" 42 "))
      assert.equal("hi", decode('"hi"'))
    end)
  end)

  describe("empty bodies", function()
    it("decodes an empty body as an empty table", function()
      local t = decode("")
      assert.equal("table", type(t))
      assert.is_nil(next(t))
    end)

    it("decodes a body of whitespace only as an empty table", function()
      local t = decode(" \r\n\t ")
      assert.equal("table", type(t))
      assert.is_nil(next(t))
    end)

    it("decodes {} and [] as empty tables without a metatable", function()
      assert.same({}, decode("{}"))
      assert.same({}, decode("[ ]"))
      assert.is_nil(getmetatable(decode("[]")))
    end)
  end)

  describe("strings", function()
    it("decodes every short escape", function()
      assert.equal('"\\/\b\f\n\r\t', decode([["\"\\\/\b\f\n\r\t"]]))
    end)

    it("decodes \\u escapes into UTF-8", function()
      assert.equal("A\xC3\xA9\xE2\x82\xAC\0", decode([["\u0041\u00e9\u20AC\u0000"]]))
    end)

    it("joins a surrogate pair into one 4-byte UTF-8 character", function()
      assert.equal("\xF0\x9F\x98\x80", decode([["\ud83d\ude00"]]))
      assert.equal("a\xF4\x8F\xBF\xBFb", decode([["a\uDBFF\uDFFFb"]]))
    end)

    it("passes raw UTF-8 through unchanged", function()
      assert.equal("Brookhaven \xF0\x9F\x8F\xA1RP", decode('"Brookhaven \xF0\x9F\x8F\xA1RP"'))
    end)

    it("decodes long strings with and without escapes", function()
      local plain = ("0123456789abcdef"):rep(300)
      assert.equal(plain, decode('"' .. plain .. '"'))
      local text = ("line \\\"quoted\\\"\\n"):rep(500)
      assert.equal(('line "quoted"\n'):rep(500), decode('"' .. text .. '"'))
    end)

    it("decodes escaped strings of every length around the scratch size", function()
      for n = 240, 270 do
        -- n bytes of JSON text that unescape to n - 1 or n / 2 bytes
        local text = "\\t" .. ("x"):rep(n - 2)
        assert.equal("\t" .. ("x"):rep(n - 2), decode('"' .. text .. '"'))
        text = ("x"):rep(n - 2) .. "\\/"
        assert.equal(("x"):rep(n - 2) .. "/", decode('"' .. text .. '"'))
        text = ('\\\\'):rep(n // 2) .. ("x"):rep(n % 2)
        assert.equal(("\\"):rep(n // 2) .. ("x"):rep(n % 2), decode('"' .. text .. '"'))
      end
    end)

    it("lets the last of duplicate keys win", function()
      assert.same({ a = 2, b = 1 }, decode('{"a":1,"b":1,"a":2}'))
    end)

    it("decodes keys with escapes", function()
      assert.same({ ['a"b'] = 1, ["\xC3\xA9"] = 2 }, decode([[{"a\"b":1,"\u00e9":2}]]))
    end)
  end)

  describe("documents", function()
    it("decodes nested objects and arrays with whitespace anywhere", function()
      local t = decode(' {\n "data" : [ { "id" : 1 , "tags" : [ "a" , "b" ] } ] ,\r\n'
                       .. ' "next" : null }\n')
      assert.same({ data = { { id = 1, tags = { "a", "b" } } }, next = null }, t)
    end)

    it("decodes a page of repeated items with exact ids in every item", function()
      local items = {}
      for i = 1, 100 do
        items[i] = string.format('{"userPresenceType":%d,"lastLocation":"Game %d",'
          .. '"placeId":%d,"gameId":null,"userId":%d}', i % 4, i, 9007199254740993 + i,
          1234567890123456 + i)
      end
      local t = decode('{"userPresences":[' .. table.concat(items, ",") .. "]}")
      assert.equal(100, #t.userPresences)
      for i, p in ipairs(t.userPresences) do
        assert.equal(i % 4, p.userPresenceType)
        assert.equal("Game " .. i, p.lastLocation)
        assert.equal(9007199254740993 + i, p.placeId)
        assert.equal(1234567890123456 + i, p.userId)
        assert.equal("integer", math.type(p.userId))
        assert.is_true(rawequal(null, p.gameId))
      end
    end)

    it("keeps hundreds of distinct keys apart in a large body", function()
      local parts = {}
      for i = 1, 300 do parts[i] = string.format('"k%d":%d,"%dk":"v%d"', i, i, i, i) end
      local body = "[{" .. table.concat(parts, ",") .. "},{" .. table.concat(parts, ",") .. "}]"
      for _, t in ipairs(decode(body)) do
        for i = 1, 300 do
          assert.equal(i, t["k" .. i])
          assert.equal("v" .. i, t[i .. "k"])
        end
      end
    end)

    it("decodes arrays of every length up to a few hundred elements", function()
      for n = 0, 300 do
        local parts = {}
        for i = 1, n do parts[i] = tostring(i * 7) end
        local t = decode("[" .. table.concat(parts, ",") .. "]")
        assert.equal(n, #t)
        for i = 1, n do assert.equal(i * 7, t[i]) end
        assert.is_nil(next(t, n > 0 and n or nil))
      end
    end)

    it("decodes long arrays nested in long arrays", function()
      local inner = "[" .. ("1,"):rep(99) .. "2]"
      local t = decode("[" .. (inner .. ","):rep(99) .. inner .. "]")
      assert.equal(100, #t)
      for i = 1, 100 do
        assert.equal(100, #t[i])
        assert.equal(2, t[i][100])
      end
    end)

    it("decodes arrays of differently sized siblings", function()
      assert.same({ { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, {}, { 1 }, { a = 1, b = 2, c = 3 }, {} },
                  decode("[[1,2,3,4,5,6,7,8,9],[],[1],{\"a\":1,\"b\":2,\"c\":3},{}]"))
    end)

    it("accepts nesting 256 levels deep", function()
      local t = decode(nested("[", "]", 256))
      for _ = 1, 255 do t = t[1] end
      assert.same({}, t)
      assert.is_table(decode(nested('{"a":', "}", 255, "{}")))
    end)
  end)

  describe("malformed input", function()
    local function rejects(body, message)
      local v, err = decode(body)
      assert.is_nil(v, "accepted: " .. body)
      assert.is_string(err)
      if message then
        assert.equal(message, err)
      else
        assert.matches("^[^\n]+ at byte %d+$", err)
      end
    end

    it("reports truncated JSON as the unexpected end of the input", function()
      rejects('{"a":[1,2', "unexpected end of input at byte 10")
      rejects('{"a"', "unexpected end of input at byte 5")
      rejects('"abc', "unexpected end of input at byte 5")
      rejects("[", "unexpected end of input at byte 2")
      rejects("tru", "unexpected end of input at byte 4")
      rejects("-", "unexpected end of input at byte 2")
      rejects('"\\u12', "unexpected end of input at byte 6")
    end)

    it("rejects every truncation of a valid document", function()
      local doc = '{"a":[1,-2.5e3,"x\\u00e9\\ud83d\\ude00",true,false,null,{"b":{}}],"c":""}'
      assert.is_table(decode(doc))
      for n = 1, #doc - 1 do rejects(doc:sub(1, n)) end
    end)

    it("rejects bad structure with the offending byte", function()
      rejects("[1,]", "unexpected character ']' at byte 4")
      rejects('{"a":1,}', "expected a string key at byte 8")
      rejects("[1 2]", "expected ',' or ']' at byte 4")
      rejects('{"a" 1}', "expected ':' at byte 6")
      rejects('{"a":1 "b":2}', "expected ',' or '}' at byte 8")
      rejects("{a:1}", "expected a string key at byte 2")
      rejects("{'a':1}")
      rejects("[1] // comment")
      rejects("\1", "unexpected byte 0x01 at byte 1")
    end)

    it("rejects data after the value", function()
      rejects('{"a":1} x', "unexpected data after the value at byte 9")
      rejects("[1] [2]")
      rejects("true false")
      rejects("1 2")
    end)

    it("rejects numbers that RFC 8259 does not allow", function()
      rejects("01", "leading zero in number at byte 1")
      rejects("-01")
      rejects("+1", "unexpected character '+' at byte 1")
      rejects(".5")
      rejects("1.", "unexpected end of input at byte 3")
      rejects("[1.]", "invalid number at byte 4")
      rejects("[1e]", "invalid number at byte 4")
      rejects("[1e+]")
      rejects("[--1]")
      rejects("[-a]", "invalid number at byte 3")
      rejects("0x10")
      rejects("NaN", "unexpected character 'N' at byte 1")
      rejects("Infinity")
      rejects("-Infinity")
      rejects("[1.5.2]")
    end)

    it("rejects over-long numbers instead of misreading them", function()
      rejects("[1." .. ("0"):rep(300) .. "]", "number too long at byte 2")
    end)

    it("rejects invalid literals", function()
      rejects("nul", "unexpected end of input at byte 4")
      rejects("nulx", "invalid literal at byte 1")
      rejects("[True]", "unexpected character 'T' at byte 2")
    end)

    it("rejects bad escapes, lone surrogates and raw control characters", function()
      rejects([["\x"]], "invalid escape at byte 2")
      rejects([["\u12g4"]], "invalid \\u escape at byte 2")
      rejects([["\ud800"]], "lone high surrogate in \\u escape at byte 2")
      rejects([["\ud800\u0041"]], "lone high surrogate in \\u escape at byte 2")
      rejects([["ab\udc00"]], "lone low surrogate in \\u escape at byte 4")
      rejects('"a\nb"', "control character in string at byte 3")
      rejects('"a\0b"', "control character in string at byte 3")
      rejects('"\\', "unexpected end of input at byte 3")
    end)

    it("rejects nesting deeper than 256 levels", function()
      rejects(nested("[", "]", 257), "nesting deeper than 256 levels at byte 257")
      rejects(nested('{"a":', "}", 256, "{}"))
    end)

    it("returns the error without raising for any garbage", function()
      for _, body in ipairs({ "\255\254", "}", "]", ",", ":", "{,}", "[,1]", '{"a":}' }) do
        rejects(body)
      end
    end)
  end)

  describe("compared with lua-cjson", function()
    local docs = {
      '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
      '[1,2.5,-3,4e2,-5.25E-1,0,0.0]',
      '"plain"',
      [["esc \" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20ac \ud83d\ude00"]],
      '{"empty":{},"list":[],"nested":[[[]]],"s":""}',
      ' {\n  "pretty" : [ 1 , 2 ] ,\n  "x" : { "y" : null }\n}\n',
      '{"name":"Builderman","id":156,"displayName":"Builderman","hasVerifiedBadge":true}',
      '[{"id":1},{"id":2},{"id":3,"extra":[1,{"z":[]}]}]',
      "true", "false", "null", "12345", "-0.5",
    }

    -- Random documents without large integers, written by cjson.
    local function random_value(depth)
      local r = math.random(depth > 3 and 4 or 7)
      if r == 1 then return math.random(-1000000, 1000000)
      elseif r == 2 then return math.random() * 1000 - 500
      elseif r == 3 then
        local s = {}
        for i = 1, math.random(0, 20) do s[i] = string.char(math.random(1, 255)) end
        return table.concat(s)
      elseif r == 4 then return ({ true, false, cjson.null })[math.random(3)]
      elseif r == 5 then
        local t = {}
        for i = 1, math.random(1, 6) do t[i] = random_value(depth + 1) end
        return t
      else
        local t = {}
        for _ = 1, math.random(1, 6) do t["k" .. math.random(20)] = random_value(depth + 1) end
        return t
      end
    end

    it("decodes a set of documents to the same values", function()
      for _, doc in ipairs(docs) do
        assert.is_true(same(cjson.decode(doc), decode(doc)), doc)
      end
    end)

    it("decodes random documents written by cjson to the same values", function()
      math.randomseed(20240501)
      for _ = 1, 300 do
        local doc = cjson.encode(random_value(0))
        assert.is_true(same(cjson.decode(doc), decode(doc)), doc)
      end
    end)

    it("writes text that cjson decodes to the same values", function()
      math.randomseed(7)
      for _ = 1, 300 do
        local v = cjson.decode(cjson.encode(random_value(0)))
        assert.is_true(same(v, cjson.decode(encode(v))))
      end
    end)

    it("rejects what cjson rejects", function()
      for _, doc in ipairs({ '{"a":[1,2', "[1,]", '{"a":1,}', "{a:1}", '"abc', "[1 2]", "}" }) do
        assert.is_false(pcall(cjson.decode, doc))
        assert.is_nil(decode(doc))
      end
    end)
  end)
end)

describe("core.json_encode()", function()
  describe("numbers", function()
    it("writes 16-digit ids, 2^53+1 and int64 max and min exactly", function()
      assert.equal("1234567890123456", encode(1234567890123456))
      assert.equal("9007199254740993", encode(9007199254740993))
      assert.equal("9223372036854775807", encode(math.maxinteger))
      assert.equal("-9223372036854775808", encode(math.mininteger))
      assert.equal('{"userId":123456789012345678}', encode({ userId = 123456789012345678 }))
    end)

    it("round-trips every kind of 64-bit integer through decode", function()
      for _, n in ipairs({ 0, 1, -1, (1 << 53) + 1, math.maxinteger, math.mininteger,
                           math.maxinteger - 1, math.mininteger + 1 }) do
        local back = decode(encode(n))
        assert.equal("integer", math.type(back))
        assert.equal(n, back)
      end
    end)

    it("writes floats with an integral value as integers", function()
      assert.equal("12", encode(12.0))
      assert.equal("-3", encode(-3.0))
      assert.equal("9007199254740992", encode(2.0^53))
      assert.equal("-9223372036854775808", encode(-2.0^63))
      assert.equal("0", encode(-0.0))
    end)

    it("writes other floats with 17 significant digits", function()
      assert.equal("0.5", encode(0.5))
      assert.equal("0.10000000000000001", encode(0.1))
      assert.equal("-9.5367431640625e-07", encode(-2.0^-20))
      assert.equal("0.33333333333333331", encode(1 / 3))
      assert.equal("1.0000000000000001e+300", encode(1e300))
      assert.equal("9.2233720368547758e+18", encode(2.0^63))
    end)

    it("round-trips floats exactly", function()
      for _, x in ipairs({ 0.1, 1 / 3, -2.5e-7, 1e300, 2.0^63, 5e-324, 1.7976931348623157e308 }) do
        assert.equal(x, decode(encode(x)))
      end
    end)

    it("writes a '.' decimal point under a locale that uses a comma", function()
      local old = os.setlocale(nil, "numeric")
      local loc = os.setlocale("de_DE.UTF-8", "numeric") or os.setlocale("fr_FR.UTF-8", "numeric")
      if not loc then
        pending("no locale with a decimal comma is installed")
        return
      end
      local ok, out, back = pcall(function() return encode(0.5), decode("[0.25]") end)
      os.setlocale(old, "numeric")
      assert.is_true(ok)
      assert.equal("0.5", out)
      assert.equal(0.25, back[1])
    end)
  end)

  describe("strings", function()
    it("escapes quotes, backslashes and control characters", function()
      assert.equal([["\"\\\n\r\t\b\f\u0001\u001f\u0000"]], encode('"\\\n\r\t\b\f\1\31\0'))
    end)

    it("passes bytes >= 0x80, '/' and DEL through", function()
      assert.equal('"\xC3\xA9/\127\xFF"', encode("\xC3\xA9/\127\xFF"))
    end)

    it("round-trips every byte value", function()
      local all = {}
      for b = 0, 255 do all[#all + 1] = string.char(b) end
      local s = table.concat(all)
      assert.equal(s, decode(encode(s)))
    end)
  end)

  describe("tables", function()
    it("writes a sequence as an array and string keys as an object", function()
      assert.equal("[1,2,3]", encode({ 1, 2, 3 }))
      assert.equal('{"a":"b"}', encode({ a = "b" }))
      assert.equal('{"ids":[1,2]}', encode({ ids = { 1, 2 } }))
      assert.same({ a = { 1, { b = true } }, c = false }, decode(encode({ a = { 1, { b = true } }, c = false })))
    end)

    it("writes null for core.null, in arrays too", function()
      assert.equal("[1,null,3]", encode({ 1, null, 3 }))
      assert.equal("null", encode(null))
      assert.equal("null", encode(nil))
    end)

    it("writes an empty table as {} and an empty array_mt table as []", function()
      assert.equal("{}", encode({}))
      assert.equal("[]", encode(setmetatable({}, core.array_mt)))
      assert.equal('{"ids":[]}', encode({ ids = setmetatable({}, core.array_mt) }))
      assert.equal("[1]", encode(setmetatable({ 1 }, core.array_mt)))
    end)

    it("registers array_mt under its registry name", function()
      assert.equal(core.array_mt, debug.getregistry()["robloxsocial.array"])
    end)

    it("writes long output exactly", function()
      local t, parts = {}, {}
      for i = 1, 5000 do t[i] = i * 1000003; parts[i] = tostring(i * 1000003) end
      assert.equal("[" .. table.concat(parts, ",") .. "]", encode(t))
      local s = ("\"x\"\n"):rep(2000)
      assert.equal(s, decode(encode({ s }))[1])
    end)

    it("accepts nesting 256 levels deep", function()
      local t = {}
      for _ = 1, 255 do t = { t } end
      assert.equal(nested("[", "]", 255, "{}"), encode(t))
    end)
  end)

  describe("errors", function()
    local pre = "robloxsocial: cannot encode "

    it("raises on NaN and infinities", function()
      assert.has_error(function() encode(0 / 0) end, pre .. "number: NaN is not valid JSON")
      assert.has_error(function() encode({ math.huge }) end, pre .. "number: infinity is not valid JSON")
      assert.has_error(function() encode({ x = -math.huge }) end, pre .. "number: infinity is not valid JSON")
    end)

    it("raises on sparse arrays and non-sequence number keys", function()
      local msg = pre .. "table: sparse array or non-sequence number key"
      assert.has_error(function() encode({ 1, 2, nil, 4 }) end, msg)
      assert.has_error(function() encode({ [2] = "x" }) end, msg)
      assert.has_error(function() encode({ [0] = "x" }) end, msg)
      assert.has_error(function() encode({ [1.5] = "x" }) end, msg)
    end)

    it("raises on mixed array and object keys", function()
      assert.has_error(function() encode({ 1, 2, a = 3 }) end, pre .. "table: mixed array and object keys")
    end)

    it("raises on keys that are neither strings nor numbers", function()
      assert.has_error(function() encode({ [true] = 1 }) end, pre .. "table: key of type boolean")
      assert.has_error(function() encode({ [{}] = 1 }) end, pre .. "table: key of type table")
    end)

    it("raises on functions, threads and full userdata, however deep", function()
      assert.has_error(function() encode(print) end, pre .. "function: no JSON equivalent")
      assert.has_error(function() encode({ a = { coroutine.create(print) } }) end, pre .. "thread: no JSON equivalent")
      assert.has_error(function() encode({ io.stdout }) end, pre .. "userdata: no JSON equivalent")
    end)

    it("raises on a cycle and on nesting deeper than 256 levels", function()
      local msg = pre .. "table: nested deeper than 256 levels (is there a cycle?)"
      local t = {}
      t.self = t
      assert.has_error(function() encode(t) end, msg)
      local deep = {}
      for _ = 1, 256 do deep = { deep } end
      assert.has_error(function() encode(deep) end, msg)
    end)

    it("raises a bad argument error when called without a value", function()
      assert.has_error(function() encode() end)
    end)
  end)
end)

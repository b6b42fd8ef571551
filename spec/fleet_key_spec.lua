-- The key of a fleet's shared budget (csrc/fleet_key.c): a SHA-256 of the
-- credential, never the credential, the same in every process.
local core = require "robloxsocial.core"

describe("fleet key", function()
  it("hashes with SHA-256 (FIPS 180-4 vectors)", function()
    assert.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 core.fleet_sha256(""))
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                 core.fleet_sha256("abc"))
    assert.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                 core.fleet_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                 core.fleet_sha256(string.rep("a", 1000000)))
  end)

  it("derives the key from a hash of the credential, never the credential", function()
    local cookie = "_|WARNING:-DO-NOT-SHARE-THIS.|_secretcookie123"
    local key = core.fleet_key(cookie, "GET friends /v1/users/{id}/friends/count")
    assert.equal("robloxsocial:v1:" .. core.fleet_sha256("robloxsocial-fleet\0" .. cookie)
                 .. ":GET friends /v1/users/{id}/friends/count", key)
    assert.is_nil(key:find("secretcookie", 1, true))
    assert.is_nil(key:find(core.fleet_sha256(cookie), 1, true))   -- no plain hash either
    assert.not_equal(key, core.fleet_key(cookie .. "x", "GET friends /v1/users/{id}/friends/count"))
  end)

  it("is the same in another process", function()
    local cookie = "fleet-cookie-for-the-spec"
    local mine = core.fleet_key(cookie, "GET users /v1/users/{id}")
    local p = assert(io.popen("lua5.4 -e \"package.cpath='./build/?.so;'..package.cpath "
      .. "io.write(require('robloxsocial.core').fleet_key('" .. cookie
      .. "', 'GET users /v1/users/{id}'))\""))
    local theirs = p:read("a")
    p:close()
    assert.equal(mine, theirs)
  end)
end)

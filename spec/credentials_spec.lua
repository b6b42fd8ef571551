-- Where credentials go and where they must never show: the API key and
-- the access token only to the apis service, every credential only to
-- Roblox (or the loopback) unless trust_domain says otherwise, and no
-- credential the client has held in any error, whatever the server
-- echoes, however the cookie rotated, whatever a hook did.
local support = require "spec.support"
local rawserver = require "spec.rawserver"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"
local util = require "robloxsocial.sandbox.util"

local sb, me = support.main()
before_each(support.reset)

local function count_path() return ("/v1/users/%d/friends/count"):format(me) end

-- The number of strings of err (keys and values, nested) and of its
-- tostring that hold one of the secrets: a count, so that a failure
-- never prints a credential.
local function leaks(err, secrets)
  local texts, n = support.strings_of(err), 0
  texts[#texts + 1] = tostring(err)
  for _, text in ipairs(texts) do
    for _, secret in ipairs(secrets) do
      if text:find(secret, 1, true) then n = n + 1 end
    end
  end
  return n
end

-- assert.equal without the values in its message: they may hold a
-- credential, which a failing test must not print.
local function same(expected, actual, what)
  assert(expected == actual
         or (type(expected) == "table" and type(actual) == "table"
             and require("luassert.util").deepcompare(expected, actual, true)),
         what .. " is not what it should be (not shown: it may hold a credential)")
end

describe("api_key and access_token", function()
  it("go only to the apis service; the cookie goes to every service", function()
    local creds = sb.credentials
    for _, case in ipairs { { "api_key", "api_key" }, { "access_token", "bearer" } } do
      sb:clear_requests()
      local client <close> = support.client{ [case[1]] = creds[case[1]] }
      assert(client:friends_count(me))                  -- friends
      assert(client:presence{ me })                     -- presence, a POST
      assert(client:friends_group_roles(me))            -- groups
      assert(client:user_tags{ me })                    -- contacts
      assert(client:unread_messages_count())            -- privatemessages
      assert(client:decline_all_friend_requests())      -- a write
      client:request("GET", "users", "/v1/users/" .. me)
      local others = support.requests()
      assert.is_true(#others >= 7)
      for _, r in ipairs(others) do assert.equal("cookie", r.auth, r.method .. " " .. r.path) end
      -- The sandbox logs the cookie first where a request carries it, so
      -- the key and the token are seen by a client that holds only them.
      sb:clear_requests()
      local keyed <close> = support.client{ cookie = false, [case[1]] = creds[case[1]] }
      keyed:request("GET", "apis", "/cloud/v2/users/" .. me)
      keyed:request("GET", "apis", "/legacy-followings/v1/users/" .. me)
      local apis = support.requests("GET")
      assert.equal(2, #apis)
      for _, r in ipairs(apis) do assert.equal(case[2], r.auth) end
    end
  end)

  it("are seen on the wire only by the apis service", function()
    local server <close> = rawserver.start(3)
    local client <close> = robloxsocial.new{ base_url = server.base_url, cookie = "c", api_key = "k",
                                             access_token = "t", max_retries = 0 }
    assert(client:friends_count(1))
    assert(client:request("GET", "apis", "/cloud/v2/users/1"))
    assert(client:request("GET", "users", "/v1/users/1"))
    local seen = {}
    for _ = 1, 3 do
      local head = server.next()
      local path = head[1]:match("^%u+ (%S+)")
      seen[path] = {}
      for i = 2, #head do seen[path][head[i]:match("^([^:]+):"):lower()] = true end
    end
    for path, apis in pairs { ["/v1/users/1/friends/count"] = false, ["/cloud/v2/users/1"] = true,
                              ["/v1/users/1"] = false } do
      assert.is_true(seen[path].cookie, path)
      assert.equal(apis, seen[path]["x-api-key"] == true, path)
      assert.equal(apis, seen[path].authorization == true, path)
    end
  end)

  it("are not sent at all by a client that has only them, but to apis", function()
    local client <close> = support.client{ cookie = false, api_key = sb.credentials.api_key }
    assert(client:friends_count(me))
    -- my_friends_count itself raises without a cookie: asked by hand.
    local _, err = client:request("GET", "friends", "/v1/my/friends/count")
    assert.equal(401, err.status)
    for _, r in ipairs(support.requests()) do assert.is_nil(r.auth) end
  end)

  it("leave a cookie client's requests to apis with the cookie", function()
    local client <close> = support.client()
    client:request("GET", "apis", "/cloud/v2/users/" .. me)
    assert.equal("cookie", support.requests("GET")[1].auth)
  end)
end)

describe("trust_domain", function()
  local function new_error(options)
    local ok, err = pcall(robloxsocial.new, options)
    assert.is_false(ok)
    return err
  end

  local DOMAIN = "bad argument #1 to 'new' (option 'trust_domain' must be true to send "
    .. "credentials to a domain other than roblox.com)"
  local ORIGIN = "bad argument #1 to 'new' (option 'trust_domain' must be true to send "
    .. "credentials to a base_url that is not the loopback)"

  it("must be true for credentials to go to another domain or a base_url off the loopback", function()
    local secret = "not-a-real-cookie-0123456789"
    for _, auth in ipairs { "cookie", "api_key", "access_token" } do
      local err = new_error{ domain = "roproxy.com", [auth] = secret }
      assert.equal(DOMAIN, err)
      assert.equal(ORIGIN, new_error{ base_url = "http://10.1.2.3:8080", [auth] = secret })
      assert.equal(ORIGIN, new_error{ base_url = "https://proxy.example", [auth] = secret })
      assert.equal(ORIGIN, new_error{ base_url = "http://127.0.0.1.example:80", [auth] = secret })
      assert.equal(ORIGIN, new_error{ base_url = "http://[::2]:80", [auth] = secret })
      -- [::1] is the whole address, not a prefix of one
      assert.equal(ORIGIN, new_error{ base_url = "http://[::10]:80", [auth] = secret })
      assert.equal(ORIGIN, new_error{ base_url = "http://[::1:2]:80", [auth] = secret })
    end
  end)

  it("lets them go there when true, and is not needed without a credential", function()
    local cookie = "not-a-real-cookie-0123456789"
    robloxsocial.new{ domain = "roproxy.com", cookie = cookie, trust_domain = true }:close()
    robloxsocial.new{ base_url = "http://10.1.2.3:8080", api_key = "k", trust_domain = true }:close()
    robloxsocial.new{ domain = "roproxy.com" }:close()
    robloxsocial.new{ base_url = "https://proxy.example" }:close()
  end)

  it("is not needed for roblox.com and the loopback", function()
    local cookie = "not-a-real-cookie-0123456789"
    for _, options in ipairs {
      { cookie = cookie }, { domain = "roblox.com", cookie = cookie },
      { domain = "ROBLOX.com", api_key = "k" },
      { base_url = "http://127.0.0.1:1", cookie = cookie },
      { base_url = "http://127.9.8.7:1/", cookie = cookie },
      { base_url = "http://localhost:1", access_token = "t" },
      { base_url = "https://LOCALHOST", cookie = cookie },
      { base_url = "http://[::1]:1", cookie = cookie },
    } do
      robloxsocial.new(options):close()
    end
  end)

  it("must be a boolean", function()
    assert.equal("bad argument #1 to 'new' (option 'trust_domain' must be a boolean (got string))",
                 new_error{ trust_domain = "yes" })
  end)
end)

describe("credentials echoed by a server", function()
  it("are redacted from a code that is a string, and so from tostring", function()
    local client <close> = support.client()
    local cookie = sb.credentials.cookie
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400,
              body = ('{"errors":[{"code":"%s","message":"x"}]}'):format(cookie) }
    local _, err = client:friends_count(me)
    same("<redacted>", err.code, "err.code")
    assert.equal(0, leaks(err, { cookie }))
  end)

  it("are redacted from a reason phrase cut to fit, where a long cookie is cut too", function()
    local cookie = ("c0ok1e-"):rep(150)       -- live cookies run to a thousand bytes
    local client <close> = support.client{ cookie = cookie }
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400, body = "",
              reason = "Bad " .. cookie }
    local _, err = client:friends_count(me)
    same("HTTP 400 Bad <redacted>", err.message, "err.message")
    assert.equal(0, leaks(err, { cookie:sub(1, 8) }))
  end)

  it("are redacted from a reason phrase cut to fit with only their first 8 bytes left", function()
    local cookie = ("c0ok1e-"):rep(150)
    local client <close> = support.client{ cookie = cookie }
    -- the reason is kept to 255 bytes: 247 of padding, then 8 of the cookie
    local pad = "Bad " .. ("x"):rep(243)
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400, body = "",
              reason = pad .. cookie }
    local _, err = client:friends_count(me)
    same("HTTP 400 " .. pad .. "<redacted>", err.message, "err.message")
    assert.equal(0, leaks(err, { cookie:sub(1, 8) }))
  end)

  it("are redacted from the challenge: its id, type and metadata", function()
    local cookie = "short-cookie-0123456789"   -- a type is kept up to 63 bytes
    local client <close> = support.client{ cookie = cookie }
    local metadata = util.b64encode(('{"note":"for %s","nested":{"%s":["%s"]}}'):format(cookie, cookie, cookie))
    sb:fault{ method = "GET", path = "*", kind = "body", status = 403, body = "{}",
              headers = { { "rblx-challenge-id", "id-" .. cookie },
                          { "rblx-challenge-type", cookie },
                          { "rblx-challenge-metadata", metadata } } }
    local _, err = client:friends_count(me)
    same("id-<redacted>", err.challenge.id, "the challenge's id")
    same("<redacted>", err.challenge.type, "the challenge's type")
    same({ note = "for <redacted>", nested = { ["<redacted>"] = { "<redacted>" } } },
         err.challenge.metadata, "the challenge's metadata")
    assert.equal(0, leaks(err, { cookie }))
  end)

  it("leave out a challenge id too long to keep whole, rather than cut it", function()
    local client <close> = support.client()
    local long = ("x"):rep(200)
    sb:fault{ method = "GET", path = "*", kind = "body", status = 403, body = "{}",
              headers = { { "rblx-challenge-id", long }, { "rblx-challenge-type", "captcha" } } }
    local _, err = client:friends_count(me)
    assert.is_nil(err.challenge.id)
    assert.equal("captcha", err.challenge.type)
  end)

  it("are redacted from the error of a call whose on_response hook closed the client", function()
    local client
    client = support.client{ on_response = function() client:close() end }
    sb:fault{ method = "GET", path = "*", kind = "echo" }
    local _, err = client:friends_count(me)
    assert.equal("http", err.kind)
    assert.equal("robloxsocial.Client (closed)", tostring(client))
    assert.is_truthy(err.message:find("<redacted>", 1, true))
    assert.equal(0, leaks(err, { sb.credentials.cookie }))
  end)

  it("are redacted for every cookie the client has held, after any number of rotations", function()
    local first, held = sb.credentials.cookie, {}
    local client <close> = support.client{ on_cookie = function(value) held[#held + 1] = value end }
    for _ = 1, 3 do
      sb:fault{ method = "GET", path = count_path(), kind = "rotate" }
      assert(client:friends_count(me))
    end
    assert.equal(3, #held)
    local echoed = { first, held[1], held[2], held[3] }
    sb:fault{ method = "GET", path = "*", kind = "body", status = 400,
              body = ('{"errors":[{"code":0,"message":"%s"}]}'):format(table.concat(echoed, " ")) }
    local _, err = client:friends_count(me)
    same("<redacted> <redacted> <redacted> <redacted>", err.message, "err.message")
    assert.equal(0, leaks(err, echoed))
  end)
end)

describe("a Set-Cookie", function()
  -- Answers the next friends_count with 200 and the Set-Cookie value.
  local function answer_with(set_cookie)
    sb:fault{ method = "GET", path = count_path(), kind = "body", status = 200, body = "{}",
              headers = { { "Set-Cookie", set_cookie } } }
  end

  for _, value in ipairs {
    ".ROBLOSECURITY=; domain=.roblox.com; path=/",
    ".ROBLOSECURITY=deleted; domain=.roblox.com; path=/",
    ".ROBLOSECURITY=new-value-1; expires=Thu, 01-Jan-1970 00:00:01 GMT; domain=.roblox.com",
    ".ROBLOSECURITY=new-value-2; Max-Age=0; domain=.roblox.com",
    ".ROBLOSECURITY=new-value-3; max-age=-10",
    ".ROBLOSECURITY=new-value-4; Max-Age=0; Expires=Fri, 01-Jan-2100 00:00:00 GMT",
    ".ROBLOSECURITY=new-value-5; Domain=evil.example; path=/",
    ".ROBLOSECURITY=new-value-6; domain=.notroblox.com",
    ".ROBLOSECURITY=new-value-7; domain=roblox.com.evil.example",
  } do
    it("is no rotation when it deletes the cookie or is for another domain: " .. value, function()
      local calls = 0
      local client <close> = support.client{ on_cookie = function() calls = calls + 1 end }
      answer_with(value)
      assert(client:friends_count(me))
      assert.equal(0, calls)
      assert(client:my_friends_count())     -- the cookie, still the valid one
    end)
  end

  for _, value in ipairs {
    ".ROBLOSECURITY=new-value-8; domain=.roblox.com; path=/; secure; HttpOnly",
    ".ROBLOSECURITY=new-value-9; Domain=WWW.Roblox.com",
    ".ROBLOSECURITY=new-value-10; path=/",
    ".ROBLOSECURITY=new-value-11; Max-Age=60; expires=Thu, 01-Jan-1970 00:00:01 GMT",
    ".ROBLOSECURITY=new-value-12; expires=Fri, 01-Jan-2100 00:00:00 GMT",
  } do
    it("is a rotation for roblox.com, a subdomain or the answering host: " .. value, function()
      local seen = {}
      local client <close> = support.client{ on_cookie = function(v) seen[#seen + 1] = v end }
      answer_with(value)
      assert(client:friends_count(me))
      same({ value:match("^%.ROBLOSECURITY=([^;]*)") }, seen, "what on_cookie saw")
      local _, err = client:my_friends_count()  -- the sandbox does not know that cookie
      assert.equal(401, err.status)
    end)
  end
end)

describe("a network failure", function()
  it("of a write that went out says so in our words, not libcurl's", function()
    local client <close> = support.client{ max_retries = 0 }
    assert(client:decline_all_friend_requests())    -- the token, and a kept-alive connection
    sb:fault{ method = "POST", path = "/v1/user/friend-requests/decline-all", kind = "close" }
    local _, err = client:decline_all_friend_requests()
    assert.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.matches("^the connection failed after the request was sent", err.message)
    assert.matches("a write is not sent again, it may have taken effect$", err.message)
  end)

  -- In a child process whose limit of open files is low, opened to the
  -- last: the next connection cannot get a socket.
  it("says when the process is out of file descriptors", function()
    local chunk = ([[
      local rs = require "robloxsocial"
      local warm = rs.new{ base_url = %q, cookie = os.getenv("COOKIE"), max_retries = 0 }
      assert(warm:friends_count(1))
      local client = rs.new{ base_url = %q, cookie = os.getenv("COOKIE"), max_retries = 0 }
      local files = {}
      while true do
        local f = io.open("/dev/null")
        if not f then break end
        files[#files + 1] = f
      end
      local _, err = client:friends_count(1)
      for _, f in ipairs(files) do f:close() end
      io.write(err and err.kind or "none", "|", err and err.message or "")
    ]]):format(sb.base_url, sb.base_url)
    local _, out = proc.output(proc.lua_command(chunk, { prefix = "ulimit -n 64 && ",
                                                         secrets = { COOKIE = sb.credentials.cookie } }) .. " 2>&1")
    local kind, message = out:match("^(%w+)|(.*)$")
    assert(kind, "the child said: " .. out)
    assert.equal("network", kind)
    assert.matches("out of file descriptors", message, 1, true)
  end)
end)

describe("out of memory during a cookie rotation", function()
  -- A child process runs with a malloc shim (LD_PRELOAD) that fails the
  -- allocation of the new Cookie line and fills the copy of the new value,
  -- allocated just before it, with bytes and no terminator, followed by a
  -- canary: wiping that copy before anything was written into it would
  -- run over its end and through the canary, which the shim checks when
  -- the block is freed.  Under AddressSanitizer the shim cannot come
  -- before its runtime (and ASan reports the overrun itself).
  local under_asan = (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true)
  local has_cc = os.execute("command -v cc >/dev/null 2>&1")
  local shim_it = (under_asan or not has_cc) and pending or it

  local SHIM = [[
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
static size_t fill_size, fail_size;
static char *filled;
static int ready;
static void init(void)
{
    const char *a = getenv("SHIM_FILL"), *b = getenv("SHIM_FAIL");
    fill_size = a ? strtoul(a, NULL, 10) : 0;
    fail_size = b ? strtoul(b, NULL, 10) : 0;
    ready = 1;
}
void *malloc(size_t n)
{
    char *p;
    if (!ready)
        init();
    if (fail_size && n == fail_size && filled) {
        fail_size = 0;
        return NULL;
    }
    if (fill_size && n == fill_size && !filled) {
        fill_size = 0;
        p = __libc_malloc(n + 64);
        if (p) {
            memset(p, 'A', n);
            memset(p + n, 'B', 32);
            p[n + 32] = 0;
            filled = p;
        }
        return p;
    }
    return __libc_malloc(n);
}
void free(void *p)
{
    if (p && p == filled) {
        size_t n = strtoul(getenv("SHIM_FILL"), NULL, 10), i;
        for (i = 0; i < 32; i++)
            if (filled[n + i] != 'B') {
                write(2, "CANARY OVERWRITTEN\n", 19);
                _exit(3);
            }
        filled = NULL;
    }
    __libc_free(p);
}
]]

  shim_it("leaves the cookie as it was and wipes nothing past the new value", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local src = assert(io.open(dir .. "/shim.c", "w"))
    src:write(SHIM)
    src:close()
    assert(os.execute(("cc -shared -fPIC -O1 -o %s/shim.so %s/shim.c"):format(dir, dir)))
    local value = ("v"):rep(3333)             -- a length nothing else allocates
    sb:fault{ method = "GET", path = count_path(), kind = "body", status = 200, body = "{}",
              headers = { { "Set-Cookie", ".ROBLOSECURITY=" .. value .. "; domain=.roblox.com" } } }
    local chunk = ([[
      local rs = require "robloxsocial"
      local calls = 0
      local client = rs.new{ base_url = %q, cookie = os.getenv("COOKIE"), max_retries = 0,
                             on_cookie = function() calls = calls + 1 end }
      local _, err = client:friends_count(%d)
      local after = client:my_friends_count()
      io.write(err and err.kind or "none", "|", err and err.message or "", "|", calls, "|",
               after and "kept" or "lost")
    ]]):format(sb.base_url, me)
    local ok, out = proc.output(proc.lua_command(chunk, {
      prefix = ("SHIM_FILL=%d SHIM_FAIL=%d LD_PRELOAD=%s/shim.so "):format(#value + 1, #value + 32, dir),
      secrets = { COOKIE = sb.credentials.cookie } }) .. " 2>&1")
    os.execute("rm -rf " .. dir)
    assert.is_nil(out:find("CANARY OVERWRITTEN", 1, true), "the wipe ran past the new value")
    assert(ok, "the child failed: " .. out)
    assert.equal("network|not enough memory|0|kept", out)
  end)
end)

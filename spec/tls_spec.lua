-- The TLS and HTTP/2 harness (spec/tls.lua): nginx in front of a sandbox,
-- checked with curl's command line, raw TLS and the robloxsocial client.
local socket = require "socket"
local sandbox = require "robloxsocial.sandbox"
local json = require "robloxsocial.sandbox.json"
local tls = require "spec.tls"
local proc = require "spec.proc"

local MAIN = 1234567890123456
local FRIENDS_COUNT = "/v1/users/" .. MAIN .. "/friends/count"

local available, why = tls.available()

-- Runs curl; returns its output (body, then the -w text) and success.
local function curl(args)
  local ok, out = proc.output(proc.CLEAN_ENV .. "curl -sS " .. args .. " 2>&1")
  return out, ok
end

-- A file that holds the sandbox's cookie header, for curl's -H @FILE: the
-- cookie in no command line (see proc.secret_env).
local function cookie_header(sb)
  return proc.quote(proc.secret_file("Cookie: .ROBLOSECURITY=" .. sb.credentials.cookie))
end

describe("spec.tls", function()
  if not available then
    pending("skipped: " .. why)
    return
  end

  local sb, front

  setup(function()
    sb = sandbox.start()
    front = tls.start(sb)
  end)
  teardown(function()
    if front then
      front.stop()
      front.stop()
    end
    if sb then sb:stop() end
  end)
  before_each(function() sb:reset() end)

  it("answers the sandbox's JSON over HTTP/2, as nginx's log shows", function()
    local out, ok = curl(("--cacert %q --http2 -w '\\n%%{http_version} %%{response_code}' %q")
      :format(front.cainfo, front.base_url .. FRIENDS_COUNT))
    assert.is_true(ok, out)
    local body, trailer = out:match("^(.*)\n([^\n]*)$")
    assert.same({ count = 130 }, json.decode(body))
    assert.equal("2 200", trailer)
    local log = front.log(1)
    assert.same({ "HTTP/2.0", "GET", FRIENDS_COUNT, 200 },
                { log[#log].protocol, log[#log].method, log[#log].uri, log[#log].status })
    assert.equal(1, #sb:requests())
  end)

  it("verifies against the throwaway CA only, for 127.0.0.1 and localhost", function()
    local out, ok = curl(("-o /dev/null %q"):format(front.base_url .. FRIENDS_COUNT))
    assert.is_falsy(ok)
    assert.matches("certificate", out)
    local host_url = front.base_url:gsub("127%.0%.0%.1", "localhost") .. FRIENDS_COUNT
    out, ok = curl(("--cacert %q -o /dev/null -w '%%{response_code}' %q"):format(front.cainfo, host_url))
    assert.same({ "200", true }, { out, ok })
  end)

  it("forwards the request's headers and the sandbox's answer as they are", function()
    sb:fault { path = FRIENDS_COUNT, kind = "status", status = 503, reason = "Lunch",
               headers = { ["x-extra"] = "yes" }, retry_after = "7" }
    local out = curl(("--cacert %q --http2 -i -H 'x-csrf-token: tok-1' -A 'tls-spec/1' %q")
      :format(front.cainfo, front.base_url .. FRIENDS_COUNT))
    assert.matches("^HTTP/2 503", out)
    assert.matches("\nx%-extra: yes\r\n", out)
    assert.matches("\nretry%-after: 7\r\n", out)
    local seen = sb:requests()[1]
    assert.same({ "tok-1", "tls-spec/1" }, { seen.csrf_token, seen.user_agent })
  end)

  it("serves the stream listener over HTTP/1.1 TLS, relayed byte for byte", function()
    local out, ok = curl(("--cacert %q --http1.1 -i -w '\\n%%{http_version}' %q")
      :format(front.cainfo, front.base_url_stream .. FRIENDS_COUNT))
    assert.is_true(ok, out)
    assert.matches("^HTTP/1%.1 200 OK\r\n", out)
    assert.matches('{"count":130}\n1%.1$', out)
    -- Asked for HTTP/2, the stream listener offers no ALPN and stays on 1.1.
    out = curl(("--cacert %q --http2 -o /dev/null -w '%%{http_version}' %q")
      :format(front.cainfo, front.base_url_stream .. FRIENDS_COUNT))
    assert.equal("1.1", out)
  end)

  it("closes the client's TLS connection on the stream listener when the sandbox drops, where HTTP answers 502", function()
    sb:fault { { path = FRIENDS_COUNT, kind = "drop" }, { path = FRIENDS_COUNT, kind = "drop" } }
    local out = curl(("--cacert %q -o /dev/null -w '%%{response_code}' %q")
      :format(front.cainfo, front.base_url_stream .. FRIENDS_COUNT))
    assert.matches("Empty reply from server\n000$", out)
    out = curl(("--cacert %q -o /dev/null -w '%%{response_code}' %q")
      :format(front.cainfo, front.base_url .. FRIENDS_COUNT))
    assert.equal("502", out)
    local log = sb:requests()
    assert.same({ 200, "drop", 200, "drop" }, { log[1].status, log[1].fault, log[2].status, log[2].fault })
  end)

  it("relays a header with a bare CR byte for byte on the stream listener, where HTTP answers 502", function()
    local fault = { path = FRIENDS_COUNT, kind = "status", status = 403, headers = { { "x-csrf-token", "abc\rdef" } } }
    sb:fault(fault)
    local out = curl(("--cacert %q -i %q"):format(front.cainfo, front.base_url_stream .. FRIENDS_COUNT))
    assert.is_truthy(out:find("\r\nx-csrf-token: abc\rdef\r\n", 1, true))
    sb:fault(fault)
    out = curl(("--cacert %q -o /dev/null -w '%%{response_code}' %q"):format(front.cainfo, front.base_url .. FRIENDS_COUNT))
    assert.equal("502", out)
  end)

  it("lets a spec count client connections: nginx's log on HTTP, the sandbox's conn on the stream", function()
    local twice = function(url) return ("%q %q"):format(url .. FRIENDS_COUNT, url .. "/v1/my/friends/count") end
    local before = #front.log()
    local _, ok = curl(("--cacert %q --http2 -o /dev/null -o /dev/null -H @%s %s")
      :format(front.cainfo, cookie_header(sb), twice(front.base_url)))
    assert.is_true(ok)
    -- nginx logs an entry once its answer has gone, maybe after curl ended:
    -- wait for both of these, not any two.
    local log = front.log(before + 2)
    assert.equal(before + 2, #log)
    assert.equal(log[#log - 1].connection, log[#log].connection)
    sb:clear_requests()
    _, ok = curl(("--cacert %q -o /dev/null -o /dev/null -H @%s %s")
      :format(front.cainfo, cookie_header(sb), twice(front.base_url_stream)))
    assert.is_true(ok)
    _, ok = curl(("--cacert %q -o /dev/null %q"):format(front.cainfo, front.base_url_stream .. FRIENDS_COUNT))
    assert.is_true(ok)
    local seen = sb:requests()
    assert.same({ 200, 200, 200 }, { seen[1].status, seen[2].status, seen[3].status })
    assert.equal(seen[1].conn, seen[2].conn)
    assert.are_not.equal(seen[2].conn, seen[3].conn)
  end)

  it("carries the robloxsocial client over HTTP/2 with the CA given as cainfo", function()
    local robloxsocial = require "robloxsocial"
    local client <close> = robloxsocial.new { base_url = front.base_url, cainfo = front.cainfo,
                                              cookie = sb.credentials.cookie, timeout = 10 }
    local before = #front.log()
    local answer, err = client:friends_count(MAIN)
    assert.is_nil(err)
    assert.equal(130, answer.count)
    local log = front.log(before + 1)
    assert.equal("HTTP/2.0", log[#log].protocol)
  end)

  it("stops nginx, and a second stop is harmless", function()
    local other = tls.start(sb)
    local port = math.tointeger(tonumber(other.base_url:match(":(%d+)$")))
    assert.is_truthy(socket.connect("127.0.0.1", port))
    other.stop()
    other.stop()
    assert.is_nil((socket.connect("127.0.0.1", port)))
    local f = io.open(other.cainfo)
    assert.is_nil(f)
  end)
end)

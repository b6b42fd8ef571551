-- A fleet's Redis host given by name (shared_limits = "redis://NAME:port/db"):
-- the name is resolved off the loop, so a slow or absent DNS never
-- stalls a step.  The slow resolver is a getaddrinfo shim (LD_PRELOAD) in
-- a child process: it holds the names held.test and held.invalid while a
-- file exists, marks when it entered and when it returned, then gives
-- held.test as 127.0.0.1 and held.invalid as no name.  No assertion is
-- about time: whether the shim had returned when a request completed.
local support = require "spec.support"
local redis = require "spec.redis"
local proc = require "spec.proc"
local robloxsocial = require "robloxsocial"

local available, why = redis.available()
local has_cc = os.execute("command -v cc >/dev/null 2>&1")
local describe_redis = available and describe or function(name) pending(name .. ": " .. why) end
local shim_it = has_cc and it or function(name) pending(name .. ": no C compiler") end

local SHIM = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
static void mark(const char *what)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", getenv("SHIM_DIR"), what);
    if ((f = fopen(path, "a")) != NULL) {
        fputs("x\n", f);
        fclose(f);
    }
}
static int held(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hold", getenv("SHIM_DIR"));
    return access(path, F_OK) == 0;
}
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    gai_fn real;
    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (node && getenv("SHIM_DIR")
        && (strcmp(node, "held.test") == 0 || strcmp(node, "held.invalid") == 0)) {
        struct timespec tick = {0, 10000000};
        int i;
        mark("entered");
        for (i = 0; i < 1000 && held(); i++)    /* at most 10 s */
            nanosleep(&tick, NULL);
        mark("returned");
        if (strcmp(node, "held.invalid") == 0)
            return EAI_NONAME;
        node = "127.0.0.1";
    }
    return real(node, service, hints, res);
}
]]

-- The child's helpers: the shim's marks, its hold, this process's threads.
local PRELUDE = [[
local rs, socket = require "robloxsocial", require "socket"
local dir = os.getenv("SHIM_DIR")
local function marks(n) local f = io.open(dir .. "/" .. n) if not f then return 0 end
  local k = select(2, f:read("a"):gsub("\n", "")) f:close() return k end
local function release() os.remove(dir .. "/hold") end
local function threads() local f = io.open("/proc/self/stat") local s = f:read("a") f:close()
  local w = {} for x in s:match("%) (.*)"):gmatch("%S+") do w[#w + 1] = x end return tonumber(w[18]) end
local function client(url) return rs.new{ base_url = os.getenv("SB_URL"), cookie = os.getenv("SB_COOKIE"),
  max_retries = 0, connect_timeout = 0.2, shared_limits = url, rate_limits = { friends_count = { 100, 60 } } } end
local me = tonumber(os.getenv("SB_ME"))
local function entered(n) local d = socket.gettime() + 20
  while marks("entered") < n and socket.gettime() < d do socket.sleep(0.01) end end
local function step_until(t) local steps, deadline = 0, socket.gettime() + 20
  while not t:done() and socket.gettime() < deadline do rs.step(0) steps = steps + 1 socket.sleep(0.002) end
  return steps end
]]

-- Runs chunk (after PRELUDE) in a child with the shim preloaded and the
-- hold in place; returns whether it exited 0 and what it wrote.
local function run_held(chunk)
  local sb = support.sandbox()
  local dir = proc.temp_dir("resolve")
  proc.write_file(dir .. "/shim.c", SHIM)
  proc.run(("cc -shared -fPIC -O1 -o %s/shim.so %s/shim.c -ldl"):format(proc.quote(dir), proc.quote(dir)))
  proc.write_file(dir .. "/hold", "")
  local prefix = ("SHIM_DIR=%s SB_URL=%s SB_ME=%d LD_PRELOAD=\"${LD_PRELOAD:+$LD_PRELOAD:}%s\" ")
    :format(proc.quote(dir), proc.quote(sb.base_url), sb.credentials.user_id, dir .. "/shim.so")
  local ok, out = proc.output(proc.lua_command((PRELUDE .. chunk):gsub("\n", " "),
    { prefix = prefix, secrets = { SB_COOKIE = sb.credentials.cookie } }) .. " 2>&1")
  proc.remove(dir)
  return ok, out
end

describe_redis("a fleet's Redis host given by name", function()
  local r
  setup(function() r = redis.start() end)
  teardown(function() if r then r.stop() end end)
  before_each(function()
    support.reset()
    r.cli("FLUSHALL")
  end)

  it("connects to a name (localhost) and shares the budget", function()
    local sb = support.sandbox()
    local client <close> = support.client { shared_limits = ("redis://localhost:%d/0"):format(r.port),
      connect_timeout = 5, rate_limits = { friends_count = { 100, 60 } } }
    local shared = false
    for _ = 1, 50 do                                -- the first request waits for the store; bounded
      assert(client:friends_count(sb.credentials.user_id))
      shared = client:rate_limit("friends", "friends_count").shared
      if shared then break end
      require("socket").sleep(0.05)
    end
    assert.is_true(shared)
    assert.is_true(client:stats().store.up)
  end)

  it("a name that does not resolve: every call succeeds, shared is false", function()
    local sb = support.sandbox()
    local client <close> = support.client { shared_limits = "redis://no-such-host.invalid:6379/0",
      connect_timeout = 1, max_retries = 0, concurrency = 4, rate_limits = { friends_count = { 100, 60 } } }
    local failed = support.failed_calls(6, function() return client:friends_count(sb.credentials.user_id) end, 30)
    assert.equal(0, failed)
    assert.equal(6, #support.requests("GET"))
    assert.is_false(client:rate_limit("friends", "friends_count").shared)
  end)

  shim_it("a slow lookup never holds a step: steps go on, requests complete meanwhile, no second lookup starts; then the store is up", function()
    local ok, out = run_held(([[
      local c = client("redis://held.test:%d/0")
      entered(1)
      local t = rs.spawn(function() return c:friends_count(me) end)
      local steps = step_until(t)
      local more = 0
      for _ = 1, 3 do if c:friends_count(me) then more = more + 1 end socket.sleep(0.4) end
      io.write("done ", tostring(t:done()), " ok ", tostring(t:done() and t:wait() ~= nil), " more ", more,
               " entered ", marks("entered"),
               " returned ", marks("returned"), " shared ", tostring(c:rate_limit("friends", "friends_count").shared),
               " stepped ", tostring(steps > 1), "\n")
      release()
      local shared, deadline = false, socket.gettime() + 20
      while not shared and socket.gettime() < deadline do
        assert(c:friends_count(me)) shared = c:rate_limit("friends", "friends_count").shared socket.sleep(0.02)
      end
      io.write("then shared ", tostring(shared), "\n")
      c:close()
    ]]):format(r.port))
    assert(ok, out)
    assert.equal("done true ok true more 3 entered 1 returned 0 shared false stepped true\nthen shared true\n", out)
  end)

  shim_it("a lookup that fails after a while: calls go on meanwhile and after, shared is false", function()
    local ok, out = run_held([[
      local c = client("redis://held.invalid:6379/0")
      entered(1)
      local t = rs.spawn(function() return c:friends_count(me) end)
      step_until(t)
      io.write("done ", tostring(t:done()), " ok ", tostring(t:done() and t:wait() ~= nil), " returned ", marks("returned"), "\n")
      release()
      local failed = 0
      for _ = 1, 5 do if not c:friends_count(me) then failed = failed + 1 end socket.sleep(0.3) end
      io.write("failed ", failed, " shared ", tostring(c:rate_limit("friends", "friends_count").shared), "\n")
      c:close()
    ]])
    assert(ok, out)
    assert.equal("done true ok true returned 0\nfailed 0 shared false\n", out)
  end)

  -- Run under scripts/sanitize.sh too: the lookup's thread outlives the
  -- clients that started it, and must touch nothing they freed.
  shim_it("a client closed, and one collected, while their lookups run: the lookups end harmlessly", function()
    local ok, out = run_held([[
      local base = threads()
      local a, b = client("redis://held.test:6379/0"), client("redis://held.test:6379/0")
      entered(2)
      local t = rs.spawn(function() return a:friends_count(me) end)
      step_until(t)
      a:close()
      b = nil collectgarbage() collectgarbage()
      local entered, returned = marks("entered"), marks("returned")
      release()
      local deadline = socket.gettime() + 20
      while threads() > base and socket.gettime() < deadline do socket.sleep(0.01) end
      io.write("entered ", entered, " returned ", returned, " threads back ", tostring(threads() <= base), "\n")
    ]])
    assert(ok, out)
    assert.equal("entered 2 returned 0 threads back true\n", out)
  end)
end)

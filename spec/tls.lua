-- TLS and HTTP/2 in front of a sandbox, for specs: Debian's nginx with a
-- throwaway CA made by openssl at test time, in a temporary directory.
--
--   local tls = require "spec.tls"
--   local ok, why = tls.available()          -- nginx, its stream module, openssl
--   local front = tls.start(sb)              -- sb: a robloxsocial.sandbox
--   client = robloxsocial.new{ base_url = front.base_url, cainfo = front.cainfo, ... }
--   front.log()                              -- { {connection, protocol, method, uri, status}, ... }
--   front.stop()                             -- safe twice; also on __gc, __close and exit
--
-- Two listeners on 127.0.0.1:
--   base_url         https, HTTP/2 or HTTP/1.1 by ALPN; nginx proxies each
--                    request to the sandbox over kept-alive HTTP/1.1 with
--                    the request's headers (Host included) and passes the
--                    answer back as it is, unbuffered (HTTP/2 has no reason
--                    phrase).  A connection that the sandbox closes without
--                    answering, and an answer nginx finds invalid (a bare
--                    CR in a header), become a 502 here, as they would
--                    behind any HTTP proxy; nginx never sends a write twice
--                    (proxy_next_upstream off).
--   base_url_stream  TLS terminated by nginx's stream module and the bytes
--                    relayed to the sandbox over TCP, one connection for
--                    one: HTTP/1.1 only, and when the sandbox closes (a drop,
--                    a reset) the client's TLS connection closes too.
-- The certificate names 127.0.0.1 and localhost.  The request log of the
-- sandbox then sees nginx's connections, not the client's; front.log()
-- gives nginx's own connection numbers ($connection), one per client
-- connection on the HTTP listener.
local socket = require "socket"
local proc = require "spec.proc"

local tls = {}

local NGINX = "/usr/sbin/nginx"
local STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"

local quote, read_all, write_file, exists = proc.quote, proc.read_file, proc.write_file, proc.exists
local run = proc.run

tls.CLEAN_ENV = proc.CLEAN_ENV          -- bench/h2's

-- Is everything the harness needs installed?  true, or nil and why not.
function tls.available()
  if not exists(NGINX) then return nil, "nginx is not installed (apt-get install nginx-light)" end
  if not exists(STREAM_MODULE) then
    return nil, "nginx's stream module is not installed (apt-get install libnginx-mod-stream)"
  end
  if not os.execute(proc.CLEAN_ENV .. "sh -c 'command -v openssl' >/dev/null 2>&1") then return nil, "openssl is not installed" end
  return true
end

-- A CA and a server certificate signed by it, for 127.0.0.1 and localhost.
local function make_certificates(dir)
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  run(("cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj '/CN=robloxsocial spec CA'"
    .. " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"):format(quote(dir), ec))
  write_file(dir .. "/server.ext", table.concat({
    "basicConstraints = CA:FALSE",
    "keyUsage = critical, digitalSignature",
    "extendedKeyUsage = serverAuth",
    "subjectAltName = IP:127.0.0.1, DNS:localhost",
  }, "\n") .. "\n")
  run(("cd %s && openssl req -new %s -keyout server.key -out server.csr -subj /CN=localhost"
    .. " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
    .. " -extfile server.ext -out server.pem"):format(quote(dir), ec))
end

local function config(dir, upstream, https_port, stream_port)
  local user = ""
  -- Run as root, the master would hand the workers to www-data, who
  -- cannot enter the private temporary directory.
  if run("id -u"):match("^0") then user = "user root;\n" end
  return (([[
load_module %MODULE%;
%USER%worker_processes 1;
daemon off;
pid %DIR%/nginx.pid;
error_log %DIR%/error.log info;
events { worker_connections 1024; }

http {
  log_format spec '$connection $server_protocol $request_method $uri $status';
  access_log %DIR%/access.log spec;
  client_body_temp_path %DIR%/client_body;
  proxy_temp_path %DIR%/proxy;
  fastcgi_temp_path %DIR%/fastcgi;
  uwsgi_temp_path %DIR%/uwsgi;
  scgi_temp_path %DIR%/scgi;
  client_max_body_size 16m;
  underscores_in_headers on;
  ignore_invalid_headers off;
  keepalive_requests 100000;

  upstream sandbox {
    server %UPSTREAM%;
    keepalive 32;
  }

  server {
    listen 127.0.0.1:%HTTPS% ssl http2;
    ssl_certificate %DIR%/server.pem;
    ssl_certificate_key %DIR%/server.key;

    location / {
      proxy_pass http://sandbox;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_pass_header Date;
      proxy_pass_header Server;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_next_upstream off;
      proxy_read_timeout 300s;
      proxy_send_timeout 300s;
    }
  }
}

stream {
  upstream sandbox_raw { server %UPSTREAM%; }
  server {
    listen 127.0.0.1:%STREAM% ssl;
    ssl_certificate %DIR%/server.pem;
    ssl_certificate_key %DIR%/server.key;
    proxy_pass sandbox_raw;
    proxy_timeout 300s;
  }
}
]]):gsub("%%(%u+)%%", { MODULE = STREAM_MODULE, USER = user, DIR = dir, UPSTREAM = upstream,
                        HTTPS = tostring(https_port), STREAM = tostring(stream_port) }))
end

-- Parses the access log: {connection, protocol, method, uri, status}.
local function parse_log(path)
  local out = {}
  for line in read_all(path):gmatch("[^\n]+") do
    local conn, proto, method, uri, status = line:match("^(%d+) (%S+) (%S+) (%S+) (%d+)$")
    if conn then
      out[#out + 1] = { connection = math.tointeger(tonumber(conn)), protocol = proto, method = method,
                        uri = uri, status = math.tointeger(tonumber(status)) }
    end
  end
  return out
end

-- For other TLS servers of the specs (spec/h2server.lua): makes ca.pem,
-- server.pem and server.key in dir.
tls.make_certificates = make_certificates

-- Starts nginx in front of sandbox sb; raises when it cannot.  Returns
-- { base_url, base_url_stream, cainfo, dir, pid, log = function([n]),
-- stop = function }.  log(n) waits (up to 2 s) until the log holds at
-- least n entries: nginx writes an entry once the answer has gone.
function tls.start(sb)
  local ok, why = tls.available()
  if not ok then error("spec.tls: " .. why, 2) end
  local dir = proc.temp_dir("tls")
  make_certificates(dir)
  local https_port, stream_port = proc.free_port(), proc.free_port()
  while stream_port == https_port do stream_port = proc.free_port() end
  local upstream = assert(sb.base_url:match("^http://([^/]+)$"), "spec.tls: the sandbox's base_url")
  write_file(dir .. "/nginx.conf", config(dir, upstream, https_port, stream_port))
  local pid = proc.spawn(("%s -p %s -c %s -e %s </dev/null >%s 2>&1"):format(NGINX,
    quote(dir), quote(dir .. "/nginx.conf"), quote(dir .. "/error.log"), quote(dir .. "/stdout")))
  -- Ends nginx (while it still is nginx) and removes the directory once
  -- the process that started it has gone.
  proc.watchdog(("grep -qx nginx /proc/%d/comm 2>/dev/null && kill %d 2>/dev/null; sleep 1; rm -rf %s")
    :format(pid, pid, quote(dir)), ("[ -e /proc/%d ]"):format(pid))
  local front = { base_url = ("https://127.0.0.1:%d"):format(https_port),
                  base_url_stream = ("https://127.0.0.1:%d"):format(stream_port),
                  cainfo = dir .. "/ca.pem", dir = dir, pid = pid }
  local stopped = false
  function front.stop()
    if stopped then return end
    stopped = true
    proc.kill(pid)
    proc.remove(dir)
  end
  function front.log(n)
    if type(n) ~= "number" then n = 0 end
    local deadline = socket.gettime() + 2
    local entries = parse_log(dir .. "/access.log")
    while #entries < n and socket.gettime() < deadline do
      socket.sleep(0.02)
      entries = parse_log(dir .. "/access.log")
    end
    return entries
  end
  setmetatable(front, { __gc = front.stop, __close = front.stop })
  if not proc.wait_ready(pid, function() return proc.accepts(https_port) and proc.accepts(stream_port) end, 10) then
    local log = read_all(dir .. "/error.log") .. read_all(dir .. "/stdout")
    front.stop()
    error("spec.tls: nginx did not start:\n" .. log, 2)
  end
  return front
end

return tls

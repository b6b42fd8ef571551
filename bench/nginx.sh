# Sourced by bench/run.sh and bench/concurrency/run.sh: an nginx of the
# bench's own, from a config template (@DIR@ and @PORT@ filled in), on a
# free port of 127.0.0.1.  The caller sets ROOT and DIR and defines
# nginx_probe, which succeeds once nginx answers on $PORT.
#
#   nginx_find               NGINX: Debian's nginx, installed if missing
#   nginx_up TEMPLATE LABEL  PORT and NGINX_PID, or exits 1 showing nginx's log
#
# The caller's cleanup kills $NGINX_PID.

nginx_find() {
  NGINX=${NGINX:-/usr/sbin/nginx}
  [ -x "$NGINX" ] || command -v nginx >/dev/null 2>&1 || "$ROOT/scripts/deps.sh" nginx-light
  [ -x "$NGINX" ] || NGINX=$(command -v nginx)
}

# A free port from the kernel; if another process takes it before nginx
# does, nginx fails to start and nginx_up tries another.
nginx_free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0))
             local _, port = s:getsockname(); s:close(); print(port)'
}

nginx_start() {
  sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" "$1" > "$DIR/nginx.conf"
  "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" &
  NGINX_PID=$!
  tries=0
  while [ $tries -lt 50 ]; do
    if nginx_probe >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
    tries=$((tries + 1))
  done
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
  return 1
}

nginx_up() {
  attempt=0
  until PORT=$(nginx_free_port) && nginx_start "$1"; do
    attempt=$((attempt + 1))
    if [ $attempt -ge 5 ]; then
      echo "$2: nginx did not start:" >&2
      cat "$DIR/error.log" >&2 2>/dev/null || true
      exit 1
    fi
  done
}

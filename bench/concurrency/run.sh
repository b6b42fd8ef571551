#!/bin/sh
# Runs the concurrency bench (issue 9): delay_server (presence after
# BENCH9_LATENCY_MS, 50) and an nginx of our own on 127.0.0.1, then
# measure.lua, which starts the sandbox for its check and runs every
# measure.  The servers and the temp dir go away on any exit.
#
#   bench/concurrency/run.sh BIN_DIR    (the Makefile passes out/, with
#                                        curl_multi and delay_server)
set -eu
[ $# -eq 1 ] || { echo "usage: bench/concurrency/run.sh BIN_DIR" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(cd "$1" && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}

# Debian packages only; deps.sh installs only what is missing (python3-httpx
# is in its list).  Node is not a Debian package here: its rows say n/a
# when /usr/bin/node (or $NODE) is missing.
[ -x "$NGINX" ] || command -v nginx >/dev/null 2>&1 || "$ROOT/scripts/deps.sh" nginx-light
[ -x "$NGINX" ] || NGINX=$(command -v nginx)
"$ROOT/scripts/deps.sh" valgrind

[ -f "$ROOT/build/robloxsocial/core.so" ] || {
  echo "bench9: build the core first (make build at the top)" >&2; exit 1; }

export LUA_PATH_5_4="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export LUA_CPATH_5_4="$ROOT/build/?.so;;"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/robloxsocial-bench9.XXXXXX")
chmod 755 "$DIR"            # nginx's worker runs as nobody when we are root
NGINX_PID=""
DELAY_PID=""
cleanup() {
  for pid in $NGINX_PID $DELAY_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN/delay_server" 0 "${BENCH9_LATENCY_MS:-50}" > "$DIR/delay.out" &
DELAY_PID=$!
tries=0
until grep -q '^port ' "$DIR/delay.out" 2>/dev/null; do
  tries=$((tries + 1))
  [ $tries -lt 50 ] || { echo "bench9: delay_server did not start" >&2; exit 1; }
  sleep 0.1
done
DELAY_PORT=$(sed -n 's/^port //p' "$DIR/delay.out")

free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0))
             local _, port = s:getsockname(); s:close(); print(port)'
}

start_nginx() {
  sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" "$HERE/nginx.conf.in" > "$DIR/nginx.conf"
  "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" &
  NGINX_PID=$!
  tries=0
  while [ $tries -lt 50 ]; do
    if "$BIN/curl_multi" easy "http://127.0.0.1:$PORT" 1 >/dev/null 2>&1; then
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

attempt=0
until PORT=$(free_port) && start_nginx; do
  attempt=$((attempt + 1))
  if [ $attempt -ge 5 ]; then
    echo "bench9: nginx did not start:" >&2
    cat "$DIR/error.log" >&2 2>/dev/null || true
    exit 1
  fi
done

mkdir -p "$HERE/out"
lua5.4 "$HERE/measure.lua" "http://127.0.0.1:$PORT" "http://127.0.0.1:$DELAY_PORT" "$BIN" "$HERE/out"

#!/bin/sh
# Runs the bench: canned bodies, an nginx of our own on 127.0.0.1, then
# measure.lua, which runs every measure and prints the report.  nginx and
# the temp dir go away on any exit, failures and Ctrl-C included.
#
#   bench/run.sh CURL_LOOP        (bench/Makefile passes out/curl_loop)
set -eu
[ $# -eq 1 ] || { echo "usage: bench/run.sh CURL_LOOP" >&2; exit 2; }

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
CURL_LOOP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
NGINX=${NGINX:-/usr/sbin/nginx}

# What the bench needs beyond `make build`; deps.sh installs only what is missing.
[ -x "$NGINX" ] || command -v nginx >/dev/null 2>&1 || "$ROOT/scripts/deps.sh" nginx-light
[ -x "$NGINX" ] || NGINX=$(command -v nginx)
"$ROOT/scripts/deps.sh" valgrind

[ -f "$ROOT/build/robloxsocial/core.so" ] || {
  echo "bench: build the core first (make build at the top)" >&2; exit 1; }

export LUA_PATH_5_4="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$BENCH/?.lua;;"
export LUA_CPATH_5_4="$ROOT/build/?.so;;"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/robloxsocial-bench.XXXXXX")
# Readable by nginx's worker, which runs as nobody when we are root.
chmod 755 "$DIR"
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ]; then
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lua5.4 "$BENCH/gen_bodies.lua" "$DIR"

# A free port from the kernel; if another process takes it before nginx
# does, nginx fails to start and we try another.
free_port() {
  lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0))
             local _, port = s:getsockname(); s:close(); print(port)'
}

start_nginx() {
  sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" "$BENCH/nginx.conf.in" > "$DIR/nginx.conf"
  "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" &
  NGINX_PID=$!
  tries=0
  while [ $tries -lt 50 ]; do
    if "$CURL_LOOP" "http://127.0.0.1:$PORT/v1/users/1/friends/count" 1 0 >/dev/null 2>&1; then
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
    echo "bench: nginx did not start:" >&2
    cat "$DIR/error.log" >&2 2>/dev/null || true
    exit 1
  fi
done

mkdir -p "$BENCH/out"
lua5.4 "$BENCH/measure.lua" "http://127.0.0.1:$PORT" "$DIR" "$CURL_LOOP" "$BENCH/out"

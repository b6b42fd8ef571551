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
. "$BENCH/nginx.sh"

# What the bench needs beyond `make build`; deps.sh installs only what is missing.
nginx_find
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

nginx_probe() {
  "$CURL_LOOP" "http://127.0.0.1:$PORT/v1/users/1/friends/count" 1 0
}
nginx_up "$BENCH/nginx.conf.in" bench

mkdir -p "$BENCH/out"
lua5.4 "$BENCH/measure.lua" "http://127.0.0.1:$PORT" "$DIR" "$CURL_LOOP" "$BENCH/out"

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
. "$ROOT/bench/nginx.sh"

# Debian packages only; deps.sh installs only what is missing (python3-httpx
# is in its list).  Node is not a Debian package here: its rows say n/a
# when /usr/bin/node (or $NODE) is missing.
nginx_find
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

nginx_probe() {
  "$BIN/curl_multi" easy "http://127.0.0.1:$PORT" 1
}
nginx_up "$HERE/nginx.conf.in" bench9

mkdir -p "$HERE/out"
lua5.4 "$HERE/measure.lua" "http://127.0.0.1:$PORT" "http://127.0.0.1:$DELAY_PORT" "$BIN" "$HERE/out"

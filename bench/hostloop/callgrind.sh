#!/bin/sh
# What the socket interface costs the hot path (bench/hostloop/README.md):
# callgrind instruction counts of bench/concurrency/rs.lua against an nginx
# of our own, for one core or two.  Run from the checkout:
#   bench/hostloop/callgrind.sh [CPATH...]     (default ./build/?.so)
# Rows: 1,000 tasks of one friends_count each at concurrency 8 and at 100
# (rs.lua count, 1 timed round after the untimed one: instructions of the
# whole process / 2,000 requests), and instructions per sequential request
# ((I(4,000) - I(2,000)) / 2,000, as bench/concurrency does).  With
# HOSTLOOP_WATCHED=1 the program asks for pollfd() first: the socket
# interface, as under a host's event loop.
set -eu
ROOT=$(pwd)
HERE="$ROOT/bench/hostloop"
. "$ROOT/bench/nginx.sh"
nginx_find
"$ROOT/scripts/deps.sh" valgrind
DIR=$(mktemp -d "${TMPDIR:-/tmp}/robloxsocial-hostloop.XXXXXX")
chmod 755 "$DIR"
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; }
  rm -rf "$DIR"
}
trap cleanup EXIT
nginx_probe() { curl -sf "http://127.0.0.1:$PORT/v1/users/1/friends/count"; }
nginx_up "$ROOT/bench/concurrency/nginx.conf.in" hostloop
URL="http://127.0.0.1:$PORT"
export LUA_PATH_5_4="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"

instructions() {   # the total of a callgrind run of rs.lua with these arguments
  valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" lua5.4 \
    -e "${HOSTLOOP_WATCHED:+require('robloxsocial').pollfd()}" "$ROOT/bench/concurrency/rs.lua" "$@" \
    >/dev/null 2>"$DIR/cg.err" || { cat "$DIR/cg.err" >&2; exit 1; }
  sed -n 's/^summary: //p' "$DIR/cg.out"
}

[ $# -gt 0 ] || set -- "./build/?.so"
for cpath in "$@"; do
  export LUA_CPATH_5_4="$cpath;;"
  t8=$(instructions count "$URL" 1 8 1000)
  t100=$(instructions count "$URL" 1 100 1000)
  s2=$(instructions sequential "$URL" 2000)
  s4=$(instructions sequential "$URL" 4000)
  echo "$cpath${HOSTLOOP_WATCHED:+ (pollfd asked)}: tasks c=8 $((t8 / 2000)) instr/request, tasks c=100 $((t100 / 2000)) instr/request, sequential $(((s4 - s2) / 2000)) instr/request"
done

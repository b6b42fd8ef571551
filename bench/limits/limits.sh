#!/bin/sh
# What reading the services' x-ratelimit-* headers costs a sequential
# request (no hook): callgrind instructions per request of friends_count
# against an answer that carries them (three headers, a limit of three
# windows), with the core and with the same core built to ignore them
# (RS_BENCH_IGNORE_RATE), so that libcurl's own handling of three more
# header lines, which any client pays, is in both.  Each figure is the
# difference of a run of SMALL and of LARGE requests, so that start-up
# cancels out.  Target (issue 10): at most 2% of a request.  For scale it
# also prints the same answer without those headers.
set -eu
BENCH=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
NGINX=${NGINX:-/usr/sbin/nginx}
SMALL=${LIMITS_SMALL:-100}
LARGE=${LIMITS_LARGE:-1100}
[ -x "$NGINX" ] || "$ROOT/scripts/deps.sh" nginx-light
"$ROOT/scripts/deps.sh" valgrind
export LUA_PATH_5_4="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
IGNORING="$ROOT/build-ignore-rate"
cmake -S "$ROOT" -B "$IGNORING" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRS_BENCH_IGNORE_RATE=ON >/dev/null
cmake --build "$IGNORING" -- --no-print-directory >/dev/null
DIR=$(mktemp -d "${TMPDIR:-/tmp}/robloxsocial-limits.XXXXXX")
chmod 755 "$DIR"
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PORT=$(lua5.4 -e 'local s = assert(require("socket").bind("127.0.0.1", 0)); local _, port = s:getsockname(); print(port); s:close()')
sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" "$BENCH/limits/nginx.conf.in" > "$DIR/nginx.conf"
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/error.log" &
NGINX_PID=$!
sleep 0.5

# Instructions of one run of requests.lua under callgrind: core build
# directory, user id (1: no headers, 2: the headers), requests.
instructions() {
  LUA_CPATH_5_4="$1/?.so;;" valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" \
    lua5.4 "$BENCH/limits/requests.lua" "http://127.0.0.1:$PORT" "$2" "$3" >/dev/null 2>"$DIR/cg.err"
  sed -n 's/^summary: //p' "$DIR/cg.out"
}

# The median of REPS measures: Lua seeds its string hashes anew at each
# start, which moves a count by a few hundred instructions.
per_request() {
  for _ in $(seq "${LIMITS_REPS:-5}"); do
    small=$(instructions "$1" "$2" "$SMALL")
    large=$(instructions "$1" "$2" "$LARGE")
    echo $(( (large - small) / (LARGE - SMALL) ))
  done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

plain=$(per_request "$ROOT/build" 1)
ignoring=$(per_request "$IGNORING" 2)
reading=$(per_request "$ROOT/build" 2)
lua5.4 -e "
  local plain, ignoring, reading = $plain, $ignoring, $reading
  local share = (reading - ignoring) / ignoring
  print(('| instructions per sequential friends_count | answer without x-ratelimit-*: %d | with them, ignored: %d | with them, read: %d | reading them: %+.2f%% | target <= 2%%: %s |')
    :format(plain, ignoring, reading, share * 100, share <= 0.02 and 'PASS' or 'FAIL'))"

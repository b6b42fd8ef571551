#!/bin/sh
# The wake-up bench (bench/hostloop/README.md): a luv host and a C host,
# the sandbox 50 ms away, 100 sequential and 100 concurrent requests, and
# 100 stalled 2 s.  Run from the checkout: bench/hostloop/run.sh [CPATH]
# (CPATH: a package.cpath that finds robloxsocial/core.so, default ./build/?.so;
# another build's shows the numbers of another core).
set -eu
CPATH="${1:-./build/?.so}"
mkdir -p bench/out
cc -std=c11 -Wall -Wextra -Wpedantic -O2 -I/usr/include/lua5.4 -o bench/out/wakes \
  bench/hostloop/wakes.c -llua5.4 -lm
export LUA_PATH_5_4="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH_5_4="$CPATH;;"
fd=$(lua5.4 -e 'print(require("robloxsocial.core").pollfd and "fd" or "")')
for kind in sequential concurrent stall; do
  lua5.4 bench/hostloop/luv_host.lua $kind timer
  [ -n "$fd" ] && lua5.4 bench/hostloop/luv_host.lua $kind adapter
  bench/out/wakes ./lua "$CPATH" $kind timer
  [ -n "$fd" ] && bench/out/wakes ./lua "$CPATH" $kind fd
done

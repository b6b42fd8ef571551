#!/bin/sh
# The pacing bench (issue 20, "the fastest schedule that draws no 429"):
# robloxsocial at concurrency 8, 32 and 100 against an oracle and three
# peer rules, on a loopback server 50 ms away that enforces each style of
# rate limit.  Prints the table and writes bench/limits/RESULTS.md (a
# LIMITS_QUICK run writes bench/out/pacing-quick.md).  See README.md in
# this directory for the knobs and the columns.
set -eu
LIMITS=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$LIMITS/../.." && pwd)
NODE=${NODE:-node}
command -v "$NODE" >/dev/null || { echo "pacing.sh: Node (20 or later) is needed: set NODE" >&2; exit 1; }
command -v "${LUA:-lua5.4}" >/dev/null || "$ROOT/scripts/deps.sh" lua5.4
[ -f "$ROOT/build/robloxsocial/core.so" ] || { echo "pacing.sh: build the core first (make build)" >&2; exit 1; }
# The peers' packages (Bottleneck, p-limit) go into a git-ignored
# node_modules beside them, once.
if [ ! -d "$LIMITS/pacing/node_modules/bottleneck" ] || [ ! -d "$LIMITS/pacing/node_modules/p-limit" ]; then
  (cd "$LIMITS/pacing" && npm install --no-audit --no-fund --loglevel=error)
fi
export LUA_PATH_5_4="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export LUA_CPATH_5_4="$ROOT/build/?.so;;"
LIMITS_COMMIT=${LIMITS_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
export LIMITS_COMMIT
exec "$NODE" "$LIMITS/pacing/pacing.mjs"

#!/bin/sh
# bench/h2: connections opened by first HTTP/2 bursts of 100, 150 and 256
# requests (see README.md).  Run from anywhere; builds the module and the
# C reference first.
set -eu
cd "$(dirname "$0")/../.."
make build >/dev/null
mkdir -p build/bench
cc -O2 -Wall -Wextra -o build/bench/curl_burst bench/h2/curl_burst.c $(pkg-config --cflags --libs libcurl)
lua5.4 bench/h2/burst.lua build/bench/curl_burst

#!/bin/sh
# Builds the core with AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-asan and runs every spec against it.  lua5.4 itself is not
# instrumented, so the ASan runtime is preloaded; any report fails the run.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRS_SANITIZE=ON -DRS_WERROR=ON >/dev/null
cmake --build build-asan -- --no-print-directory
asan_lib=$(gcc -print-file-name=libasan.so)
ubsan_lib=$(gcc -print-file-name=libubsan.so)
curl_lib=$(ldd build-asan/robloxsocial/core.so | awk '/libcurl/ { print $3 }')
# Leaks are checked too: the specs close every client, and Lua frees its
# state at exit.  At exit Lua also unloads the core, and libcurl with it,
# whose process-wide allocations (curl_global_init is never undone on
# purpose) would then be reported from an unknown module: preloading
# libcurl keeps it mapped, so lsan.supp can name those precisely.
export LD_PRELOAD="$asan_lib $ubsan_lib $curl_lib"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=24"
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0"
busted --lua=lua5.4 --cpath="./build-asan/?.so" "$@"

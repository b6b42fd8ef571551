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
# Leaks are checked too: the specs close every client and Lua frees its
# state at exit.  The core stays loaded (it pins itself), so libcurl's
# process-wide allocations stay reachable.
export LD_PRELOAD="$asan_lib $ubsan_lib"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=24"
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0"
busted --lua=lua5.4 --cpath="./build-asan/?.so" "$@"

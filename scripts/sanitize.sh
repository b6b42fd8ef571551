#!/bin/sh
# Builds the core with AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-asan and runs every spec against it (scripts/run_specs.sh).
# lua5.4 itself is not instrumented, so the ASan runtime is preloaded; any
# report fails the run.
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
# The runtimes go to busted only, not to the runner's shell and tools.
BUSTED="env LD_PRELOAD=$asan_lib:$ubsan_lib busted --lua=lua5.4"
export BUSTED
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=24"
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0"
# One busted per spec file, as `make test`, with more time per file: the
# instrumented core is slower.  A report makes its file exit non-zero,
# which counts as an error of that file.  Three files at once: under the
# sanitizers the files spend more of their time on a core.
SPEC_JOBS=${SPEC_JOBS:-3} SPEC_TIMEOUT=${SPEC_TIMEOUT:-120} ./scripts/run_specs.sh --cpath="./build-asan/?.so" "$@"

#!/bin/bash
# Runs the specs one busted process per file, each under coreutils
# `timeout`, so that a hang fails its file in seconds instead of holding
# the whole run.  Each busted starts its own sandbox on a free port, so
# files may run side by side.
#
#   scripts/run_specs.sh [busted options] [spec files]
#
# With no files, every spec/*_spec.lua.  Environment: BUSTED (default
# "busted --lua=lua5.4"), SPEC_TIMEOUT (seconds per file, default 60),
# SPEC_JOBS (files at once, default 2).
#
# Each file's output is printed whole when it ends, its busted summary
# rewritten as "== FILE: N successes, ...".  The last line is busted's
# summary for the whole run ("N successes / N failures / N errors /
# N pending : T seconds"), which .ci/run adds up.  A file that timed out,
# or exited non-zero with no failure counted (a sanitizer report, a
# crash), counts as one failure or error, named.  The exit status is 0
# only when every file passed.
set -u
export LC_ALL=C       # a '.' decimal point in the seconds, whatever the locale
cd "$(dirname "$0")/.." || exit 1

busted=${BUSTED:-busted --lua=lua5.4}
limit=${SPEC_TIMEOUT:-60}
# Most files spend their time waiting on sockets and latencies, not on a
# core: four at once on two cores.
jobs=${SPEC_JOBS:-4}

opts=() files=()
for a in "$@"; do
  case $a in -*) opts+=("$a") ;; *) files+=("$a") ;; esac
done
if [ ${#files[@]} -eq 0 ]; then
  # The slowest files first (measured: the fleet's processes, the tasks,
  # the pacer against the sandbox's windows), then the largest: the others
  # fill in around them.
  slow=(spec/fleet_spec.lua spec/tasks_spec.lua spec/pacing_sandbox_spec.lua
        spec/limits_spec.lua spec/hostloop_spec.lua)
  for f in "${slow[@]}"; do [ -f "$f" ] && files+=("$f"); done
  while read -r f; do
    case " ${files[*]} " in *" $f "*) ;; *) files+=("$f") ;; esac
  done < <(ls -S spec/*_spec.lua)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s.%N)

# One file: its output in $tmp/N.out, busted's exit status in $tmp/N.rc.
run_one() {
  local n=$1 file=$2
  # shellcheck disable=SC2086  # $busted is a command line
  timeout -k 5 "$limit" $busted "${opts[@]}" "$file" >"$tmp/$n.out" 2>&1
  echo $? >"$tmp/$n.rc"
}

# busted's summary, "1 success / 2 failures / 0 errors / 0 pending : ..."
SUMMARY='^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending'
successes=0 failures=0 errors=0 pending=0 bad=()

# Prints file n's output and adds its counts to the run's.
report() {
  local n=$1 file=$2 rc summary s f e p t
  rc=$(cat "$tmp/$n.rc")
  summary=$(grep -E "$SUMMARY" "$tmp/$n.out" | tail -n 1)
  grep -v -E "$SUMMARY" "$tmp/$n.out"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "== $file: TIMED OUT after $limit s (counted as one failure)"
    failures=$((failures + 1)); bad+=("$file (timed out)")
    return
  fi
  if [ -z "$summary" ]; then
    echo "== $file: busted exited $rc without a summary (counted as one error)"
    errors=$((errors + 1)); bad+=("$file (exit $rc, no summary)")
    return
  fi
  read -r s _ _ f _ _ e _ _ p _ _ t _ <<<"$summary"
  echo "== $file: $s successes, $f failures, $e errors, $p pending in $(printf '%.1f' "$t") s"
  successes=$((successes + s)) failures=$((failures + f))
  errors=$((errors + e)) pending=$((pending + p))
  if [ "$rc" != 0 ] && [ $((f + e)) -eq 0 ]; then
    echo "== $file: busted exited $rc with no failure counted (counted as one error)"
    errors=$((errors + 1)); bad+=("$file (exit $rc)")
  elif [ $((f + e)) -gt 0 ]; then
    bad+=("$file")
  fi
}

# Starts up to $jobs files at once; reports each as it ends.
declare -A running=()     # pid -> index
next=0 total=${#files[@]}
while [ $next -lt "$total" ] || [ ${#running[@]} -gt 0 ]; do
  while [ $next -lt "$total" ] && [ ${#running[@]} -lt "$jobs" ]; do
    run_one "$next" "${files[$next]}" &
    running[$!]=$next
    next=$((next + 1))
  done
  wait -n
  for pid in "${!running[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null
      i=${running[$pid]}
      unset "running[$pid]"
      report "$i" "${files[$i]}"
    fi
  done
done

seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
if [ ${#bad[@]} -gt 0 ]; then
  echo "== failed: ${bad[*]}"
fi
echo "$successes successes / $failures failures / $errors errors / $pending pending : $seconds seconds"
[ $((failures + errors)) -eq 0 ]

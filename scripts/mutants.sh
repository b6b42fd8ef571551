#!/bin/bash
# Mutation testing of the engine: plants each bug of spec/mutants.txt, one
# at a time, in a scratch copy of this tree, builds it, runs the specs and
# says which spec killed it (or that none did).  A mutant may be in a C
# file or in a Lua one (lua/robloxsocial/...): the specs load the copy's
# ./lua, so a Lua mutant needs no build (cmake finds nothing to do).
#
#   scripts/mutants.sh [ID ...]        # no IDs: every mutant of the file
#
# Environment:
#   MUTANTS       the mutants file (default spec/mutants.txt)
#   MUTANTS_ALL=1 run every spec file for each mutant and list all its
#                 killers (default: stop at the first failing file)
#   SPEC_TIMEOUT  seconds per spec file (default 60; a timeout kills)
#   MUTANTS_KEEP=1 keep the scratch copy (its path is printed)
#
# The copy is the working tree as it is (uncommitted specs included),
# without build/ and .git, under /tmp; this tree is never changed.  A
# mutant whose original line does not occur exactly once in its file is
# reported "not applied" (the code moved on), and one whose build fails
# "no build": neither counts as a survivor.  The spec files run one busted
# each, in the order below (the engine's own specs first, so that most
# mutants die in seconds), then the others, largest first.  The table at
# the end has one row per mutant: ID, file:line, verdict, first killer.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")/.." && pwd)
mutants=${MUTANTS:-$here/spec/mutants.txt}
limit=${SPEC_TIMEOUT:-60}
all=${MUTANTS_ALL:-0}

scratch=$(mktemp -d /tmp/mutants.XXXXXX)
cleanup() { [ "${MUTANTS_KEEP:-0}" = 1 ] && echo "scratch copy: $scratch" || rm -rf "$scratch"; }
trap cleanup EXIT
tar -C "$here" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$scratch" -xf -
cd "$scratch" || exit 1

build() { cmake --build build -- --no-print-directory >build.log 2>&1; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
build || { echo "the unmutated tree does not build"; cat build.log; exit 1; }

first=(tasks scheduler limits deadline batch batch_progress transport hardening
       credentials client paging http2_connections http2 http2_unprocessed)
specs=()
for f in "${first[@]}"; do [ -f "spec/${f}_spec.lua" ] && specs+=("spec/${f}_spec.lua"); done
# install_spec packs the tree with luarocks, which the scratch copy (no
# .git) cannot do: it would "kill" every mutant that the others let live.
while read -r f; do
  case " ${specs[*]} " in *" $f "*) ;; *) specs+=("$f") ;; esac
done < <(ls -S spec/*_spec.lua | grep -v '^spec/install_spec.lua$')

# mutate.lua ID FILE: applies mutant ID of $mutants (or, with "list", prints
# "ID FILE DESCRIPTION" for each).  Exit 0 applied (prints the line number),
# 2 not applied.
cat >mutate.lua <<'LUA'
local path, want = arg[1], arg[2]
local ms, cur = {}, nil
for line in io.lines(path) do
  local id, file, what = line:match("^@ (%S+) (%S+)%s+(.*)$")
  if id then cur = { id = id, file = file, what = what }; ms[#ms + 1] = cur
  elseif cur and line:sub(1, 2) == "- " then cur.old = line:sub(3)
  elseif cur and line:sub(1, 2) == "+ " then cur.new = line:sub(3) end
end
if want == "list" then
  for _, m in ipairs(ms) do print(m.id, m.file, m.what) end
  os.exit(0)
end
for _, m in ipairs(ms) do
  if m.id == want then
    local f = io.open(m.file, "rb"); if not f then os.exit(2) end
    local text = f:read("a"); f:close()
    local lines, hits, at = {}, 0, nil
    for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    if text:sub(-1) == "\n" then lines[#lines] = nil end
    for i, l in ipairs(lines) do
      if l == m.old then hits = hits + 1; at = i end
    end
    if hits ~= 1 or not m.new then os.exit(2) end
    lines[at] = m.new
    f = assert(io.open(m.file, "wb"))
    f:write(table.concat(lines, "\n"), text:sub(-1) == "\n" and "\n" or "")
    f:close()
    print(at)
    os.exit(0)
  end
end
os.exit(2)
LUA

ids=("$@")
if [ ${#ids[@]} -eq 0 ]; then
  mapfile -t ids < <(lua5.4 mutate.lua "$mutants" list | cut -f1)
fi

rows=() killed=0 survived=0 skipped=0
for id in "${ids[@]}"; do
  file=$(lua5.4 mutate.lua "$mutants" list | awk -F'\t' -v id="$id" '$1 == id { print $2 }')
  [ -n "$file" ] && cp "$file" "$file.orig"
  if ! line=$(lua5.4 mutate.lua "$mutants" "$id"); then
    echo "== $id: not applied (its line no longer occurs exactly once in ${file:-?})"
    rows+=("$id|${file:-?}|not applied|")
    skipped=$((skipped + 1))
    [ -n "$file" ] && rm -f "$file.orig"
    continue
  fi
  started=$(date +%s)
  if ! build; then
    echo "== $id: no build"; tail -n 5 build.log
    rows+=("$id|$file:$line|no build|"); skipped=$((skipped + 1))
  else
    killers=()
    for s in "${specs[@]}"; do
      timeout -k 5 "$limit" busted --lua=lua5.4 --cpath=./build/?.so -o TAP "$s" >spec.out 2>&1
      rc=$?
      if [ $rc -ne 0 ]; then
        test=$(grep -m1 '^not ok' spec.out | sed 's/^not ok [0-9]* - //')
        [ $rc -eq 124 ] || [ $rc -eq 137 ] && test="timed out after $limit s"
        [ -z "$test" ] && test="exit $rc: $(grep -v '^[[:space:]]*$' spec.out | tail -n 1)"   # a crash
        killers+=("$(basename "$s"): $test")
        [ "$all" = 1 ] || break
      fi
    done
    secs=$(( $(date +%s) - started ))
    if [ ${#killers[@]} -gt 0 ]; then
      killed=$((killed + 1))
      echo "== $id ($file:$line): killed in $secs s by ${killers[0]}"
      rows+=("$id|$file:$line|killed|$(IFS=';'; echo "${killers[*]}")")
    else
      survived=$((survived + 1))
      echo "== $id ($file:$line): SURVIVED ($secs s)"
      rows+=("$id|$file:$line|survived|")
    fi
  fi
  mv "$file.orig" "$file"; touch "$file"   # newer than the mutant's object
done
build >/dev/null 2>&1

echo
echo "| mutant | where | verdict | killed by (spec file: first failing test) |"
echo "|---|---|---|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d <<<"$r"
  echo "| $a | $b | $c | $d |"
done
echo
echo "killed $killed of $((killed + survived)) applied ($survived survived, $skipped not applied or not built)"
[ "$survived" -eq 0 ]

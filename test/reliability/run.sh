#!/bin/sh
# test/reliability/run.sh: the reliability suite (several OS processes on one
# store; SIGKILL of a writer). Needs lua5.4, the sqlite3 CLI and a built
# lib/lua/5.4/inventory/core.so. Prints every check, then the closing line
#   reliability: N passed, N failed
# and exits non-zero when anything failed.
#   RELIABILITY_KILLS=n   crash iterations (default 25, at least 20)
#   RELIABILITY_SEED=n    seed of the crash timings (printed by each run)
cd "$(dirname "$0")/../.." || exit 1
# every temp file of the suite lives here, removed even if the run is interrupted
RELIABILITY_TMP=$(mktemp -d -t inv-reliability-XXXXXX) || exit 1
export RELIABILITY_TMP
trap 'rm -rf "$RELIABILITY_TMP"' EXIT
trap 'exit 130' INT TERM HUP
pass=0
fail=0
for t in concurrency crash; do
  start=$(date +%s)
  out=$(lua5.4 "test/reliability/$t.lua" 2>&1); rc=$?
  echo "$out" | grep -v '^ok - '
  line=$(echo "$out" | grep "^$t: " | tail -n 1)
  p=$(echo "$line" | sed -n "s/^$t: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p")
  f=$(echo "$line" | sed -n "s/^$t: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p")
  [ -z "$p" ] && { p=0; f=1; echo "$t did not finish (rc=$rc)"; }
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { f=1; echo "$t exited with rc=$rc"; }
  echo "# $t took $(( $(date +%s) - start )) s"
  pass=$((pass + p))
  fail=$((fail + f))
done
echo "reliability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

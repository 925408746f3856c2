#!/bin/sh
# test/reliability/run.sh: the reliability suite (several OS processes on one
# store; SIGKILL of a writer; on PostgreSQL also faults of the server). Needs
# lua5.4, lua-socket, the sqlite3 CLI, PostgreSQL 15 (scripts/pg.sh) and a
# built lib/lua/5.4/inventory/{core,pg}.so. Prints every check, then the
# closing line
#   reliability: N passed, N failed
# and exits non-zero when anything failed.
#   BACKENDS="sqlite postgresql" (the default) picks the backends
#   RELIABILITY_KILLS=n   crash iterations (default 25, at least 20)
#   RELIABILITY_SEED=n    seed of the crash timings (printed by each run)
# On PostgreSQL, concurrency.lua and crash.lua run on a throwaway cluster
# (fsync off: no test here kills the server); faults.lua starts its own
# (fsync on), since it stops, kills and freezes the server. Both are stopped
# on exit, also when a test fails.
cd "$(dirname "$0")/../.." || exit 1
BACKENDS=${BACKENDS:-sqlite postgresql}
# every temp file of the suite lives here, removed even if the run is interrupted
RELIABILITY_TMP=$(mktemp -d -t inv-reliability-XXXXXX) || exit 1
export RELIABILITY_TMP
PG_DIR=""
cleanup() {
  [ -n "$PG_DIR" ] && sh scripts/pg.sh stop "$PG_DIR"
  rm -rf "$RELIABILITY_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
pass=0
fail=0

# run_one BACKEND TEST: one test file, its checks counted
run_one() {
  start=$(date +%s)
  out=$(RELIABILITY_BACKEND=$1 lua5.4 "test/reliability/$2.lua" 2>&1); rc=$?
  echo "$out" | grep -v '^ok - '
  line=$(echo "$out" | grep "^$2: " | tail -n 1)
  p=$(echo "$line" | sed -n "s/^$2: \([0-9]*\) passed, \([0-9]*\) failed\$/\1/p")
  f=$(echo "$line" | sed -n "s/^$2: \([0-9]*\) passed, \([0-9]*\) failed\$/\2/p")
  [ -z "$p" ] && { p=0; f=1; echo "$2 ($1) did not finish (rc=$rc)"; }
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { f=1; echo "$2 ($1) exited with rc=$rc"; }
  echo "# $2 ($1): $p passed, $f failed; took $(( $(date +%s) - start )) s"
  pass=$((pass + p))
  fail=$((fail + f))
}

for be in $BACKENDS; do
  case $be in
    sqlite)
      for t in concurrency crash; do run_one sqlite $t; done ;;
    postgresql)
      PG_DIR=$(mktemp -d /tmp/inv-reliability-pg-XXXXXX) || exit 1
      if ! url=$(sh scripts/pg.sh start "$PG_DIR" 2>&1); then
        echo "PostgreSQL did not start: $url"
        fail=$((fail + 1))
        continue
      fi
      export RELIABILITY_PG_URL="$url"
      for t in concurrency crash; do run_one postgresql $t; done
      run_one postgresql faults
      sh scripts/pg.sh stop "$PG_DIR"; PG_DIR=""
      ;;
    *) echo "unknown backend $be"; fail=$((fail + 1)) ;;
  esac
done
echo "reliability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Run every suite, each reporting its own count in its own unit (C checks,
# busted tests, nginx tests, reliability checks; skipped tests apart), then
# the closing line CI reads, which sums them:
#   N skipped          (busted pending tests: neither passed nor failed)
#   N passed, N failed
#
# TEST_SUITES="c busted nginx reliability install browser" (the default) picks suites;
# SPEC=path runs busted on that file or directory instead of spec/ (the
# runner's own spec uses both).
cd "$(dirname "$0")/.." || exit 1
SUITES=${TEST_SUITES:-c busted nginx reliability install browser}
SPEC=${SPEC:-spec}
total_pass=0
total_fail=0
total_skip=0
add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); total_skip=$((total_skip + ${3:-0})); }
has() { case " $SUITES " in *" $1 "*) return 0 ;; esac; return 1; }

# closing "<prefix>: N passed, N failed" line of a suite's output -> "N N"
counts() {
  echo "$2" | sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed\$/\1 \2/p" | tail -n 1
}

# 1. the C suite: each CHECK() is one check
if has c; then
  out=$(./build/test_c 2>&1); rc=$?
  echo "$out" | grep -v '^c: ' | tail -n 20
  set -- $(counts c "$out")
  if [ $# -ne 2 ]; then set -- 0 1; echo "C suite did not finish (rc=$rc)"; fi
  echo "C suite: $1 checks passed, $2 failed"
  add "$1" "$2"
fi

# 2. busted under each runtime: each it() is one test; pending ones are skipped
if has busted; then
  for rt in lua5.4:5.4 luajit:5.1; do
    lua=${rt%%:*}; ver=${rt##*:}
    tap=$($lua /usr/bin/busted -o TAP --lpath='./lua/?.lua;./lua/?/init.lua;./?.lua' \
          --cpath="./lib/lua/$ver/?.so" "$SPEC" 2>&1)
    echo "$tap" | grep -E '^not ok|^#' | head -n 60
    echo "$tap" | grep '^ok [0-9]* - # SKIP' | sed 's/^ok [0-9]* - # SKIP */  skipped: /' | head -n 10
    s=$(echo "$tap" | grep -c '^ok [0-9]* - # SKIP')
    p=$(( $(echo "$tap" | grep -c '^ok ') - s ))
    f=$(echo "$tap" | grep -c '^not ok ')
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; echo "$tap" | tail -n 20; fi
    echo "busted ($lua): $p tests passed, $f failed, $s skipped"
    add "$p" "$f" "$s"
  done
fi

# 3. the REST API behind a real nginx (test/nginx/run.sh starts and stops it):
#    each test() is one request scenario
if has nginx; then
  out=$(bash test/nginx/run.sh 2>&1); rc=$?
  echo "$out" | grep -v '^nginx: [0-9]* passed, [0-9]* failed$' | tail -n 40
  set -- $(counts nginx "$out")
  if [ $# -ne 2 ]; then set -- 0 1; echo "nginx suite did not finish (rc=$rc)"; fi
  echo "nginx suite: $1 tests passed, $2 failed"
  add "$1" "$2"
fi

# 4. reliability: 4 writer processes on one store; SIGKILL of a writer
#    (test/reliability/run.sh); each T:ok() is one check
if has reliability; then
  out=$(sh test/reliability/run.sh 2>&1); rc=$?
  echo "$out" | grep -v '^reliability: [0-9]* passed, [0-9]* failed$' \
    | grep -E '^not ok|^#|^ |did not|exited' | head -n 60
  set -- $(counts reliability "$out")
  if [ $# -ne 2 ]; then set -- 0 1; echo "reliability suite did not finish (rc=$rc)"; fi
  echo "reliability: $1 checks passed, $2 failed"
  add "$1" "$2"
fi

# 5. make install into a DESTDIR from a fresh copy, then the installed command,
#    modules and nginx example (test/install/run.sh); each check is one
if has install; then
  out=$(sh test/install/run.sh 2>&1); rc=$?
  echo "$out" | grep -v '^install: [0-9]* passed, [0-9]* failed$' | tail -n 30
  set -- $(counts install "$out")
  if [ $# -ne 2 ]; then set -- 0 1; echo "install test did not finish (rc=$rc)"; fi
  echo "install: $1 checks passed, $2 failed"
  add "$1" "$2"
fi

# 6. the job console in Debian's Chromium (test/browser/run.sh starts and stops
#    make run's server); each browser test is one
if has browser; then
  out=$(bash test/browser/run.sh 2>&1); rc=$?
  echo "$out" | grep -v '^browser: [0-9]* passed, [0-9]* failed$' | tail -n 30
  set -- $(counts browser "$out")
  if [ $# -ne 2 ]; then set -- 0 1; echo "browser suite did not finish (rc=$rc)"; fi
  echo "browser suite: $1 tests passed, $2 failed"
  add "$1" "$2"
fi

echo "$total_skip skipped"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

#!/bin/sh
# Run every suite and sum their counts into the closing line
# "N passed, N failed" that CI reads.
cd "$(dirname "$0")/.." || exit 1
total_pass=0
total_fail=0
total_skip=0
add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); }

# 1. the C suite
out=$(./build/test_c 2>&1); rc=$?
echo "$out" | grep -v '^c: ' | tail -n 20
line=$(echo "$out" | grep '^c: ' | tail -n 1)
p=$(echo "$line" | sed -n 's/^c: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^c: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -z "$p" ] && { p=0; f=1; echo "C suite did not finish (rc=$rc)"; }
echo "C suite: $p passed, $f failed"
add "$p" "$f"

# 2. busted under each runtime
for rt in lua5.4:5.4 luajit:5.1; do
  lua=${rt%%:*}; ver=${rt##*:}
  tap=$($lua /usr/bin/busted -o TAP --lpath='./lua/?.lua;./lua/?/init.lua;./?.lua' \
        --cpath="./lib/lua/$ver/?.so" spec 2>&1)
  echo "$tap" | grep -E '^not ok|^#' | head -n 60
  p=$(echo "$tap" | grep '^ok ' | grep -vc '^ok [0-9]* - # SKIP')
  f=$(echo "$tap" | grep -c '^not ok ')
  s=$(echo "$tap" | grep -c '^ok [0-9]* - # SKIP')
  echo "$tap" | grep '^ok [0-9]* - # SKIP' | sed 's/^ok [0-9]* - # SKIP/  skipped:/' | head -n 10
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$tap" | tail -n 20; fi
  echo "busted ($lua): $p passed, $f failed, $s skipped"
  add "$p" "$f"
  total_skip=$((total_skip + s))
done

# 3. the REST API behind a real nginx (test/nginx/run.sh starts and stops it)
out=$(bash test/nginx/run.sh 2>&1); rc=$?
echo "$out" | grep -v '^nginx: [0-9]* passed, [0-9]* failed$' | tail -n 40
line=$(echo "$out" | grep '^nginx: [0-9]* passed, [0-9]* failed$' | tail -n 1)
p=$(echo "$line" | sed -n 's/^nginx: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^nginx: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -z "$p" ] && { p=0; f=1; echo "nginx suite did not finish (rc=$rc)"; }
echo "nginx suite: $p passed, $f failed"
add "$p" "$f"

# 4. reliability: 4 writer processes on one store; SIGKILL of a writer (test/reliability/run.sh)
out=$(sh test/reliability/run.sh 2>&1); rc=$?
echo "$out" | grep -v '^reliability: [0-9]* passed, [0-9]* failed$' | grep -E '^not ok|^#|^ |did not|exited' | head -n 60
line=$(echo "$out" | grep '^reliability: [0-9]* passed, [0-9]* failed$' | tail -n 1)
p=$(echo "$line" | sed -n 's/^reliability: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^reliability: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -z "$p" ] && { p=0; f=1; echo "reliability suite did not finish (rc=$rc)"; }
echo "reliability: $p passed, $f failed"
add "$p" "$f"

# 5. make install into a DESTDIR from a fresh copy, the installed command and modules
out=$(sh test/install/run.sh 2>&1); rc=$?
echo "$out" | grep -v '^install: [0-9]* passed, [0-9]* failed$' | tail -n 30
line=$(echo "$out" | grep '^install: [0-9]* passed, [0-9]* failed$' | tail -n 1)
p=$(echo "$line" | sed -n 's/^install: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^install: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ -z "$p" ] && { p=0; f=1; echo "install test did not finish (rc=$rc)"; }
echo "install: $p passed, $f failed"
add "$p" "$f"

if [ "$total_skip" -gt 0 ]; then
  echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
  echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]

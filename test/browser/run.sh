#!/bin/bash
# test/browser/run.sh: the job console in a real browser. Starts the demo
# server with examples/nginx/run.sh (a scratch PREFIX, a random free port,
# SIMULATOR=0), runs test/browser/console.test.mjs (Playwright's
# playwright-core driving Debian's /usr/bin/chromium headless), then stops
# the server. Screenshots: build/screenshots/. Closing line:
# "browser: N passed, N failed".
#
#   bash test/browser/run.sh        (after make all console; scripts/test.sh runs it)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
fail_early() { echo "browser suite: $*"; echo "browser: 0 passed, 1 failed"; exit 1; }
for bin in nginx curl lua5.4 luajit node; do
  command -v $bin >/dev/null 2>&1 || fail_early "$bin is not installed (make deps)"
done
[ -x /usr/bin/chromium ] || fail_early "/usr/bin/chromium is not installed (make deps)"
[ -f build/console/index.html ] || fail_early "build the console first (make console)"
[ -d node_modules/playwright-core ] || fail_early "npm packages missing (make console runs npm ci)"

WORK=$(mktemp -d /tmp/inventory-browser-test.XXXXXX) || fail_early "mktemp"
chmod 755 "$WORK"
RPID=""
stop() {
  [ -n "$RPID" ] || return 0
  kill -TERM "$RPID" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$RPID" 2>/dev/null
  wait "$RPID" 2>/dev/null
  RPID=""
}
cleanup() { stop; if [ "${KEEP:-0}" = 1 ]; then echo "browser suite: kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# a free port, and the demo server on it (run.sh refuses a taken port)
started=""
for attempt in 1 2 3 4 5 6; do
  PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
  PREFIX=$WORK/prefix PORT=$PORT SIMULATOR=0 WORKERS=2 sh examples/nginx/run.sh >"$WORK/run.out" 2>&1 &
  RPID=$!
  for _ in $(seq 1 100); do
    grep -q "Console:" "$WORK/run.out" 2>/dev/null && { started=1; break; }
    kill -0 "$RPID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$started" ] && break
  stop
done
[ -n "$started" ] || { cat "$WORK/run.out"; fail_early "the demo server did not start"; }

OWNER=""
[ "$(id -u)" -eq 0 ] && OWNER="nobody:$(id -gn nobody 2>/dev/null || echo nogroup)"
mkdir -p build/screenshots
BASE="http://127.0.0.1:$PORT" WORK="$WORK" DB="$WORK/prefix/data/inventory.db" OWNER="$OWNER" ROOT="$ROOT" \
  RUN_OUT="$WORK/run.out" SHOTS="$ROOT/build/screenshots" ERROR_LOG="$WORK/prefix/logs/error.log" \
  node test/browser/console.test.mjs >"$WORK/browser.out" 2>&1
rc=$?
grep -v '^browser: ' "$WORK/browser.out"
line=$(grep '^browser: [0-9]* passed, [0-9]* failed$' "$WORK/browser.out" | tail -n 1)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
  echo "--- error.log (tail)"; tail -n 15 "$WORK/prefix/logs/error.log"
fi
[ -n "$line" ] || { line="browser: 0 passed, 1 failed"; rc=1; }
echo "$line"
exit $rc

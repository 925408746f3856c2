#!/bin/bash
# test/nginx/run.sh: integration suite. Starts a REAL nginx (the shipped
# examples/nginx/nginx.conf, 2 workers, stat/analyze in the thread pool) on
# 127.0.0.1 and a random free port, runs test/nginx/driver.lua (curl for every
# request), then stops nginx (kill -QUIT on exit, whatever happens).
# Closing line: "nginx: N passed, N failed".
#
#   bash test/nginx/run.sh          (after make all; scripts/test.sh runs it)
#   KEEP=1 bash test/nginx/run.sh   keep the scratch prefix for a look
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
SEEDS_DIR=${SEEDS_DIR:-$ROOT/../shared/seeds}

fail_early() { echo "nginx suite: $*"; echo "nginx: 0 passed, 1 failed"; exit 1; }

for bin in nginx curl lua5.4; do
  command -v $bin >/dev/null 2>&1 || fail_early "$bin is not installed (make deps)"
done
[ -f lib/lua/5.1/inventory/core.so ] && [ -f lib/lua/5.4/inventory/core.so ] \
  || fail_early "build first (make all)"
[ -d "$SEEDS_DIR" ] || fail_early "no seed pages at $SEEDS_DIR"

WORK=$(mktemp -d /tmp/inventory-nginx-test.XXXXXX) || fail_early "mktemp"
chmod 755 "$WORK"    # nginx workers (nobody, when started as root) read the prefix
PREFIX=$WORK/prefix
DB=$PREFIX/data/inventory.db
TOKENS=$PREFIX/data/tokens.json
NPID=""

# running and not a zombie (kill -0 succeeds on a zombie until it is reaped)
alive() { local a b st; { read -r a b st _ < "/proc/$1/stat"; } 2>/dev/null && [ "$st" != Z ]; }

stop_nginx() {
  [ -n "$NPID" ] || return 0
  if alive "$NPID"; then
    kill -QUIT "$NPID" 2>/dev/null
    for _ in $(seq 1 50); do alive "$NPID" || break; sleep 0.1; done
    alive "$NPID" && kill -TERM "$NPID" 2>/dev/null
  fi
  wait "$NPID" 2>/dev/null
  NPID=""
}

cleanup() {
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then echo "nginx suite: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/?.lua;$ROOT/test/nginx/?.lua;;"
export LUA_CPATH="$ROOT/lib/lua/5.4/?.so;;"

mkdir -p "$PREFIX/data"
lua5.4 test/nginx/fixture.lua init "$DB" "$TOKENS" "$SEEDS_DIR" || fail_early "fixture failed"

# a free port: try random ones until nginx binds (it exits at once when it cannot)
started=""
for attempt in 1 2 3 4 5 6 7 8; do
  PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue    # something listens there
  sh examples/nginx/mkprefix.sh "$PREFIX" "$PORT" 2 "$DB" "$TOKENS" 0 0 || fail_early "mkprefix failed"
  # the event stream tests: a small per-worker cap, a quick keepalive
  sed -i 's/events = { max_streams = [0-9]*,/events = { max_streams = 10, keepalive = 2,/' "$PREFIX/conf/nginx.conf"
  grep -q 'max_streams = 10, keepalive = 2' "$PREFIX/conf/nginx.conf" || fail_early "cannot set the events options"
  : > "$PREFIX/logs/error.log"
  # env execs nginx, so $! is the master's pid; nginx must not inherit the
  # 5.4 paths (LUA_PATH would become its default path)
  env -u LUA_PATH -u LUA_CPATH nginx -p "$PREFIX/" -c conf/nginx.conf >"$WORK/nginx.out" 2>&1 &
  NPID=$!
  for _ in $(seq 1 50); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then started=1; break; fi
    alive "$NPID" || break
    sleep 0.1
  done
  [ -n "$started" ] && break
  stop_nginx
  grep -q "Address already in use" "$PREFIX/logs/error.log" "$WORK/nginx.out" 2>/dev/null || break
done
if [ -z "$started" ]; then
  cat "$WORK/nginx.out" "$PREFIX/logs/error.log" 2>/dev/null | tail -n 20
  fail_early "nginx did not start"
fi

# the phase-2 import runs as root while nginx (workers: nobody) has the
# database open: give the files back to the worker user afterwards
OWNER=""
[ "$(id -u)" -eq 0 ] && OWNER="nobody:$(id -gn nobody 2>/dev/null || echo nogroup)"
PHASE2="lua5.4 '$ROOT/test/nginx/fixture.lua' phase2 '$DB' '$SEEDS_DIR'"
[ -n "$OWNER" ] && PHASE2="$PHASE2 && chown -R $OWNER '$PREFIX/data'"

BASE="http://127.0.0.1:$PORT" WORK="$WORK" SEEDS_DIR="$SEEDS_DIR" PHASE2="$PHASE2" DB="$DB" \
  ERROR_LOG="$PREFIX/logs/error.log" lua5.4 test/nginx/driver.lua >"$WORK/driver.out" 2>&1
rc=$?
grep -v '^nginx: ' "$WORK/driver.out"
line=$(grep '^nginx: [0-9]* passed, [0-9]* failed$' "$WORK/driver.out" | tail -n 1)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
  echo "--- error.log (tail)"; tail -n 20 "$PREFIX/logs/error.log"
fi
[ -n "$line" ] || { line="nginx: 0 passed, 1 failed"; rc=1; }

# the event stream (test/nginx/events_driver.lua): writes by another process
ERROR_LOG="$PREFIX/logs/error.log" BASE="http://127.0.0.1:$PORT" WORK="$WORK" DB="$DB" OWNER="$OWNER" \
  NGINX_PID="$NPID" ROOT="$ROOT" lua5.4 test/nginx/events_driver.lua >"$WORK/events.out" 2>&1
erc=$?
grep -v '^events: ' "$WORK/events.out"
eline=$(grep '^events: [0-9]* passed, [0-9]* failed$' "$WORK/events.out" | tail -n 1)
if [ $erc -ne 0 ] || [ -z "$eline" ]; then
  echo "--- error.log (tail)"; tail -n 20 "$PREFIX/logs/error.log"
fi
[ -n "$eline" ] || { eline="events: 0 passed, 1 failed"; erc=1; }
p1=$(echo "$line" | sed -n 's/^nginx: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f1=$(echo "$line" | sed -n 's/^nginx: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
p2=$(echo "$eline" | sed -n 's/^events: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f2=$(echo "$eline" | sed -n 's/^events: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
[ $erc -ne 0 ] && rc=1
echo "nginx: $((p1 + p2)) passed, $((f1 + f2)) failed"
exit $rc

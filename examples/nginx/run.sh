#!/bin/sh
# examples/nginx/run.sh: serve the inventory REST API and the job console with
# nginx in the foreground, with a demo collector simulator.
#
#   sh examples/nginx/run.sh            (or: make run)
#   PORT=8090 WORKERS=4 sh examples/nginx/run.sh
#   SIMULATOR=0 make run                (no simulator)
#
# Builds the prefix examples/nginx/run/ (gitignored), seeds a demo database
# there on first use (examples/nginx/seed.lua, history of the last 20 days;
# delete run/data/ to reseed), copies the built console (build/console, `make
# console`) to <prefix>/html/console/, starts nginx on 127.0.0.1:$PORT
# (default 8089) and examples/nginx/simulator.lua, which writes a new job every
# 30-60 s through the Lua API from its own process. Ctrl-C (or SIGTERM) stops
# both. Tokens: examples/nginx/tokens.json.
#
# Environment: PORT, WORKERS (2), SWEEP_INTERVAL (600 s; 0 = off),
# PURGE_INTERVAL (0 = off), SIMULATOR (1; 0 = off), SIMULATOR_EVERY (30-60 s),
# SIMULATOR_PACE (1; tests run the tasks 10 times faster),
# PREFIX (examples/nginx/run; /tmp/inventory-demo when started as root from a
# checkout that nginx's workers, running as nobody, cannot read).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORT=${PORT:-8089}
WORKERS=${WORKERS:-2}
SWEEP_INTERVAL=${SWEEP_INTERVAL:-600}
PURGE_INTERVAL=${PURGE_INTERVAL:-0}
SIMULATOR=${SIMULATOR:-1}
SIMULATOR_EVERY=${SIMULATOR_EVERY:-30-60}
SIMULATOR_PACE=${SIMULATOR_PACE:-1}

# the port first: another server on it is a clear error, not a half-started demo
case $PORT in
  ''|*[!0-9]*) echo "run.sh: PORT must be a number (got '$PORT')" >&2; exit 2 ;;
esac
if command -v curl >/dev/null 2>&1; then
  rc=0
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null || rc=$?
  if [ "$rc" -ne 7 ]; then      # 7: connection refused, the port is free
    echo "run.sh: 127.0.0.1:$PORT is already in use (another 'make run'?)." >&2
    echo "run.sh: stop that server, or pick another port: PORT=8090 make run" >&2
    exit 1
  fi
fi

if [ -z "${PREFIX:-}" ]; then
  PREFIX=$HERE/run
  # started as root, nginx's workers run as nobody: a checkout they cannot
  # read (under /root, say) gets its prefix in /tmp instead
  if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -r "$HERE/tokens.json" 2>/dev/null; then
    PREFIX=/tmp/inventory-demo
  fi
fi
case $PREFIX in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac
DB=$PREFIX/data/inventory.db
TOKENS=$HERE/tokens.json

[ -f "$ROOT/lib/lua/5.1/inventory/core.so" ] || make -C "$ROOT" all
[ -f "$ROOT/build/console/index.html" ] || make -C "$ROOT" console

mkdir -p "$PREFIX/data"
if [ ! -f "$DB" ]; then
  if command -v lua5.4 >/dev/null 2>&1 && [ -f "$ROOT/lib/lua/5.4/inventory/core.so" ]; then
    LUA=lua5.4; VER=5.4
  else
    LUA=luajit; VER=5.1
  fi
  echo "run.sh: seeding $DB"
  # 20 days of history up to today (UTC midnight, in ms)
  START_MS=$(( ($(date +%s) / 86400 - 20) * 86400000 ))
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/$VER/?.so;;" \
    "$LUA" "$HERE/seed.lua" "$DB.tmp" "$START_MS"
  mv "$DB.tmp" "$DB"
fi

mkdir -p "$PREFIX/conf"
cp "$TOKENS" "$PREFIX/conf/tokens.json"      # read by the workers: keep it in the prefix
TOKENS=$PREFIX/conf/tokens.json
sh "$HERE/mkprefix.sh" "$PREFIX" "$PORT" "$WORKERS" "$DB" "$TOKENS" "$SWEEP_INTERVAL" "$PURGE_INTERVAL"
rm -rf "$PREFIX/html/console"
cp -R "$ROOT/build/console" "$PREFIX/html/console"
chmod -R a+rX "$PREFIX/html"
nginx -q -t -p "$PREFIX/" -c conf/nginx.conf

# the simulator runs as the workers' user, from what they can read
LUAROOT=$ROOT
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
  LUAROOT=$PREFIX/app                      # mkprefix.sh's copy of lua/ and lib/lua/5.1
  cp "$HERE/simulator.lua" "$LUAROOT/simulator.lua"
  chmod a+r "$LUAROOT/simulator.lua"
  RUNAS="runuser -u nobody --"
else
  cp "$HERE/simulator.lua" "$PREFIX/simulator.lua"
fi
SIMSCRIPT=$LUAROOT/simulator.lua
[ -f "$SIMSCRIPT" ] || SIMSCRIPT=$PREFIX/simulator.lua

NPID=""
SPID=""
stop() {
  trap - INT TERM EXIT
  [ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null
  if [ -n "$NPID" ] && kill -0 "$NPID" 2>/dev/null; then
    kill -QUIT "$NPID" 2>/dev/null
    i=0
    while kill -0 "$NPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -TERM "$NPID" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  echo "run.sh: stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

nginx -p "$PREFIX/" -c conf/nginx.conf &
NPID=$!
# nginx exits at once when it cannot bind (the port was taken since the check)
i=0
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" 2>/dev/null; do
  if ! kill -0 "$NPID" 2>/dev/null || [ $i -ge 50 ]; then
    tail -n 5 "$PREFIX/logs/error.log" >&2
    echo "run.sh: nginx did not start on 127.0.0.1:$PORT (see $PREFIX/logs/error.log)" >&2
    exit 1
  fi
  sleep 0.1
  i=$((i + 1))
done

if [ "$SIMULATOR" != 0 ]; then
  # shellcheck disable=SC2086
  LUA_PATH="$LUAROOT/lua/?.lua;$LUAROOT/lua/?/init.lua;;" LUA_CPATH="$LUAROOT/lib/lua/5.1/?.so;;" \
    $RUNAS luajit "$SIMSCRIPT" "$DB" --every "$SIMULATOR_EVERY" --pace "$SIMULATOR_PACE" --watch "$NPID" \
    2>>"$PREFIX/logs/simulator.log" &
  SPID=$!
  SIMMSG="a demo collector simulator writes a job every $SIMULATOR_EVERY s (SIMULATOR=0 turns it off; log: $PREFIX/logs/simulator.log)"
else
  SIMMSG="the demo collector simulator is off (SIMULATOR=0)"
fi

cat <<MSG
run.sh: inventory on 127.0.0.1:$PORT (logs: $PREFIX/logs/error.log)
  Console:  http://127.0.0.1:$PORT/console/   sign in with a demo token: demo-a-admin, demo-a-owner,
            demo-a-member, demo-b-admin, ... (examples/nginx/tokens.json)
  Live:     $SIMMSG
  Store:    $DB   (the command line: export INVENTORY_DB=$DB)
  API:      curl -s -H 'Authorization: Bearer demo-a-admin' -d '{"query":{"page":{"limit":3}}}' http://127.0.0.1:$PORT/inventory/v1/job/list
            curl -s -H 'Authorization: Bearer demo-a-member' -d '{"status":"FAILURE"}' http://127.0.0.1:$PORT/inventory/v1/job-task/list
            curl -sN -H 'Authorization: Bearer demo-a-admin' http://127.0.0.1:$PORT/inventory/v1/events
Ctrl-C stops nginx and the simulator.
MSG
wait "$NPID" || true

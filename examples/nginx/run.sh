#!/bin/sh
# examples/nginx/run.sh: serve the inventory REST API with nginx in the foreground.
#
#   sh examples/nginx/run.sh            (or: make run)
#   PORT=8090 WORKERS=4 sh examples/nginx/run.sh
#
# Builds the prefix examples/nginx/run/ (gitignored), seeds a demo database
# there on first use (examples/nginx/seed.lua; delete run/data/ to reseed),
# and starts nginx on 127.0.0.1:$PORT (default 8089) with daemon off. Stop it
# with Ctrl-C. Tokens: examples/nginx/tokens.json.
#
# Environment: PORT, WORKERS (2), SWEEP_INTERVAL (600 s; 0 = off),
# PURGE_INTERVAL (0 = off: the demo data is from 2024 and a 60-day retention
# would delete it), PREFIX (examples/nginx/run; /tmp/inventory-demo when started
# as root from a checkout that nginx's workers, running as nobody, cannot read).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ -z "${PREFIX:-}" ]; then
  PREFIX=$HERE/run
  # started as root, nginx's workers run as nobody: a checkout they cannot
  # read (under /root, say) gets its prefix in /tmp instead
  if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -r "$HERE/tokens.json" 2>/dev/null; then
    PREFIX=/tmp/inventory-demo
  fi
fi
PORT=${PORT:-8089}
WORKERS=${WORKERS:-2}
SWEEP_INTERVAL=${SWEEP_INTERVAL:-600}
PURGE_INTERVAL=${PURGE_INTERVAL:-0}
DB=$PREFIX/data/inventory.db
TOKENS=$HERE/tokens.json

[ -f "$ROOT/lib/lua/5.1/inventory/core.so" ] || make -C "$ROOT" all

mkdir -p "$PREFIX/data"
if [ ! -f "$DB" ]; then
  if command -v lua5.4 >/dev/null 2>&1 && [ -f "$ROOT/lib/lua/5.4/inventory/core.so" ]; then
    LUA=lua5.4; VER=5.4
  else
    LUA=luajit; VER=5.1
  fi
  echo "run.sh: seeding $DB"
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/$VER/?.so;;" \
    "$LUA" "$HERE/seed.lua" "$DB.tmp"
  mv "$DB.tmp" "$DB"
fi

mkdir -p "$PREFIX/conf"
cp "$TOKENS" "$PREFIX/conf/tokens.json"      # read by the workers: keep it in the prefix
TOKENS=$PREFIX/conf/tokens.json
sh "$HERE/mkprefix.sh" "$PREFIX" "$PORT" "$WORKERS" "$DB" "$TOKENS" "$SWEEP_INTERVAL" "$PURGE_INTERVAL"
nginx -q -t -p "$PREFIX/" -c conf/nginx.conf

cat <<MSG
run.sh: inventory API on http://127.0.0.1:$PORT (logs: $PREFIX/logs/error.log). Try:
  curl -s -H 'Authorization: Bearer demo-a-admin' -d '{"query":{"page":{"limit":3}}}' http://127.0.0.1:$PORT/inventory/v1/job/list
  curl -s -H 'Authorization: Bearer demo-a-member' -d '{"status":"FAILURE"}' http://127.0.0.1:$PORT/inventory/v1/job-task/list
  curl -s -H 'Authorization: Bearer demo-b-admin' http://127.0.0.1:$PORT/spot-automation/v1/jobs
Ctrl-C stops nginx.
MSG
exec nginx -p "$PREFIX/" -c conf/nginx.conf

#!/bin/bash
# bench/events_bench.sh: 1,000 open event streams on ONE nginx worker
# (bench/events_bench.mjs measures). Seeds a demo database, starts nginx
# (1 worker, max_streams 2000) on a free port, stops it at the end.
#   bash bench/events_bench.sh            STREAMS=1000 IDLE_SECONDS=20 WRITES=20
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
WORK=$(mktemp -d /tmp/inventory-events-bench.XXXXXX)
chmod 755 "$WORK"
P=$WORK/prefix
NPID=""
trap '[ -n "$NPID" ] && kill -QUIT $NPID 2>/dev/null; sleep 0.5; rm -rf "$WORK"' EXIT
mkdir -p "$P/data"
export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/5.4/?.so;;"
lua5.4 examples/nginx/seed.lua "$P/data/inventory.db" >/dev/null || exit 1
cp examples/nginx/tokens.json "$P/data/tokens.json"
PORT=$(( 20000 + RANDOM % 30000 ))
sh examples/nginx/mkprefix.sh "$P" "$PORT" 1 "$P/data/inventory.db" "$P/data/tokens.json" 0 0
sed -i 's/events = { max_streams = [0-9]*,/events = { max_streams = 2000,/' "$P/conf/nginx.conf"
env -u LUA_PATH -u LUA_CPATH nginx -p "$P/" -c conf/nginx.conf &
NPID=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
WPID=$(ps -o pid= --ppid "$NPID" | head -n 1 | tr -d ' ')
OWNER=""; [ "$(id -u)" -eq 0 ] && OWNER=nobody
BASE="http://127.0.0.1:$PORT" WORKER_PID=$WPID DB="$P/data/inventory.db" ROOT="$ROOT" WORK="$WORK" \
  node bench/events_bench.mjs

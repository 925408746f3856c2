#!/bin/bash
# bench/rest_bench.sh: the REST path under load, against its limits.
#
#   bash bench/rest_bench.sh PHASES NAME SUMMARY      (bench/run.sh runs it)
#
# NAME: the data set of bench/run.sh (bench/out/data/NAME-inv.db, inventory's
# file, and NAME-hand.db, the hand-written one: the same rows). One nginx with
# 2 workers (the shipped examples/nginx/nginx.conf, rendered by
# examples/nginx/mkprefix.sh) on 127.0.0.1 and a free port serves, in the
# same run:
#   POST /inventory/v1/job-task/list          inventory's REST path (20 newest tasks of one job)
#   POST /bench/limit/job-task/list           the same answer by the hand-written handler
#                                             (bench/rest_limit.lua over bench/limit.c, LuaJIT)
#   GET  /static.json                         inventory's answer bytes as a static file
#   POST /bench/layer                         inventory's REST layer over a store stub
#   POST /bench/floor                         the same layer over SQLite's part of the call only
# PHASES:
#   full|mid  wrk -t2 -c32 --latency, DURATION (default 5s) after a 1 s warm-up, on:
#             static, inventory uncached (Cache-Control: no-cache), the hand-written
#             handler, inventory with its result cache, the layer over the stub,
#             the layer over SQLite's part of the call (the floor)
#   quick     1 s each, no warm-up, static / uncached / hand-written only (CI: seconds)
#   rss       RSS_SECONDS (default 60) of mixed load (wrk: job get, a job's task
#             list, a job's task stat, analyze of the domain, rotating over 400
#             jobs; the result cache on, as shipped), then each worker's VmRSS
# SUMMARY: "key value" lines (req/s, p50, p99 per path; rss_*), read by bench/run.lua.
# Stops nginx on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PHASES=${1:?phases}
NAME=${2:?data set name}
SUMMARY=${3:?summary file}
case $PHASES in quick) DURATION=${DURATION:-1s} ;; *) DURATION=${DURATION:-5s} ;; esac
RSS_SECONDS=${RSS_SECONDS:-${BENCH_RSS_SECONDS:-60}}
DATA=$ROOT/bench/out/data
INVDB=$DATA/$NAME-inv.db
HANDDB=$DATA/$NAME-hand.db
OUT=$ROOT/bench/out/rest-$NAME
PREFIX=$OUT/prefix
TOKENS=$PREFIX/conf/tokens.json
NPID=""

for bin in nginx wrk curl sqlite3; do
  command -v $bin >/dev/null 2>&1 || { echo "rest_bench: $bin is missing (make deps)"; exit 1; }
done
[ -f "$INVDB" ] && [ -f "$HANDDB" ] || { echo "rest_bench: no data set $NAME (bench/run.sh makes it)"; exit 1; }
[ -f build/bench/5.1/limit.so ] || { echo "rest_bench: build/bench/5.1/limit.so is missing (make bench)"; exit 1; }

alive() { local a b st; { read -r a b st _ < "/proc/$1/stat"; } 2>/dev/null && [ "$st" != Z ]; }
cleanup() {
  [ -n "$NPID" ] || return 0
  if alive "$NPID"; then
    kill -QUIT "$NPID" 2>/dev/null
    for _ in $(seq 1 50); do alive "$NPID" || break; sleep 0.1; done
    alive "$NPID" && kill -TERM "$NPID" 2>/dev/null
  fi
  wait "$NPID" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Started as root, nginx's workers run as nobody: a checkout nobody cannot
# enter (a clone in a mktemp -d directory) gets the prefix and copies of the
# two SQLite files in /tmp instead, removed on exit
if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -x "$ROOT/bench/out" 2>/dev/null; then
  OUT=$(mktemp -d /tmp/inventory-rest.XXXXXX) || exit 1
  PREFIX=$OUT/prefix
  TOKENS=$PREFIX/conf/tokens.json
  trap 'cleanup; rm -rf "$OUT"' EXIT
  mkdir -p "$OUT/data"
  cp "$INVDB" "$OUT/data/inv.db" && cp "$HANDDB" "$OUT/data/hand.db" || exit 1
  INVDB=$OUT/data/inv.db
  HANDDB=$OUT/data/hand.db
else
  rm -rf "$OUT"
fi
mkdir -p "$PREFIX/conf" "$PREFIX/bench"
chmod 755 "$ROOT/bench/out" "$OUT"
# no -wal/-shm left by a root process: the workers (nobody) must create them
rm -f "$INVDB-wal" "$INVDB-shm" "$HANDDB-wal" "$HANDDB-shm"

# a job in the middle of the regular data, and its domain (the caller's)
read -r JOB_ID DOMAIN < <(sqlite3 -separator ' ' "$HANDDB" \
  "SELECT job_id, domain_id FROM job WHERE id = (SELECT CAST(value AS INTEGER) / 2 FROM bench_meta WHERE key = 'jobs')")
[ -n "${DOMAIN:-}" ] || { echo "rest_bench: no job in $HANDDB"; exit 1; }
printf '{"bench": {"domain_id": "%s", "role": "DOMAIN_ADMIN"}}\n' "$DOMAIN" > "$TOKENS"
cp bench/rest_limit.lua build/bench/5.1/limit.so "$PREFIX/bench/"
chmod -R a+rX "$PREFIX/bench" "$PREFIX/conf"

# nginx: 2 workers, a free port; the extra locations beside the API
started=""
for attempt in 1 2 3 4 5 6; do
  PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
  sh examples/nginx/mkprefix.sh "$PREFIX" "$PORT" 2 "$INVDB" "$TOKENS" 0 0 >/dev/null || exit 1
  cat > "$PREFIX/conf/extra.d/bench.conf" <<NGX
location = /static.json { default_type application/json; }

# the REST limit: a hand-written handler on the hand-written schema
location = /bench/limit/job-task/list {
    content_by_lua_block {
        local h = package.loaded.bench_rest_limit
        if not h then
            h = dofile("$PREFIX/bench/rest_limit.lua")
            h.init("$PREFIX/bench/limit.so", "$HANDDB", "$TOKENS")
            package.loaded.bench_rest_limit = h
        end
        h.handle()
    }
}

# /bench/layer, the REST layer alone: the same glue as inventory.ngx.handle() (body, headers,
# inventory.rest, token resolver, response headers) over a store stub that
# returns the precomputed answer, to separate the layer's cost from the core's
# /bench/floor, the floor of the uncached path: the same layer over a store that runs only
# SQLite's part of inventory's call (its two statements on inventory's file:
# the page's rows, every column read once, then the count, in one snapshot;
# bench/limit.c's floor()) and returns the precomputed answer: inventory
# with a planner and a JSON writer that cost nothing
location ~ ^/bench/(layer|floor)$ {
    content_by_lua_block {
        local which = ngx.var[1]
        local cache = package.loaded["inventory.bench_" .. which]
        if not cache then
            local rest = require "inventory.rest"
            local f = assert(io.open(ngx.config.prefix() .. "html/static.json", "rb"))
            local answer = f:read("*a")
            f:close()
            local store = { call = function() return answer end }
            if which == "floor" then
                local limit = assert(package.loadlib("$PREFIX/bench/limit.so", "luaopen_limit"))()
                local db = assert(limit.open("$INVDB"))
                local rows = "SELECT t.* FROM job_task AS t WHERE ((t.job_id = ?1 AND t.domain_id = ?2)) AND (1) "
                  .. "ORDER BY t.created_at DESC, t.id LIMIT ?3 OFFSET ?4"
                local count = "SELECT count(*) FROM job_task AS t WHERE ((t.job_id = ?1 AND t.domain_id = ?2)) AND (1)"
                store.call = function(_, resource, method, req)
                  local n, total = limit.floor(db, rows, count, req.job_id, req.domain_id, 20, 0)
                  if n ~= 20 or total ~= 100 then return nil, "floor: " .. n .. " rows of " .. total, "ERROR_UNKNOWN" end
                  return answer
                end
            end
            cache = { h = rest.new{ store = store, resolver = rest.token_file_resolver("$TOKENS") } }
            package.loaded["inventory.bench_" .. which] = cache
        end
        ngx.req.read_body()
        local status, text, headers = cache.h:handle(ngx.req.get_method(), "/inventory/v1/job-task/list",
                                                     ngx.req.get_body_data(), ngx.req.get_headers())
        ngx.status = status
        ngx.header["Content-Type"] = "application/json"
        ngx.header["Content-Length"] = #text
        for k, v in pairs(headers) do ngx.header[k] = v end
        ngx.print(text)
    }
}
NGX
  env -u LUA_PATH -u LUA_CPATH nginx -p "$PREFIX/" -c conf/nginx.conf >"$OUT/nginx.out" 2>&1 &
  NPID=$!
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && { started=1; break; }
    alive "$NPID" || break
    sleep 0.1
  done
  [ -n "$started" ] && break
  cleanup; NPID=""
done
[ -n "$started" ] || { tail -n 20 "$PREFIX/logs/error.log"; echo "rest_bench: nginx did not start"; exit 1; }
URL=http://127.0.0.1:$PORT
AUTH="Authorization: Bearer bench"

rss() {   # the workers' VmRSS in kB, "pid:kB ..."
  local out="" p
  for p in $(ps -o pid= --ppid "$NPID"); do
    out="$out $p:$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)"
  done
  echo "${out# }"
}
maxkb() { echo "$1" | tr ' ' '\n' | awk -F: '$2 > m { m = $2 } END { print m + 0 }'; }

{
  echo "setup nginx 1.22 (Debian), 2 workers, wrk -t2 -c32 on the same 2 cores, $(sqlite3 "$HANDDB" \
    "SELECT value FROM bench_meta WHERE key = 'tasks'") tasks, the 20 newest of one job's 100 tasks"
} > "$SUMMARY"

if [ "$PHASES" = rss ]; then
  # 400 jobs of the caller's domain, four requests each, in a rotation
  sqlite3 "$HANDDB" "SELECT job_id FROM job WHERE domain_id = '$DOMAIN' ORDER BY id DESC LIMIT 400" > "$OUT/jobs.txt"
  cat > "$OUT/mixed.lua" <<LUA
local reqs, i = {}, 0
-- built in init: wrk.host (the Host header) is known only then
init = function()
local h = { ["Host"] = wrk.host .. ":" .. wrk.port, ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer bench" }
for id in io.lines("$OUT/jobs.txt") do
  reqs[#reqs + 1] = wrk.format("POST", "/inventory/v1/job/get", h, '{"job_id":"' .. id .. '"}')
  reqs[#reqs + 1] = wrk.format("POST", "/inventory/v1/job-task/list", h,
    '{"job_id":"' .. id .. '","query":{"page":{"limit":20}}}')
  reqs[#reqs + 1] = wrk.format("POST", "/inventory/v1/job-task/stat", h,
    '{"query":{"filter":[{"k":"job_id","v":"' .. id .. '","o":"eq"}],"aggregate":[{"group":{"keys":[{"key":"status","name":"status"}],"fields":[{"operator":"count","name":"count"}]}}]}}')
  reqs[#reqs + 1] = wrk.format("POST", "/inventory/v1/job/analyze", h,
    '{"query":{"group_by":["collector_id"],"fields":{"jobs":{"operator":"count"},"success":{"operator":"sum","key":"success_tasks"}}}}')
end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA
  curl -s -o /dev/null -H "$AUTH" --data-binary "{\"job_id\":\"$JOB_ID\"}" "$URL/inventory/v1/job/get"
  R0=$(rss)
  wrk -t2 -c32 -d"${RSS_SECONDS}s" --latency -s "$OUT/mixed.lua" "$URL" > "$OUT/wrk-mixed.txt" 2>&1
  R1=$(rss)
  if grep -q 'Non-2xx' "$OUT/wrk-mixed.txt"; then
    echo "rest_bench: non-2xx answers in the mixed load:"; cat "$OUT/wrk-mixed.txt"; exit 1
  fi
  cat "$OUT/wrk-mixed.txt"
  {
    echo "rss_seconds $RSS_SECONDS"
    echo "rss_start_kb $(maxkb "$R0")"
    echo "rss_end_kb $(maxkb "$R1")"
    echo "rss_workers $R0 -> $R1"
    echo "mixed_rps $(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk-mixed.txt")"
  } >> "$SUMMARY"
  echo "rest_bench: worker RSS (kB) before $R0, after ${RSS_SECONDS} s of mixed load $R1"
  exit 0
fi

# the answers: inventory's, kept as the static file; the hand-written one
BODY="{\"job_id\":\"$JOB_ID\",\"query\":{\"sort\":[{\"key\":\"created_at\",\"desc\":true}],\"page\":{\"limit\":20}}}"
curl -s -o "$PREFIX/html/static.json" -H "$AUTH" --data-binary "$BODY" "$URL/inventory/v1/job-task/list"
curl -s -o "$OUT/limit.json" -H "$AUTH" --data-binary "$BODY" "$URL/bench/limit/job-task/list"
SIZE=$(wc -c < "$PREFIX/html/static.json")
LSIZE=$(wc -c < "$OUT/limit.json")
for f in "$PREFIX/html/static.json" "$OUT/limit.json"; do
  COUNT=$(grep -o '"job_task_id"' "$f" | wc -l)
  TOTAL=$(grep -o '"total_count":[0-9]*' "$f")
  [ "$COUNT" -eq 20 ] && [ "$TOTAL" = '"total_count":100' ] || {
    echo "rest_bench: expected 20 tasks of 100 in $f, got $COUNT, $TOTAL:"; head -c 300 "$f"; exit 1; }
done
# the same tasks in the same order
cmp -s <(grep -o '"job_task_id":"[^"]*"' "$PREFIX/html/static.json") <(grep -o '"job_task_id":"[^"]*"' "$OUT/limit.json") \
  || { echo "rest_bench: the hand-written handler returns other tasks"; exit 1; }
cmp -s "$PREFIX/html/static.json" <(curl -s "$URL/static.json") || { echo "rest_bench: static file differs"; exit 1; }
cmp -s "$PREFIX/html/static.json" <(curl -s -H "$AUTH" --data-binary "$BODY" "$URL/bench/floor") \
  || { echo "rest_bench: the floor handler failed:"; curl -s -H "$AUTH" --data-binary "$BODY" "$URL/bench/floor" | head -c 300; exit 1; }
echo "rest_bench: job $JOB_ID, 20 tasks of 100: inventory $SIZE bytes, hand-written $LSIZE bytes"
echo "sizes inventory $SIZE B, hand-written $LSIZE B" >> "$SUMMARY"

script() {   # name, extra header
  { echo 'wrk.method = "POST"'
    echo "wrk.body = '$BODY'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo 'wrk.headers["Authorization"] = "Bearer bench"'
    [ -n "${2:-}" ] && echo "wrk.headers[\"${2%%:*}\"] = \"${2#*: }\""
  } > "$OUT/$1.lua"
}
script post
script nocache "Cache-Control: no-cache"

# wrk's --latency percentiles, in microseconds
us() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000; printf "%.0f", n }'; }
# CPU time (clock ticks, user and system) of the workers, from /proc/PID/stat
workers_cpu() {
  local p u=0 s=0 a b
  for p in $(ps -o pid= --ppid "$NPID"); do
    read -r a b < <(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12, $13 }')
    u=$((u + a)) s=$((s + b))
  done
  echo "$u $s"
}
TCK=$(getconf CLK_TCK)
run_wrk() {   # name, wrk args...
  local name=$1; shift
  local c0 c1 n t
  [ "$PHASES" = quick ] || wrk -t2 -c32 -d1s "$@" >/dev/null 2>&1          # warm-up
  c0=$(workers_cpu)
  t=$( { TIMEFORMAT='%3U %3S'; time wrk -t2 -c32 -d"$DURATION" --latency "$@" > "$OUT/wrk-$name.txt" 2>&1; } 2>&1 )
  c1=$(workers_cpu)
  grep -q 'Non-2xx' "$OUT/wrk-$name.txt" && echo "rest_bench: WARNING: non-2xx answers on $name"
  grep -E 'Latency |Requests/sec| 50%| 99%|Non-2xx|Socket errors' "$OUT/wrk-$name.txt" | sed "s/^/  $name: /"
  n=$(awk '/requests in/ { print $1 }' "$OUT/wrk-$name.txt")
  {
    echo "${name}_rps $(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk-$name.txt")"
    echo "${name}_p50 $(us "$(awk '$1 == "50%" { print $2 }' "$OUT/wrk-$name.txt")") us"
    echo "${name}_p99 $(us "$(awk '$1 == "99%" { print $2 }' "$OUT/wrk-$name.txt")") us"
    # CPU per request, in microseconds: the nginx workers (user, system), wrk (user + system)
    echo "$c0 $c1 $t $n" | awk -v k="$TCK" -v name="$name" '{ n = $7; if (n <= 0) n = 1;
      printf "%s_cpu workers %.1f us (user %.1f, sys %.1f), wrk %.1f us\n", name,
        (($3 - $1) + ($4 - $2)) / k * 1e6 / n, ($3 - $1) / k * 1e6 / n, ($4 - $2) / k * 1e6 / n,
        ($5 + $6) * 1e6 / n }'
  } >> "$SUMMARY"
}

run_wrk static "$URL/static.json"
run_wrk uncached -s "$OUT/nocache.lua" "$URL/inventory/v1/job-task/list"
run_wrk limit -s "$OUT/post.lua" "$URL/bench/limit/job-task/list"
if [ "$PHASES" != quick ]; then
  run_wrk cached -s "$OUT/post.lua" "$URL/inventory/v1/job-task/list"
  run_wrk layer -s "$OUT/post.lua" "$URL/bench/layer"
  run_wrk floor -s "$OUT/post.lua" "$URL/bench/floor"
fi
cat "$SUMMARY"

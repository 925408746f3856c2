#!/bin/bash
# bench/profile_rest.sh: where an uncached REST request's time goes inside an
# nginx worker, beyond the store call itself (issue 10, item 4).
#
#   bash bench/profile_rest.sh [NAME] [N1] [N2]      (NAME: a data set of bench/run.sh, default mid)
#
# perf's hardware counters are not available on this machine (`perf stat -e
# instructions true` says "not supported"), so this counts instructions with
# valgrind --tool=callgrind:
#   1. nginx (the shipped config, rendered by examples/nginx/mkprefix.sh) with
#      master_process off: one process serves, under callgrind; N1 then N2
#      uncached requests (POST /inventory/v1/job-task/list, one job's 20
#      newest tasks, Cache-Control: no-cache, one keep-alive connection);
#      per request = (cost of the N2 run - cost of the N1 run) / (N2 - N1);
#   2. the same request through the REST layer alone in LuaJIT (no nginx),
#      and the bare store call (inv:call(..., true)), the same way.
# Writes bench/out/profile-rest/report.txt: instructions per request by
# component (inclusive), and the top functions (self) of the nginx run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
NAME=${1:-mid}
N1=${2:-300}
N2=${3:-1300}
DATA=$ROOT/bench/out/data
INVDB=$DATA/$NAME-inv.db
HANDDB=$DATA/$NAME-hand.db
OUT=$ROOT/bench/out/profile-rest
PREFIX=$OUT/prefix
TOKENS=$PREFIX/conf/tokens.json
VG="valgrind --tool=callgrind --smc-check=all-non-file --dump-instr=no"
NPID=""

[ -f "$INVDB" ] || { echo "profile_rest: no data set $NAME (bench/run.sh $NAME makes it)"; exit 1; }
alive() { local a b st; { read -r a b st _ < "/proc/$1/stat"; } 2>/dev/null && [ "$st" != Z ]; }
stop() {
  [ -n "$NPID" ] || return 0
  if alive "$NPID"; then
    kill -QUIT "$NPID" 2>/dev/null
    for _ in $(seq 1 300); do alive "$NPID" || break; sleep 0.1; done
    alive "$NPID" && kill -TERM "$NPID" 2>/dev/null
  fi
  wait "$NPID" 2>/dev/null
  NPID=""
}
trap stop EXIT
trap 'exit 130' INT TERM

rm -rf "$OUT"
mkdir -p "$PREFIX/conf"
chmod 755 "$ROOT/bench/out" "$OUT"
rm -f "$INVDB-wal" "$INVDB-shm"
read -r JOB_ID DOMAIN < <(sqlite3 -separator ' ' "$HANDDB" \
  "SELECT job_id, domain_id FROM job WHERE id = (SELECT CAST(value AS INTEGER) / 2 FROM bench_meta WHERE key = 'jobs')")
printf '{"bench": {"domain_id": "%s", "role": "DOMAIN_ADMIN"}}\n' "$DOMAIN" > "$TOKENS"
chmod 644 "$TOKENS"
BODY="{\"job_id\":\"$JOB_ID\",\"query\":{\"sort\":[{\"key\":\"created_at\",\"desc\":true}],\"page\":{\"limit\":20}}}"
printf '%s' "$BODY" > "$OUT/body.json"

PORT=""
for _ in 1 2 3 4 5 6; do
  p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { PORT=$p; break; }
done
[ -n "$PORT" ] || { echo "profile_rest: no free port"; exit 1; }
sh examples/nginx/mkprefix.sh "$PREFIX" "$PORT" 1 "$INVDB" "$TOKENS" 0 0 >/dev/null || exit 1
sed -i 's/^master_process on;/master_process off;/' "$PREFIX/conf/nginx.conf"
URL=http://127.0.0.1:$PORT/inventory/v1/job-task/list

# one nginx run under callgrind serving N uncached requests (after 20 warm-up ones)
nginx_run() {   # N
  local n=$1 i args=()
  env -u LUA_PATH -u LUA_CPATH $VG --callgrind-out-file="$OUT/nginx-$n.out" \
    nginx -p "$PREFIX/" -c conf/nginx.conf > "$OUT/nginx-$n.log" 2>&1 &
  NPID=$!
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    alive "$NPID" || { cat "$OUT/nginx-$n.log"; exit 1; }
    sleep 0.1
  done
  curl -s -H "Authorization: Bearer bench" -H "Cache-Control: no-cache" --data-binary @"$OUT/body.json" "$URL" \
    | grep -q '"job_task_id"' || { echo "profile_rest: no tasks in the answer"; tail "$PREFIX/logs/error.log"; exit 1; }
  for ((i = 0; i < n + 20; i++)); do args+=("$URL"); done
  curl -s -o /dev/null -H "Authorization: Bearer bench" -H "Content-Type: application/json" \
    -H "Cache-Control: no-cache" --data-binary @"$OUT/body.json" "${args[@]}"
  stop
}
nginx_run "$N1"
nginx_run "$N2"

# the REST layer without nginx, and the bare store call, in LuaJIT
cat > "$OUT/standalone.lua" <<LUA
local mode, n = arg[1], tonumber(arg[2])
local inventory = require "inventory"
local rest = require "inventory.rest"
local inv = assert(inventory.open{ path = "$INVDB" })
local body = io.open("$OUT/body.json"):read("*a")
local h = rest.new{ store = inv, resolver = rest.token_file_resolver("$TOKENS") }
local headers = { authorization = "Bearer bench", ["content-type"] = "application/json", ["cache-control"] = "no-cache" }
local req = require("cjson").decode(body)
req.domain_id = "$DOMAIN"
local out
for i = 1, n + 20 do
  if mode == "rest" then
    local st, text = h:handle("POST", "/inventory/v1/job-task/list", body, headers)
    out = text
  else
    out = assert(inv:call("job_task", "list", req, true))
  end
end
assert(out:find('"job_task_id"', 1, true))
LUA
for mode in rest store; do
  for n in $N1 $N2; do
    env LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/5.1/?.so;;" \
      $VG --callgrind-out-file="$OUT/$mode-$n.out" luajit "$OUT/standalone.lua" "$mode" "$n" > "$OUT/$mode-$n.log" 2>&1 \
      || { cat "$OUT/$mode-$n.log"; exit 1; }
  done
done

# under load, as bench/rest_bench.sh measures it: 2 workers, wrk -t2 -c32 on
# the same 2 cores; perf samples the workers' time (cpu-clock, a software
# event: user and kernel), strace counts their system calls per request
sed -i 's/^master_process off;/master_process on;/; s/^worker_processes 1;/worker_processes 2;/' "$PREFIX/conf/nginx.conf"
env -u LUA_PATH -u LUA_CPATH nginx -p "$PREFIX/" -c conf/nginx.conf > "$OUT/nginx-load.log" 2>&1 &
NPID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
WPIDS=$(ps -o pid= --ppid "$NPID" | paste -sd, | tr -d ' ')
{ echo 'wrk.method = "POST"'; echo "wrk.body = '$BODY'"
  echo 'wrk.headers["Content-Type"] = "application/json"'; echo 'wrk.headers["Authorization"] = "Bearer bench"'
  echo 'wrk.headers["Cache-Control"] = "no-cache"'; } > "$OUT/nocache.lua"
wrk -t2 -c32 -d1s -s "$OUT/nocache.lua" "$URL" > /dev/null 2>&1
if perf record -e cpu-clock -F 2000 -p "$WPIDS" -o "$OUT/perf.data" -- sleep 5 > "$OUT/perf.log" 2>&1 &
then
  PERF=$!
  sleep 0.2
  wrk -t2 -c32 -d4s -s "$OUT/nocache.lua" "$URL" > "$OUT/wrk-perf.txt" 2>&1
  wait "$PERF"
  perf report -i "$OUT/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9]' > "$OUT/perf-dso.txt"
  perf report -i "$OUT/perf.data" --stdio --sort dso,sym 2>/dev/null | grep -E '^ +[0-9]' | head -40 > "$OUT/perf-sym.txt"
fi
# system calls of one worker for 2,000 requests on one connection
SPIDS=()
for p in $(ps -o pid= --ppid "$NPID"); do SPIDS+=(-p "$p"); done
args=()
for ((i = 0; i < 2000; i++)); do args+=("$URL"); done
strace -c -f "${SPIDS[@]}" -o "$OUT/strace.txt" &
ST=$!
sleep 0.5
curl -s -o /dev/null -H "Authorization: Bearer bench" -H "Content-Type: application/json" \
  -H "Cache-Control: no-cache" --data-binary @"$OUT/body.json" "${args[@]}"
sleep 0.2
kill -INT "$ST" 2>/dev/null; wait "$ST" 2>/dev/null
stop

# the standalone wall time of the store call and of the REST layer (LuaJIT, no valgrind)
cat > "$OUT/timing.lua" <<LUA
package.cpath = "$ROOT/build/bench/5.1/?.so;" .. package.cpath
local now = require("limit").now
local inventory = require "inventory"
local rest = require "inventory.rest"
local inv = assert(inventory.open{ path = "$INVDB" })
local body = io.open("$OUT/body.json"):read("*a")
local h = rest.new{ store = inv, resolver = rest.token_file_resolver("$TOKENS") }
local headers = { authorization = "Bearer bench", ["content-type"] = "application/json", ["cache-control"] = "no-cache" }
local req = require("cjson").decode(body)
req.domain_id = "$DOMAIN"
local function t(name, f)
  for i = 1, 2000 do f() end
  local s = {}
  for r = 1, 15 do
    local t0 = now()
    for i = 1, 1000 do f() end
    s[r] = (now() - t0) / 1000 / 1e3
  end
  table.sort(s)
  print(string.format("%s %.1f us", name, s[8]))
end
t("store_call", function() return inv:call("job_task", "list", req, true) end)
t("rest_layer", function() return h:handle("POST", "/inventory/v1/job-task/list", body, headers) end)
LUA
env LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/5.1/?.so;;" \
  luajit "$OUT/timing.lua" > "$OUT/timing.txt" 2>&1

# per request: differences of inclusive and self costs
tsv() {   # file inclusive(yes|no)
  callgrind_annotate --tree=none --inclusive="$2" --threshold=100 "$1" 2>/dev/null | \
    perl -ne 'if (/^\s*([\d,]+) \([^)]*\)\s+(\S.*?)(?: \[(.*)\])?$/) { my ($v,$f,$o)=($1,$2,$3||""); $v =~ s/,//g;
      next if $f =~ /^=>/; $o =~ s{.*/}{}; print "$v\t$f [$o]\n" }'
}
per() {   # prefix inclusive
  tsv "$OUT/$1-$N1.out" "$2" > "$OUT/$1-$N1.$2.tsv"
  tsv "$OUT/$1-$N2.out" "$2" > "$OUT/$1-$N2.$2.tsv"
  awk -F'\t' -v k=$((N2 - N1)) 'NR == FNR { a[$2] = $1; next } { d = ($1 - a[$2]) / k; if (d >= 100) printf "%9.0f  %s\n", d, $2 }' \
    "$OUT/$1-$N1.$2.tsv" "$OUT/$1-$N2.$2.tsv" | sort -rn | awk '!seen[$2 $3]++'
}
{
  echo "instructions per uncached request (callgrind; (N$N2 - N$N1) / $((N2 - N1)) requests), data set $NAME"
  for m in nginx rest store; do
    echo; echo "== $m: inclusive"
    per "$m" yes | grep -E 'PROGRAM TOTALS|ngx_http_lua_content_handler|ngx_http_process_request|ngx_http_read_request|ngx_http_finalize|ngx_http_send_header|ngx_http_write_filter|ngx_http_lua_|l_call|inv_call|inv_m_list|inv_render_row|sqlite3_step|json_decode|json_encode|lj_vm_|lj_gc_|lj_str_new|lj_tab_|lj_BC|lj_meta|lj_trace|ngx_writev|ngx_linux_sendfile|ngx_readv|recv|writev|epoll|ngx_palloc|ngx_pnalloc|ngx_event|ngx_process_events' | head -60
    echo; echo "== $m: self, top 30"
    per "$m" no | head -31
  done
  echo
  echo "== wall time, standalone in LuaJIT (median of 15 x 1,000 calls)"
  cat "$OUT/timing.txt"
  echo
  echo "== under load (2 workers, wrk -t2 -c32 -d4s uncached, on the same 2 cores): $(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk-perf.txt") req/s"
  echo "perf cpu-clock samples of the workers, by object:"
  cat "$OUT/perf-dso.txt" 2>/dev/null || echo "(perf failed: $OUT/perf.log)"
  echo "top symbols:"
  head -25 "$OUT/perf-sym.txt" 2>/dev/null
  echo
  echo "== system calls of the workers, 2,000 uncached requests on one keep-alive connection"
  grep -E '^ *[0-9]|calls|total' "$OUT/strace.txt" | head -20
} > "$OUT/report.txt"
cat "$OUT/report.txt"

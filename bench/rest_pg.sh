#!/bin/bash
# bench/rest_pg.sh: inventory's REST list on PostgreSQL (through nginx's
# thread pool) and on SQLite, side by side, in one run.
#
#   bash bench/rest_pg.sh MODE NAME URL PGDIR SUMMARY      (bench/run.sh runs it)
#
# Two nginx instances of the shipped examples/nginx/nginx.conf (rendered by
# examples/nginx/mkprefix.sh), 2 workers each, on 127.0.0.1 and free ports:
#   sqlite   init_worker{ db = bench/out/data/NAME-inv.db }
#   pg       init_worker{ url = URL, schema = "inventory" }: every call on the
#            thread pool (4 threads a worker, each with its own connection)
# Both serve POST /inventory/v1/job-task/list for the same job (20 newest of
# its 100 tasks); the answers must be the same bytes. wrk -t2 -c32 --latency,
# DURATION (5 s; quick: 1 s, no warm-up) after a 1 s warm-up, alternately:
# sqlite uncached (Cache-Control: no-cache), pg uncached, sqlite cached, pg
# cached. CPU per request: the nginx workers' (user + sys), wrk's, and for
# PostgreSQL its server processes' (children of the postmaster of PGDIR).
# SUMMARY: "key value" lines read by bench/run.lua --backend pg.
# Stops both nginx on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
MODE=${1:?mode}
NAME=${2:?data set name}
URL=${3:?PostgreSQL URL}
PGDIR=${4:?PostgreSQL directory}
SUMMARY=${5:?summary file}
case $MODE in quick) DURATION=${DURATION:-1s} ;; *) DURATION=${DURATION:-5s} ;; esac
DATA=$ROOT/bench/out/data
INVDB=$DATA/$NAME-inv.db
HANDDB=$DATA/$NAME-hand.db
OUT=$ROOT/bench/out/rest-pg-$NAME
TOKENS=$OUT/tokens.json
PIDS=""

for bin in nginx wrk curl sqlite3; do
  command -v $bin >/dev/null 2>&1 || { echo "rest_pg: $bin is missing (make deps)"; exit 1; }
done
[ -f "$INVDB" ] && [ -f "$HANDDB" ] || { echo "rest_pg: no data set $NAME (bench/run.sh makes it)"; exit 1; }

alive() { local a b st; { read -r a b st _ < "/proc/$1/stat"; } 2>/dev/null && [ "$st" != Z ]; }
cleanup() {
  local p
  for p in $PIDS; do
    if alive "$p"; then
      kill -QUIT "$p" 2>/dev/null
      for _ in $(seq 1 50); do alive "$p" || break; sleep 0.1; done
      alive "$p" && kill -TERM "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
  done
  PIDS=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Started as root, nginx's workers run as nobody: a checkout nobody cannot
# enter (a clone in a mktemp -d directory) gets the prefixes and a copy of
# the SQLite file in /tmp instead, removed on exit
if [ "$(id -u)" -eq 0 ] && ! runuser -u nobody -- test -x "$ROOT/bench/out" 2>/dev/null; then
  OUT=$(mktemp -d /tmp/inventory-rest-pg.XXXXXX) || exit 1
  TOKENS=$OUT/tokens.json
  trap 'cleanup; rm -rf "$OUT"' EXIT
  mkdir -p "$OUT/data"
  cp "$INVDB" "$OUT/data/inv.db" || exit 1
  INVDB=$OUT/data/inv.db
else
  rm -rf "$OUT"
  mkdir -p "$OUT"
fi
chmod 755 "$ROOT/bench/out" "$OUT"
rm -f "$INVDB-wal" "$INVDB-shm"

read -r JOB_ID DOMAIN < <(sqlite3 -separator ' ' "$HANDDB" \
  "SELECT job_id, domain_id FROM job WHERE id = (SELECT CAST(value AS INTEGER) / 2 FROM bench_meta WHERE key = 'jobs')")
[ -n "${DOMAIN:-}" ] || { echo "rest_pg: no job in $HANDDB"; exit 1; }
printf '{"bench": {"domain_id": "%s", "role": "DOMAIN_ADMIN"}}\n' "$DOMAIN" > "$TOKENS"
chmod a+r "$TOKENS"

# start NAME DB: an nginx on a free port; sets PORT_<NAME>, NPID_<NAME>
start() {
  local name=$1 db=$2 prefix=$OUT/$1 port started="" pid attempt
  for attempt in 1 2 3 4 5 6; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    rm -rf "$prefix"
    SCHEMA=inventory sh examples/nginx/mkprefix.sh "$prefix" "$port" 2 "$db" "$TOKENS" 0 0 >/dev/null || exit 1
    env -u LUA_PATH -u LUA_CPATH nginx -p "$prefix/" -c conf/nginx.conf >"$OUT/nginx-$name.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
      curl -s -o /dev/null "http://127.0.0.1:$port/" && { started=1; break; }
      alive "$pid" || break
      sleep 0.1
    done
    if [ -n "$started" ]; then PIDS="$PIDS $pid"; break; fi
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  [ -n "$started" ] || { tail -n 20 "$prefix/logs/error.log"; echo "rest_pg: nginx ($name) did not start"; exit 1; }
  eval "PORT_$name=$port NPID_$name=$pid"
}
start sqlite "$INVDB"
start pg "$URL"

BODY="{\"job_id\":\"$JOB_ID\",\"query\":{\"sort\":[{\"key\":\"created_at\",\"desc\":true}],\"page\":{\"limit\":20}}}"
AUTH="Authorization: Bearer bench"
for b in sqlite pg; do
  eval "port=\$PORT_$b"
  curl -s -o "$OUT/answer-$b.json" -H "$AUTH" --data-binary "$BODY" "http://127.0.0.1:$port/inventory/v1/job-task/list"
  COUNT=$(grep -o '"job_task_id"' "$OUT/answer-$b.json" | wc -l)
  TOTAL=$(grep -o '"total_count":[0-9]*' "$OUT/answer-$b.json")
  [ "$COUNT" -eq 20 ] && [ "$TOTAL" = '"total_count":100' ] || {
    echo "rest_pg: expected 20 tasks of 100 from $b, got $COUNT, $TOTAL:"; head -c 300 "$OUT/answer-$b.json"; exit 1; }
done
cmp -s "$OUT/answer-sqlite.json" "$OUT/answer-pg.json" \
  || { echo "rest_pg: the two backends answer differently"; diff <(tr , '\n' < "$OUT/answer-sqlite.json") \
       <(tr , '\n' < "$OUT/answer-pg.json") | head; exit 1; }
SIZE=$(wc -c < "$OUT/answer-pg.json")
echo "rest_pg: job $JOB_ID, 20 tasks of 100, the same $SIZE bytes from both backends"

script() {   # name, extra header
  { echo 'wrk.method = "POST"'
    echo "wrk.body = '$BODY'"
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo 'wrk.headers["Authorization"] = "Bearer bench"'
    [ -n "${2:-}" ] && echo "wrk.headers[\"${2%%:*}\"] = \"${2#*: }\""
  } > "$OUT/$1.lua"
}
script cached
script uncached "Cache-Control: no-cache"

us() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000; printf "%.0f", n }'; }
# CPU ticks (user + sys) of the children of PID
kids_cpu() {
  local p t=0 a b
  for p in $(ps -o pid= --ppid "$1"); do
    read -r a b < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12, $13 }')
    t=$((t + ${a:-0} + ${b:-0}))
  done
  echo "$t"
}
PGPID=$(head -n 1 "$PGDIR/data/postmaster.pid" 2>/dev/null)
TCK=$(getconf CLK_TCK)

{
  echo "setup nginx (the shipped config), 2 workers each, wrk -t2 -c32 on the same 2 cores, $(sqlite3 "$HANDDB" \
    "SELECT value FROM bench_meta WHERE key = 'tasks'") tasks, the 20 newest of one job's 100 tasks ($SIZE bytes, the same from both); PostgreSQL: 4 pool threads a worker"
} > "$SUMMARY"

run_wrk() {   # backend, kind
  local b=$1 k=$2 port npid c0 c1 p0=0 p1=0 t n
  eval "port=\$PORT_$b npid=\$NPID_$b"
  [ "$MODE" = quick ] || wrk -t2 -c32 -d1s -s "$OUT/$k.lua" "http://127.0.0.1:$port/inventory/v1/job-task/list" >/dev/null 2>&1
  c0=$(kids_cpu "$npid")
  [ "$b" = pg ] && [ -n "$PGPID" ] && p0=$(kids_cpu "$PGPID")
  t=$( { TIMEFORMAT='%3U %3S'; time wrk -t2 -c32 -d"$DURATION" --latency -s "$OUT/$k.lua" \
         "http://127.0.0.1:$port/inventory/v1/job-task/list" > "$OUT/wrk-$b-$k.txt" 2>&1; } 2>&1 )
  c1=$(kids_cpu "$npid")
  [ "$b" = pg ] && [ -n "$PGPID" ] && p1=$(kids_cpu "$PGPID")
  grep -q 'Non-2xx' "$OUT/wrk-$b-$k.txt" && echo "rest_pg: WARNING: non-2xx answers on $b $k"
  grep -E 'Requests/sec| 50%| 99%|Non-2xx|Socket errors' "$OUT/wrk-$b-$k.txt" | sed "s/^/  $b $k: /"
  n=$(awk '/requests in/ { print $1 }' "$OUT/wrk-$b-$k.txt")
  {
    echo "${b}_${k}_rps $(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk-$b-$k.txt")"
    echo "${b}_${k}_p50 $(us "$(awk '$1 == "50%" { print $2 }' "$OUT/wrk-$b-$k.txt")") us"
    echo "${b}_${k}_p99 $(us "$(awk '$1 == "99%" { print $2 }' "$OUT/wrk-$b-$k.txt")") us"
    echo "$c0 $c1 $p0 $p1 $t $n" | awk -v k="$TCK" -v name="${b}_${k}" '{ n = $7; if (n <= 0) n = 1;
      printf "%s_cpu workers %.1f us, wrk %.1f us, PostgreSQL %.1f us\n", name,
        ($2 - $1) / k * 1e6 / n, ($5 + $6) * 1e6 / n, ($4 - $3) / k * 1e6 / n }'
  } >> "$SUMMARY"
}

for k in uncached cached; do
  for b in sqlite pg; do run_wrk "$b" "$k"; done
done
cat "$SUMMARY"

#!/bin/bash
# bench/rest_bench.sh: the REST path under load, against a static file.
#
#   bash bench/rest_bench.sh            (after make all; not part of make test)
#   TASKS=200000 DURATION=3s bash bench/rest_bench.sh
#
# Builds bench/out/rest/ (gitignored): a database of $TASKS job tasks (default
# 1,000,000: 50,000 jobs of 20 tasks over 2 domains) generated with one
# INSERT ... SELECT from a recursive CTE through the sqlite3 CLI after the
# store created the schema; then nginx with 2 workers (the shipped
# examples/nginx/nginx.conf) on 127.0.0.1 and a free port, and
#   wrk -t2 -c32 -d5s  POST /inventory/v1/job-task/list {"job_id": <one job>}   (its 20 tasks)
#   wrk -t2 -c32 -d5s  GET  /static.json  (the same response bytes, as a static file)
# Prints both req/s and REST/static. Stops nginx on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
TASKS=${TASKS:-1000000}
DURATION=${DURATION:-5s}
OUT=$ROOT/bench/out/rest
PREFIX=$OUT/prefix
DB=$PREFIX/data/bench.db
TOKENS=$PREFIX/data/tokens.json
DOMAIN=domain-0000bench0001
NPID=""

for bin in nginx wrk curl sqlite3 lua5.4; do
  command -v $bin >/dev/null 2>&1 || { echo "rest_bench: $bin is missing (make deps)"; exit 1; }
done
[ -f lib/lua/5.1/inventory/core.so ] && [ -f lib/lua/5.4/inventory/core.so ] || make -s all || exit 1

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

rm -rf "$OUT"
mkdir -p "$PREFIX/data"
[ "$(id -u)" -eq 0 ] && chmod 755 "$ROOT/bench/out" "$OUT"

# 1. the schema, by the store itself
LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/lib/lua/5.4/?.so;;" INVENTORY_DB="$DB" \
  lua5.4 -e 'local inv = assert(require("inventory").open()); inv:close()' || exit 1

# 2. the rows: one INSERT ... SELECT per table; the task indexes are dropped
# for the load and rebuilt (same definitions) afterwards, which is faster
NJOBS=$(( (TASKS + 19) / 20 ))
TARGET=$(( NJOBS / 2 ))
JOB_ID=$(printf 'job-%012x' "$TARGET")
t0=$(date +%s.%N)
IDX=$(sqlite3 "$DB" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_task' AND sql IS NOT NULL")
DROP=$(sqlite3 "$DB" "SELECT 'DROP INDEX ' || name || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_task' AND sql IS NOT NULL")
sqlite3 "$DB" <<SQL || exit 1
PRAGMA synchronous = OFF;
BEGIN;
$DROP
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $NJOBS)
INSERT INTO job (job_id, status, total_tasks, remained_tasks, success_tasks, failure_tasks,
                 resource_group, domain_id, workspace_id, collector_id, plugin_id,
                 created_at, updated_at, finished_at)
SELECT printf('job-%012x', i), 'SUCCESS', 20, 0, 20, 0, 'DOMAIN',
       CASE WHEN i % 2 = 0 THEN '$DOMAIN' ELSE 'domain-0000bench0002' END, '*',
       printf('collector-%012x', i % 16), 'plugin-aws-ec2-inven-collector',
       1704067200000 + i * 60000, 1704067200000 + i * 60000 + 30000, 1704067200000 + i * 60000 + 30000
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $TASKS - 1)
INSERT INTO job_task (job_task_id, status, provider, created_count, updated_count, job_id,
                      secret_id, collector_id, service_account_id, project_id, workspace_id,
                      domain_id, created_at, started_at, finished_at)
SELECT printf('job-task-%012x', i), CASE WHEN i % 17 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END, 'aws',
       i % 7, 100 + i % 900, printf('job-%012x', i / 20 + 1),
       printf('secret-%012x', i % 20), printf('collector-%012x', (i / 20 + 1) % 16),
       printf('sa-%012x', i % 20), printf('project-%012x', i % 20), printf('workspace-%06d', i % 20 % 4),
       CASE WHEN (i / 20 + 1) % 2 = 0 THEN '$DOMAIN' ELSE 'domain-0000bench0002' END,
       1704067200000 + (i / 20 + 1) * 60000 + i % 20, 1704067200000 + (i / 20 + 1) * 60000 + 1000 + i % 20,
       1704067200000 + (i / 20 + 1) * 60000 + 20000 + i % 20
FROM n;
$IDX
COMMIT;
ANALYZE;
SQL
t1=$(date +%s.%N)
ROWS=$(sqlite3 "$DB" "SELECT count(*) FROM job_task")
echo "rest_bench: $ROWS tasks, $NJOBS jobs generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

# the target job must be in the bench domain
[ $(( TARGET % 2 )) -eq 0 ] || { TARGET=$(( TARGET + 1 )); JOB_ID=$(printf 'job-%012x' "$TARGET"); }
printf '{"bench": {"domain_id": "%s", "role": "DOMAIN_ADMIN"}}\n' "$DOMAIN" > "$TOKENS"

# 3. nginx: 2 workers, a free port
started=""
for attempt in 1 2 3 4 5 6; do
  PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
  sh examples/nginx/mkprefix.sh "$PREFIX" "$PORT" 2 "$DB" "$TOKENS" 0 0 || exit 1
  printf 'location = /static.json { default_type application/json; }\n' > "$PREFIX/conf/extra.d/static.conf"
  # the REST layer alone: the same glue as inventory.ngx.handle() (body, headers,
  # inventory.rest, token resolver, response headers) over a store stub that
  # returns the precomputed answer, to separate the layer's cost from the core's
  cat > "$PREFIX/conf/extra.d/layer.conf" <<'NGX'
location = /bench/layer {
    content_by_lua_block {
        local cache = package.loaded["inventory.bench_layer"]
        if not cache then
            local rest = require "inventory.rest"
            local f = assert(io.open(ngx.config.prefix() .. "html/static.json", "rb"))
            local answer = f:read("*a")
            f:close()
            cache = { h = rest.new{ store = { call = function() return answer end },
                                   resolver = rest.token_file_resolver(ngx.config.prefix() .. "data/tokens.json") } }
            package.loaded["inventory.bench_layer"] = cache
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

# 4. the REST answer, and the same bytes as a static file
BODY="{\"job_id\":\"$JOB_ID\"}"
curl -s -o "$PREFIX/html/static.json" -H "Authorization: Bearer bench" --data-binary "$BODY" \
  "$URL/inventory/v1/job-task/list"
SIZE=$(wc -c < "$PREFIX/html/static.json")
COUNT=$(grep -o '"job_task_id"' "$PREFIX/html/static.json" | wc -l)
[ "$COUNT" -eq 20 ] || { echo "rest_bench: expected 20 tasks, got $COUNT:"; head -c 300 "$PREFIX/html/static.json"; exit 1; }
cmp -s "$PREFIX/html/static.json" <(curl -s "$URL/static.json") || { echo "rest_bench: static file differs"; exit 1; }
echo "rest_bench: job $JOB_ID, 20 tasks, $SIZE bytes per answer"

cat > "$OUT/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
LUA

cat > "$OUT/post-nocache.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
wrk.headers["Cache-Control"] = "no-cache"
LUA

run_wrk() {   # name, extra args...
  local name=$1; shift
  wrk -t2 -c32 -d1s "$@" >/dev/null 2>&1          # warm-up
  wrk -t2 -c32 -d"$DURATION" "$@" > "$OUT/wrk-$name.txt" 2>&1
  grep -E 'Latency|Requests/sec|Non-2xx|Socket errors' "$OUT/wrk-$name.txt" | sed "s/^/  $name: /" >&2
  awk '/Requests\/sec/ { print $2 }' "$OUT/wrk-$name.txt"
}

REST=$(run_wrk rest -s "$OUT/post.lua" "$URL/inventory/v1/job-task/list")
UNCACHED=$(run_wrk uncached -s "$OUT/post-nocache.lua" "$URL/inventory/v1/job-task/list")
STATIC=$(run_wrk static "$URL/static.json")
LAYER=$(run_wrk layer -s "$OUT/post.lua" "$URL/bench/layer")
for n in rest uncached layer; do
  grep -q 'Non-2xx' "$OUT/wrk-$n.txt" && echo "rest_bench: WARNING: non-2xx answers on /$n"
done

printf 'rest_bench: POST /inventory/v1/job-task/list  %10.0f req/s\n' "$REST"
printf 'rest_bench: GET  /static.json (%s bytes)   %10.0f req/s\n' "$SIZE" "$STATIC"
awk -v r="$REST" -v s="$STATIC" 'BEGIN { printf "rest_bench: REST / static = %.2f (target >= 0.5; the result cache answers)\n", r / s }'
printf 'rest_bench: POST, Cache-Control: no-cache     %10.0f req/s\n' "$UNCACHED"
awk -v r="$UNCACHED" -v s="$STATIC" 'BEGIN { printf "rest_bench: uncached REST / static = %.2f (every request runs the store)\n", r / s }'
printf 'rest_bench: (REST layer over a store stub    %10.0f req/s, %.2f x static)\n' "$LAYER" \
  "$(awk -v r="$LAYER" -v s="$STATIC" 'BEGIN { printf "%.2f", r / s }')"

#!/bin/sh
# bench/run.sh full|mid|quick: what `make bench` / `make bench-quick` run (mid: 100,000 tasks).
#
#   full:  10,000 jobs / 1,000,000 tasks (bench/out/full.db, kept between
#          runs and rebuilt when bench/gen.c changes); results in bench/RESULTS.md
#   quick: 200 jobs / 20,000 tasks, a few repetitions (seconds; CI keeps the
#          harness working with it, no time assertions); results in
#          bench/out/RESULTS-quick.md
#
# Writes (create, finish) run on a fresh copy of the data, bench/out/MODE-write.db.
# Environment: BENCH_CASES=get,list_job,... runs only those cases.
set -eu
cd "$(dirname "$0")/.."
MODE=${1:-quick}
case $MODE in
  full)  NJOBS=10000; NTASKS=1000000; OUT=bench/RESULTS.md ;;
  quick) NJOBS=200;   NTASKS=20000;   OUT=bench/out/RESULTS-quick.md ;;
  mid)   NJOBS=1000;  NTASKS=100000;  OUT=bench/out/RESULTS-mid.md ;;     # the 100k-task figures
  *) echo "usage: $0 full|mid|quick" >&2; exit 2 ;;
esac
mkdir -p bench/out
DB=bench/out/$MODE.db
WDB=bench/out/$MODE-write.db
STAMP=$DB.ok

# the data: generated once, again when the generator changed or a run was cut short
if [ ! -f "$DB" ] || [ ! -f "$STAMP" ] || [ build/bench/gen -nt "$STAMP" ] \
   || [ "$(cat "$STAMP")" != "$NJOBS $NTASKS" ]; then
  rm -f "$STAMP"
  start=$(date +%s)
  ./build/bench/gen "$DB" "$NJOBS" "$NTASKS"
  echo "bench: data generated in $(( $(date +%s) - start )) s"
  echo "$NJOBS $NTASKS" > "$STAMP"
fi
rm -f "$WDB" "$WDB-wal" "$WDB-shm"
cp "$DB" "$WDB"

# versioned variables: nothing leaks into LuaJIT or nginx
LUA_PATH_5_4="./lua/?.lua;./lua/?/init.lua;./bench/?.lua;;"
LUA_CPATH_5_4="./lib/lua/5.4/?.so;./build/bench/?.so;;"
export LUA_PATH_5_4 LUA_CPATH_5_4

# the REST row: bench/rest_bench.sh (examples/nginx's engineer owns it) when
# it is there; it builds its own data set (TASKS tasks) and nginx, runs wrk
# against the REST list and a static file of the same size, and prints req/s
REST=""
if [ -f bench/rest_bench.sh ] && command -v bash >/dev/null 2>&1; then
  REST=bench/out/rest-$MODE.log
  if [ "$MODE" = full ]; then RT=1000000; RD=5s; else RT=20000; RD=1s; fi
  echo "bench: REST through nginx (bench/rest_bench.sh, TASKS=$RT DURATION=$RD)"
  if ! TASKS=$RT DURATION=$RD bash bench/rest_bench.sh > "$REST" 2>&1; then
    echo "bench: bench/rest_bench.sh failed (see $REST); the REST row is marked not measured" >&2
  fi
fi

set -- --mode "$MODE" --db "$DB" --wdb "$WDB" --out "$OUT"
[ -n "${BENCH_CASES:-}" ] && set -- "$@" --cases "$BENCH_CASES"
[ -n "$REST" ] && set -- "$@" --rest "$REST"
lua5.4 bench/run.lua "$@"
rm -f "$WDB" "$WDB-wal" "$WDB-shm" bench/out/finish-*.txt

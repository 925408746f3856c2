#!/bin/sh
# bench/run.sh full|mid|quick|scale: what `make bench` / `make bench-quick` /
# `make bench-scale` run.
#
#   full:  10,000 jobs / 1,000,000 tasks in 10 domains, plus a domain of 100
#          jobs and one of 10,000 (analyze); results in bench/RESULTS.md
#   mid:   1,000 jobs / 100,000 tasks (the same cases), bench/out/RESULTS-mid.md
#   quick: 200 jobs / 20,000 tasks, a few repetitions (seconds; CI keeps the
#          harness working with it, no time assertions); bench/out/RESULTS-quick.md
#   scale: list, stat and finish at 10k, 100k, 1M and 10M tasks (BENCH_SCALE_10M=0:
#          without 10M), an nginx worker's RSS after BENCH_RSS_SECONDS (default
#          60) of mixed load at each size; the "Scale" section of bench/RESULTS.md.
#          The first run generates the 10M files (about 13 minutes, 10 GB kept
#          in bench/out/data, 14 GB more for the write copies while it runs):
#          about 19 minutes in all; later runs about 7
#
# The data (bench/gen.c): bench/out/data/NAME-inv.db (inventory's file, loaded
# through its import) and NAME-hand.db (bench/schema.sql, plain INSERTs), the
# same rows; kept between runs, made again when the generator, the core or
# the schema changed. Writes run on fresh copies (NAME-*-write.db).
# Environment: BENCH_CASES=get,list_job,... runs only those cases;
# BENCH_REST=0 skips the REST part; BENCH_PG=0 skips PostgreSQL, BENCH_SQLITE=0
# SQLite (its data is made all the same: the PostgreSQL part reads its
# parameters from it).
#
# PostgreSQL (full, mid, quick): one throwaway server for the run
# (scripts/pg.sh in a temporary directory, fsync on, synchronous_commit off,
# shared_buffers 1 GB; stopped on exit), loaded by build/bench/gen_pg with the
# same rows (schema inventory through inventory's import, schema hand by COPY
# into bench/schema_pg.sql), then bench/rest_pg.sh (the REST list on both
# backends, side by side) and bench/run.lua --backend pg: the "PostgreSQL"
# section of the same results file.
set -eu
cd "$(dirname "$0")/.."
MODE=${1:-quick}
DATA=bench/out/data
mkdir -p "$DATA"

# versioned variables: nothing leaks into LuaJIT or nginx
LUA_PATH_5_4="./lua/?.lua;./lua/?/init.lua;./bench/?.lua;;"
LUA_CPATH_5_4="./lib/lua/5.4/?.so;./build/bench/?.so;;"
export LUA_PATH_5_4 LUA_CPATH_5_4

# gen NAME NJOBS NTASKS NBIG: the two files of a data set, when needed
gen() {
  name=$1 stamp=$DATA/$1.ok
  if [ ! -f "$DATA/$name-inv.db" ] || [ ! -f "$DATA/$name-hand.db" ] || [ ! -f "$stamp" ] \
     || [ build/bench/gen -nt "$stamp" ] || [ bench/schema.sql -nt "$stamp" ] \
     || [ "$(cat "$stamp")" != "$2 $3 $4" ]; then
    rm -f "$stamp"
    ./build/bench/gen "$DATA/$name-inv.db" "$DATA/$name-hand.db" bench/schema.sql "$2" "$3" "$4"
    echo "$2 $3 $4" > "$stamp"
  fi
}

# fresh copies for the write cases, written to disk before any case runs:
# else the first checkpoint's fsync of a copy would flush the whole copy (GBs
# at 10M tasks) inside whichever contender's timed batch triggers it. The
# LuaSQL peer writes on a second copy of the hand-written file (peer): on a
# shared one, the limit's batches paid some of the peer's checkpoints, or the
# peer's some of the limit's, as the batches happened to fall
copies() {
  for f in inv hand peer; do
    src=$f; [ "$f" = peer ] && src=hand
    rm -f "$DATA/$1-$f-write.db" "$DATA/$1-$f-write.db-wal" "$DATA/$1-$f-write.db-shm"
    cp "$DATA/$1-$src.db" "$DATA/$1-$f-write.db"
  done
  sync "$DATA/$1-inv-write.db" "$DATA/$1-hand-write.db" "$DATA/$1-peer-write.db"
}
cleanup_copies() {
  for f in inv hand peer; do
    rm -f "$DATA/$1-$f-write.db" "$DATA/$1-$f-write.db-wal" "$DATA/$1-$f-write.db-shm"
  done
  rm -f bench/out/finish-*.txt
}

if [ "$MODE" = scale ]; then
  SIZES="10k:100:10000 100k:1000:100000 1M:10000:1000000"
  [ "${BENCH_SCALE_10M:-1}" = 1 ] && SIZES="$SIZES 10M:100000:10000000"
  SIZES=${BENCH_SCALE_SIZES:-$SIZES}       # label:jobs:tasks ... (development)
  rm -f bench/out/scale-*.lua bench/out/rest-scale-*.txt
  for s in $SIZES; do
    label=${s%%:*} rest=${s#*:}
    njobs=${rest%%:*} ntasks=${rest#*:}
    echo "bench scale: $label tasks"
    gen "scale-$label" "$njobs" "$ntasks" 0
    copies "scale-$label"
    trap 'cleanup_copies "scale-$label"' EXIT
    lua5.4 bench/run.lua --mode scale --label "$label" --summary "bench/out/scale-$label.lua" \
      --inv "$DATA/scale-$label-inv.db" --hand "$DATA/scale-$label-hand.db" \
      --winv "$DATA/scale-$label-inv-write.db" --whand "$DATA/scale-$label-hand-write.db" \
      --wpeer "$DATA/scale-$label-peer-write.db" \
      --cases "${BENCH_CASES:-list_job,list_page,stat_status,finish}"
    cleanup_copies "scale-$label"
    if [ "${BENCH_REST:-1}" != 0 ]; then
      bash bench/rest_bench.sh rss "scale-$label" "bench/out/rest-scale-$label.txt" \
        > "bench/out/rest-scale-$label.log" 2>&1 \
        || echo "bench: the RSS run failed (bench/out/rest-scale-$label.log)" >&2
    fi
  done
  lua5.4 bench/run.lua --scale-report bench/out --out "${BENCH_SCALE_OUT:-bench/RESULTS.md}"
  exit 0
fi

case $MODE in
  full)  NJOBS=10000; NTASKS=1000000; NBIG=10000; OUT=bench/RESULTS.md ;;
  mid)   NJOBS=1000;  NTASKS=100000;  NBIG=10000; OUT=bench/out/RESULTS-mid.md ;;
  quick) NJOBS=200;   NTASKS=20000;   NBIG=1000;  OUT=bench/out/RESULTS-quick.md ;;
  *) echo "usage: $0 full|mid|quick|scale" >&2; exit 2 ;;
esac
gen "$MODE" "$NJOBS" "$NTASKS" "$NBIG"

# the REST part (bench/rest_bench.sh): nginx on the same two files
REST=""
if [ "${BENCH_REST:-1}" != 0 ] && [ -z "${BENCH_CASES:-}" ] && [ "${BENCH_SQLITE:-1}" != 0 ]; then
  REST=bench/out/rest-$MODE.txt
  echo "bench: REST through nginx (bench/rest_bench.sh $MODE)"
  rm -f "$REST"
  if ! bash bench/rest_bench.sh "$MODE" "$MODE" "$REST" > "bench/out/rest-$MODE.log" 2>&1; then
    echo "bench: bench/rest_bench.sh failed (see bench/out/rest-$MODE.log)" >&2
  fi
fi

PGDIR=""
pg_stop() { if [ -n "$PGDIR" ]; then sh scripts/pg.sh stop "$PGDIR"; PGDIR=""; fi; }
trap 'cleanup_copies "$MODE"; pg_stop' EXIT
trap 'exit 130' INT TERM

if [ "${BENCH_SQLITE:-1}" != 0 ]; then
  copies "$MODE"
  set -- --mode "$MODE" --inv "$DATA/$MODE-inv.db" --hand "$DATA/$MODE-hand.db" \
    --winv "$DATA/$MODE-inv-write.db" --whand "$DATA/$MODE-hand-write.db" \
    --wpeer "$DATA/$MODE-peer-write.db" --out "$OUT"
  [ -n "${BENCH_CASES:-}" ] && set -- "$@" --cases "$BENCH_CASES"
  [ -n "$REST" ] && set -- "$@" --rest "$REST"
  lua5.4 bench/run.lua "$@"
  cleanup_copies "$MODE"
fi

if [ "${BENCH_PG:-1}" != 0 ]; then
  echo "bench: PostgreSQL"
  PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/inv-bench-pg.XXXXXX")
  URL=$(FSYNC=on PG_OPTIONS="-c synchronous_commit=off -c shared_buffers=1GB" sh scripts/pg.sh start "$PGDIR")
  chmod 755 "$PGDIR"          # nginx workers (nobody, when started as root) reach its socket
  ./build/bench/gen_pg "$URL" bench/schema_pg.sql "$NJOBS" "$NTASKS" "$NBIG"
  REST=""
  if [ "${BENCH_REST:-1}" != 0 ] && [ -z "${BENCH_CASES:-}" ]; then
    REST=bench/out/rest-pg-$MODE.txt
    echo "bench: REST on both backends (bench/rest_pg.sh $MODE)"
    rm -f "$REST"
    if ! bash bench/rest_pg.sh "$MODE" "$MODE" "$URL" "$PGDIR" "$REST" > "bench/out/rest-pg-$MODE.log" 2>&1; then
      echo "bench: bench/rest_pg.sh failed (see bench/out/rest-pg-$MODE.log)" >&2
    fi
  fi
  set -- --backend pg --mode "$MODE" --url "$URL" --hand "$DATA/$MODE-hand.db" --out "$OUT"
  [ -n "${BENCH_CASES:-}" ] && set -- "$@" --cases "$BENCH_CASES"
  [ -n "$REST" ] && set -- "$@" --rest "$REST"
  # One CPU for the harness and every server process it connects to (the
  # postmaster's affinity passes to the backends it forks): a round trip
  # costs 16 us when client and backend share a CPU and 87 us when the
  # wake-up crosses to the other vCPU (measured: FINDINGS.md, PostgreSQL),
  # and the scheduler placed each contender's backend its own way, run to
  # run, which swung get between 0.27 and 3.84. BENCH_PG_CPU=none: unpinned.
  CPU=${BENCH_PG_CPU:-0}
  if [ "$CPU" != none ] && command -v taskset >/dev/null 2>&1; then
    taskset -pc "$CPU" "$(head -1 "$PGDIR/data/postmaster.pid")" >/dev/null
    taskset -c "$CPU" lua5.4 bench/run.lua "$@"
  else
    lua5.4 bench/run.lua "$@"
  fi
  pg_stop
fi

#!/bin/sh
# fuzz/run.sh MODE TARGET...: run the libFuzzer targets build/fuzz_<target>
# (built by `make fuzz` / `make fuzz-replay`) under ASan and UBSan.
#
#   replay   every input of fuzz/corpus/<target>/ once. Deterministic: the
#            same inputs give the same result on any machine. CI runs it first.
#   explore  mutate from a scratch copy of the corpus (fuzz/corpus-run/<t>/,
#            gitignored, kept between runs). Budget: FUZZ_SECONDS per target
#            (default 60), or FUZZ_RUNS runs from seed FUZZ_SEED (default 1).
#            libFuzzer's path through the inputs also depends on timing and
#            memory layout, so two explorations with one seed can differ.
#            CI explores each target for 60 s after the replay.
#   merge    add to fuzz/corpus/<t>/ the inputs of fuzz/corpus-run/<t>/ that
#            reach code the committed corpus does not (libFuzzer -merge=1).
#
# FUZZ_ARGS adds libFuzzer flags. Every target runs; the script fails at the
# end if any failed, and prints for each failure the sanitizer's or the
# target's verdict, the top frames and the input (crash reproducers land in
# build/fuzz-crash-<t>-*; replay one with ./build/fuzz_<t> FILE).
set -u
# a smaller quarantine than ASan's 256 MB keeps each target near 300 MB
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}"
mode=$1; shift
failed=
for t in "$@"; do
  bin=build/fuzz_$t log=build/fuzz-$t.log
  dict=; [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
  # -timeout: an input runs in well under a second here; 60 s leaves room
  # for a stalled machine and still catches a hang
  common="-max_len=4096 -timeout=60 -artifact_prefix=build/fuzz-crash-$t- ${FUZZ_ARGS:-}"
  case $mode in
    replay)
      echo "== fuzz_$t: replay $(ls "fuzz/corpus/$t" | wc -l) inputs"
      # -runs=0: load (run) the corpus, then stop
      $bin -runs=0 $common "fuzz/corpus/$t" > "$log" 2>&1 || failed="$failed $t:$?"
      grep -E "INITED|ERROR:" "$log" | head -n 2 | sed -E 's/^#[0-9]+[[:space:]]+//' ;;
    explore)
      mkdir -p "fuzz/corpus-run/$t" && cp "fuzz/corpus/$t/"* "fuzz/corpus-run/$t/" || exit 1
      if [ -n "${FUZZ_RUNS:-}" ]; then budget="-runs=$FUZZ_RUNS -seed=${FUZZ_SEED:-1}"
      else budget="-max_total_time=${FUZZ_SECONDS:-60}"; fi
      echo "== fuzz_$t: $budget"
      $bin $budget $common $dict -print_final_stats=1 "fuzz/corpus-run/$t" > "$log" 2>&1 \
        || failed="$failed $t:$?"
      grep -E "^(Done|stat::(number_of|average|new_units|peak))" "$log" ;;
    merge)
      n0=$(ls "fuzz/corpus/$t" | wc -l)
      $bin -merge=1 $common "fuzz/corpus/$t" "fuzz/corpus-run/$t" > "$log" 2>&1 || failed="$failed $t:$?"
      echo "== fuzz_$t: corpus $n0 -> $(ls "fuzz/corpus/$t" | wc -l) inputs" ;;
    *) echo "usage: fuzz/run.sh replay|explore|merge TARGET..." >&2; exit 2 ;;
  esac
done
for tc in $failed; do
  t=${tc%:*}
  echo "== fuzz_$t FAILED, exit code ${tc#*:} (log: build/fuzz-$t.log):"
  if grep -qE "ERROR:|^fuzz_[a-z]+: " "build/fuzz-$t.log"; then
    grep -E "ERROR:|SUMMARY:|runtime error|^fuzz_[a-z]+: |^    #[0-5] " "build/fuzz-$t.log" \
      | head -n 9 | sed -E 's/ \(\/.*//' | cut -c 1-160
  else   # no verdict: killed from outside (the OOM killer, a signal)
    tail -n 4 "build/fuzz-$t.log" | cut -c 1-160
  fi
  for f in $(grep -o "build/fuzz-crash-$t-[a-z]*-[0-9a-f]*" "build/fuzz-$t.log" | sort -u); do
    echo "input $f:"; head -c 300 "$f" | od -An -c | head -n 8
  done
done
if [ -n "$failed" ]; then echo "fuzz: FAILED:$failed"; exit 1; fi
echo "fuzz $mode: $*: no failure"

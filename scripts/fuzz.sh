#!/usr/bin/env bash
# Builds the libFuzzer binaries with clang (ASan + UBSan, in build-fuzz) and
# runs every fuzz target for SECONDS seconds (default 60) on a copy of its
# seed corpus (tests/fuzz/corpus/<target>), so new inputs never touch the
# checkout. Crashing inputs are kept in build-fuzz/fuzz-artifacts/<target>/;
# copy each into tests/fuzz/regressions/<target>/ once fixed, where
# fuzz_replay_test (label `fuzz`) replays it on every test run.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
# Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
bash scripts/setup.sh
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDPS_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ > /dev/null
nice cmake --build build-fuzz -j2 --target fuzz_all

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in build-fuzz/bin/fuzz_*; do targets+=("${bin##*/fuzz_}"); done
fi
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# glog and libzmq allocate once per process and never free; leaks are not
# what this run looks for.
export ASAN_OPTIONS="detect_leaks=0"
failed=()
for t in "${targets[@]}"; do
  work=build-fuzz/fuzz-work/$t
  artifacts=build-fuzz/fuzz-artifacts/$t
  mkdir -p "$work" "$artifacts"
  echo "== fuzz $t for ${SECONDS_PER_TARGET} s"
  if build-fuzz/bin/fuzz_"$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$work" "tests/fuzz/corpus/$t" > "$work.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$work.log" | tail -2 || true
  else
    echo "fuzz $t: CRASH, see $work.log and $artifacts/"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}"
  exit 1
fi
echo "fuzz: no crashes in ${targets[*]} (${SECONDS_PER_TARGET} s each)"

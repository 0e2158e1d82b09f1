#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DEMBEDPS_ASAN=ON) in build-asan and runs the unit, integration,
# security, soak and fuzz-replay tests under them; the daemons the
# integration tests start are sanitized builds too. Any report fails the
# test that triggered it.
#   bash scripts/asan.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDPS_ASAN=ON > /dev/null
nice cmake --build build-asan -j2
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
cd build-asan
ctest --output-on-failure -j2 --timeout 600 -L "unit|integration|security|soak|fuzz" "$@"
echo "asan: unit, integration, security, soak and fuzz tests pass under ASan+UBSan"

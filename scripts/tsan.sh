#!/usr/bin/env bash
# Builds everything with ThreadSanitizer (-DEMBEDPS_TSAN=ON) in build-tsan
# and runs the unit, integration, security, soak and fuzz-replay tests under
# it (the daemons the integration tests start are TSan builds too), then
# the in-process benchmark with single- and multi-threaded servers. Any
# report fails the test or command that triggered it.
#   bash scripts/tsan.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDPS_TSAN=ON > /dev/null
nice cmake --build build-tsan -j2
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1"
cd build-tsan
ctest --output-on-failure -j2 --timeout 600 -L "unit|integration|security|soak|fuzz" "$@"
for threads in 1 2; do
  ./bin/embedps bench pushpull --servers 2 --workers 2 --keys 1000 --dim 8 --seconds 2 \
    --server_threads "$threads"
done
./bin/embedps bench pushpull --servers 1 --workers 2 --keys 1000 --dim 8 --seconds 1 --curve
echo "tsan: no data races reported"

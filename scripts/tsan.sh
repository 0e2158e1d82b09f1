#!/usr/bin/env bash
# Builds with ThreadSanitizer (-DEMBEDPS_TSAN=ON) in build-tsan and runs the
# concurrency tests: the striped table under many threads, the multi-process
# push/pull and barrier tests (their daemons are TSan builds too), the HTTP
# server, the monitoring tests (metrics scraped from live TSan daemons), and
# the in-process benchmark with multi-threaded servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBEDPS_TSAN=ON > /dev/null
cmake --build build-tsan -j2 --target embedding_table_test push_pull_test barrier_test \
  http_server_test monitoring_test embedps embedps-server embedps-scheduler embedps-worker
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1"
cd build-tsan
./bin/embedding_table_test
./bin/push_pull_test
./bin/barrier_test
./bin/http_server_test
./bin/monitoring_test
for threads in 1 2; do
  ./bin/embedps bench pushpull --servers 2 --workers 2 --keys 1000 --dim 8 --seconds 2 \
    --server_threads "$threads"
done
echo "tsan: no data races reported"

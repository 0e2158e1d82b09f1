#!/usr/bin/env bash
# Command 2: install what is missing, build everything, run the whole test
# suite (ctest labels: unit, integration).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j2
cd build
ctest --output-on-failure -j2 --timeout 300 "$@"

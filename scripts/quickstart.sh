#!/usr/bin/env bash
# Command 1: install what is missing, build, and run the main job: a local
# cluster (2 servers, 2 workers) training logistic regression on 1,000,000
# generated Criteo-format rows, evaluated on 100,000 held-out rows.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j2 --target embedps

TRAIN_ROWS=${TRAIN_ROWS:-1000000}
TEST_ROWS=${TEST_ROWS:-100000}
mkdir -p data
echo "== generate data (train seed 1, test seed 2, same planted model)"
build/bin/embedps gen-criteo --rows "$TRAIN_ROWS" --seed 1 --out data/train.tsv
build/bin/embedps gen-criteo --rows "$TEST_ROWS" --seed 2 --out data/test.tsv
echo "== train on a local cluster"
build/bin/embedps local --model lr --train data/train.tsv --test data/test.tsv \
  --servers 2 --workers 2 --summary_json data/summary.json --run_dir data/run "$@"

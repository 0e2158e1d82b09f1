#!/usr/bin/env bash
# Throughput and test AUC of the main job's shape (LR, 2 servers x 2
# workers, 400k train / 50k test rows) asynchronous, with --max_staleness=2
# and BSP (--max_staleness=0), interleaved (docs/performance.md).
# Usage: scripts/measure_consistency.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-3}
work=$(mktemp -d /tmp/embedps-consistency.XXXXXX)
trap 'rm -rf "$work"' EXIT
for data in train:400000:1 test:50000:2; do
  IFS=: read -r name rows seed <<<"$data"
  "$build/bin/embedps" gen-criteo --rows "$rows" --seed "$seed" --out "$work/$name.tsv" >/dev/null 2>&1
done
for run in $(seq 1 "$runs"); do
  for k in -1 2 0; do
    "$build/bin/embedps" local --model lr --train "$work/train.tsv" --test "$work/test.tsv" \
      --servers 2 --workers 2 --max_staleness "$k" --http_port -1 \
      --run_dir "$work/run" --summary_json "$work/s.json" >/dev/null 2>&1
    python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
rate, auc = s["rows_per_sec"], s["test_auc"]
print(f"run {sys.argv[2]} max_staleness {sys.argv[3]:>2}: {rate:9.0f} rows/s, test AUC {auc:.4f}")
' "$work/s.json" "$run" "$k"
    grep -h "largest lead" "$work"/run/logs/worker-*.log | sed 's/^.*\] /    /' || true
    rm -rf "$work/run"
  done
done

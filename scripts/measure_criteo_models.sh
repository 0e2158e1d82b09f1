#!/usr/bin/env bash
# The issue-scale Criteo measurement of docs/results.md: generates
# data/c2m.tsv (2,000,000 rows, seed 1) and data/c500k.tsv (500,000 rows,
# seed 2) when missing or from another planted-model version, then trains
# each model for one pass on 2 servers and each worker count, with the
# launcher's defaults, and prints one line per run.
#   bash scripts/measure_criteo_models.sh [BUILD_DIR] [MODELS] [WORKER_COUNTS] [extra embedps local flags]
#   e.g. bash scripts/measure_criteo_models.sh build "lr fm deepfm" "2 1"
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
models=${2:-"lr fm deepfm"}
worker_counts=${3:-"2"}
shift $(( $# < 3 ? $# : 3 ))
extra=("$@")
bin="$build/bin/embedps"
mkdir -p data

# Data from an older planted model (or none) is regenerated.
version_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"]["version"])' "$1" 2>/dev/null || echo none; }
expected=$("$bin" gen-criteo --rows 1 --seed 9 --out /tmp/embedps-version-probe.tsv > /dev/null &&
           version_of /tmp/embedps-version-probe.tsv.meta.json)
for spec in "c2m 2000000 1" "c500k 500000 2"; do
  read -r name rows seed <<< "$spec"
  if [ "$(version_of "data/$name.tsv.meta.json")" != "$expected" ]; then
    "$bin" gen-criteo --rows "$rows" --seed "$seed" --out "data/$name.tsv"
  fi
done

printf '%-7s %-7s %-8s %-8s %-14s %-10s %-8s %s\n' model workers test_auc logloss "train rows/s" "train s" "wall s" "load before -> after"
for model in $models; do
  for w in $worker_counts; do
    before=$(cut -d' ' -f1 /proc/loadavg)
    out="data/measure-$model-$w.json"
    "$bin" local --model "$model" --train data/c2m.tsv --test data/c500k.tsv --servers 2 --workers "$w" \
      --http_port -1 --summary_json "$out" "${extra[@]}" > "data/measure-$model-$w.log" 2>&1
    after=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$out" "$model" "$w" "$before" "$after" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<7} {sys.argv[3]:<7} {s['test_auc']:<8.4f} {s['test_logloss']:<8.4f} "
      f"{s['rows_per_sec']:<14,.0f} {s['train_seconds']:<10.1f} {s['wall_seconds']:<8.1f} {sys.argv[4]} -> {sys.argv[5]}")
EOF
  done
done

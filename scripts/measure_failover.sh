#!/usr/bin/env bash
# Measures the time from SIGKILL of a server to the first push the workers
# get acknowledged by its replacement, on a local job (docs/performance.md).
# Usage: scripts/measure_failover.sh [BUILD_DIR] [NODE_TIMEOUT_MS] [REPLICAS]
# With REPLICAS=2 the replacement restores from the backup's copy.
# Environment, for bigger shards: ROWS (training rows, default 400000),
# JOB_FLAGS (extra `embedps local` flags, e.g. "--model fm --factors 448"
# for about 1 GB per server), CHECKPOINT (the victim dies once checkpoint
# number CHECKPOINT is written, default 1), INTERVAL_S (checkpoint
# interval, default 1).
set -euo pipefail
build=${1:-build}
timeout_ms=${2:-1500}
replicas=${3:-1}
rows=${ROWS:-400000}
checkpoint=${CHECKPOINT:-1}
interval=${INTERVAL_S:-1}
read -r -a job_flags <<<"${JOB_FLAGS:-}"
work=$(mktemp -d /tmp/embedps-failover.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bin/embedps" gen-criteo --rows "$rows" --seed 7 --out "$work/train.tsv" >/dev/null
"$build/bin/embedps" gen-criteo --rows 20000 --seed 8 --out "$work/test.tsv" >/dev/null
"$build/bin/embedps" local --train "$work/train.tsv" --test "$work/test.tsv" --passes 4 \
  --run_dir "$work/run" --checkpoint_interval_s "$interval" --http_port -1 ${job_flags[@]+"${job_flags[@]}"} --replicas "$replicas" \
  --scheduler_flags="--node_timeout_ms=$timeout_ms" --node_flags="--heartbeat_interval_ms=200" \
  >"$work/out.txt" 2>&1 &
launcher=$!
for _ in $(seq 1 6000); do grep -q "checkpoint $checkpoint (" "$work/out.txt" 2>/dev/null && break; sleep 0.05; done
victim=$(pgrep -P "$launcher" -f embedps-server | head -1 || true)
if [ -z "$victim" ]; then
  echo "no server of the job to kill (did it end before checkpoint $checkpoint?); the job said:" >&2
  tail -30 "$work/out.txt" >&2
  exit 1
fi
killed_at=$(date +%s.%N)
kill -9 "$victim"
wait "$launcher" || true
if ! grep -q "first push acknowledged" "$work"/run/logs/worker-*.log; then
  echo "no worker logged a push acknowledged by the replacement; the job said:" >&2
  tail -30 "$work/out.txt" >&2
  exit 1
fi
grep -h "first push acknowledged" "$work"/run/logs/worker-*.log | python3 -c '
import sys, datetime
killed = float(sys.argv[1])
year = datetime.datetime.now().year
for line in sys.stdin:
    stamp = datetime.datetime.strptime(f"{year}{line[1:5]} {line[6:21]}", "%Y%m%d %H:%M:%S.%f").timestamp()
    what = line.split("] ", 1)[1].strip()
    print(f"kill to first acknowledged push on the replacement: {stamp - killed:.2f} s "
          f"(detection timeout {sys.argv[2]} ms); {what}")
' "$killed_at" "$timeout_ms"
grep -h "is back" "$work/out.txt"
grep -h "handoff\|restores from\|restored\|test AUC\|test_auc" "$work/out.txt" "$work"/run/logs/scheduler.log 2>/dev/null | sed 's/^.*\] //' | sort -u | head -8

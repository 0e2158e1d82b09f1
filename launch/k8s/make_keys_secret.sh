#!/usr/bin/env bash
# Makes the CURVE keys of an embedps Kubernetes job and prints them as two
# Secrets (YAML on stdout; nothing is sent to a cluster):
#   embedps-keys         cluster.pub, cluster.secret, allowed_keys and every
#                        server-N key: the scheduler mounts the first three,
#                        the servers all of it
#   embedps-worker-keys  cluster.pub and every worker-N key, mounted by the
#                        workers (who never get cluster.secret)
# The counts come from the overlay's size.yaml, read through
# `kubectl kustomize OVERLAY_DIR` (the objects `kubectl apply -k` would make).
#   launch/k8s/make_keys_secret.sh launch/k8s/overlays/small | kubectl apply -f -
# Run it once per job: applying new keys replaces the Secrets' contents, and a
# pod that (re)starts after that holds keys the running nodes do not know.
# Environment: EMBEDPS (default: embedps on PATH, e.g.
# build/bin/embedps) and KUBECTL (default: kubectl).
set -euo pipefail

usage() {
  echo "usage: $0 OVERLAY_DIR   (e.g. launch/k8s/overlays/small)" >&2
  exit 2
}
[ $# -eq 1 ] || usage
case "$1" in -h | --help) usage ;; esac
overlay=$1
embedps=${EMBEDPS:-embedps}
kubectl=${KUBECTL:-kubectl}
for tool in "$embedps" "$kubectl"; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: $tool not found (set EMBEDPS or KUBECTL)" >&2
    exit 1
  fi
done

rendered=$("$kubectl" kustomize "$overlay" 2>/dev/null) || {
  echo "$0: kubectl kustomize $overlay failed:" >&2
  "$kubectl" kustomize "$overlay" >/dev/null
  exit 1
}
# The scheduler's NUM_SERVERS and NUM_WORKERS (kustomize writes an env entry
# as `- name: X` followed by `value: "N"`), the StatefulSet's replicas and
# the worker Job's completions (the only objects with those fields).
env_value() {
  awk -v name="$1" '$1 == "-" && $2 == "name:" && $3 == name { getline; gsub(/"/, "", $2); print $2; exit }' \
    <<<"$rendered"
}
field() {
  awk -v key="$1:" '$1 == key { print $2; exit }' <<<"$rendered"
}
servers=$(env_value NUM_SERVERS)
workers=$(env_value NUM_WORKERS)
if ! [[ $servers =~ ^[1-9][0-9]*$ && $workers =~ ^[1-9][0-9]*$ ]]; then
  echo "$0: $overlay does not set the scheduler's NUM_SERVERS and NUM_WORKERS (got '$servers', '$workers')" >&2
  exit 1
fi
if [ "$(field replicas)" != "$servers" ] || [ "$(field completions)" != "$workers" ]; then
  echo "$0: $overlay disagrees with itself: NUM_SERVERS=$servers, StatefulSet replicas $(field replicas)," \
    "NUM_WORKERS=$workers, Job completions $(field completions); fix its size.yaml" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$embedps" keygen --out="$tmp/keys" --servers="$servers" --workers="$workers" >&2
mkdir "$tmp/binding" "$tmp/workers"
cp "$tmp"/keys/{cluster.pub,cluster.secret,allowed_keys} "$tmp"/keys/server-* "$tmp/binding/"
cp "$tmp"/keys/cluster.pub "$tmp"/keys/worker-* "$tmp/workers/"
"$kubectl" create secret generic embedps-keys --from-file="$tmp/binding" --dry-run=client -o yaml
echo "---"
"$kubectl" create secret generic embedps-worker-keys --from-file="$tmp/workers" --dry-run=client -o yaml
echo "embedps: keys for $servers servers and $workers workers (Secrets embedps-keys, embedps-worker-keys)" >&2

#!/usr/bin/env bash
# Installs the Debian 12 packages embedps builds against, but only those that
# are missing, so it is cheap to call before every build. chromium is only
# for the dashboard's browser test (ctest label browser), which skips
# without it.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev
  capnproto libcapnp-dev
  libeigen3-dev
  libgflags-dev libgoogle-glog-dev libunwind-dev
  libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev
  libdnnl-dev
  zlib1g-dev
  chromium
  clang libclang-rt-14-dev
)
# Tools only the tests use: sshd/ssh for the ssh launcher test, iproute2 for
# the network-namespace test, and the validators of the deployment files
# (docker-compose, promtool from prometheus, shellcheck, python3-yaml, and
# kubectl below).
# `setup.sh --build-only` (the Docker build stage) skips them.
TEST_PACKAGES=(
  openssh-server openssh-client iproute2
  docker-compose prometheus shellcheck python3-yaml
)
# kubectl renders the Kubernetes overlays (`kubectl kustomize`): Debian's
# kubernetes-client (1.20, kustomize v2.0.3) only when no kubectl is on PATH,
# since a newer one (say from the Kubernetes apt repository) may be installed.
if ! command -v kubectl >/dev/null; then
  TEST_PACKAGES+=(kubernetes-client)
fi
if [ "${1:-}" != "--build-only" ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

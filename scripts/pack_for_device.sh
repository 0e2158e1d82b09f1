#!/usr/bin/env bash
# Packs the built binaries (stripped of debug info) and the shared libraries
# they link, as this Debian machine resolves them (glibc excepted), into
# OUT/ (default device/, git-ignored), for a lent machine without a package
# registry, such as the 16-core one of docs/performance.md. There:
#   LD_LIBRARY_PATH=$PWD/device/lib bash scripts/measure_criteo_models.sh device deepfm "1 2 4 8"
# (the issue-4 DeepFM scaling curve: 1, 2, 4 and 8 workers on 2 servers).
#   bash scripts/pack_for_device.sh [BUILD_DIR] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-device}
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for b in embedps embedps-scheduler embedps-server embedps-worker; do
  [[ -x $build/bin/$b ]] || { echo "pack_for_device: no $build/bin/$b (build first)" >&2; exit 1; }
  strip --strip-debug -o "$out/bin/$b" "$build/bin/$b"
done
# glibc's own libraries must come from the machine that runs them.
ldd "$out"/bin/* | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libresolv.so* | ld-linux*) continue ;;
  esac
  cp -L "$lib" "$out/lib/"
done
echo "pack_for_device: $(du -sh "$out" | cut -f1) in $out ($(find "$out/lib" -type f | wc -l) libraries)"

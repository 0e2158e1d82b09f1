#!/usr/bin/env bash
# Usage: scripts/thread_safety_check.sh BUILD_DIR
#
# Checks the locking annotations (common/thread_annotations.h) with clang's
# -Wthread-safety: a -fsyntax-only pass, with the flags that
# BUILD_DIR/compile_commands.json gives each file, over the files that can
# break them. The build itself uses gcc, which ignores the annotations.
#
# Not every file: a clang pass over all ~230 translation units would take
# minutes on 2 cores, to no purpose. A guarded field is touched only by the
# code of its class, which lives in the class's header or in a .cc that
# includes that header, so the files checked are the .cc files that include
# common/mutex.h or a header that does (about 20, some 20 s).
#
# Exits 0 when clean, 1 on a violation (or any clang error; its output is
# printed), 2 on bad usage, 77 (ctest's skip) without clang++.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || { echo "no build directory $1" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
DB=$BUILD_DIR/compile_commands.json
CLANGXX=${CLANGXX:-clang++}
if ! command -v "$CLANGXX" > /dev/null; then
  echo "thread-safety check skipped: $CLANGXX not found (scripts/setup.sh installs clang)"
  exit 77
fi
if [ ! -f "$DB" ]; then
  echo "no $DB: configure with CMake first (CMAKE_EXPORT_COMPILE_COMMANDS is on)" >&2
  exit 2
fi

cd "$SRC" || exit 2
DIRS=(common ps worker scheduler launch datagen bench tests)
# The headers that include common/mutex.h, then the .cc files that include
# one of them or common/mutex.h itself.
mapfile -t headers < <(grep -rlF --include='*.h' '#include "common/mutex.h"' "${DIRS[@]}")
patterns=('#include "common/mutex.h"')
for h in "${headers[@]}"; do patterns+=("#include \"$h\""); done
# tests/static holds code that must fail the check, compiled into no target.
mapfile -t files < <(grep -rlF --include='*.cc' "${patterns[@]/#/-e}" "${DIRS[@]}" |
                     grep -v '^tests/static/' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "thread-safety check: no file includes common/mutex.h" >&2
  exit 1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# One NUL-separated argument file per source file: its include directories,
# defines, -std and -m flags from the compile database, nothing else (the
# rest is gcc's optimisation and warning flags, some of which clang
# rejects), then the file.
python3 - "$DB" "$SRC" "$WORK" "${files[@]}" << 'EOF' || exit 2
import json, os, shlex, sys

db_path, src, work, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
entries = {}
for e in json.load(open(db_path)):
    entries[os.path.realpath(os.path.join(e["directory"], e["file"]))] = e
WITH_VALUE = ("-I", "-isystem", "-iquote", "-D", "-U", "-include")
missing = []
for n, f in enumerate(files):
    e = entries.get(os.path.realpath(os.path.join(src, f)))
    if e is None:
        missing.append(f)
        continue
    argv = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    keep, i = [], 1
    while i < len(argv):
        a = argv[i]
        if a in WITH_VALUE and i + 1 < len(argv):
            value = argv[i + 1]
            if a != "-D" and a != "-U" and not os.path.isabs(value):
                value = os.path.join(e["directory"], value)
            keep += [a, value]
            i += 2
            continue
        if a.startswith(WITH_VALUE) or a.startswith(("-std=", "-m")):
            keep.append(a)
        i += 1
    keep.append(os.path.join(src, f))
    with open(os.path.join(work, "%03d.args" % n), "w") as out:
        out.write("\0".join(keep) + "\0")
if missing:
    print("not in the compile database (re-run cmake?): " + " ".join(missing), file=sys.stderr)
    sys.exit(1)
EOF

# -Wthread-safety-beta adds checks still marked beta (guarded fields in
# constructors, locks passed to functions); the code is clean under them.
export CLANGXX
start=$SECONDS
# shellcheck disable=SC2016  # expanded by the inner bash, per file
printf '%s\0' "$WORK"/*.args | xargs -0 -P2 -n1 bash -c '
  mapfile -d "" -t args < "$1"
  "$CLANGXX" -fsyntax-only -Wthread-safety -Wthread-safety-beta -Werror=thread-safety \
    -Werror=thread-safety-beta "${args[@]}" > "${1%.args}.log" 2>&1 || touch "${1%.args}.failed"' _
failed=()
for f in "$WORK"/*.failed; do
  [ -e "$f" ] || continue
  cat "${f%.failed}.log"
  mapfile -d "" -t args < "${f%.failed}.args"
  failed+=("${args[-1]#"$SRC"/}")
done
elapsed=$((SECONDS - start))
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "thread-safety check FAILED (${elapsed}s) in ${#failed[@]} of ${#files[@]} files:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "thread-safety check: ${#files[@]} files clean (${elapsed}s)"

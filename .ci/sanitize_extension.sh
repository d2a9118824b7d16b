#!/usr/bin/env bash
# Builds the extension with ASan+UBSan in a throw-away copy of the checkout and runs the bad-input
# tests against it, so malformed user input is shown not to crash the C core under the sanitizers.
# Python itself is not built with ASan, so the runtime is preloaded and leak checking is off here
# (leaks are checked on the C tests by `make asan`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | (cd "$repo" && xargs -0 cp --parents -t "$work")
cd "$work"
SOCIALRM_SANITIZE=1 SOCIALRM_WERROR=1 "$PY" setup.py -q build_ext --inplace -j 2 >/dev/null
export SOCIALRM_SHARED_DATA="${SOCIALRM_SHARED_DATA:-$repo/../shared/data}"
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$PY" -m pytest -q -p no:cacheprovider -m bad_input tests

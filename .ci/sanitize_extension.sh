#!/usr/bin/env bash
# Builds the extension with ASan+UBSan in a throw-away copy of the checkout and runs the test files
# that drive the C core with malformed as well as valid input (PrefLib files, profiles, rules,
# criteria, mixtures, nn ops), so bad user input is shown not to crash it under the sanitizers.
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
    "$PY" -m pytest -q -p no:cacheprovider tests/test_foundation.py tests/test_choice_core.py \
    tests/test_preflib.py tests/test_criteria.py tests/test_cli.py tests/test_density.py tests/test_nn.py \
    tests/test_reward.py tests/test_individual.py tests/test_choice_elimination_merge.py

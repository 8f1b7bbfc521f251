#!/usr/bin/env bash
# The second README command: install what is missing, build with warnings as
# errors and run the whole test suite. With --sanitize, the same under
# AddressSanitizer and UndefinedBehaviorSanitizer (in build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build flags=(-DMF_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan flags+=(-DMF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
./deploy/install-deps.sh
cmake -S . -B "$dir" "${flags[@]}"
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 600

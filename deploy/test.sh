#!/usr/bin/env bash
# The second README command: install what is missing, build with warnings as
# errors and run the whole test suite. With --sanitize, the same under
# AddressSanitizer and UndefinedBehaviorSanitizer (in build-asan/). With
# --fuzz, a short run of every libFuzzer target over its corpus (clang,
# build-fuzz/); FUZZ_SECONDS (default 20) per target. With --aarch64, dsp/
# and its tests cross-built for AArch64 (the NEON kernels) and run under
# qemu-user (tests/cross/dsp_aarch64.sh; MF_AARCH64_QUICK=1: the quick ones).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build flags=(-DMF_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan flags+=(-DMF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
if [ "${1:-}" = "--aarch64" ]; then
  ./deploy/install-deps.sh --aarch64
  exec tests/cross/dsp_aarch64.sh
fi
./deploy/install-deps.sh
if [ "${1:-}" = "--fuzz" ]; then
  CC=clang cmake -S . -B build-fuzz -DMF_FUZZ=ON -DMF_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  targets=(session messages decode analysis)
  cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in "${targets[@]}"; do
    corpus=$(mktemp -d) # new inputs stay out of the committed corpus
    echo "fuzz_$t: ${FUZZ_SECONDS:-20} s"
    build-fuzz/bin/fuzz_$t -max_total_time="${FUZZ_SECONDS:-20}" -max_len=65536 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" "tests/fuzz/corpus/$t" 2>&1 | tail -4
    rm -rf "$corpus"
  done
  echo "fuzz: ${#targets[@]} passed, 0 failed"
  exit 0
fi
cmake -S . -B "$dir" "${flags[@]}"
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 600

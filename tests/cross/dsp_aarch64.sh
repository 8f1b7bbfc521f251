#!/usr/bin/env bash
# The DSP layer on AArch64, NEON kernels included: dsp/ and its tests
# (tests/dsp, checkasm first) cross-compiled with warnings as errors and run
# under qemu-user. The rest of mixfarm is not cross-built (its libraries
# would all be needed for arm64); dsp/ needs only FFTW and cmocka.
# Usage: tests/cross/dsp_aarch64.sh [OUT_DIR] (default build-aarch64).
# Needs what `deploy/install-deps.sh --aarch64` installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-aarch64}
mkdir -p "$out/obj"
cc=aarch64-linux-gnu-gcc
cflags=(-std=c17 -D_GNU_SOURCE -O2 -ffp-contract=off -Wall -Wextra -Wpedantic -Werror -Idsp -Idiag)
for f in dsp/*.c; do
  "$cc" "${cflags[@]}" -c "$f" -o "$out/obj/$(basename "$f" .c).o" &
  if (( $(jobs -r | wc -l) >= $(nproc) )); then wait -n; fi
done
wait
rm -f "$out/libmf_dsp.a"
aarch64-linux-gnu-ar rcs "$out/libmf_dsp.a" "$out"/obj/*.o
failed=0
# MF_AARCH64_QUICK=1 (CI): the kernels against the C reference and the
# quicker processor tests; eq, conv and multiband take minutes under qemu.
tests=(tests/dsp/test_*.c)
[ -n "${MF_AARCH64_QUICK:-}" ] &&
  tests=(tests/dsp/test_{checkasm,bqb,compressor,dynamics,effects,denormal,os4}.c)
for src in "${tests[@]}"; do
  # GCC 12's AArch64 vectoriser stops with an internal error on one of
  # test_dynamics.c's loops: tests are built without it.
  "$cc" "${cflags[@]}" -fno-tree-vectorize -Itests/dsp -Itests/common "$src" "$out/libmf_dsp.a" \
    -lfftw3f_threads -lfftw3f -lcmocka -lm -lpthread -o "$out/$(basename "$src" .c)"
done
for src in "${tests[@]}"; do
  t=$(basename "$src" .c)
  if qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/$t" > "$out/$t.log" 2>&1; then
    echo "aarch64: $t passed$(grep -o 'best is [a-z0-9]*' "$out/$t.log" | sed 's/^/ (/; s/$/)/')"
  else
    echo "aarch64: $t FAILED"
    tail -20 "$out/$t.log"
    failed=1
  fi
done
exit $failed

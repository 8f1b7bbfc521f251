#!/usr/bin/env bash
# The first README command: install what is missing, build, generate the demo
# song and render it on the embedded farm.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
# The programs only (the tests are deploy/test.sh's); warnings are CI's job.
cmake -S . -B build -DMF_WERROR=OFF
cmake --build build -j"$(nproc)" --target mixfarm mixfarm-coordinator mixfarm-worker mixfarm-mkdemo
build/bin/mixfarm-mkdemo demo
build/bin/mixfarm render demo/session.json -o demo/out
echo
echo "demo: the mix is demo/out/mix.wav, the stems are in demo/out/stems/, the"
echo "      mastered deliverables in demo/out/master/, the QC report in"
echo "      demo/out/qc.html (and qc.json); demo/out/manifest.json lists them all."

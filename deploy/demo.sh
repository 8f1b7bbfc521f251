#!/usr/bin/env bash
# The first README command: install what is missing, build, generate the demo
# song and render it on the embedded farm.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
build/bin/mixfarm-mkdemo demo
build/bin/mixfarm render demo/session.json -o demo/out
echo
echo "demo: the mix is demo/out/mix.wav, the stems are in demo/out/stems/,"
echo "      demo/out/manifest.json lists them with their SHA-256."

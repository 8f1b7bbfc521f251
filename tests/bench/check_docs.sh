#!/bin/sh
# docs/dsp.md's processor tables are what `bench_dsp --docs` prints from the
# processors' own parameter tables: fails, showing the difference, when a
# table changed and the docs were not regenerated.
# Usage: check_docs.sh BENCH_DSP DOCS_DSP_MD
set -eu
want=$(mktemp) got=$(mktemp)
trap 'rm -f "$want" "$got"' EXIT
"$1" --docs >"$want"
# From the first processor's heading up to the next top-level section.
awk '/^### `gain`/{p=1} /^## /{p=0} p' "$2" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$got"
sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$want" >"$want.t" && mv "$want.t" "$want"
if ! diff -u "$got" "$want"; then
  echo "docs/dsp.md is out of date: regenerate its processor section with bench_dsp --docs" >&2
  exit 1
fi

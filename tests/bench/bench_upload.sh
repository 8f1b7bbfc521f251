#!/usr/bin/env bash
# First render of a 16-track session whose client uploads over a slower
# link than the workers' (figures for docs/farm.md): the sources follow the
# submit (coordinator/coord_sources.c), so the strips run while the files
# arrive. The coordinator listens on two ports of 127.0.0.1: the workers'
# is left alone, the client's is held to RATE in the upload direction by tc
# (an HTB class on lo for that destination port), as a studio machine on
# gigabit Ethernet would send to a farm on a faster network.
# Reports per run the render's wall time, and from the coordinator's log
# how long the files took to arrive after the submit and how long the
# render went on after the last one.
# Usage: tests/bench/bench_upload.sh [BUILD_DIR [BASE_BUILD_DIR]]
#   BASE_BUILD_DIR: another build measured alternately in the same run (an
#   older commit, to compare). Needs root (tc), sox and bc.
# RATE (1gbit), TRACK_S (60) and RUNS (3) override. The tc class is removed
# at exit.
set -euo pipefail
B=$(cd "${1:-build}" && pwd)/bin
BASE=${2:+$(cd "$2" && pwd)/bin}
RATE=${RATE:-1gbit}
RUNS=${RUNS:-3}
for tool in sox bc tc; do
  command -v "$tool" >/dev/null || { echo "bench_upload: needs $tool" >&2; exit 2; }
done
work=$(mktemp -d)
fast=$((20000 + RANDOM % 20000)) slow=$((fast + 1))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  tc qdisc del dev lo root 2>/dev/null || true
  [ -n "${KEEP:-}" ] && cp "$work/coord.log" /tmp/bf/bu-coord.log; rm -rf "$work"
}
trap cleanup EXIT
# HTB whose default class does not exist: everything but the client's port
# goes out directly, unshaped; that port goes through a class held to RATE
# (its burst at least lo's 64 KB segments).
if ! tc qdisc add dev lo root handle 1: htb default 99 2>/dev/null; then
  echo "bench_upload: cannot shape lo (needs root and sch_htb); skipped" >&2
  exit 77
fi
tc class add dev lo parent 1: classid 1:1 htb rate "$RATE" burst 256k cburst 256k 2>/dev/null
tc filter add dev lo protocol ip parent 1:0 prio 1 u32 match ip dport "$slow" 0xffff flowid 1:1

echo "== a 16-track session, the client's uploads at $RATE, the workers' traffic not held"
S=$work/session; mkdir -p "$S"
. "$(dirname "$0")/bench_session.sh"
bench_sources "$S"
echo "{\"mixfarm\": 1, \"name\": \"bench\", \"sample_rate\": 48000, \"tracks\": [${tracks%,}],
  \"buses\": [{\"name\": \"Bus1\"}, {\"name\": \"Bus2\"}]}" > "$S/s.json"
mb=$(du -sm "$S" | cut -f1)
echo "  $mb MB of sources"

at() { # a line's time in the coordinator's log (MIXFARM_LOG=debug: seconds since it started)
  { grep -m1 "$1" "$2" || true; } | sed -E 's/^\[ *([0-9.]+)\].*/\1/'
}
render() { # bin dir, label
  local bin=$1 st=$work/st-$RANDOM
  MIXFARM_LOG=debug "$bin/mixfarm-coordinator" --bind "tcp://127.0.0.1:$fast" \
    --bind "tcp://127.0.0.1:$slow" --state "$st" 2>"$work/coord.log" & pids+=($!)
  sleep 0.2
  for w in w1 w2; do
    "$bin/mixfarm-worker" --connect "tcp://127.0.0.1:$fast" --slots 2 --cache "$st-$w" \
      2>>"$work/w.log" & pids+=($!)
  done
  local i; for i in $(seq 100); do
    [ "$(grep -c ' joined' "$work/coord.log")" -ge 2 ] && break; sleep 0.05
  done
  sync
  local t0 t1; t0=$(date +%s.%N)
  "$bin/mixfarm" render "$S/s.json" -o "$work/out" --coordinator "tcp://127.0.0.1:$slow" -q
  t1=$(date +%s.%N)
  local sub last done_at
  sub=$(at "job 1 (s.json): .* tasks" "$work/coord.log")
  last=$(at "ready, 0 sources to come" "$work/coord.log")
  done_at=$(at "job 1 (s.json): done" "$work/coord.log")
  if [ -n "$last" ]; then
    printf "  %-6s %.2f s; the files arrived over %.2f s after the submit (%.0f MB/s), the render ended %.2f s after the last\n" \
      "$2" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$last - $sub" | bc -l)" \
      "$(echo "$mb / ($last - $sub)" | bc -l)" "$(echo "$done_at - $last" | bc -l)"
  else # a build whose client uploads before it submits
    printf "  %-6s %.2f s (every file uploaded before the submit)\n" "$2" "$(echo "$t1 - $t0" | bc -l)"
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
  rm -rf "$st" "$st"-w? "$work/out"
}
for run in $(seq 1 "$RUNS"); do
  render "$B" this
  [ -n "$BASE" ] && render "$BASE" base
done

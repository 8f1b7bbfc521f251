#!/usr/bin/env bash
# Farm benchmarks (figures for docs/farm.md), measured in one run:
#  1. dispatch: no-op tasks through a coordinator (journal on) to two worker
#     processes over TCP loopback, tasks per second;
#  2. distributed (coordinator + two worker processes over TCP) versus the
#     embedded farm (--workers 2) on a 16-track session; also with the
#     workers, then the workers and the client, on the coordinator's store;
#  3. re-render after one fader change versus the full render (action cache),
#     on the default farm and on the one whose every process shares the store;
#  and for 2 and 3 the CPU seconds every process of a render used, and the
#  bytes they wrote to files. A full render takes no file from an earlier
#  render (MIXFARM_REUSE=0: the embedded one wrote the same files), so every
#  byte crosses the farm; over loopback a re-render fetches what it does not
#  keep, as a client on the coordinator's machine does;
#  4. with LINK_RATE (e.g. 1gbit; root and tc), the full render and the
#     re-render of 3 again on a farm whose coordinator's link is held to
#     that rate both ways, shared by its workers and the client (tc on lo):
#     loopback moves bytes for free, a farm's network does not. The
#     re-render copies the files it leaves unchanged from the full render's
#     folder, as a client across a network does (MIXFARM_REUSE=1: the
#     coordinator is on loopback all the same; client/mf_prev.h).
# Usage: tests/bench/bench_farm.sh [BUILD_DIR] (default build). Needs sox.
# NOOP_TASKS (100000), TRACK_S (60), DISPATCH_RUNS (3; 0 skips section 1)
# and RUNS (3: the renders of sections 2 to 4; more give steadier medians
# on a shared machine) override.
set -euo pipefail
B=$(cd "${1:-build}" && pwd)/bin
work=$(mktemp -d)
pids=()
shaped=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ -n "$shaped" ]; then tc qdisc del dev lo root 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
ep=tcp://127.0.0.1:$port
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start_farm() { # state dir, [extra coordinator args]; SHARED=1: workers use the coordinator's store
  "$B/mixfarm-coordinator" --bind "$ep" --state "$1" "${@:2}" 2>>"$work/coord.log" & pids+=($!)
  sleep 0.2 # the store exists before a worker opens it
  for w in w1 w2; do
    if [ -n "${SHARED:-}" ]; then where=(--shared-store "$1/blobs"); else where=(--cache "$1/$w"); fi
    "$B/mixfarm-worker" --connect "$ep" --slots "${SLOTS:-2}" "${where[@]}" 2>>"$work/w.log" & pids+=($!)
  done
  # Both workers are in before anything is timed: a render that waits for
  # them would time their start-up too.
  local i; for i in $(seq 100); do
    [ "$(grep -c ' joined' "$work/coord.log")" -ge $((joined + 2)) ] && break; sleep 0.05
  done
  joined=$(grep -c ' joined' "$work/coord.log")
}
joined=0
stop_farm() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
field() { grep -o "\"$1\": [0-9.]*" | head -1 | awk '{print $2}'; }

echo "== 1. dispatch: no-op tasks, journal on, 2 worker processes (16 slots each) over TCP"
N=${NOOP_TASKS:-100000}
rates=()
for run in $(seq 1 "${DISPATCH_RUNS:-3}"); do
  SLOTS=16 start_farm "$work/noop$run" --bench-noop-tasks "$N"
  # Polled until the first task is done (the plan of N tasks comes first),
  # then one `watch` waits for the end: a status process every 50 ms all
  # along cost the farm about a tenth of this machine's two cores.
  t0=$(now) t1="" d1=0 t2=""
  for _ in $(seq 1 6000); do
    js=$("$B/mixfarm" status 1 --json --coordinator "$ep" 2>/dev/null || true)
    d=$(echo "$js" | field tasks_done); d=${d:-0}
    if echo "$js" | grep -q '"state": "done"'; then t2=$(now); break; fi
    if [ "$d" -gt 0 ]; then t1=$(now) d1=$d; break; fi
    sleep 0.05
  done
  if [ -z "$t2" ]; then "$B/mixfarm" watch 1 --coordinator "$ep" >/dev/null 2>&1; t2=$(now); fi
  [ -n "$t1" ] || t1=$t0 # finished before the first look: count from the start
  rate=$(echo "($N - $d1) / ($t2 - $t1)" | bc -l)
  printf "  run %d: %.0f tasks/s\n" "$run" "$rate"
  rates+=("$rate")
  stop_farm
done
[ ${#rates[@]} -gt 0 ] && printf "  median: %.0f tasks/s\n" "$(printf '%s\n' "${rates[@]}" | median)"

echo "== 2. a 16-track session: embedded (--workers 2) vs coordinator + 2 worker processes (2 slots each)"
S=$work/session; mkdir -p "$S"
. "$(dirname "$0")/bench_session.sh"
bench_sources "$S"
mk_session() { # gain of track 1
  cat > "$S/$2" <<JSON
{"mixfarm": 1, "name": "bench", "sample_rate": 48000,
 "tracks": [${tracks/\"name\": \"T1\",/\"name\": \"T1\", \"gain_db\": $1,}
   {"name": "Last", "file": "t1.wav", "mute": true}],
 "buses": [{"name": "Bus1"}, {"name": "Bus2"}]}
JSON
}
mk_session 0 s.json; mk_session -4 s2.json; mk_session -6 s3.json
emb=() dist=() full=() fader=() same=() shared=() sfull=() sfader=()
memb=() mfull=() mfader=() # MB every process of a render wrote to files
cemb=() cfull=() cfader=() # CPU seconds of every process a render used: steadier than wall time
ticks() { # the CPU ticks the farm's processes have used so far
  local t=0 p; for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done; echo "$t"
}
hz=$(getconf CLK_TCK)
wchar() { # the bytes the farm's processes have handed to write(2) so far (files, not sockets)
  local t=0 p; for p in "${pids[@]}"; do
    [ -r "/proc/$p/io" ] && t=$((t + $(awk '/^wchar/ {print $2}' "/proc/$p/io")))
  done; echo "$t"
}
timed() { # command...: runs it; sets wall, cpu (its own CPU plus the farm's) and mb (written)
  # The previous render's files are written out first: their writeback
  # would otherwise land in this one's time.
  sync
  local f0 w0 t0 t1; f0=$(ticks); w0=$(wchar); t0=$(now)
  # The shell's /proc/PID/io counts its waited-for child's writes too.
  /usr/bin/time -f "%U %S" -o "$work/cpu.txt" \
    bash -c '"$@"; awk "/^wchar/ {print \$2}" /proc/$$/io >"$0"' "$work/wchar.txt" "$@"; t1=$(now)
  wall=$(echo "$t1 - $t0" | bc -l)
  cpu=$(echo "$(awk '{print $1 + $2}' "$work/cpu.txt") + ($(ticks) - $f0) / $hz" | bc -l)
  mb=$(echo "($(cat "$work/wchar.txt") + $(wchar) - $w0) / 1000000" | bc -l)
}
# Every render of a run writes into a folder of its own (a render into a
# folder holding the same files keeps them instead of writing them), and the
# run's folders go at its end: left behind, a few GB per run of stores and
# outputs made the later runs' processes slower (up to 2x the coordinator's
# CPU by the third run).
for run in $(seq 1 "${RUNS:-3}"); do
  timed "$B/mixfarm" render "$S/s.json" -o "$work/out-e$run" --workers 2 -q
  emb+=("$wall") cemb+=("$cpu") memb+=("$mb")
  start_farm "$work/st$run"
  timed env MIXFARM_REUSE=0 "$B/mixfarm" render "$S/s.json" -o "$work/out-d$run" --coordinator "$ep" -q
  dist+=("$wall") full+=("$wall") cfull+=("$cpu") mfull+=("$mb")
  cmp "$work/out-e$run/mix.wav" "$work/out-d$run/mix.wav"
  # The fader moved, into a new folder; then moved again, rendered into the
  # full render's folder as a revision replacing it (its Bus2 stem is kept).
  timed "$B/mixfarm" render "$S/s2.json" -o "$work/out-f$run" --coordinator "$ep" -q
  fader+=("$wall") cfader+=("$cpu") mfader+=("$mb")
  timed "$B/mixfarm" render "$S/s3.json" -o "$work/out-d$run" --coordinator "$ep" -q
  same+=("$wall")
  stop_farm
  # The default farm's stores and outputs go before the shared farm starts,
  # as the last run's did before this run's first render: this machine's
  # hypervisor takes back memory that stays free, so a render that can reuse
  # pages just freed writes several times faster than one that needs fresh
  # ones (the shared render read 1.1-1.6 s with them kept, 0.7 s without).
  rm -rf "$work/st$run" "$work/out-f$run" "$work/out-d$run"
  SHARED=1 start_farm "$work/sh$run"
  # Timed as the others, after a sync: the writeback of the renders before
  # it (about 1.5 GB) used to land in its time.
  timed env MIXFARM_REUSE=0 "$B/mixfarm" render "$S/s.json" -o "$work/out-s$run" --coordinator "$ep" -q
  shared+=("$wall")
  cmp "$work/out-e$run/mix.wav" "$work/out-s$run/mix.wav"
  stop_farm
  rm -rf "$work/sh$run" "$work/out-s$run"
  # The whole farm on one store (a studio whose machines mount the farm's
  # storage): the client too copies sources into it and reads outputs from
  # it (mixfarm --shared-store). A farm of its own: the renders before
  # would answer this one from the action cache.
  SHARED=1 start_farm "$work/sc$run"
  timed env MIXFARM_REUSE=0 "$B/mixfarm" render "$S/s.json" -o "$work/out-c$run" --coordinator "$ep" -q \
    --shared-store "$work/sc$run/blobs"
  sfull+=("$wall")
  cmp "$work/out-e$run/mix.wav" "$work/out-c$run/mix.wav"
  timed "$B/mixfarm" render "$S/s2.json" -o "$work/out-g$run" --coordinator "$ep" -q \
    --shared-store "$work/sc$run/blobs"
  sfader+=("$wall")
  stop_farm
  rm -rf "$work/st$run" "$work/sh$run" "$work/sc$run" "$work"/out-?"$run"
done
me=$(printf '%s\n' "${emb[@]}" | median); md=$(printf '%s\n' "${dist[@]}" | median)
printf "  embedded %.2f s, distributed %.2f s (median of ${RUNS:-3}): distributed/embedded = %.2f; mix.wav identical\n" "$me" "$md" "$(echo "$md / $me" | bc -l)"
ms=$(printf '%s\n' "${shared[@]}" | median)
printf "  workers on the coordinator's store (--shared-store): %.2f s: shared/embedded = %.2f\n" "$ms" "$(echo "$ms / $me" | bc -l)"
mc=$(printf '%s\n' "${sfull[@]}" | median); mg=$(printf '%s\n' "${sfader[@]}" | median)
printf "  client and workers on it too (mixfarm --shared-store): %.2f s: /embedded = %.2f; after one fader change %.2f s: %.0f %%\n" \
  "$mc" "$(echo "$mc / $me" | bc -l)" "$mg" "$(echo "100 * $mg / $mc" | bc -l)"
mf=$(printf '%s\n' "${full[@]}" | median); mr=$(printf '%s\n' "${fader[@]}" | median)
echo "== 3. re-render after one fader change (same coordinator, action cache)"
printf "  full %.2f s, after one fader change %.2f s: %.0f %% of the full render\n" "$mf" "$mr" "$(echo "100 * $mr / $mf" | bc -l)"
mq=$(printf '%s\n' "${same[@]}" | median)
printf "  the same, rendered into the full render's folder (unchanged files kept): %.2f s: %.0f %%\n" "$mq" "$(echo "100 * $mq / $mf" | bc -l)"
ce=$(printf '%s\n' "${cemb[@]}" | median); cf=$(printf '%s\n' "${cfull[@]}" | median)
cr=$(printf '%s\n' "${cfader[@]}" | median)
echo "== CPU seconds, every process of the render (medians; steadier than wall time on a shared machine)"
printf "  embedded %.2f, distributed %.2f (%.2fx), after one fader change %.2f (%.0f %% of the distributed)\n" \
  "$ce" "$cf" "$(echo "$cf / $ce" | bc -l)" "$cr" "$(echo "100 * $cr / $cf" | bc -l)"
we=$(printf '%s\n' "${memb[@]}" | median); wf=$(printf '%s\n' "${mfull[@]}" | median)
wr=$(printf '%s\n' "${mfader[@]}" | median)
echo "== bytes written to files, every process of the render (write(2); the page cache is most of a render's data movement)"
printf "  embedded %.0f MB, distributed %.0f MB (%.2fx), after one fader change %.0f MB (%.0f %% of the distributed)\n" \
  "$we" "$wf" "$(echo "$wf / $we" | bc -l)" "$wr" "$(echo "100 * $wr / $wf" | bc -l)"

[ -n "${LINK_RATE:-}" ] || exit 0
echo "== 4. the coordinator's link held to $LINK_RATE both ways, shared by the workers and the client"
if [ "$(id -u)" != 0 ] || ! command -v tc >/dev/null; then
  echo "  skipped: shaping lo needs root and tc"; exit 0
fi
# Only the farm's port goes through the class; lo's other traffic passes.
tc qdisc del dev lo root 2>/dev/null || true
tc qdisc add dev lo root handle 1: htb default 99 r2q 1000
tc class add dev lo parent 1: classid 1:1 htb rate "$LINK_RATE" burst 256k cburst 256k
tc filter add dev lo protocol ip parent 1:0 prio 1 u32 match ip dport "$port" 0xffff flowid 1:1
tc filter add dev lo protocol ip parent 1:0 prio 2 u32 match ip sport "$port" 0xffff flowid 1:1
shaped=1
nfull=() nfader=()
for run in $(seq 1 "${RUNS:-3}"); do
  start_farm "$work/sn$run"
  timed env MIXFARM_REUSE=0 "$B/mixfarm" render "$S/s.json" -o "$work/out-n$run" --coordinator "$ep" -q
  nfull+=("$wall")
  timed env MIXFARM_REUSE=1 "$B/mixfarm" render "$S/s2.json" -o "$work/out-m$run" --coordinator "$ep" -q
  nfader+=("$wall")
  stop_farm
  rm -rf "$work/sn$run" "$work/out-n$run" "$work/out-m$run"
done
tc qdisc del dev lo root; shaped=""
nf=$(printf '%s\n' "${nfull[@]}" | median); nr=$(printf '%s\n' "${nfader[@]}" | median)
printf "  full %.2f s, after one fader change %.2f s: %.0f %% of the full render\n" "$nf" "$nr" \
  "$(echo "100 * $nr / $nf" | bc -l)"

#!/usr/bin/env bash
# A farm over several hosts on one machine: network namespaces joined by a
# bridge, each with its own address in 10.200.0.0/24 (addresses that exist
# only inside these namespaces):
#
#   mfN-sw    the switch (a bridge)
#   mfN-co    10.200.0.1  mixfarm-coordinator
#   mfN-w1    10.200.0.2  mixfarm-worker w1
#   mfN-w2    10.200.0.3  mixfarm-worker w2
#   mfN-cl    10.200.0.4  the mixfarm client
#
# A job runs; w1's link goes down while it holds a task, long enough for the
# coordinator to count it lost and requeue its task, then comes back; w1
# rejoins; the job completes, and its mix, stems and deliverables are
# bit-identical to an embedded render of the same session.
#
# usage: netns.sh BIN_DIR [SANITIZED]   (needs root and `ip netns`; exit 77 =
# skipped). SANITIZED=1 (ASan builds run the DSP many times slower): a
# smaller session.
set -euo pipefail
bin=$(cd "${1:?usage: netns.sh BIN_DIR [SANITIZED]}" && pwd)
tracks=16 trim=""
if [ "${2:-0}" = 1 ]; then tracks=6 trim='"trim": {"from_s": 0, "length_s": 6}, '; fi
here=$(cd "$(dirname "$0")" && pwd)
deadline=$((SECONDS + ${MF_NETNS_BUDGET_S:-150}))

skip() { echo "SKIP ops_netns: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "no ip command (iproute2)"
probe="mfprobe$$"
ip netns add "$probe" 2>/dev/null || skip "ip netns is not available here"
ip netns del "$probe"

id=$(($$ % 100000))
ns_sw="mf$id-sw" ns_co="mf$id-co" ns_w1="mf$id-w1" ns_w2="mf$id-w2" ns_cl="mf$id-cl"
work=$(mktemp -d "${TMPDIR:-/tmp}/mixfarm-netns-XXXXXX")
pids=()
ok=0

# Stops what this script started (by pid, and whatever still runs inside its
# own namespaces), then removes the namespaces.
cleanup() {
  local all=("${pids[@]}") ns
  for ns in "$ns_cl" "$ns_w2" "$ns_w1" "$ns_co"; do
    mapfile -t -O "${#all[@]}" all < <(ip netns pids "$ns" 2>/dev/null || true)
  done
  for p in "${all[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    local alive=0
    for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${all[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$ns_cl" "$ns_w2" "$ns_w1" "$ns_co" "$ns_sw"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "$ok" -ne 1 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
    echo "ops_netns: failed; logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
fail() { echo "ops_netns: FAIL: $*"; exit 1; }
# wait_for SECONDS FILE TEXT [COUNT]: until FILE has COUNT lines containing TEXT.
wait_for() {
  local until=$((SECONDS + $1)) n=${4:-1}
  while [ "$SECONDS" -lt "$until" ] && [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(grep -cF -- "$3" "$2" 2>/dev/null || true)" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---- the network ----
ip netns add "$ns_sw"
ip -n "$ns_sw" link add br0 type bridge
ip -n "$ns_sw" link set br0 up
ip -n "$ns_sw" link set lo up
i=1
for ns in "$ns_co" "$ns_w1" "$ns_w2" "$ns_cl"; do
  ip netns add "$ns"
  ip link add "mf${id}h$i" netns "$ns" type veth peer name "p$i" netns "$ns_sw"
  ip -n "$ns" link set "mf${id}h$i" name eth0
  ip -n "$ns" addr add "10.200.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$ns_sw" link set "p$i" master br0
  ip -n "$ns_sw" link set "p$i" up
  i=$((i + 1))
done
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- the session: the demo's audio, 16 tracks (6 sanitized) with several inserts each ----
"$bin/mixfarm-mkdemo" "$work/song" >/dev/null
files=(kick.wav snare.wav hats.flac bass.wav chords.wav lead.aiff)
{
  echo '{"mixfarm": 1, "name": "Netns", "sample_rate": 48000, "tracks": ['
  for t in $(seq 0 $((tracks - 1))); do
    f=${files[$((t % 6))]}
    [ "$t" -gt 0 ] && echo ','
    printf '{"name": "T%d", "file": "audio/%s", %s"gain_db": -%d, "pan": 0.%d, "output": "%s",' \
      "$t" "$f" "$trim" $((6 + t % 4)) $((t % 9)) "$([ $((t % 2)) -eq 0 ] && echo Drums || echo Music)"
    printf ' "sends": [{"bus": "Room", "level_db": -14}],'
    printf ' "inserts": [{"type": "eq", "bands": [{"kind": "peak", "freq_hz": %d, "gain_db": 2, "q": 1}]},' $((200 + 90 * t))
    printf ' {"type": "compressor", "threshold_db": -20, "ratio": 3},'
    printf ' {"type": "saturation", "drive_db": 6, "mix": 0.5}]}'
  done
  echo '], "buses": ['
  echo ' {"name": "Drums", "output": "master", "inserts": [{"type": "compressor", "threshold_db": -12, "ratio": 2}]},'
  echo ' {"name": "Music", "output": "master"},'
  echo ' {"name": "Room", "output": "master", "inserts": [{"type": "reverb", "model": "plate", "decay_s": 2.0, "mix": 1.0}]}],'
  echo ' "stems": ["Drums", "Music", "Room"],'
  echo ' "mastering": {"target": "streaming"}, "outputs": [{"format": "wav", "bits": 24}],'
  echo ' "metadata": {"title": "Netns"}}'
} >"$work/song/session.json"

# ---- the farm ----
ep=tcp://10.200.0.1:5555
# Started with `ip netns exec` itself (it execs the program), so $! is the daemon.
ip netns exec "$ns_co" "$bin/mixfarm-coordinator" --bind "$ep" --state "$work/state" -v \
  </dev/null >/dev/null 2>"$work/coordinator.log" &
pids+=($!)
wait_for 15 "$work/coordinator.log" "listening on" || fail "the coordinator did not start"
for w in 1 2; do
  ns=$ns_w1
  [ "$w" -eq 2 ] && ns=$ns_w2
  ip netns exec "$ns" "$bin/mixfarm-worker" --connect "$ep" --slots 1 --cache "$work/cache-w$w" \
    --name "w$w" -v </dev/null >/dev/null 2>"$work/worker-w$w.log" &
  pids+=($!)
done
wait_for 15 "$work/coordinator.log" "worker w1 joined" || fail "w1 did not join"
wait_for 15 "$work/coordinator.log" "worker w2 joined" || fail "w2 did not join"

job=$(nsx "$ns_cl" "$bin/mixfarm" submit "$work/song/session.json" --coordinator "$ep" 2>"$work/submit.log" | tail -n 1)
[ -n "$job" ] || fail "submit printed no job id"
echo "ops_netns: job $job submitted from 10.200.0.4 to $ep"

# Cut w1 off while it holds a task; keep it off past the coordinator's 5 s.
wait_for 30 "$work/coordinator.log" "sent to w1" || fail "w1 got no task"
ip -n "$ns_w1" link set eth0 down
echo "ops_netns: w1 cut off"
wait_for 20 "$work/coordinator.log" "worker w1 lost" || fail "the coordinator did not notice w1 was gone"
state=$(nsx "$ns_cl" "$bin/mixfarm" status "$job" --coordinator "$ep" --json | grep -o '"state": *"[a-z]*"' || true)
echo "ops_netns: w1 lost; job $state"
ip -n "$ns_w1" link set eth0 up
echo "ops_netns: w1 back"
wait_for 60 "$work/coordinator.log" "worker w1 joined" 2 || fail "w1 did not rejoin"

timeout $((deadline - SECONDS > 5 ? deadline - SECONDS : 5)) \
  ip netns exec "$ns_cl" "$bin/mixfarm" watch "$job" --coordinator "$ep" >/dev/null 2>"$work/watch.log" ||
  fail "the job did not complete"
nsx "$ns_cl" "$bin/mixfarm" fetch "$job" -o "$work/farm" --coordinator "$ep" >/dev/null 2>"$work/fetch.log" ||
  fail "fetch failed"
grep -q "requeued" "$work/coordinator.log" || fail "no task was requeued when w1 was lost"

# The same bits as an embedded render.
"$bin/mixfarm" render "$work/song/session.json" -o "$work/embedded" --workers 2 --quiet 2>"$work/embedded.log" ||
  fail "the embedded render failed"
n=0
while IFS= read -r -d '' f; do
  rel=${f#"$work/embedded/"}
  case "$rel" in qc.json | qc.html) continue ;; esac
  cmp -s "$f" "$work/farm/$rel" || fail "$rel differs between the farm and the embedded render"
  n=$((n + 1))
done < <(find "$work/embedded" -type f -print0)
[ "$n" -ge 5 ] || fail "only $n files compared"
echo "ops_netns: $n files bit-identical to the embedded render (w1 lost and rejoined mid-job)"
ok=1

#!/usr/bin/env bash
# Channel-strip benchmark (figures for docs/dsp.md), measured side by side in
# one run: a session of 16 mono tracks x 240 s at 48 kHz, each with a 4-band
# EQ, a compressor and pan, rendered by `mixfarm render --workers 2`, against
# ffmpeg running the same strips (highpass + 2 x equalizer + highshelf +
# acompressor + pan, float WAV out) and sox running them (highpass, 2 x
# equalizer, treble, compand with the same threshold, ratio and times, remix
# for the pan), each two processes at a time. Median of 3 runs each,
# alternating; mixfarm's peak memory from /usr/bin/time -v.
# The render does more than the strips (the mix's QC, six listening copies,
# manifest.json), so the same work is also compared: the CPU seconds of
# mixfarm's strip and sum tasks (MIXFARM_LOG=debug: "(strip) done in X s")
# against the CPU seconds ffmpeg and sox use for their strips.
# mixfarm returns with OUTDIR on disk; ffmpeg's outputs are in the page cache
# when it exits, so its time with a `sync` of them is printed as well.
# Usage: tests/bench/bench_strip.sh [BUILD_DIR] (default build).
# Needs sox, ffmpeg, bc and GNU time. TRACK_S (240) and RUNS (3) override.
set -euo pipefail
B=$(cd "${1:-build}" && pwd)/bin
T=${TRACK_S:-240}
RUNS=${RUNS:-3}
N=16
for tool in sox ffmpeg bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench_strip: needs $tool" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== sources: $N mono tracks x $T s at 48 kHz (sox)"
for i in $(seq 1 $N); do
  # A tone with a slow tremolo and some noise: the compressor has work to do.
  sox -q -n -r 48000 -b 24 -c 1 "$work/t$i.wav" synth "$T" sine $((110 * i)) synth "$T" \
    pinknoise mix tremolo 0.5 80 vol 0.3 &
  if (( i % 2 == 0 )); then wait; fi
done
wait

# The strip, both ways. Pan: constant power (-3 dB law), as mixfarm's default.
tracks=""
for i in $(seq 1 $N); do
  pan=$(echo "($i - 8.5) / 8" | bc -l)
  tracks="$tracks{\"name\": \"T$i\", \"file\": \"t$i.wav\", \"pan\": $(printf '%.4f' "$pan"), \"inserts\": [
    {\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\", \"freq_hz\": 40},
      {\"kind\": \"peak\", \"freq_hz\": 400, \"gain_db\": -2, \"q\": 1},
      {\"kind\": \"peak\", \"freq_hz\": 2500, \"gain_db\": 1.5, \"q\": 0.8},
      {\"kind\": \"highshelf\", \"freq_hz\": 9000, \"gain_db\": 1}]},
    {\"type\": \"compressor\", \"threshold_db\": -20, \"ratio\": 3, \"attack_ms\": 10, \"release_ms\": 120}]}"
  [ "$i" -lt $N ] && tracks="$tracks,"
done
# The master fader keeps the sum of 16 tracks under full scale (the render's
# QC of the mix would warn about clipping); the strips are as ffmpeg's.
echo "{\"mixfarm\": 1, \"name\": \"strips\", \"sample_rate\": 48000, \"tracks\": [$tracks],
  \"master\": {\"gain_db\": -18}}" > "$work/s.json"

filters() { # track number -> ffmpeg filter graph
  local pan l r
  pan=$(printf '%.4f' "$(echo "($1 - 8.5) / 8" | bc -l)")
  l=$(echo "c(($pan + 1) * 3.14159265358979 / 4)" | bc -l)
  r=$(echo "s(($pan + 1) * 3.14159265358979 / 4)" | bc -l)
  printf 'highpass=f=40:p=2:t=q:w=0.707,equalizer=f=400:t=q:w=1:g=-2,'
  printf 'equalizer=f=2500:t=q:w=0.8:g=1.5,highshelf=f=9000:t=q:w=0.707:g=1,'
  printf 'acompressor=threshold=-20dB:ratio=3:attack=10:release=120,'
  printf 'pan=stereo|c0=%.6f*c0|c1=%.6f*c0' "$l" "$r"
}
for i in $(seq 1 $N); do filters "$i" > "$work/f$i.txt"; done
soxfx() { # track number -> sox effects; compand: 3:1 above -20 dB (0 dB -> -13.33)
  local pan l r
  pan=$(printf '%.4f' "$(echo "($1 - 8.5) / 8" | bc -l)")
  l=$(echo "c(($pan + 1) * 3.14159265358979 / 4)" | bc -l)
  r=$(echo "s(($pan + 1) * 3.14159265358979 / 4)" | bc -l)
  printf 'highpass -2 40 0.707q equalizer 400 1q -2 equalizer 2500 0.8q 1.5 '
  printf 'treble 1 9000 0.707q compand 0.010,0.120 -20,-20,0,-13.333 remix 1v%.6f 1v%.6f' "$l" "$r"
}
for i in $(seq 1 $N); do soxfx "$i" > "$work/x$i.txt"; done

mf=() ff=() sx=() rss=() mfw=() ffc=() sxc=() ffd=()
# CPU seconds of a command and its children.
cpu_of() { awk '{print $1 + $2}' "$work/cpu.txt"; }
for run in $(seq 1 "$RUNS"); do
  rm -rf "$work/out" "$work"/sx*.wav
  # Each tool starts with the disk written out: the writeback of the one
  # before (0.7-1.5 GB) would otherwise land in its time.
  sync
  MIXFARM_LOG=debug /usr/bin/time -v -o "$work/time.txt" "$B/mixfarm" render "$work/s.json" \
    -o "$work/out" --workers 2 -q 2>"$work/mf.log"
  # The strips' work: the strip tasks and the sums of their outputs.
  mfw+=("$(sed -nE 's/.*\((strip|sum|bus|master)\) done in ([0-9.]+) s.*/\2/p' "$work/mf.log" |
    awk '{s += $1} END {print s}')")
  w=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}' |
      awk -F: '{s=0; for (i=1;i<=NF;i++) s=s*60+$i; print s}')
  m=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
  mf+=("$w") rss+=("$m")
  rm -f "$work"/ff*.wav
  sync
  t0=$(now)
  seq 1 $N | /usr/bin/time -f "%U %S" -o "$work/cpu.txt" xargs -P2 -I{} sh -c "ffmpeg -nostdin \
    -loglevel error -y -i '$work/t{}.wav' -af \"\$(cat '$work/f{}.txt')\" -c:a pcm_f32le \
    '$work/ff{}.wav'"
  t1=$(now)
  # mixfarm's render returns with its files on disk (fsync); ffmpeg's are
  # still being written out when it exits. Both ways are reported.
  sync "$work"/ff*.wav
  t2=$(now)
  ff+=("$(echo "$t1 - $t0" | bc -l)") ffc+=("$(cpu_of)") ffd+=("$(echo "$t2 - $t0" | bc -l)")
  rm -f "$work"/ff*.wav
  sync
  t0=$(now)
  seq 1 $N | /usr/bin/time -f "%U %S" -o "$work/cpu.txt" xargs -P2 -I{} sh -c "sox \
    '$work/t{}.wav' -e floating-point -b 32 '$work/sx{}.wav' \$(cat '$work/x{}.txt')"
  t1=$(now)
  sx+=("$(echo "$t1 - $t0" | bc -l)") sxc+=("$(cpu_of)")
  rm -f "$work"/sx*.wav
  printf "  run %d: mixfarm %.2f s (peak RSS %d MiB), ffmpeg %.2f s (%.2f s to disk), sox %.2f s;" \
    "$run" "$w" $((m / 1024)) "${ff[-1]}" "${ffd[-1]}" "${sx[-1]}"
  printf " strips: mixfarm %.2f CPU s, ffmpeg %.2f, sox %.2f\n" "${mfw[-1]}" "${ffc[-1]}" "${sxc[-1]}"
done
mfm=$(printf '%s\n' "${mf[@]}" | median)
ffm=$(printf '%s\n' "${ff[@]}" | median)
sxm=$(printf '%s\n' "${sx[@]}" | median)
rssm=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
printf "median: mixfarm %.2f s, ffmpeg %.2f s, sox %.2f s: mixfarm is %.1fx ffmpeg's speed, %.1fx sox's; peak RSS %d MiB\n" \
  "$mfm" "$ffm" "$sxm" "$(echo "$ffm / $mfm" | bc -l)" "$(echo "$sxm / $mfm" | bc -l)" $((rssm / 1024))
ffdm=$(printf '%s\n' "${ffd[@]}" | median)
printf "with ffmpeg's files on disk too (as mixfarm's are when it returns): ffmpeg %.2f s, mixfarm %.1fx its speed\n" \
  "$ffdm" "$(echo "$ffdm / $mfm" | bc -l)"
mfwm=$(printf '%s\n' "${mfw[@]}" | median)
ffcm=$(printf '%s\n' "${ffc[@]}" | median)
sxcm=$(printf '%s\n' "${sxc[@]}" | median)
printf "the same work (the strips and their sum, CPU seconds): mixfarm %.2f, ffmpeg %.2f, sox %.2f: %.1fx ffmpeg's speed, %.1fx sox's\n" \
  "$mfwm" "$ffcm" "$sxcm" "$(echo "$ffcm / $mfwm" | bc -l)" "$(echo "$sxcm / $mfwm" | bc -l)"

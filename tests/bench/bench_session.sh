# The farm benchmarks' session (sourced by bench_farm.sh and bench_upload.sh):
# bench_sources DIR writes 16 mono 24-bit tracks of TRACK_S (60) seconds at
# 48 kHz into DIR (sox) and sets `tracks` to their JSON: each panned, on
# Bus1 (1-8) or Bus2 (9-16), with a 4-band EQ and a compressor.
bench_sources() {
  local i pan
  tracks=""
  for i in $(seq 1 16); do
    sox -q -n -r 48000 -b 24 -c 1 "$1/t$i.wav" synth "${TRACK_S:-60}" sine $((110 * i)) tremolo 3 60 vol 0.04
    pan=$(printf '%.4f' "$(echo "($i - 8.5) / 8" | bc -l)")
    tracks="$tracks{\"name\": \"T$i\", \"file\": \"t$i.wav\", \"pan\": $pan, \"output\": \"Bus$(( (i - 1) / 8 + 1 ))\", \"inserts\": [
    {\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\", \"freq_hz\": 40}, {\"kind\": \"peak\", \"freq_hz\": 400, \"gain_db\": -2, \"q\": 1},
     {\"kind\": \"peak\", \"freq_hz\": 2500, \"gain_db\": 1.5, \"q\": 0.8}, {\"kind\": \"highshelf\", \"freq_hz\": 9000, \"gain_db\": 1}]},
    {\"type\": \"compressor\", \"threshold_db\": -20, \"ratio\": 3, \"attack_ms\": 10, \"release_ms\": 120}]},"
  done
}

#!/usr/bin/env bash
# Runs the figures quoted in docs/performance.md: each scenario N times (closed loop), the medians,
# then p99 at about half the peak rate (open loop), and optionally a long run for RSS flatness.
# Usage: bench/load/run-suite.sh <build-dir> [runs=3] [long-run-seconds=0]
set -euo pipefail
build=${1:?usage: run-suite.sh <build-dir> [runs] [long-seconds]}
runs=${2:-3}
long=${3:-0}
load="$build/bin/schakel-load"
extra=(${SCHAKEL_LOAD_ARGS:-})  # e.g. SCHAKEL_LOAD_ARGS="--daemon /path/to/schakel"
out=${SCHAKEL_LOAD_OUT:-$(mktemp -d /tmp/schakel-load-results-XXXXXX)}
echo "results in $out"

median() {  # median of a JSON field over result lines: median <file> <python expression on r>
  python3 - "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
vals = [eval(sys.argv[2], {}, {'r': r}) for r in rows]
vals = [v for v in vals if v is not None]
print(round(statistics.median(vals), 2) if vals else 'n/a')
PY
}

for s in a b c; do
  : > "$out/$s.jsonl"
  for i in $(seq "$runs"); do
    "$load" "${extra[@]}" --scenario "$s" --json --quiet >> "$out/$s.jsonl"
  done
  echo "scenario $s (median of $runs): requests/s $(median "$out/$s.jsonl" "r['requests_per_s']")," \
       "records/s $(median "$out/$s.jsonl" "r['records_accepted_per_s']")," \
       "delivered/s $(median "$out/$s.jsonl" "r['events_delivered_per_s']")," \
       "ack p50 $(median "$out/$s.jsonl" "r['ack_ms']['p50']") ms p99 $(median "$out/$s.jsonl" "r['ack_ms']['p99']") ms" \
       "max $(median "$out/$s.jsonl" "r['ack_ms']['max']") ms," \
       "e2e p50 $(median "$out/$s.jsonl" "r['end_to_end_ms_interpolated']['p50']") ms" \
       "p99 $(median "$out/$s.jsonl" "r['end_to_end_ms_interpolated']['p99']") ms," \
       "drain $(median "$out/$s.jsonl" "r['drain_s']") s, peak RSS $(median "$out/$s.jsonl" "r['daemon_peak_rss_mib']") MiB," \
       "503s $(median "$out/$s.jsonl" "r['status_503']"), errors $(median "$out/$s.jsonl" "r['other_errors']")"
  peak=$(median "$out/$s.jsonl" "r['requests_per_s']")
  half=$(python3 -c "print(max(1, round($peak / 2)))")
  "$load" "${extra[@]}" --scenario "$s" --rate "$half" --json --quiet > "$out/$s-half.jsonl"
  echo "scenario $s at half peak ($half requests/s): ack $(median "$out/$s-half.jsonl" "r['ack_ms']['p50']") ms p50," \
       "$(median "$out/$s-half.jsonl" "r['ack_ms']['p99']") ms p99, $(median "$out/$s-half.jsonl" "r['ack_ms']['max']") ms max;" \
       "achieved $(median "$out/$s-half.jsonl" "r['requests_per_s']") requests/s"
done

if [ "$long" -gt 0 ]; then
  "$load" "${extra[@]}" --scenario a --duration "$long" --json --quiet > "$out/long.jsonl"
  echo "long run ($long s, scenario a): RSS trend $(median "$out/long.jsonl" "r['daemon_rss_trend_mib_per_min']") MiB/min," \
       "peak $(median "$out/long.jsonl" "r['daemon_peak_rss_mib']") MiB"
fi

#!/usr/bin/env bash
# The demo (README's first command): installs, builds, and runs the headline path on the embedded
# SQLite store. A school's absence export lands in the drop folder; the attendance connector and the
# attendance-rules processor turn it into alerts: the attendance coordinator gets the M@ZL alert and the
# attendance officer the leerplicht alert at once, the JGZ doctor gets the M@ZL referral only after the
# school records that the parents were informed. Three partner receivers verify every signature.
# Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SCHAKEL_BUILD_DIR:-$root/build}/release

bash deploy/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target schakel schakel-receiver attendance attendance-rules

work=$(mktemp -d /tmp/schakel-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Secrets for this run only: random, never printed.
export SCHAKEL_INGEST_TOKEN=$(openssl rand -hex 24)
export SCHAKEL_ADMIN_TOKEN=$(openssl rand -hex 24)
export SCHAKEL_DATA_DIR="$work/data" SCHAKEL_DROP_DIR="$work/drop" SCHAKEL_PORT=0

start_receiver() {  # name, env prefix
  local name=$1 prefix=$2 secret
  secret="whsec_$(openssl rand -base64 32)"
  mkdir -p "$work/$name"
  # The secret goes through the environment, never the command line (which any user can read in ps).
  SCHAKEL_WEBHOOK_SECRET="$secret" "$build/bin/schakel-receiver" --listen 127.0.0.1:0 --port-file "$work/$name/port" \
    --out "$work/$name/received.jsonl" --quiet &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name/port" ] && break; sleep 0.1; done
  export "${prefix}_URL=http://127.0.0.1:$(cat "$work/$name/port")/webhook" "${prefix}_SECRET=$secret"
}
received() { [ -f "$work/$1/received.jsonl" ] && wc -l <"$work/$1/received.jsonl" || echo 0; }
wait_for() {  # name, count
  for _ in $(seq 200); do [ "$(received "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  echo "demo: $1 did not receive $2 event(s); hub log: $work/hub.log" >&2
  exit 1
}
show() {  # name: one line per event, the fields that partner may see
  jq -r '.event | "   \(.type)  student \(.data.subject.student_key)  " +
    ((.data.content.evidence // {}) | to_entries | map("\(.key)=\(.value)") | join(" "))' \
    "$work/$1/received.jsonl"
}

echo "== starting three partners' receivers (each verifies every Standard Webhooks signature)"
start_receiver coordinator SCHAKEL_COORDINATOR
start_receiver jgz SCHAKEL_JGZ
start_receiver officer SCHAKEL_OFFICER

config=deploy/examples/attendance.yaml
echo "== checking the configuration"
"$build/bin/schakel" check-config "$config"

echo "== starting the hub (SQLite in $SCHAKEL_DATA_DIR, drop folder $SCHAKEL_DROP_DIR)"
"$build/bin/schakel" serve --config "$config" 2>"$work/hub.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$SCHAKEL_DATA_DIR/port" ] && break; sleep 0.1; done
port=$(cat "$SCHAKEL_DATA_DIR/port")

echo "== the school's administration system drops its absence export (write, then rename)"
cp deploy/examples/attendance-export.csv "$SCHAKEL_DROP_DIR/.export.csv.tmp"
mv "$SCHAKEL_DROP_DIR/.export.csv.tmp" "$SCHAKEL_DROP_DIR/export-2026-11-27.csv"
sed -n '1,4p' deploy/examples/attendance-export.csv | sed 's/^/   /'
echo "   … ($(($(wc -l <deploy/examples/attendance-export.csv) - 1)) registrations)"

wait_for coordinator 2
wait_for officer 1
echo "== the attendance coordinator received:"
show coordinator
echo "== the attendance officer received:"
show officer
echo "== the JGZ doctor received $(received jgz) event(s): the parents have not been informed yet"
[ "$(received jgz)" -eq 0 ] || { echo "demo: the JGZ heard of the alert before the referral" >&2; exit 1; }

alert=$(jq -r 'select(.event.type == "nl.schakel.attendance.mazl.triggered") | .event.id' \
  "$work/coordinator/received.jsonl" | head -1)
today=$(date -u +%F)
echo "== the coordinator talks with student and parents, then records the referral"
echo "   schakel alerts refer $alert --parents-informed-on $today --informed-by mentor"
"$build/bin/schakel" alerts refer "$alert" --config "$config" --parents-informed-on "$today" --informed-by mentor

wait_for jgz 1
echo "== the JGZ doctor received (only the fields its subscription allows):"
show jgz
echo "== the export was archived: $(ls "$SCHAKEL_DROP_DIR/archive")"
echo "== the privacy officer's view: who gets what, and why (schakel privacy report)"
"$build/bin/schakel" privacy report "$config" 2>/dev/null | grep -E '^\| (attendance-|jgz-)' | cut -d'|' -f2,3,6,9,10 || true
echo "== every disclosure is in the hash-chained audit trail (schakel audit verify / export)"
"$build/bin/schakel" audit verify --config "$config"
"$build/bin/schakel" audit export --config "$config" | jq -c '{action, actor, purpose, subject, object_type}' | head -4
echo "== hub metrics (excerpt)"
curl -sS "http://127.0.0.1:$port/metrics" |
  grep -E '^schakel_(signals_stored_total|processor_derived_total|deliveries_total)' || true
echo "== done: stopping; nothing left behind but $work"

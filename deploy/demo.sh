#!/usr/bin/env bash
# The demo (README's first command): installs, builds, starts a partner-side receiver and the hub on
# the embedded SQLite store, posts deploy/examples/quickstart-records.json as a source system would,
# and shows what the partner received, signature-verified. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SCHAKEL_BUILD_DIR:-$root/build}/release

bash deploy/install-deps.sh
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target schakel schakel-receiver generic-json

work=$(mktemp -d /tmp/schakel-demo.XXXXXX)
cleanup() {
  [ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null || true
  [ -n "${receiver_pid:-}" ] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null || true
}
trap cleanup EXIT

# Secrets for this run only: random, never printed.
export SCHAKEL_INGEST_TOKEN=$(openssl rand -hex 24)
export SCHAKEL_WEBHOOK_SECRET="whsec_$(openssl rand -base64 32)"
export SCHAKEL_DATA_DIR="$work/data"
records="$root/deploy/examples/quickstart-records.json"
expected=$(grep -c '"leerling"' "$records")

echo "== starting the partner's receiver (verifies every Standard Webhooks signature)"
"$build/bin/schakel-receiver" --listen 127.0.0.1:0 --port-file "$work/receiver.port" --out "$work/received.jsonl" &
receiver_pid=$!
for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
export SCHAKEL_WEBHOOK_URL="http://127.0.0.1:$(cat "$work/receiver.port")/webhook"

echo "== checking the configuration"
export SCHAKEL_PORT=0
"$build/bin/schakel" check-config deploy/examples/quickstart.yaml

echo "== starting the hub (SQLite in $SCHAKEL_DATA_DIR)"
"$build/bin/schakel" serve --config deploy/examples/quickstart.yaml 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 100); do [ -s "$SCHAKEL_DATA_DIR/port" ] && break; sleep 0.1; done
port=$(cat "$SCHAKEL_DATA_DIR/port")

echo "== a source system posts $expected absence records to http://127.0.0.1:$port/v1/connectors/quickstart/records"
curl -sS -H "Authorization: Bearer $SCHAKEL_INGEST_TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$records" "http://127.0.0.1:$port/v1/connectors/quickstart/records"
echo

echo "== waiting for the partner to receive them"
for _ in $(seq 150); do
  [ -f "$work/received.jsonl" ] && [ "$(wc -l <"$work/received.jsonl")" -ge "$expected" ] && break
  sleep 0.1
done
got=$(wc -l <"$work/received.jsonl" 2>/dev/null || echo 0)
echo "== the partner received $got of $expected events, each with a verified signature"
echo "== hub metrics (excerpt)"
curl -sS "http://127.0.0.1:$port/metrics" | grep -E '^schakel_(records_received|signals_stored|deliveries)_total' || true
[ "$got" -ge "$expected" ] || { echo "demo: not every event arrived; hub log: $work/hub.log"; exit 1; }
echo "== done: stop with nothing left behind (data was in $work)"

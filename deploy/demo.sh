#!/usr/bin/env bash
# The demo (README's first command): installs, builds, and runs the headline path on the embedded
# SQLite store. A school's absence export lands in the drop folder; the attendance connector and the
# attendance-rules processor turn it into alerts: the attendance coordinator gets the M@ZL alert and the
# attendance officer the leerplicht alert at once, the JGZ doctor gets the M@ZL referral only after the
# school records that the parents were informed. Three partner receivers verify every signature.
# Everything stays on 127.0.0.1.
#
# `bash deploy/demo.sh tracking` runs the tracking capability instead (deploy/examples/tracking.yaml):
# two rounds of a tracking-system export become at-risk, decline and quiet-withdrawal alerts, and two
# staff systems post observations; the school's mentor/ZAT coordinator receives them, with the
# staff's remark, which never leaves the school.
#
# `bash deploy/demo.sh regional` runs regional trends (deploy/examples/regional.yaml): two schools'
# absence exports over five weeks become weekly, monthly and year-to-date class trends for a regional
# partnership, with small cells suppressed and never a row about one student; then a CSV export and
# an SVG plot.
set -euo pipefail
scenario=${1:-attendance}
case "$scenario" in attendance | tracking | regional) ;; *) echo "usage: $0 [attendance|tracking|regional]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SCHAKEL_BUILD_DIR:-$root/build}/release

bash deploy/install-deps.sh
# As in deploy/test.sh: the cache is shared by every clone, whatever its folder.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target schakel schakel-receiver attendance attendance-rules tracking \
  tracking-trends observations

work=$(mktemp -d /tmp/schakel-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Secrets for this run only: random, never printed.
export SCHAKEL_INGEST_TOKEN=$(openssl rand -hex 24)
# One token per role (docs/security.md); the CLI reads its token from a file, never from its arguments.
export SCHAKEL_OPS_TOKEN=$(openssl rand -hex 24) SCHAKEL_PRIVACY_OFFICER_TOKEN=$(openssl rand -hex 24) \
  SCHAKEL_LINKER_TOKEN=$(openssl rand -hex 24) SCHAKEL_TRENDS_TOKEN=$(openssl rand -hex 24)
(
  umask 077
  printf '%s\n' "$SCHAKEL_PRIVACY_OFFICER_TOKEN" >"$work/privacy-officer.token"
  printf '%s\n' "$SCHAKEL_TRENDS_TOKEN" >"$work/trends.token"
)
# The keys beside the data, never in it: a copy of data/ reveals no BSN behind its hashes.
export SCHAKEL_DATA_DIR="$work/data" SCHAKEL_KEYS_DIR="$work/keys" SCHAKEL_DROP_DIR="$work/drop" SCHAKEL_PORT=0

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

start_hub() {  # config
  echo "== checking the configuration"
  "$build/bin/schakel" check-config "$1"
  echo "== starting the hub (SQLite in $SCHAKEL_DATA_DIR)"
  "$build/bin/schakel" serve --config "$1" 2>"$work/hub.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$SCHAKEL_DATA_DIR/port" ] && break; sleep 0.1; done
  port=$(cat "$SCHAKEL_DATA_DIR/port")
}
post() {  # token, path, content type, file: prints accepted/rejected
  curl -sS -H "Authorization: Bearer $1" -H "Content-Type: $3" --data-binary "@$4" "http://127.0.0.1:$port$2" |
    jq -c '{accepted: (.accepted // [] | length), rejected: (.rejected // .extensions.rejected // [])}'
}
finish() {  # config, name of the partner for the report
  echo "== the privacy officer's view (schakel privacy report)"
  "$build/bin/schakel" privacy report "$1" 2>/dev/null | grep -E "^\| $2" | cut -d'|' -f2,3,6,9,10 || true
  echo "== every disclosure is in the keyed, hash-chained audit trail, its head signed into keys_dir (schakel audit verify / export)"
  "$build/bin/schakel" audit verify --config "$1"
  "$build/bin/schakel" audit export --config "$1" | jq -c '{action, actor, purpose, subject, object_type}' | sed -n '1,4p'
  echo "== hub metrics (excerpt)"
  curl -sS -H "Authorization: Bearer $SCHAKEL_OPS_TOKEN" "http://127.0.0.1:$port/metrics" |
    grep -E '^schakel_(signals_stored_total|processor_derived_total|deliveries_total)' || true
  echo "== done: stopping; nothing left behind but $work"
}

if [ "$scenario" = regional ]; then
  export SCHAKEL_SCHOOL_A_TOKEN=$(openssl rand -hex 24) SCHAKEL_SCHOOL_B_TOKEN=$(openssl rand -hex 24) \
    SCHAKEL_REGIONAL_PULL_TOKEN=$(openssl rand -hex 24)
  echo "== starting the regional partnership's receiver (it verifies every Standard Webhooks signature)"
  start_receiver regional SCHAKEL_REGIONAL
  config=deploy/examples/regional.yaml
  start_hub "$config"
  # Five school weeks of absence registrations (7 Sep - 11 Oct 2026) for school A (1A, 2B) and school
  # B (3C): about half of each class misses two lessons a week; a few are sick every other week.
  generate() {  # brin-less export for one school: class:leerjaar:first-student:count ...
    echo "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar;Registratie-id"
    for spec in "$@"; do
      IFS=: read -r klass lj first count <<<"$spec"
      for week in 0 1 2 3 4; do
        day=$(date -u -d "2026-09-08 +$((week * 7)) days" +%d-%m-%Y)
        for i in $(seq 0 $((count - 1))); do
          if [ $(((i * 7 + week * 3) % 10)) -lt 5 ] || [ $((i % 9)) -eq 0 ]; then
            code=O; [ $((i % 9)) -eq 0 ] && code=Z
            echo "$((first + i));$day;1-2;$code;$klass;$lj;$klass-$week-$i"
          fi
        done
      done
    done
  }
  generate 1A:1:1101:28 2B:2:1201:30 >"$work/school-a.csv"
  generate 3C:3:2301:26 >"$work/school-b.csv"
  echo "== both administration systems push their exports ($(($(wc -l <"$work/school-a.csv") - 1)) and $(($(wc -l <"$work/school-b.csv") - 1)) registrations)"
  post "$SCHAKEL_SCHOOL_A_TOKEN" /v1/connectors/school-a/records text/csv "$work/school-a.csv"
  post "$SCHAKEL_SCHOOL_B_TOKEN" /v1/connectors/school-b/records text/csv "$work/school-b.csv"
  echo "== the schools' enrolment gives the denominators (schakel enrolment import)"
  "$build/bin/schakel" enrolment import --config "$config" --token-file "$work/trends.token" \
    deploy/examples/regional-enrolment.csv
  echo "== the weeks up to 11 Oct have closed: the hub seals and releases them (POST /v1/trends/release)"
  curl -sS -X POST -H "Authorization: Bearer $SCHAKEL_TRENDS_TOKEN" -H "Content-Type: application/json" \
    -d '{"until": "2026-10-11"}' \
    "http://127.0.0.1:$port/v1/trends/release"
  echo
  cells=$(curl -sS -H "Authorization: Bearer $SCHAKEL_TRENDS_TOKEN" "http://127.0.0.1:$port/v1/trends" |
    jq '[.releases[].cells[]] | length')
  wait_for regional "$cells"
  echo "== the regional partnership received $(received regional) trend cells; class 1A's absence hours per week:"
  jq -r 'select(.event.data.subject.class == "1A" and .event.data.content.indicator == "trend.absence_hours" and
      .event.type == "nl.schakel.trend.week") | .event.data |
    "   \(.content.evidence.window_key)  \(.content.evidence.status)  " +
    (if .content.evidence.status == "released" then "\(.content.value) h (\(.content.evidence.rate) h per student)"
     else "reason: \(.content.evidence.reason)" end)' "$work/regional/received.jsonl" | sort
  echo "== students with an M@ZL alert (4 sick reports in 12 weeks), school A, year to date:"
  jq -r 'select(.event.data.content.indicator == "trend.mazl_students" and .event.type == "nl.schakel.trend.year_to_date"
      and (.event.data.subject.class // "") == "" and (.event.data.subject.leerjaar // 0) == 0
      and .event.data.subject.school.brin == "99XX") | .event.data.content |
    "   \(.evidence.window_key)  \(.evidence.status)  \(.value // "")\(.evidence.reason // "")"' "$work/regional/received.jsonl" | sort | tail -3
  echo "== no row about a student reached the partnership: student keys in its events:" \
    "$(jq -r '.event.data.subject.student_key // empty' "$work/regional/received.jsonl" | wc -l)"
  echo "== the partnership pulls its own monthly figures with its pull token (GET /v1/trends):"
  curl -sS -H "Authorization: Bearer $SCHAKEL_REGIONAL_PULL_TOKEN" "http://127.0.0.1:$port/v1/trends?window=month" |
    jq -r '.releases[] | "   \(.school) \(.window.key): " +
      "\([.cells[] | select(.status == "released")] | length) cells released, " +
      "\([.cells[] | select(.status == "suppressed")] | length) suppressed"'
  echo "== CSV export (schakel trends export) and an SVG plot (schakel trends plot)"
  "$build/bin/schakel" trends export --config "$config" --token-file "$work/trends.token" --school 99XX00 \
    --window week --out "$work/trends.csv"
  head -3 "$work/trends.csv" | sed 's/^/   /'
  "$build/bin/schakel" trends plot --config "$config" --token-file "$work/trends.token" --school 99XX00 --class 1A \
    --measure absence_hours \
    --window year_to_date --out "$work/1A-absence.svg"
  echo "   $work/1A-absence.svg ($(wc -c <"$work/1A-absence.svg") bytes)"
  finish "$config" regional
  exit 0
fi

if [ "$scenario" = tracking ]; then
  export SCHAKEL_LVS_TOKEN=$(openssl rand -hex 24) SCHAKEL_STAFF_TOKEN=$(openssl rand -hex 24) \
    SCHAKEL_CARETAKER_TOKEN=$(openssl rand -hex 24)
  echo "== starting the mentor/ZAT coordinator's receiver (it verifies every Standard Webhooks signature)"
  start_receiver mentor SCHAKEL_MENTOR
  config=deploy/examples/tracking.yaml
  start_hub "$config"
  echo "== the tracking system pushes the autumn round, then the spring round (line 8 has an impossible date)"
  post "$SCHAKEL_LVS_TOKEN" /v1/connectors/tracking/records text/csv deploy/examples/tracking-export-autumn.csv
  post "$SCHAKEL_LVS_TOKEN" /v1/connectors/tracking/records text/csv deploy/examples/tracking-export-spring.csv
  wait_for mentor 4
  echo "== the mentor/ZAT coordinator received:"
  jq -r '.event | "   \(.type)  student \(.data.subject.student_key)  \(.data.content.evidence.scale // "")" +
    " \(.data.content.evidence.reason // "")"' "$work/mentor/received.jsonl"
  echo "== staff post observations: the staff portal (with a remark), then the caretaker app (no free text)"
  post "$SCHAKEL_STAFF_TOKEN" /v1/observations application/json deploy/examples/tracking-observations.json
  echo '{"student_key": "2002", "category": "long_sleeves_warm_weather", "severity": "attention",
         "observer_role": "caretaker", "observed_at": "2027-06-15"}' >"$work/caretaker.json"
  post "$SCHAKEL_CARETAKER_TOKEN" /v1/observations application/json "$work/caretaker.json"
  wait_for mentor 7
  echo "== the mentor/ZAT coordinator received the observations (the remark stays inside the school):"
  jq -r 'select(.event.type == "nl.schakel.observation.recorded") | .event.data |
    "   \(.content.evidence.category) (\(.content.evidence.observer_role), \(.governance.data_category))" +
    "  student \(.subject.student_key)  \(.content.note // "")"' "$work/mentor/received.jsonl"
  finish "$config" mentor-zat
  exit 0
fi

echo "== starting three partners' receivers (each verifies every Standard Webhooks signature)"
start_receiver coordinator SCHAKEL_COORDINATOR
start_receiver jgz SCHAKEL_JGZ
start_receiver officer SCHAKEL_OFFICER

config=deploy/examples/attendance.yaml
start_hub "$config"

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
"$build/bin/schakel" alerts refer "$alert" --config "$config" --token-file "$work/privacy-officer.token" \
  --parents-informed-on "$today" --informed-by mentor

wait_for jgz 1
echo "== the JGZ doctor received (only the fields its subscription allows):"
show jgz
echo "== the export was archived: $(ls "$SCHAKEL_DROP_DIR/archive")"
finish "$config" "(attendance-|jgz-)"

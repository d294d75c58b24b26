#!/usr/bin/env bash
# The soak run quoted in docs/security.md: the daemon at half its measured peak ingest rate for 30
# minutes, one partner failing 10 % of requests and one down for 10 minutes in the middle; RSS
# sampled every 5 s; afterwards every acknowledged record is looked for at every partner it
# matches. Not run by CI (it takes 35–50 minutes). The logic and the hub configuration it uses are
# in bench/soak/soak.py (hub_config()); its options pass through, e.g. --duration 120 for a trial.
#
#   bench/soak.sh [soak.py options]
#
# Environment: SOAK_BUILD_DIR (default build/release; configured and built here),
# SOAK_WORK (default build/soak: config, logs, receivers' output, rss.tsv, summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SOAK_BUILD_DIR:-$root/build/release}
work=${SOAK_WORK:-$root/build/soak}

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCHAKEL_WERROR=ON >/dev/null
cmake --build "$build" -j 2 --target schakel schakel-receiver lib/schakel/plugins/generic-json.so >/dev/null

echo "soak: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- hub plugins connectors || echo ' (with local changes)'), $(nproc) cores, work dir $work" >&2
exec python3 "$root/bench/soak/soak.py" --bin "$build/bin" --work "$work" "$@"

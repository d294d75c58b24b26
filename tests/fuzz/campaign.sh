#!/usr/bin/env bash
# A fuzz campaign: each libFuzzer target in turn for a CPU-time budget, then its corpus minimised
# into tests/fuzz/corpus/<name>/ (the layout deploy/test.sh seeds from). Not run by CI: it takes
# hours. The figures it prints go to docs/security.md.
#
#   tests/fuzz/campaign.sh [target …]          # default: every bin/fuzz_* in the build
#
# Environment:
#   FUZZ_CPU_SECONDS  CPU budget per target (default 900, i.e. 15 CPU-minutes)
#   FUZZ_BUILD_DIR    fuzz build tree (default build/fuzz; configured and built here)
#   FUZZ_NICE         niceness of the fuzzer (default 15, so other builds on the host come first)
#   FUZZ_DEADLINE     epoch seconds: interrupt the current target and start no new one after it
#   FUZZ_NO_MERGE=1   run without touching the repo's corpus (for trying the script out)
#
# The budget is CPU time of the fuzzer process (utime + stime from /proc/<pid>/stat), not wall
# time: on a shared host, wall time says little about how much fuzzing was done. When the budget is
# reached the fuzzer gets SIGINT, on which libFuzzer prints its final statistics and exits.
#
# Output: one log per target in <build>/campaign/, a crash reproducer (if any) beside it, and a
# table on stdout and appended to <build>/campaign/summary.tsv. The exit status is 1 if any target
# crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
build=${FUZZ_BUILD_DIR:-$root/build/fuzz}
budget=${FUZZ_CPU_SECONDS:-900}
niceness=${FUZZ_NICE:-15}
deadline=${FUZZ_DEADLINE:-0}
out=$build/campaign
mkdir -p "$out"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
# Same configuration as deploy/test.sh, so the campaign fuzzes what CI builds.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCHAKEL_FUZZ=ON -DSCHAKEL_TESTS=OFF \
  -DSCHAKEL_BENCH=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
all_targets=$(ninja -C "$build" -t targets all | grep -o '^fuzz_[a-z0-9_]*' | sort -u)
nice -n "$niceness" cmake --build "$build" -j 2 --target $all_targets >"$out/build.log"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for t in $all_targets; do targets+=("${t#fuzz_}"); done
fi

clk_tck=$(getconf CLK_TCK)
# CPU seconds (utime + stime, fields 14 and 15) of a live process; the command name in field 2 may
# hold spaces, so the fields are counted after its closing parenthesis.
cpu_seconds() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
  stat=${stat##*) }
  set -- $stat
  echo $(((${12} + ${13}) / clk_tck))
}
count_files() { find "$1" -maxdepth 1 -type f | wc -l; }
count_bytes() { find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

# Appended to, so a campaign finished in several sittings keeps one table.
[ -s "$out/summary.tsv" ] ||
  printf 'target\tcpu_s\texecs\tcov\tft\tcorpus_before\tbytes_before\tcorpus_after\tbytes_after\tcrashes\tstopped\n' \
    >"$out/summary.tsv"
failed=0
for name in "${targets[@]}"; do
  if [ "$deadline" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
    echo "campaign: deadline reached, $name not started" | tee -a "$out/missing.txt"
    continue
  fi
  bin=$build/bin/fuzz_$name
  corpus=$root/tests/fuzz/corpus/$name
  [ -x "$bin" ] || { echo "campaign: no $bin" >&2; exit 2; }
  mkdir -p "$corpus"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/
  before_files=$(count_files "$corpus")
  before_bytes=$(count_bytes "$corpus")
  rm -f "$out/fuzz_$name-"*
  log=$out/$name.log
  # -max_total_time only guards against a stuck watcher; the CPU budget below is what stops it.
  nice -n "$niceness" "$bin" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -max_total_time=$((budget * 20)) -artifact_prefix="$out/fuzz_$name-" "$work" >"$log" 2>&1 &
  pid=$!
  stopped=budget cpu_last=0
  while kill -0 "$pid" 2>/dev/null; do
    used=$(cpu_seconds "$pid")
    [ "$used" -lt 0 ] || cpu_last=$used
    if [ "$used" -ge "$budget" ]; then
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
    if [ "$deadline" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
      stopped=deadline
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
    sleep 2
  done
  status=0
  wait "$pid" || status=$?
  # libFuzzer exits 72 after SIGINT (-interrupt_exit_code) and 0 at -max_total_time; anything else
  # (or a written artifact) is a crash, a leak, a timeout or an out-of-memory.
  crashes=$(find "$out" -maxdepth 1 -name "fuzz_$name-*" -type f | wc -l)
  if [ "$status" != 0 ] && [ "$status" != 72 ]; then
    [ "$crashes" -gt 0 ] || crashes=1
  fi
  cpu=$cpu_last
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  if [ "$crashes" -gt 0 ]; then
    failed=1
    echo "campaign: $name CRASHED (exit $status); reproducer(s): $(ls "$out"/fuzz_"$name"-* 2>/dev/null)" >&2
  fi
  if [ "${FUZZ_NO_MERGE:-0}" != 1 ]; then
    # Only inputs that add coverage over what the repo already holds are added; the checked-in
    # seeds keep their descriptive names.
    nice -n "$niceness" "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$corpus" "$work" >"$out/$name.merge.log" 2>&1
  fi
  after_files=$(count_files "$corpus")
  after_bytes=$(count_bytes "$corpus")
  rm -rf "$work"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cpu" "$execs" "$cov" "$ft" \
    "$before_files" "$before_bytes" "$after_files" "$after_bytes" "$crashes" "$stopped" | tee -a "$out/summary.tsv"
done
column -t "$out/summary.tsv"
exit "$failed"

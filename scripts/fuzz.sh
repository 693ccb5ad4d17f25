#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, in a build tree of their
# own (build-fuzz/: only the sources the targets reach, instrumented with
# -fsanitize=fuzzer,address,undefined), and runs each one for a bounded time
# from its committed corpus (fuzz/corpus/<target>/) plus the repository's own
# inputs (templates/, tests/corpus/). Fails on any crash, leak, timeout,
# out-of-memory or sanitizer report, and keeps the input that caused it.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20, or $BERTH_FUZZ_SECONDS; 0 skips)
#
# New inputs a run finds go to a scratch folder, not into the committed
# corpus. scripts/test.sh runs this after ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds="${1:-${BERTH_FUZZ_SECONDS:-20}}"

targets=(fuzz_template fuzz_config fuzz_lambda fuzz_runpod fuzz_vastai fuzz_vast_offers
  fuzz_retry_after fuzz_shell_quote fuzz_output fuzz_saved_offers)
# Inputs of the repository that seed a target besides its committed corpus.
declare -A seeds=(
  [fuzz_template]="templates tests/corpus/bad tests/corpus/golden"
)

if [[ "$seconds" == 0 ]]; then
  echo "fuzz: skipped (BERTH_FUZZ_SECONDS=0)"
  exit 0
fi

start=$(date +%s)
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DBERTH_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=None >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz
built=$(date +%s)
echo "fuzz: built ${#targets[@]} targets in $((built - start)) s"

scratch=$(mktemp -d /tmp/berth-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
artifacts="$top/build-fuzz/artifacts"
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  dirs=("$scratch/$t" "fuzz/corpus/$t")
  for s in ${seeds[$t]:-}; do dirs+=("$s"); done
  log="$artifacts/$t.log"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or a
  # blow-up; ASan's leak check runs at the end of the run.
  if build-fuzz/fuzz/"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
      "${dirs[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $t: $runs inputs in ${seconds} s, no finding"
  else
    failed+=("$t")
    echo "fuzz: $t: FAILED (log: $log)" >&2
    # libFuzzer writes "==PID== ERROR: libFuzzer: ..."; sanitizers "==PID==ERROR".
    grep -E '^(==[0-9]+== ?ERROR|SUMMARY|.*runtime error|terminate called)' "$log" | head -5 >&2 || true
    tail -n 15 "$log" >&2
    ls "$artifacts/$t-"* 2>/dev/null | grep -v '\.log$' >&2 || true
  fi
done
echo "fuzz: ran ${#targets[@]} targets in $(($(date +%s) - built)) s"
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi

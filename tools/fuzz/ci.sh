#!/usr/bin/env bash
# tools/fuzz/ci.sh — the fuzz step of the test command (tools/test.sh, hence CI): builds the four libFuzzer
# targets with clang (ASan + UBSan, xtensor asserts on) and runs each SECONDS (default 5) on its committed
# corpus. A finding (crash, leak, sanitizer report, timeout) fails the step, and the input that caused it is
# kept in build-fuzz/ (crash-*, leak-*, timeout-*) for `./build-fuzz/<target> <file>` to reproduce.
# The 10-minute runs of issue 8 are `tools/fuzz/run.sh 600` and `tools/fuzz/build_more.sh --run 600`.
#   tools/fuzz/ci.sh [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-5}
out=${UNROLL_FUZZ_DIR:-$here/../../build-fuzz}
TIMEFORMAT='fuzz: %R s wall'
time {
  echo "== fuzz: build the checkpoint-loader target"
  bash "$here/build.sh" "$out" >/dev/null
  echo "== fuzz: checkpoint loader, ${secs} s"
  log=$(mktemp)
  if ! bash "$here/run.sh" "$secs" "$out" >"$log" 2>&1; then
    tail -40 "$log" >&2
    rm -f "$log"
    echo "fuzz: fuzz_checkpoint_loader found a failing input (kept in $out)" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_checkpoint_loader: ${secs} s, ${execs:-?} execs, no finding"
  rm -f "$log"
  echo "== fuzz: build and run the loader, vocabulary and round-trip targets, ${secs} s each"
  bash "$here/build_more.sh" --out "$out" --run "$secs"
}

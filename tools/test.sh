#!/usr/bin/env bash
# tools/test.sh — the test command of the README (and of CI): install what is missing, build, run the
# whole suite through ctest, then the fuzz step: the four libFuzzer targets (clang, ASan + UBSan) built and
# run a few seconds each on their committed corpora (tools/fuzz/ci.sh; UNROLL_FUZZ_SECONDS, default 5).
# The full suite under ASan + UBSan is tools/sanitize.sh (by hand: its build alone takes ~10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh clang libclang-rt-14-dev
bash tools/build.sh
(cd "${UNROLL_BUILD_DIR:-build}" && ctest --output-on-failure -j2 --timeout 600)
bash tools/fuzz/ci.sh "${UNROLL_FUZZ_SECONDS:-5}"

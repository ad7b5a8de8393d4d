#!/usr/bin/env bash
# tools/build.sh — configure and build unroll in Release into ./build (or $UNROLL_BUILD_DIR) with 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${UNROLL_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"${UNROLL_JOBS:-2}"

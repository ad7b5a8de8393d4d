#!/usr/bin/env bash
# tools/test.sh — the test command of the README (and of CI): install what is missing, build, run the
# whole suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
cd "${UNROLL_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600

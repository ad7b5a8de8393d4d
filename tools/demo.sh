#!/usr/bin/env bash
# tools/demo.sh — the demo command of the README: install what is missing, build, run the main job:
# the float64 gradient-check report over every op and module.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/build.sh
"${UNROLL_BUILD_DIR:-build}"/unroll gradcheck

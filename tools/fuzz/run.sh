#!/bin/sh
# Runs the checkpoint-loader fuzzer for SECONDS (default 10) on the committed seed corpus.
# New inputs go to OUTDIR/corpus (the committed corpus is only read). A crash writes OUTDIR/crash-*.
#   tools/fuzz/build.sh && tools/fuzz/run.sh 600      # the 10-minute run of issue 8
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
out=${2:-$root/build-fuzz}
mkdir -p "$out/corpus"
cd "$out"
exec ./fuzz_checkpoint_loader -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$here/safetensors.dict" -print_final_stats=1 "$out/corpus" "$here/corpus"

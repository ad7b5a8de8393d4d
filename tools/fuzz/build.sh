#!/bin/sh
# Builds the libFuzzer target for the checkpoint loader with clang (ASan + UBSan, xtensor asserts on).
# The main build uses g++; this one compiles only the loader's sources. Needs Debian's clang and
# libclang-rt-14-dev.   Usage: tools/fuzz/build.sh [OUTDIR]   (default build-fuzz/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build-fuzz}   # shared with build_more.sh; targets and corpora have distinct names
mkdir -p "$out"
${CXX:-clang++} -std=c++20 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DXTENSOR_ENABLE_ASSERT \
  -I"$root" \
  "$here/fuzz_checkpoint_loader.cc" "$root/nn/safetensors.cc" "$root/nn/checkpoint.cc" "$root/engine/var.cc" "$root/engine/parallel.cc" \
  -lfmt -o "$out/fuzz_checkpoint_loader"
echo "built $out/fuzz_checkpoint_loader"

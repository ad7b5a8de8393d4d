#!/usr/bin/env bash
# tests/cli/charlm_roundtrip.sh UNROLL FORTUNES_DIR — train the tiny char LM, then eval, sample and score it.
set -euo pipefail
U=$1; F=$2
"$U" train charlm --preset tiny --epochs 2 --data "$F" --checkpoint m.safetensors > train.out 2> train.err
grep -q 'test bits/char' train.out
test -s m.safetensors && test -s m.curve.csv && grep -q '<svg' m.curve.svg
"$U" eval charlm --data "$F" --checkpoint m.safetensors | grep -q 'test bits/char'
"$U" sample charlm --checkpoint m.safetensors --samples 2 --seed 3 > s1
"$U" sample charlm --checkpoint m.safetensors --samples 2 --seed 3 > s2
cmp s1 s2                                    # the same seed gives the same samples
"$U" score charlm --checkpoint m.safetensors 'The cat sleeps.' 'cat The sleeps.' | grep -q '^ *1 '

#!/usr/bin/env bash
# tests/cli/tagger_roundtrip.sh UNROLL — writes a tiny Brown corpus, trains the tiny tagger on it (checkpoint,
# curve CSV/SVG, progress lines on stderr), then evaluates it and tags two sentences (word/POS/NER per token).
set -euo pipefail
U=$1; here=$(dirname "$0")
bash "$here/fixtures.sh" brown brown
"$U" train tagger --preset tiny --epochs 20 --log-every 10 --data brown --checkpoint t.safetensors > train.out 2> train.err
grep -q '^test: POS accuracy' train.out
grep -q '^model file: t.safetensors' train.out
grep -q 'epoch 20 step .* loss .* tok/s ETA' train.err           # the progress line (plain: not a terminal)
test -s t.safetensors
head -1 t.curve.csv | grep -q '^step,epoch,train_loss,dev_loss'
test "$(wc -l < t.curve.csv)" -eq 21                           # header + one dev evaluation per epoch
grep -q '<svg' t.curve.svg && grep -q 'train loss' t.curve.svg && grep -q 'dev loss' t.curve.svg
"$U" eval tagger --data brown --checkpoint t.safetensors > eval.out
grep -q '^t.safetensors: POS accuracy .* | 6 sentences, 36 tokens' eval.out
"$U" predict tagger --checkpoint t.safetensors 'The cat liked Mary .' 'A park ran .' > pred.out
test "$(wc -l < pred.out)" -eq 2
sed -n 1p pred.out | grep -qx 'The/at/O cat/nn/O liked/vbd/O Mary/np/NAME ././O'
sed -n 2p pred.out | grep -qx 'A/at/O park/nn/O ran/vbd/O ././O'

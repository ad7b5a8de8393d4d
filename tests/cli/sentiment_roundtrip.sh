#!/usr/bin/env bash
# tests/cli/sentiment_roundtrip.sh UNROLL — writes a tiny sentiment corpus, trains the tiny classifier with two
# seeds (checkpoints, curve CSV/SVG, progress lines on stderr), then evaluates one model and the two-seed ensemble
# and classifies two texts.
set -euo pipefail
U=$1; here=$(dirname "$0")
bash "$here/fixtures.sh" sentiment sdata
"$U" train sentiment --preset tiny --epochs 15 --seeds 2 --log-every 5 --data sdata --checkpoint s.safetensors \
  > train.out 2> train.err
grep -q '^test accuracy: mean .* over 2 seed(s), 6 test sentences' train.out
grep -q 'epoch 15 step .* loss .* tok/s ETA' train.err           # the progress line (plain: not a terminal)
test -s s.safetensors && test -s s.seed2.safetensors
head -1 s.curve.csv | grep -q '^seed,epoch,train_loss,train_acc,dev_loss,dev_acc'
test "$(wc -l < s.curve.csv)" -eq 31                           # header + 2 seeds x 15 epochs
grep -q '<svg' s.curve.svg && grep -q 'dev loss, seed 2' s.curve.svg && grep -q 'dev acc, seed 1' s.scores.svg
"$U" eval sentiment --data sdata --checkpoint s.safetensors > eval1.out
grep -q '^s.safetensors: test accuracy .* (./6)' eval1.out
"$U" eval sentiment --data sdata --checkpoint s.safetensors --ensemble s.seed2.safetensors > eval2.out
grep -q '^ensemble of 2 models: test accuracy' eval2.out
"$U" predict sentiment --checkpoint s.safetensors --ensemble s.seed2.safetensors \
  'great phone, love it' 'awful food, terrible' > pred.out
test "$(wc -l < pred.out)" -eq 2
sed -n 1p pred.out | grep -q '^positive  P(positive) = 0\.[5-9].*  great phone, love it$'
sed -n 2p pred.out | grep -q '^negative  P(positive) = 0\.[0-4].*  awful food, terrible$'

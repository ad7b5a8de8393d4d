#!/usr/bin/env bash
# tests/cli/fixtures.sh brown|sentiment DIR — writes a tiny corpus in the real format into DIR (the same shape as
# the doctest fixtures of tests/test_tagger.cc and tests/test_sentiment.cc).
#   brown:     ten files ca01..ca10 (the i % 10 split: 8 train, 1 dev, 1 test file) of six word/tag sentences from
#              templates with rotating fillers, plus a README that is not a corpus file.
#   sentiment: amazon.json, imdb.json, yelp.json, 20 items each; item k is positive when k % 4 < 2 (so every split
#              holds both classes), with one or two sentiment words among 2-6 fillers.
set -euo pipefail
kind=$1; dir=$2
mkdir -p "$dir"
case "$kind" in
brown)
  names=(John Mary Paris Smith London Kennedy); nouns=(dog cat house park car book)
  verbs=(saw liked found sold); adjs=(old big red small)
  for f in 1 2 3 4 5 6 7 8 9 10; do
    n() { echo "${nouns[$(((f + $1) % 6))]}"; }; p() { echo "${names[$(((f + $1) % 6))]}"; }
    v() { echo "${verbs[$(((f + $1) % 4))]}"; }; a() { echo "${adjs[$(((f + $1) % 4))]}"; }
    {
      printf '\tThe/at %s/nn %s/vbd %s/np ./.\n\n' "$(n 0)" "$(v 0)" "$(p 0)"
      printf '\t%s/np %s/vbd the/at %s/jj %s/nn ./.\n\n' "$(p 1)" "$(v 1)" "$(a 0)" "$(n 1)"
      printf '\tNew/jj-tl York/np-tl is/bez %s/jj ./.\n\n' "$(a 1)"
      printf '\tHe/pps went/vbd to/in %s/np-tl with/in %s/np %s/np ./.\n\n' "$(p 2)" "$(p 3)" "$(p 4)"
      printf '\tA/at %s/nn ran/vbd ./.\n\n' "$(n 2)"
      printf '\tThey/ppss %s/vbd %s/np$ %s/nns in/in the/at %s/nn ./.\n' "$(v 2)" "$(p 5)" "$(n 3)" "$(n 4)"
    } > "$dir/$(printf 'ca%02d' "$f")"
  done
  echo "not a corpus file" > "$dir/README"
  ;;
sentiment)
  good=(great love excellent wonderful good perfect); bad=(awful hate terrible broken bad worst)
  fill=(the phone movie food it was this really very and)
  k=0
  for source in amazon imdb yelp; do
    items=()
    for i in $(seq 0 19); do
      if [ $((k % 4)) -lt 2 ]; then pos=1; sw=("${good[@]}"); else pos=0; sw=("${bad[@]}"); fi
      text=""; len=$((2 + k % 5))
      for j in $(seq 0 $((len - 1))); do
        [ "$j" -eq $((k % len)) ] && text+="${sw[$(((k + j) % 6))]} "
        text+="${fill[$(((k * 3 + j) % 10))]} "
      done
      [ $((k % 3)) -eq 0 ] && text+="${sw[$((k % 6))]}!"
      items+=("{\"text\": \"$text\", \"class\": $pos}")
      k=$((k + 1))
    done
    (IFS=,; echo "[${items[*]}]") > "$dir/$source.json"
  done
  ;;
*) echo "fixtures.sh: unknown kind '$kind' (brown or sentiment)" >&2; exit 2 ;;
esac

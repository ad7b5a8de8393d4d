#!/usr/bin/env bash
# Builds (and optionally runs) the libFuzzer targets beyond the checkpoint loader's (tools/fuzz/build.sh):
#   fuzz_corpus_loaders    Brown / sentiment / fortunes parsers and directory loaders, UTF-8 (arbitrary bytes)
#   fuzz_corpus_vocab      tokenizers, Vocab / CharVocab / LabelSet (text and JSON files), batching
#   fuzz_corpus_roundtrip  save -> load of model files and training checkpoints (and Adam state through them)
# with clang (ASan + UBSan, xtensor asserts on), like build.sh. Needs Debian's clang and libclang-rt-14-dev.
#
#   tools/fuzz/build_more.sh                  # build the three into build-fuzz/
#   tools/fuzz/build_more.sh --run 600        # build, then run each 600 s on its corpus (the issue's 10 minutes)
#   tools/fuzz/build_more.sh --ci             # build, then run each 5 s on its committed corpus (for CI)
#   tools/fuzz/build_more.sh --run 60 --only vocab
# Options: --out DIR (default build-fuzz), --only loaders|vocab|roundtrip, --jobs N (default 2, or $UNROLL_JOBS),
#          --no-build (run the binaries already built; for several runs at once).
# Runs read tools/fuzz/corpus_<target>/ (never written) and keep new inputs in DIR/corpus_<target>/; a finding
# leaves DIR/crash-* (or leak-*, timeout-*) and makes the script exit 1. Each run ends with a line
#   fuzz_corpus_<target>: <seconds> s, <executions> execs, <corpus size> inputs, <result>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build-fuzz
secs=0
only=
jobs=${UNROLL_JOBS:-2}
build=1
while (($#)); do
  case $1 in
    --run) secs=$2; shift 2 ;;
    --ci) secs=5; shift ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "build_more.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
targets=(loaders vocab roundtrip)
if [[ -n $only ]]; then targets=("$only"); fi

CXX=${CXX:-clang++}
flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -DXTENSOR_ENABLE_ASSERT -I"$root")
data_src=(utf8 common brown sentiment fortunes vocab tokenize batching)
engine_src=(engine/var.cc engine/parallel.cc nn/safetensors.cc nn/checkpoint.cc nn/optim.cc nn/optim_rules.cc nn/clip.cc nn/gradflow.cc)

sources_of() {
  case $1 in
    loaders|vocab) for s in "${data_src[@]}"; do echo "models/data/$s.cc"; done ;;
    roundtrip) printf '%s\n' "${engine_src[@]}" ;;
  esac
}

# Objects are shared by the targets; one is rebuilt when its source or a header it includes (from the
# compiler's dependency file) is newer than it.
mkdir -p "$out/obj"
needed=()
for t in "${targets[@]}"; do
  while read -r s; do needed+=("$s"); done < <(sources_of "$t")
  needed+=("tools/fuzz/fuzz_corpus_$t.cc")
done
stale() {  # $1 = source relative to root
  local o="$out/obj/$(echo "$1" | tr / _).o"
  [[ -f $o && -f $o.d ]] || return 0
  local dep
  for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$o.d"); do
    [[ $dep -nt $o ]] && return 0
  done
  return 1
}
todo=()
if ((build)); then
  for s in $(printf '%s\n' "${needed[@]}" | sort -u); do
    if stale "$s"; then todo+=("$s"); fi
  done
fi
compile() {
  local o="$out/obj/$(echo "$1" | tr / _).o"
  "$CXX" "${flags[@]}" -MMD -MF "$o.d" -c "$root/$1" -o "$o" || { rm -f "$o"; return 1; }
}
if ((${#todo[@]})); then
  echo "compiling ${#todo[@]} sources with $CXX (-j$jobs)"
  fail=0 running=0
  for s in "${todo[@]}"; do
    compile "$s" &
    running=$((running + 1))
    if ((running >= jobs)); then wait -n || fail=1; running=$((running - 1)); fi
  done
  while ((running > 0)); do wait -n || fail=1; running=$((running - 1)); done
  if ((fail)); then echo "build_more.sh: compilation failed" >&2; exit 1; fi
fi
for t in "${targets[@]}"; do
  ((build)) || break
  objs=("$out/obj/tools_fuzz_fuzz_corpus_$t.cc.o")
  while read -r s; do objs+=("$out/obj/$(echo "$s" | tr / _).o"); done < <(sources_of "$t")
  "$CXX" "${flags[@]}" "${objs[@]}" -lfmt -o "$out/fuzz_corpus_$t"
  echo "built $out/fuzz_corpus_$t"
done

# Dictionaries: the words the formats are made of.
cat > "$out/fuzz_corpus_loaders.dict" <<'EOF'
"/nn"
"/np-tl"
"/fw-in"
"/"
"\x0a\x09"
"\x0a%\x0a"
"%"
"{\"text\":\""
"\"class\":1}"
"\"class\":0"
"[{"
"},{"
"}]"
"\xef\xbf\xbd"
"\xed\xa0\x80"
"\xf4\x90\x80\x80"
"\xc0\xaf"
EOF
cat > "$out/fuzz_corpus_vocab.dict" <<'EOF'
"<pad>"
"<unk>"
"<bos>"
"<eos>"
"{\"kind\":\"vocab\",\"frozen\":true,\"tokens\":[\"<pad>\",\"<unk>\",\"<bos>\",\"<eos>\""
"{\"kind\":\"char_vocab\",\"code_points\":["
"{\"labels\":["
"\"frozen\":"
"false"
"55296"
"1114111"
"\x0a"
"\xe2\x82\xac"
EOF
cat > "$out/fuzz_corpus_roundtrip.dict" <<'EOF'
"bias"
"weight"
"optimizer/"
"unroll."
"__metadata__"
"{\"a\":1}"
"\xff\xff\xff\x7f"
"\x00\x00\x80\x7f"
"\x00\x00\xc0\x7f"
EOF

((secs > 0)) || exit 0
status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus_$t"
  case $t in roundtrip) len=2048 ;; *) len=4096 ;; esac
  log="$out/fuzz_corpus_$t.log"
  start=$(date +%s)
  set +e
  (cd "$out" && exec "./fuzz_corpus_$t" -max_total_time="$secs" -max_len=$len -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -dict="$out/fuzz_corpus_$t.dict" "$out/corpus_$t" "$here/corpus_$t") >"$log" 2>&1 &
  pid=$!
  wait $pid
  rc=$?
  # the target's scratch folder (libFuzzer leaves with _Exit, so the target's atexit cleanup does not run)
  rm -rf "/dev/shm/unroll_fuzz_${t}_$pid" "${TMPDIR:-/tmp}/unroll_fuzz_${t}_$pid"
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  inputs=$(ls "$out/corpus_$t" | wc -l)
  if ((rc == 0)); then result="no finding"; else result="FINDING (exit $rc, see $log)"; status=1; tail -40 "$log" >&2; fi
  echo "fuzz_corpus_$t: $(( $(date +%s) - start )) s, $execs execs, $inputs new inputs, $result"
done
exit $status

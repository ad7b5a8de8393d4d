#!/usr/bin/env bash
# tests/cli/expect.sh EXIT STDERR_SUBSTRING -- COMMAND...
# Runs COMMAND in a fresh temporary folder; passes when it exits with EXIT (or any non-zero for "nonzero"),
# and, for failures, when stderr is exactly one line that contains STDERR_SUBSTRING.
set -u
want=$1; needle=$2; shift 3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$@" >"$dir/out" 2>"$dir/err"; rc=$?
fail() { echo "FAIL: $*"; echo "--- stdout"; head -20 "$dir/out"; echo "--- stderr"; head -20 "$dir/err"; exit 1; }
if [ "$want" = nonzero ]; then [ "$rc" -ne 0 ] || fail "exit 0, wanted non-zero"; else [ "$rc" -eq "$want" ] || fail "exit $rc, wanted $want"; fi
if [ "$rc" -ne 0 ]; then
  [ "$(wc -l <"$dir/err")" -eq 1 ] || fail "stderr is not one line"
  grep -qF -- "$needle" "$dir/err" || fail "stderr lacks '$needle'"
  [ -z "$(ls -A "$dir" | grep -v -E '^(out|err)$')" ] || fail "a failed run left files: $(ls "$dir")"
fi
echo "ok: exit $rc"

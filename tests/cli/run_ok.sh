#!/usr/bin/env bash
# tests/cli/run_ok.sh CHECK -- COMMAND...   Runs COMMAND in a temporary folder, then the shell snippet CHECK
# there (it sees the outputs in ./out, ./err and any files written); passes when both succeed.
set -u
check=$1; shift 2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$@" >out 2>err || { echo "FAIL: exit $?"; cat err; exit 1; }
bash -c "$check" || { echo "FAIL: check '$check'"; head -30 out; exit 1; }
echo ok

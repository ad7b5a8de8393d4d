#!/usr/bin/env bash
# tests/cli/fail_in_dir.sh SETUP -- COMMAND...   Runs the shell snippet SETUP (make a bad file or folder) in the
# current folder, then COMMAND; removes what SETUP made and exits with COMMAND's status (expect.sh then checks
# that the failure left no file behind).
setup=$1; shift 2
pre=$(ls -A)
bash -c "$setup"
made=$(comm -13 <(echo "$pre" | sort) <(ls -A | sort))
"$@"; rc=$?
rm -rf $made
exit $rc

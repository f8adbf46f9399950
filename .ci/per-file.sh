#!/usr/bin/env bash
# Runs a test command once per file, each run bounded, so that one file that hangs fails
# fast (and names itself) instead of stalling CI to its limit:
#
#   .ci/per-file.sh SECONDS -- deno test -A FILES...
#   .ci/per-file.sh SECONDS -- bun test FILES...
#
# Each file runs as `COMMAND... FILE`. A run killed by its bound prints
# "per-file: timed out: FILE" (.ci/known-failures.sh counts it as a failing test that no
# list may excuse). Exits 1 if any run failed, else 0.
set -uo pipefail
limit="$1"
shift 2
cmd=()
files=()
for arg in "$@"; do
  if [[ "$arg" == *.test.js ]]; then files+=("$arg"); else cmd+=("$arg"); fi
done
failed=0
for file in "${files[@]}"; do
  t0=$SECONDS
  timeout -k 10 "$limit" "${cmd[@]}" "$file"
  status=$?
  if [[ $status == 124 || $status == 137 ]]; then
    echo "per-file: timed out: $file (after ${limit} s)"
    failed=1
  elif [[ $status != 0 ]]; then
    failed=1
  fi
  echo "per-file: $file: exit $status, $((SECONDS - t0)) s"
done
exit $failed

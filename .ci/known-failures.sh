#!/usr/bin/env bash
# Runs `deno test ...` or `bun test ...` and fails on any failing test not listed in
# LIST (one name a line: "suite ... test" as Deno prints it under FAILURES, "suite > test"
# as Bun prints it after "(fail)"; # comments), or when the run fails without naming a
# failing test. A file that .ci/per-file.sh stopped at its bound counts as a failure
# named "timed out: FILE", which no list can excuse: a hang is never known. A listed test
# that passes is reported, not failed, so the list can shrink as the runtimes catch up.
#
#   .ci/known-failures.sh LIST -- deno test -A FILES...
#   .ci/known-failures.sh LIST -- bun test FILES...
#   .ci/known-failures.sh LIST -- .ci/per-file.sh SECONDS -- deno test -A FILES...
set -uo pipefail
list="$1"
shift 2
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
NO_COLOR=1 "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
failures="$({
  sed -n '/^ FAILURES *$/,$p' "$out" | sed -n 's/^\(.* \.\.\. .*\) => .*$/\1/p'
  sed -n -E 's/^\(fail\) (.*) \[[0-9.]+m?s\]$/\1/p' "$out"
  sed -n -E 's/^per-file: (timed out: [^ ]+) .*$/\1/p' "$out"
} | sort -u)"
known="$(grep -v -e '^\s*#' -e '^timed out:' "$list" | sed '/^\s*$/d' | sort -u)"
unexpected="$(comm -23 <(echo "$failures" | sed '/^$/d') <(echo "$known"))"
fixed="$(comm -13 <(echo "$failures" | sed '/^$/d') <(echo "$known"))"
if [[ -n "$fixed" ]]; then
  echo "known-failures: these listed tests passed; remove them from $list:"
  echo "$fixed" | sed 's/^/  /'
fi
if [[ -n "$unexpected" ]]; then
  echo "known-failures: failures not in $list:"
  echo "$unexpected" | sed 's/^/  /'
  exit 1
fi
if [[ $status != 0 && -z "$failures" ]]; then
  echo "known-failures: the run failed ($status) without naming a failing test"
  exit 1
fi
echo "known-failures: $(echo "$failures" | sed '/^$/d' | wc -l) known failures, no other"

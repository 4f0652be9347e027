#!/usr/bin/env bash
# Turns Warden's exit code into the action's `verdict` output and fails the step when
# the verdict is one `fail-on` stops at. Usage: verdict.sh EXIT_CODE FAIL_ON, with
# FAIL_ON one of `deny`, `require-approval` (the default of the action) or `never`.
# An invalid run (a bad policy or input, a report not written, Warden missing) fails
# whatever FAIL_ON says: nothing was evaluated, so nothing may pass (fail-closed).
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

code=${1-}
fail_on=${2-}
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is unset (run this in a GitHub Actions job)}"

# The exit codes of `warden eval` (docs/cli.md).
case $code in
  0) verdict=allow rank=0 ;;
  3) verdict=require-approval rank=1 ;;
  4) verdict=deny rank=2 ;;
  *) verdict=invalid rank=3 ;;
esac
case $fail_on in
  require-approval) threshold=1 ;;
  deny) threshold=2 ;;
  never) threshold=3 ;;
  *)
    annotate error "\`fail-on\` is \`$fail_on\`: expected \`deny\`, \`require-approval\` or \`never\`"
    threshold=0
    ;;
esac

{
  printf 'verdict=%s\n' "$verdict"
  printf 'exit-code=%s\n' "${code:-none}"
} >>"$GITHUB_OUTPUT"

if ((rank >= threshold)); then
  if [[ $verdict == invalid ]]; then
    annotate error "nothing was evaluated (exit code ${code:-none}): see the evaluation step"
  else
    annotate error "the verdict is $verdict (the step fails on $fail_on)"
  fi
  exit 1
fi
printf 'Warden: %s\n' "$verdict"

#!/usr/bin/env bash
# Turns Warden's exit code into the action's `verdict` output and fails the step when
# the verdict is one `fail-on` stops at. Usage: verdict.sh EXIT_CODE FAIL_ON, with
# FAIL_ON one of `deny`, `require-approval` (the default of the action) or `never`.
# An invalid run (a bad policy or input, a report not written, Warden missing) fails
# whatever FAIL_ON says: nothing was evaluated, so nothing may pass (fail-closed).
set -euo pipefail

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
    printf '::error title=Warden::`fail-on` is `%s`: expected `deny`, `require-approval` or `never`\n' "$fail_on"
    threshold=0
    ;;
esac

{
  printf 'verdict=%s\n' "$verdict"
  printf 'exit-code=%s\n' "${code:-none}"
} >>"$GITHUB_OUTPUT"

if ((rank >= threshold)); then
  if [[ $verdict == invalid ]]; then
    printf '::error title=Warden::nothing was evaluated (exit code %s): see the evaluation step\n' "${code:-none}"
  else
    printf '::error title=Warden::the verdict is %s (the step fails on %s)\n' "$verdict" "$fail_on"
  fi
  exit 1
fi
printf 'Warden: %s\n' "$verdict"

#!/usr/bin/env bash
# Builds the change from what gather.sh saved, evaluates it, and writes the reports:
# annotations and the job summary (`--format github`, `--summary`), the JSON report
# (always: the audit record, with the digests of the policy and the input) and the
# formats asked for. Never fails on the verdict: verdict.sh decides after the comment
# is posted; it records the exit code as the output `exit-code`.
#
# Environment: WARDEN_DIR (gather.sh's directory), WARDEN_POLICY, WARDEN_FACTS and
# WARDEN_PLANS (one path a line), WARDEN_CODEOWNERS (a path, `none`, or empty: the
# first of .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, GitHub's own order),
# WARDEN_REPORTS (more formats: markdown, sarif, junit), WARDEN (the binary, default
# `warden`), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

warden=${WARDEN:-warden}
dir=${WARDEN_DIR:?WARDEN_DIR is unset: run gather.sh first}
policy=${WARDEN_POLICY:?WARDEN_POLICY is unset: give the action a policy}
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is unset (run this in a GitHub Actions job)}"

# The non-empty lines of $1, trimmed, into the array named $2.
lines() {
  local -n into=$2
  into=()
  local line
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -z $line ]] || into+=("$line")
  done <<<"$1"
}

lines "${WARDEN_FACTS-}" facts
lines "${WARDEN_PLANS-}" plans
lines "$(tr ', ' '\n\n' <<<"${WARDEN_REPORTS-}")" reports

additions=()
for plan in "${plans[@]}"; do additions+=(--plan "$plan"); done
codeowners=${WARDEN_CODEOWNERS-}
if [[ -z $codeowners ]]; then
  for candidate in .github/CODEOWNERS CODEOWNERS docs/CODEOWNERS; do
    if [[ -f $candidate ]]; then codeowners=$candidate && break; fi
  done
fi
if [[ -n $codeowners && $codeowners != none ]]; then additions+=(--codeowners "$codeowners"); fi

fact_args=()
for fact in "${facts[@]}"; do fact_args+=(--facts "$fact"); done

output() { printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; }

# Tells the job summary why nothing was evaluated, with Warden's own message.
summarize_failure() {
  [[ -n ${GITHUB_STEP_SUMMARY-} ]] || return 0
  {
    printf '### Warden: %s\n\n```text\n' "$1"
    cat -- "$2"
    printf '```\n'
  } >>"$GITHUB_STEP_SUMMARY"
}

change=$dir/change.json
code=0
"$warden" change github --event "$dir/event.json" --api "$dir/api" "${additions[@]}" \
  --output "$change" 2>"$dir/change.log" || code=$?
cat -- "$dir/change.log" >&2
if ((code != 0)); then
  annotate error "the change could not be built (exit code $code); nothing was evaluated"
  summarize_failure "the change could not be built; nothing was evaluated" "$dir/change.log"
  output exit-code "$code"
  exit 0
fi
output change "$change"

evaluate=("$warden" eval --policy "$policy" --change "$change" "${fact_args[@]}")
summary=()
if [[ -n ${GITHUB_STEP_SUMMARY-} ]]; then summary=(--summary "$GITHUB_STEP_SUMMARY"); fi
"${evaluate[@]}" --format github "${summary[@]}" 2>"$dir/eval.log" || code=$?
cat -- "$dir/eval.log" >&2
case $code in
  0 | 3 | 4) ;;
  *)
    annotate error "the evaluation failed (exit code $code)"
    summarize_failure "the evaluation failed (exit code $code)" "$dir/eval.log"
    output exit-code "$code"
    exit 0
    ;;
esac

# The same change evaluates to the same verdict in every format (the evaluation reads
# no clock); a report that cannot be written makes the run invalid (fail-closed).
# GITHUB_STEP_SUMMARY is hidden from these runs so the summary is written once.
report() {
  local format=$1 file=$2 again=0
  env -u GITHUB_STEP_SUMMARY "${evaluate[@]}" --format "$format" >"$file" || again=$?
  if ((again != code)); then
    annotate error "the $format report was not written (exit code $again, the verdict $code)"
    code=5
  fi
}
report json "$dir/report.json"
output report "$dir/report.json"
wanted=("${reports[@]}")
if [[ ${WARDEN_COMMENT-false} == true ]]; then wanted+=(markdown); fi
for format in $(printf '%s\n' "${wanted[@]+"${wanted[@]}"}" | sort -u); do
  case $format in
    markdown) file=$dir/report.md ;;
    sarif) file=$dir/report.sarif ;;
    junit) file=$dir/report.junit.xml ;;
    json) continue ;;
    *)
      annotate error "unknown report format \`$format\` (expected markdown, sarif, junit or json)"
      code=5
      continue
      ;;
  esac
  report "$format" "$file"
  output "$format" "$file"
done
output exit-code "$code"

#!/usr/bin/env bash
# Posts the Markdown report as a comment on the pull request, or updates the comment a
# previous run posted: the one written by a bot that carries the hidden marker, so a
# person quoting the marker is never overwritten. A comment that cannot be posted (a
# fork's read-only token) is a warning: the verdict and the summary stand without it.
#
# Environment: WARDEN_REPORT (the Markdown report), GITHUB_EVENT_PATH,
# GITHUB_REPOSITORY; GH_TOKEN for gh.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

# The first line of the comment; the Markdown report starts with it (docs/ci.md).
readonly marker='<!-- warden:report -->'

report=${WARDEN_REPORT:?WARDEN_REPORT is unset: the Markdown report to post}
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is unset (run this in a GitHub Actions job)}
: "${GITHUB_EVENT_PATH:?GITHUB_EVENT_PATH is unset (run this in a GitHub Actions job)}"
number=$(pull_request_number)
[[ $number =~ ^[0-9]+$ ]] || {
  annotate error "the event has no pull request to comment on"
  exit 1
}

warn() {
  annotate warning "$1"
  exit 0
}

body=$(cat -- "$report")
[[ $body == *"$marker"* ]] || body="$marker"$'\n'"$body"
# GitHub refuses a comment over 65,536 characters.
readonly limit=65000
if ((${#body} > limit)); then
  body="${body:0:limit}"$'\n\n'"… (cut: the whole report is in the job summary and the saved reports)"
fi

comments=$(gh api --paginate "repos/$repo/issues/$number/comments?per_page=100") ||
  warn "could not list the pull request's comments; the report is in the job summary"
# `--paginate` prints the pages one after the other: `jq -s add` joins them.
previous=$(jq -rs --arg marker "$marker" \
  '[add // [] | .[] | select(.user.type == "Bot" and (.body // "" | contains($marker)))][0].id // empty' \
  <<<"$comments")

request=$(jq -n --arg body "$body" '{body: $body}')
if [[ -n $previous ]]; then
  gh api --method PATCH "repos/$repo/issues/comments/$previous" --input - <<<"$request" >/dev/null ||
    warn "could not update comment $previous; the report is in the job summary"
  printf 'Updated the Warden comment %s on #%s\n' "$previous" "$number"
else
  gh api --method POST "repos/$repo/issues/$number/comments" --input - <<<"$request" >/dev/null ||
    warn "could not comment on #$number (a fork's token is read-only); the report is in the job summary"
  printf 'Commented on #%s\n' "$number"
fi

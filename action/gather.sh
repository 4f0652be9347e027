#!/usr/bin/env bash
# Gathers what Warden needs about a pull request into one directory, with the GitHub
# CLI that runners have: the event payload and the API responses in the layout
# `warden change github --event DIR/event.json --api DIR/api` reads (docs/ci.md). The
# directory is also the audit record: upload it as an artifact.
#
# Environment (as on a GitHub runner): GITHUB_EVENT_PATH, GITHUB_REPOSITORY,
# GITHUB_OUTPUT; GH_TOKEN for gh. WARDEN_DIR: where to write (default
# $RUNNER_TEMP/warden). Writes the outputs `dir`, `event` and `api`.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

fail() {
  annotate error "$1" >&2
  exit 1
}

[[ -n ${GITHUB_EVENT_PATH-} && -f $GITHUB_EVENT_PATH ]] ||
  fail "no event payload: GITHUB_EVENT_PATH is unset or not a file (run this in a GitHub Actions job)"
[[ -n ${GITHUB_REPOSITORY-} ]] || fail "GITHUB_REPOSITORY is unset (run this in a GitHub Actions job)"
[[ -n ${GITHUB_OUTPUT-} ]] || fail "GITHUB_OUTPUT is unset (run this in a GitHub Actions job)"

# The event's pull request: `pull_request`, `pull_request_target` and
# `pull_request_review` events carry it; any other event is a mistake in the workflow.
number=$(pull_request_number)
head_sha=$(jq -r '.pull_request.head.sha // empty' "$GITHUB_EVENT_PATH")
[[ $number =~ ^[0-9]+$ && $head_sha =~ ^[0-9a-f]{40}$ ]] ||
  fail "the event ${GITHUB_EVENT_NAME:-in $GITHUB_EVENT_PATH} has no pull request (\`.pull_request.number\` and \`.pull_request.head.sha\`): run Warden on \`pull_request\`, \`pull_request_target\` or \`pull_request_review\` events"
repo=$GITHUB_REPOSITORY
owner=${repo%%/*}
name=${repo#*/}

dir=${WARDEN_DIR:-${RUNNER_TEMP:?RUNNER_TEMP is unset; set WARDEN_DIR}/warden}
mkdir -p -- "$dir/api"
cp -- "$GITHUB_EVENT_PATH" "$dir/event.json"

# Writes the output of `gh "$@"` to the file $1 whole, or not at all: a failed call
# leaves no file behind that could pass for a (smaller) answer.
save() {
  local file=$1
  shift
  gh "$@" >"$file.part" || {
    rm -f -- "$file.part"
    fail "\`gh ${*:1:3}\` failed (see above); nothing was evaluated"
  }
  mv -- "$file.part" "$file"
}

pulls="repos/$repo/pulls/$number"
save "$dir/api/files.json" api --paginate "$pulls/files?per_page=100"
save "$dir/api/commits.json" api --paginate "$pulls/commits?per_page=100"
save "$dir/api/reviews.json" api --paginate "$pulls/reviews?per_page=100"
save "$dir/api/check-runs.json" api --paginate "repos/$repo/commits/$head_sha/check-runs?per_page=100"

# Review threads are only in the GraphQL API. `--paginate` follows `pageInfo` with the
# `$endCursor` variable and prints the pages one after the other.
threads_query='query($owner: String!, $name: String!, $number: Int!, $endCursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $endCursor) {
        nodes { isResolved isOutdated path }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}'
save "$dir/api/threads.json" api graphql --paginate \
  -f query="$threads_query" -f owner="$owner" -f name="$name" -F number="$number"

{
  printf 'dir=%s\n' "$dir"
  printf 'event=%s\n' "$dir/event.json"
  printf 'api=%s\n' "$dir/api"
} >>"$GITHUB_OUTPUT"
printf 'Gathered pull request %s#%s at %s into %s\n' "$repo" "$number" "$head_sha" "$dir"

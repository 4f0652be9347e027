# Sourced by the action's scripts.

# Prints an annotation (`error` or `warning`) as a workflow command; `%`, CR and LF are
# escaped as the runner expects, so a multi-line message stays one annotation.
annotate() {
  local message=${2//%/%25}
  message=${message//$'\r'/%0D}
  message=${message//$'\n'/%0A}
  printf '::%s title=Warden::%s\n' "$1" "$message"
}

# The number of the event's pull request, or nothing.
pull_request_number() {
  jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH"
}

# On GitHub Enterprise Server, gh must be told the host.
if [[ -n ${GITHUB_SERVER_URL-} && $GITHUB_SERVER_URL != https://github.com ]]; then
  export GH_HOST=${GITHUB_SERVER_URL#*://}
fi

# Sourced by `sh -eu` before each git fixture script, in an empty directory: git
# without the machine's configuration, a fixed identity, and a clock that `tick`
# moves by a minute so that every commit id is the same on every run.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$PWD" LC_ALL=C
export GIT_AUTHOR_NAME="Alice Ng" GIT_AUTHOR_EMAIL=alice@acme.example
export GIT_COMMITTER_NAME="Alice Ng" GIT_COMMITTER_EMAIL=alice@acme.example
clock=1795000000

tick() {
  clock=$((clock + 60))
  export GIT_AUTHOR_DATE="@$clock +0000" GIT_COMMITTER_DATE="@$clock +0000"
}

# commit MESSAGE: commits every change of the work tree, a minute after the last one.
commit() {
  tick
  git add -A
  git commit -q --allow-empty -m "$1"
}

# as NAME EMAIL: who authors (and commits) the next commits.
as() {
  export GIT_AUTHOR_NAME="$1" GIT_AUTHOR_EMAIL="$2" GIT_COMMITTER_NAME="$1" GIT_COMMITTER_EMAIL="$2"
}

git init -q -b main .

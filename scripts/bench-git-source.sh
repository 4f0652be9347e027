#!/bin/sh
# Times `warden change git` on a synthetic range of 1,000 commits that change 10,000
# files (the target: at most 2 s, git included). Usage:
#   scripts/bench-git-source.sh [WARDEN] [RUNS]
# WARDEN defaults to target/release/warden; the repository is built once, with
# `git fast-import`, under ${TMPDIR:-/tmp}/warden-bench-git.
set -eu
warden=${1:-target/release/warden}
runs=${2:-5}
repo=${TMPDIR:-/tmp}/warden-bench-git
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

if [ ! -d "$repo/.git" ]; then
  git init -q -b main "$repo"
  # The base: 10,000 files of 20 lines in 100 directories. Then 1,000 commits that
  # each edit 10 of them (every 25th commit also renames one), with trailers.
  awk 'BEGIN {
    t = 1795000000
    print "commit refs/heads/main"
    print "author Alice Ng <alice@acme.example> " t " +0000"
    print "committer Alice Ng <alice@acme.example> " t " +0000"
    print "data <<EOM"; print "Base"; print "EOM"
    for (f = 0; f < 10000; f++) {
      printf "M 100644 inline src/d%02d/f%05d.rs\ndata <<EOM\n", f % 100, f
      for (l = 0; l < 20; l++) printf "fn f%d_%d() {}\n", f, l
      print "EOM"
    }
    print "reset refs/tags/base"; print "from refs/heads/main"
    for (c = 0; c < 1000; c++) {
      t += 60
      print "commit refs/heads/main"
      print "author Alice Ng <alice@acme.example> " t " +0000"
      print "committer Bob Okafor <bob@acme.example> " t " +0000"
      print "data <<EOM"
      print "Change " c; print ""; print "Body of change " c "."; print ""
      print "Bug: CHG-" c; print "Assisted-by: Claude"; print "EOM"
      for (k = 0; k < 10; k++) {
        f = c * 10 + k
        printf "M 100644 inline src/d%02d/f%05d.rs\ndata <<EOM\n", f % 100, f
        for (l = 0; l < 20; l++) printf "fn f%d_%d() {}\n", f, l
        printf "fn changed_in_%d() {}\n", c
        print "EOM"
      }
      if (c % 25 == 0) printf "R src/d%02d/f%05d.rs src/moved/f%05d.rs\n", (c * 10) % 100, c * 10, c * 10
    }
  }' | git -C "$repo" fast-import --quiet
  git -C "$repo" checkout -q main
fi

echo "range: $(git -C "$repo" rev-list --count base..main) commits, $(git -C "$repo" diff --name-only base main | wc -l) files"
i=0
while [ "$i" -lt "$runs" ]; do
  start=$(date +%s%N)
  "$warden" change git --repo "$repo" --repository acme/shop --evaluated-at 2026-11-24T03:00:00Z base..main > /dev/null
  end=$(date +%s%N)
  echo "run $((i + 1)): $(( (end - start) / 1000000 )) ms"
  i=$((i + 1))
done

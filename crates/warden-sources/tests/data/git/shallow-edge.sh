# A shallow clone that has the base and the merge base, but not all of the range: a
# merged side branch is cut off at the clone's depth. An error, not a shorter history.
commit "A"
git checkout -q -b side
commit "S0"
commit "S1"
commit "S"
git checkout -q main
git checkout -q -b feature
commit "F1"
tick
git merge -q --no-ff -m "F2: merge side" side
git checkout -q main
commit "M"
git clone -q --depth 3 --branch feature "file://$PWD" clone
git -C clone fetch -q --depth 2 origin main:refs/remotes/origin/main
echo "--repo clone --repository acme/shop origin/main..feature"

# A shallow clone (`fetch-depth: 1`) lacks the base of the range.
commit "First"
base=$(git rev-parse HEAD)
printf 'x\n' > x
commit "Second"
git clone -q --depth 1 "file://$PWD" clone
echo "--repo clone --repository acme/shop $base..HEAD"

# A shallow clone deep enough for the range (`fetch-depth: 2` for the last commit)
# builds the change like a full one.
commit "First"
printf 'a\n' > a
commit "Second"
printf 'b\n' > a
commit "Third"
git clone -q --depth 2 "file://$PWD" clone
echo "--repo clone --repository acme/shop HEAD~1..HEAD"

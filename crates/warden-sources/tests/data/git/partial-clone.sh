# A blobless partial clone (`filter: blob:none`) lacks the blobs the line counts need:
# git's error, never a fetch from the network.
git config uploadpack.allowFilter true
printf 'a\n' > a
commit "First"
printf 'b\n' > a
commit "Second"
git clone -q --filter=blob:none --no-checkout "file://$PWD" clone
echo "--repo clone --repository acme/shop HEAD~1..HEAD"

# The base and the head share no history.
commit "First"
git checkout -q --orphan other
commit "Unrelated"
echo "--repository acme/shop main..other"

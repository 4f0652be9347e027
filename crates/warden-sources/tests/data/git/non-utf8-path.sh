# A path that is not UTF-8 (Latin-1 `café`) is an error, not a skipped file.
commit "Base"
git tag base
printf 'x\n' > "$(printf 'caf\351.txt')"
commit "Add a Latin-1 name"
echo "--repository acme/shop base..HEAD"

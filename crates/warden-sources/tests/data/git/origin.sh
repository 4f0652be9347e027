# The repository's name comes from the `origin` remote when `--repository` is not given.
git remote add origin git@github.com:acme/shop.git
commit "First"
printf 'x\n' > x
commit "Second"
echo "HEAD~1..HEAD"

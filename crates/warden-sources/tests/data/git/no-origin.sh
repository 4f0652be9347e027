# No `--repository` and no `origin` remote to name the repository.
commit "First"
commit "Second"
echo "HEAD~1..HEAD"

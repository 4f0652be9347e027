# The base names no commit of the repository.
commit "First"
echo "--repository acme/shop no-such-branch..HEAD"

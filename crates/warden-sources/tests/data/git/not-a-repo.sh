# `--repo` names a directory that is not a git repository.
rm -rf .git
mkdir plain
echo "--repo plain --repository acme/shop main..HEAD"

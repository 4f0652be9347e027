# `BASE...HEAD` is refused: the files are always those since the merge base.
commit "First"
echo "--repository acme/shop main...HEAD"

# A range without `..`.
commit "First"
echo "--repository acme/shop main"

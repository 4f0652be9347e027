# The range is given backwards: the head is an ancestor of the base.
commit "First"
commit "Second"
echo "--repository acme/shop HEAD..HEAD~1"

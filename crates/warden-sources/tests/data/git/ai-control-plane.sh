# Acme's R05 from git alone: Dave (level 4) changes the control plane with an
# `Assisted-by:` trailer, and an AI co-author on a second commit; nothing is signed.
mkdir -p control-plane/router
printf 'routes: []\n' > control-plane/router/routes.yaml
commit "Initial commit"
git tag base
as "Dave Kim" dave@acme.example
printf 'routes:\n  - shop\n' > control-plane/router/routes.yaml
commit "Route the shop through the new router

Assisted-by: Claude Code
Bug: CHG-1182"
printf 'routes:\n  - shop\n  - search\n' > control-plane/router/routes.yaml
commit "Add search to the routes

Co-authored-by: Claude <noreply@anthropic.com>"
echo "--repository acme/shop base..HEAD"

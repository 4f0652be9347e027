# Paths as written: a space, non-ASCII letters, a newline and a quote in a name, and a
# rename between two of them (`-z` output, `core.quotepath=off`).
mkdir docs
printf 'a\n' > 'docs/a b.md'
printf 'b\n' > "docs/line
break.md"
commit "Base"
git tag base
git mv 'docs/a b.md' 'docs/café "menu".md'
printf 'b\nc\n' > "docs/line
break.md"
printf 'new\n' > 'docs/日本語.md'
commit "Rename and add"
echo "--repository acme/shop base..HEAD"

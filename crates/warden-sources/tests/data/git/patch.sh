# `--patch`: each file's unified diff, a binary file's and a pure rename's included.
printf 'one\ntwo\n' > a.txt
printf 'same\n' > moved.txt
printf '\000\001' > blob.bin
commit "Base"
git tag base
printf 'one\n2\nthree\n' > a.txt
git mv moved.txt renamed.txt
printf '\000\002' > blob.bin
commit "Edit"
echo "--repository acme/shop --patch base..HEAD"

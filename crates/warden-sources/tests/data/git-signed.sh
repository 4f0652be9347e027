# Signed commits (run only where `ssh-keygen` is): Alice signs with her SSH key, which
# the repository's allowed-signers file trusts; Mallory signs with a key it does not
# know; the last commit is not signed. Tags: `base`, `signed` (Alice's commits only),
# `head`. Alice's key fingerprint goes to `alice.fingerprint`.
ssh-keygen -q -t ed25519 -N "" -C alice@acme.example -f alice.key
ssh-keygen -q -t ed25519 -N "" -C mallory@evil.example -f mallory.key
ssh-keygen -l -f alice.key.pub | cut -d' ' -f2 > alice.fingerprint
echo "alice@acme.example $(cat alice.key.pub)" > allowed_signers
printf 'alice.key*\nmallory.key*\nallowed_signers\nalice.fingerprint\n' > .git/info/exclude
git config gpg.format ssh
git config gpg.ssh.allowedSignersFile "$PWD/allowed_signers"
mkdir docs
printf '# Guide\n' > docs/guide.md
commit "Initial commit"
git tag base
printf '# Guide\n\nHow to run the shop.\n' > docs/guide.md
tick
git add -A
git -c user.signingkey="$PWD/alice.key.pub" commit -q -S -m "Explain how to run the shop"
git tag signed
as "Mallory" mallory@evil.example
printf '# Guide\n\nHow to run the shop. Quickly.\n' > docs/guide.md
tick
git add -A
git -c user.signingkey="$PWD/mallory.key.pub" commit -q -S -m "Speed things up"
printf '# Guide\n\nHow to run the shop, quickly.\n' > docs/guide.md
commit "Fix a comma"
git tag head
echo "--repository acme/shop base..head"

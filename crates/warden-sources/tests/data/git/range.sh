# A pull request's range: renames, a copy, a binary file, generated and lock files,
# a removal, trailers (folded, any case, and a last paragraph that is not trailers),
# a co-author, another committer than the author, and a merge of main into the branch.
mkdir -p src old docs gen assets
printf 'fn main() {\n    println!("hi");\n}\n' > src/main.rs
printf 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n' > old/util.rs
printf '# Guide\n' > docs/guide.md
printf '[[package]]\nname = "serde"\nversion = "1.0.227"\n' > Cargo.lock
printf 'gen/** linguist-generated\n*.snap -diff\nvendor/ours.lock linguist-generated=false\n' > .gitattributes
printf '\211PNG\r\n\032\n\000\000\000\rIHDR' > assets/logo.png
commit "Initial commit"
git checkout -q -b feature

printf 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n\npub fn mul(a: i32, b: i32) -> i32 {\n    a * b\n}\n' > old/util.rs
git mv old/util.rs src/util.rs
printf '[[package]]\nname = "serde"\nversion = "1.0.228"\n' > Cargo.lock
commit "Move util into src and add mul

The old directory goes away.

Assisted-by: Claude
Co-authored-by: Bob Okafor
 <bob@acme.example>
change-id: I4f2c9e1d"

cp src/main.rs src/main_copy.rs
printf 'fn main() {\n    println!("hello");\n}\n' > src/main.rs
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\001' > assets/logo.png
mkdir -p vendor
printf 'locked\n' > vendor/ours.lock
printf 'generated\n' > gen/api.rs
printf 'old\n' > src/out.snap
git rm -q docs/guide.md
tick
git add -A
GIT_COMMITTER_NAME="Bob Okafor" GIT_COMMITTER_EMAIL=bob@acme.example git commit -q -m "Copy main, greet, regenerate

This paragraph is prose. It mentions
Key: value
in passing, and most of its lines
are not trailers."

git checkout -q main
printf 'main moved on\n' > NOTES
commit "Notes on main"
git checkout -q feature
tick
git merge -q --no-ff -m "Merge main into feature" main
git tag base main
git tag head feature
echo "--repository acme/shop base..head"

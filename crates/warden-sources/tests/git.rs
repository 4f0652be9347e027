//! The git source against real repositories, built by the `git` binary from the shell
//! scripts of `tests/data/git/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use warden_change::Time;
use warden_sources::git;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("warden-git-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `script` after `tests/data/git-prelude.sh` in `dir`; what it printed last.
fn run_script(script: &Path, dir: &Path) -> String {
    let prelude = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/git-prelude.sh");
    let output = Command::new("sh")
        .arg("-euc")
        .arg(r#". "$0"; . "$1""#)
        .arg(&prelude)
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().last().unwrap_or_default().to_string()
}

/// The options of `warden change git` in `arguments`, with `--repo` under `dir`.
fn options(arguments: &str, dir: &Path) -> git::Options {
    let mut options = git::Options {
        repo: dir.to_path_buf(),
        range: String::new(),
        patch: false,
        repository: None,
    };
    let mut words = arguments.split_whitespace();
    while let Some(word) = words.next() {
        match word {
            "--repo" => options.repo = dir.join(words.next().unwrap()),
            "--repository" => options.repository = Some(words.next().unwrap().to_string()),
            "--patch" => options.patch = true,
            range => options.range = range.to_string(),
        }
    }
    options
}

fn evaluated_at() -> Time {
    Time::parse("2026-11-24T03:00:00Z").unwrap()
}

/// Each script builds a repository and prints the arguments of `warden change git`;
/// the snapshot is the change built, or the error, with the directory as `<dir>`.
#[test]
fn changes_built_from_git_repositories() {
    insta::glob!("data/git/*.sh", |script| {
        let name = script.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = TempDir::new(&name);
        let arguments = run_script(script, &dir.0);
        let built = match git::build(&options(&arguments, &dir.0), evaluated_at()) {
            Ok(change) => serde_json::to_string_pretty(&change).unwrap(),
            Err(error) => format!("error: {error}"),
        };
        let source = std::fs::read_to_string(script).unwrap();
        let rendered = format!(
            "{source}\n---- warden change git {arguments}\n{}",
            built.replace(&dir.0.display().to_string(), "<dir>")
        );
        insta::assert_snapshot!(rendered);
    });
}

/// Whether `ssh-keygen` is on the PATH; when it is not, the signing tests say so and
/// skip.
fn has_ssh_keygen() -> bool {
    let found = Command::new("ssh-keygen").arg("-?").output().is_ok();
    if !found {
        eprintln!("note: ssh-keygen is not installed; the SSH signing test is skipped");
    }
    found
}

/// SSH-signed commits: a key the allowed-signers file trusts is `verified`, another
/// one is `untrusted`, both with their fingerprint as `key`; an unsigned commit has no
/// signature.
#[test]
fn ssh_signatures_have_a_state_a_type_and_the_key() {
    if !has_ssh_keygen() {
        return;
    }
    let dir = TempDir::new("signed");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/git-signed.sh");
    let arguments = run_script(&script, &dir.0);
    let change = git::build(&options(&arguments, &dir.0), evaluated_at()).unwrap();
    let alice = std::fs::read_to_string(dir.0.join("alice.fingerprint")).unwrap();
    let signatures: Vec<_> = change
        .commits
        .iter()
        .map(|c| {
            c.signature
                .as_ref()
                .map(|s| (s.state.as_str(), s.kind.as_str(), s.key.clone().unwrap()))
        })
        .collect();
    assert_eq!(signatures.len(), 3, "{signatures:?}");
    assert_eq!(
        signatures[0],
        Some(("verified", "ssh", alice.trim().to_string()))
    );
    let (state, kind, key) = signatures[1].clone().unwrap();
    assert_eq!((state, kind), ("untrusted", "ssh"));
    assert!(key.starts_with("SHA256:") && key != alice.trim(), "{key}");
    assert_eq!(signatures[2], None);
}

//! The GitHub and GitLab sources: each directory under `tests/data/github` and
//! `tests/data/gitlab` is a case — an event payload (`event.json`) or, for GitLab, CI
//! variables (`variables.json`), with the saved API responses in `api/` — snapshotted
//! as the change built from it, or the error.

#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use warden_change::Time;
use warden_sources::{Additions, Source, github, gitlab};

/// The time every case is built at.
const EVALUATED_AT: &str = "2026-11-25T18:04:00Z";

/// `path` relative to the crate, so that messages (which name the files) are the same
/// on every machine.
fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The files of a case, for the snapshot's header.
fn listing(dir: &Path) -> String {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("case directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(
                    path.strip_prefix(dir)
                        .expect("in the case")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    files.sort();
    files.join(", ")
}

fn render(source: &Source) -> String {
    let at = Time::parse(EVALUATED_AT).expect("time");
    match warden_sources::build(source, at, &Additions::default()) {
        Ok(change) => serde_json::to_string_pretty(&change).expect("serializable"),
        Err(error) => format!("error: {error}"),
    }
}

fn snapshot(forge: &str, input: &Path, source: &Source) {
    let dir = input.parent().expect("case directory");
    insta::with_settings!({ description => listing(dir), omit_expression => true }, {
        insta::assert_snapshot!(forge, render(source));
    });
}

#[test]
fn github_cases() {
    insta::glob!("data/github/*/event.json", |path| {
        let event = relative(path);
        let api = event.with_file_name("api");
        let source = Source::GitHub(github::Options {
            api: api.is_dir().then_some(api),
            event,
        });
        snapshot("github", path, &source);
    });
}

#[test]
fn gitlab_cases() {
    insta::glob!("data/gitlab/*/{event,variables}.json", |path| {
        let input = relative(path);
        let api = input.with_file_name("api");
        let api = api.is_dir().then_some(api);
        let options = if input.ends_with("variables.json") {
            let text = std::fs::read_to_string(path).expect("variables");
            let variables: BTreeMap<String, String> = serde_json::from_str(&text).expect("a map");
            gitlab::Options {
                event: None,
                api,
                variables,
            }
        } else {
            gitlab::Options {
                event: Some(input),
                api,
                variables: BTreeMap::new(),
            }
        };
        snapshot("gitlab", path, &Source::GitLab(options));
    });
}

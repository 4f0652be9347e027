//! The `git` source: a commit range of a local repository, read with the `git`
//! executable, as a `commit_range` change.

use std::path::PathBuf;

use warden_change::{Change, Time};

use crate::SourceError;

/// `warden change git [--repo DIR] BASE..HEAD`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The repository (default: the current directory).
    pub repo: PathBuf,
    /// `BASE..HEAD`.
    pub range: String,
    /// Whether to include each file's unified diff (`patch`).
    pub patch: bool,
    /// `owner/name`; by default from the `origin` remote's URL.
    pub repository: Option<String>,
}

/// Builds the change of the range.
pub fn build(options: &Options, evaluated_at: Time) -> Result<Change, SourceError> {
    let _ = evaluated_at;
    Err(SourceError::new(
        format!("git {}", options.range),
        "the git source is being built",
    ))
}

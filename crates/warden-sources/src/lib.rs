//! Builds a change description (`warden.change/v1`) from what a CI job has: a git
//! checkout, a forge's event payload and saved API responses (GitHub, GitLab),
//! `terraform show -json` plans and a `CODEOWNERS` file.
//!
//! Offline and deterministic: a source reads the files it is given and runs the local
//! `git`; it never opens a network connection. What it cannot read is an error naming
//! the file and the JSON path (or the git command) and what was expected — a change is
//! never built from a silently partial input. The change it builds goes through the
//! same strict loader as a hand-written one (`warden::read_input`), so `warden change`
//! followed by `warden eval --change` and `warden eval` straight from the source give
//! the same report.

pub mod codeowners;
mod error;
mod forge;
pub mod git;
pub mod github;
pub mod gitlab;
pub mod read;
pub mod terraform;

use std::path::PathBuf;

use warden_change::{Change, Time};

pub use error::SourceError;

/// Where the change comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A commit range of a local git repository (`commit_range`).
    Git(git::Options),
    /// A GitHub event payload and saved REST API responses.
    GitHub(github::Options),
    /// A GitLab merge-request event (or `CI_MERGE_REQUEST_*` variables) and saved API
    /// responses.
    GitLab(gitlab::Options),
}

/// What is added to a change whatever its source (including a hand-written one).
#[derive(Clone, Debug, Default)]
pub struct Additions {
    /// `terraform show -json` outputs, appended to `infra_plans` in order.
    pub plans: Vec<PathBuf>,
    /// A `CODEOWNERS` file that fills each file's `owners`.
    pub codeowners: Option<PathBuf>,
}

impl Additions {
    /// Whether there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty() && self.codeowners.is_none()
    }

    /// Adds the plans and the owners to `change`.
    pub fn apply(&self, change: &mut Change) -> Result<(), SourceError> {
        for plan in &self.plans {
            change.infra_plans.push(terraform::read_plan(plan)?);
        }
        if let Some(path) = &self.codeowners {
            codeowners::Codeowners::read(path)?.assign(change)?;
        }
        Ok(())
    }
}

/// Builds the change from `source`, "now" being `evaluated_at`, and applies the
/// additions.
pub fn build(
    source: &Source,
    evaluated_at: Time,
    additions: &Additions,
) -> Result<Change, SourceError> {
    let mut change = match source {
        Source::Git(options) => git::build(options, evaluated_at)?,
        Source::GitHub(options) => github::build(options, evaluated_at)?,
        Source::GitLab(options) => gitlab::build(options, evaluated_at)?,
    };
    additions.apply(&mut change)?;
    Ok(change)
}

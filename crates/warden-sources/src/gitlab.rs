//! The GitLab source: a merge-request event payload (or the `CI_MERGE_REQUEST_*`
//! variables) and the API responses saved beside it.

use std::path::PathBuf;

use warden_change::{Change, Time};

use crate::SourceError;

/// `warden change gitlab [--event FILE] [--api DIR]`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The merge-request event payload; without it, the `CI_MERGE_REQUEST_*` variables.
    pub event: Option<PathBuf>,
    /// The directory of saved API responses.
    pub api: Option<PathBuf>,
}

/// Builds the change of the merge request.
pub fn build(options: &Options, evaluated_at: Time) -> Result<Change, SourceError> {
    let _ = (options, evaluated_at);
    Err(SourceError::new(
        "gitlab",
        "the GitLab source is being built",
    ))
}

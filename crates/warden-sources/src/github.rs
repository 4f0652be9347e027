//! The GitHub source: an event payload (the file `$GITHUB_EVENT_PATH` names) and the
//! REST API responses saved beside it.

use std::path::PathBuf;

use warden_change::{Change, Time};

use crate::SourceError;

/// `warden change github --event FILE [--api DIR]`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The event payload.
    pub event: PathBuf,
    /// The directory of saved API responses (`files.json`, `commits.json`,
    /// `reviews.json`, `check-runs.json`, `threads.json`).
    pub api: Option<PathBuf>,
}

/// Builds the change of the event.
pub fn build(options: &Options, evaluated_at: Time) -> Result<Change, SourceError> {
    let _ = evaluated_at;
    Err(SourceError::new(
        options.event.display(),
        "the GitHub source is being built",
    ))
}

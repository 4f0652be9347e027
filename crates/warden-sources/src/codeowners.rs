//! `CODEOWNERS` (GitHub and GitLab syntax): who owns each changed file.

use std::path::Path;

use warden_change::Change;

use crate::SourceError;

/// A parsed `CODEOWNERS` file.
#[derive(Clone, Debug)]
pub struct Codeowners {}

impl Codeowners {
    /// Reads and parses a `CODEOWNERS` file.
    pub fn read(path: &Path) -> Result<Codeowners, SourceError> {
        Err(SourceError::new(
            path.display(),
            "CODEOWNERS is being built",
        ))
    }

    /// Fills each file's `owners`.
    pub fn assign(&self, change: &mut Change) -> Result<(), SourceError> {
        let _ = change;
        Ok(())
    }
}

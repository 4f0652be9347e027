//! [`SourceError`]: what a source could not read, where, and what was expected.

use std::fmt;

/// Why a change could not be built from a source. Its `Display` names the input (a
/// file, or the git command that failed), the place in it (a JSON path such as
/// `$.pull_request.head.sha`, when there is one) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    /// The file read, or the command run (`git log …`).
    pub input: String,
    /// Where in the input, e.g. a JSON path; empty when the whole input is at fault.
    pub at: String,
    /// What is wrong and how to fix it: one lowercase sentence (or more).
    pub message: String,
}

impl SourceError {
    /// An error about the whole of `input`.
    pub fn new(input: impl fmt::Display, message: impl Into<String>) -> SourceError {
        SourceError {
            input: input.to_string(),
            at: String::new(),
            message: message.into(),
        }
    }

    /// An error at a place (`at`, e.g. a JSON path) of `input`.
    pub fn at(
        input: impl fmt::Display,
        at: impl Into<String>,
        message: impl Into<String>,
    ) -> SourceError {
        SourceError {
            input: input.to_string(),
            at: at.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}: {}", self.input, self.message)
        } else {
            write!(f, "{}: {} at `{}`", self.input, self.message, self.at)
        }
    }
}

impl std::error::Error for SourceError {}

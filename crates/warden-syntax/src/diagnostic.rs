//! The one neutral diagnostic type shared by every layer; the CLI renders it with
//! miette, the LSP converts it to LSP diagnostics.

use serde::{Deserialize, Serialize};

pub use crate::code::Code;

/// A byte range in one source file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Which loaded source a span points into: an index into the loader's source table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct FileId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A labelled span: where, and a short note about that place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A problem found in a policy. Messages follow one style: a single lowercase sentence
/// without a final period, user input in backticks; detail goes in labels and help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier, written in kebab-case, e.g. `unknown-field`.
    pub code: Code,
    pub message: String,
    /// The primary label comes first.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// What the help proposes ("did you mean", `?.`, a default with `??`), as
    /// replacements of a span of the primary label's file, one per choice: tools apply
    /// them (the language server's quick fixes) without reading the help text. A boxed
    /// slice: most diagnostics have none, and parser results carry a `Diagnostic` as
    /// their error.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub suggestions: Box<[(Span, String)]>,
}

impl Diagnostic {
    /// A diagnostic of `code`, whose declaration gives its severity.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: code.severity(),
            code,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            suggestions: Box::default(),
        }
    }

    pub fn with_label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The primary location, used for sorting and for the LSP range.
    pub fn primary(&self) -> Option<&Label> {
        self.labels.first()
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position, then message, so output never depends on the
/// order in which analyses ran.
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| d.primary().map(|l| (l.file, l.span.start, l.span.end));
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
}

/// "Did you mean": the closest candidate, if it is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    // A candidate that differs only in case (`Sat` for `sat`) beats every spelling
    // mistake: it ranks as distance 0, the others one more than their distance.
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let rank = if c.eq_ignore_ascii_case(name) {
                0
            } else {
                strsim::damerau_levenshtein(name, c) + 1
            };
            (rank, c)
        })
        .filter(|(rank, _)| *rank <= limit + 1)
        .min()
        .map(|(_, c)| c)
}

/// Line starts of a text, for turning byte offsets into 1-based lines and columns
/// without rescanning the text for every position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|start| *start <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text
            .get(start..offset.min(text.len()))
            .map_or(0, |s| s.chars().count());
        (line, column + 1)
    }
}

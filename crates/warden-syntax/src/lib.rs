//! Warden's syntax layer: the pest grammar (`grammar/warden.pest`), the AST, and the
//! error-recovering parser. It does no IO and knows nothing of types or evaluation.

// pest is used without its `std` feature, whose per-rule stack probe is redundant with
// our own nesting limit; the parser code pest derives then names `alloc` directly.
extern crate alloc;

pub mod ast;
mod code;
mod diagnostic;
pub mod format;
mod parser;

pub use code::CODE_TABLE;
pub use diagnostic::{
    Code, Diagnostic, FileId, Label, LineIndex, Severity, Span, sort_diagnostics, suggest,
};
pub use format::format;
pub use parser::{
    Class, Direct, Highlight, ITEM_KEYWORDS, RuleBodies, comment_start, highlight_each, parse,
    parse_direct, parse_each_item, parse_for, parse_rule, parse_with_grammar, reparse,
};

/// Policy source nested deeper than this is rejected with a diagnostic, so no input can
/// overflow the stack of the parser, the checker or the evaluator.
pub const MAX_NESTING: usize = 128;
